"""Shared by the seed-profile interop peers: the test-only simulated quote of the Rust examples
(examples/src/noise_demo.rs: magic || REPORTDATA || MRTD || Ed25519 signature by the sim root)."""

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives import serialization

PROTOCOL = b"Noise_NK_25519_ChaChaPoly_SHA256"
SIM_MAGIC = b"TEST-ONLY-NO-TEE"
RAW = serialization.Encoding.Raw


def raw_public(key) -> bytes:
    return key.public_key().public_bytes(RAW, serialization.PublicFormat.Raw)


def raw_private(key) -> bytes:
    return key.private_bytes(RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())


def sim_quote(platform: Ed25519PrivateKey, report_data: bytes, mrtd: bytes) -> bytes:
    body = SIM_MAGIC + report_data + mrtd
    return body + platform.sign(body)


def check_sim_quote(root: bytes, quote: bytes):
    """Returns (REPORTDATA, MRTD) of a simulated quote signed by `root`; raises otherwise."""
    if len(quote) != 16 + 64 + 48 + 64 or not quote.startswith(SIM_MAGIC):
        raise ValueError("not a simulated quote")
    body, signature = quote[:-64], quote[-64:]
    Ed25519PublicKey.from_public_bytes(root).verify(signature, body)
    return body[16:80], body[80:128]
