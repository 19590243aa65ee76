"""Shared by the seed-profile interop peers: the Noise protocol name, raw key encodings and the
fields of a TDX quote."""

from cryptography.hazmat.primitives import serialization

PROTOCOL = b"Noise_NK_25519_ChaChaPoly_SHA256"
RAW = serialization.Encoding.Raw


def raw_public(key) -> bytes:
    return key.public_key().public_bytes(RAW, serialization.PublicFormat.Raw)


def raw_private(key) -> bytes:
    return key.private_bytes(RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())


# TDX quote v4: a 48-byte header, then the TD report (TDREPORT 1.0, 584 bytes) in which MRTD
# is at 136 and REPORTDATA at 520 (Intel TDX DCAP Quote Generation Library and Quote
# Verification Library, Appendix A).
HEADER_LEN = 48
TD_REPORT_LEN = 584
MRTD_AT = HEADER_LEN + 136
REPORT_DATA_AT = HEADER_LEN + 520


def tdx_quote_fields(quote: bytes):
    """(REPORTDATA, MRTD) of a TDX v4 quote, by structure only: the seed's client verifies no
    quote signature at all; DCAP verification is what the Rust client adds."""
    if len(quote) < HEADER_LEN + TD_REPORT_LEN:
        raise ValueError("quote too short")
    version = int.from_bytes(quote[0:2], "little")
    tee_type = int.from_bytes(quote[4:8], "little")
    if version != 4 or tee_type != 0x81:
        raise ValueError(f"not a TDX v4 quote (version {version}, TEE type {tee_type:#x})")
    return quote[REPORT_DATA_AT:REPORT_DATA_AT + 64], quote[MRTD_AT:MRTD_AT + 48]
