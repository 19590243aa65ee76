#!/usr/bin/env python3
"""An independent OHTTP peer (RFC 9458) on pyhpke, for interop tests of attested-ohttp.

Line protocol on stdin/stdout, every value hex:
  client KDF AEAD : in key-config-list, request -> out encapsulated request;
                    in encapsulated response -> out response
  gateway KEM KDF AEAD : out key-config-list; in encapsulated request -> out request;
                    in response -> out encapsulated response
Identifiers are decimal IANA values (KEM 32 = X25519, 17 = P-384; KDF 1/2; AEAD 1/2/3).
"""
import os
import sys

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from pyhpke import AEADId, CipherSuite, KDFId, KEMId

PK_LEN = {16: 65, 17: 97, 32: 32}
NK = {1: 16, 2: 32, 3: 32}
HASH = {1: hashes.SHA256, 2: hashes.SHA384, 3: hashes.SHA512}
REQUEST_LABEL = b"message/bhttp request"
RESPONSE_LABEL = b"message/bhttp response"


def suite(kem, kdf, aead):
    return CipherSuite.new(KEMId(kem), KDFId(kdf), AEADId(aead))


def header(key_id, kem, kdf, aead):
    return bytes([key_id]) + kem.to_bytes(2, "big") + kdf.to_bytes(2, "big") + aead.to_bytes(2, "big")


def response_aead(kdf, aead, secret, enc, nonce):
    h = hmac.HMAC(enc + nonce, HASH[kdf]())
    h.update(secret)
    prk = h.finalize()
    key = HKDFExpand(HASH[kdf](), NK[aead], b"key").derive(prk)
    iv = HKDFExpand(HASH[kdf](), 12, b"nonce").derive(prk)
    cipher = ChaCha20Poly1305(key) if aead == 3 else AESGCM(key)
    return cipher, iv


def read():
    return bytes.fromhex(sys.stdin.readline().strip())


def write(b):
    sys.stdout.write(b.hex() + "\n")
    sys.stdout.flush()


def client(kdf, aead):
    lst = read()
    length = int.from_bytes(lst[0:2], "big")
    config = lst[2 : 2 + length]
    key_id, kem = config[0], int.from_bytes(config[1:3], "big")
    pk = config[3 : 3 + PK_LEN[kem]]
    offered = config[3 + PK_LEN[kem] + 2 :]
    pairs = {(int.from_bytes(offered[i : i + 2], "big"), int.from_bytes(offered[i + 2 : i + 4], "big")) for i in range(0, len(offered), 4)}
    assert (kdf, aead) in pairs, f"suite {(kdf, aead)} not offered: {pairs}"
    s = suite(kem, kdf, aead)
    hdr = header(key_id, kem, kdf, aead)
    enc, ctx = s.create_sender_context(s.kem.deserialize_public_key(pk), info=REQUEST_LABEL + b"\x00" + hdr)
    write(hdr + enc + ctx.seal(read()))
    secret = ctx.export(RESPONSE_LABEL, max(12, NK[aead]))
    response = read()
    n = max(12, NK[aead])
    cipher, iv = response_aead(kdf, aead, secret, enc, response[:n])
    write(cipher.decrypt(iv, response[n:], b""))


def gateway(kem, kdf, aead):
    s = suite(kem, kdf, aead)
    keys = s.kem.derive_key_pair(os.urandom(64 if kem != 32 else 32))
    key_id = 5
    config = bytes([key_id]) + kem.to_bytes(2, "big") + keys.public_key.to_public_bytes()
    config += (4).to_bytes(2, "big") + kdf.to_bytes(2, "big") + aead.to_bytes(2, "big")
    write(len(config).to_bytes(2, "big") + config)
    request = read()
    hdr, rest = request[:7], request[7:]
    assert hdr == header(key_id, kem, kdf, aead), "unexpected header"
    enc, ct = rest[: PK_LEN[kem]], rest[PK_LEN[kem] :]
    ctx = s.create_recipient_context(enc, keys.private_key, info=REQUEST_LABEL + b"\x00" + hdr)
    write(ctx.open(ct))
    secret = ctx.export(RESPONSE_LABEL, max(12, NK[aead]))
    nonce = os.urandom(max(12, NK[aead]))
    cipher, iv = response_aead(kdf, aead, secret, enc, nonce)
    write(nonce + cipher.encrypt(iv, read(), b""))


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[2:]]
    {"client": client, "gateway": gateway}[sys.argv[1]](*args)
