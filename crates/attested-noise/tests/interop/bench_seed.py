"""Handshakes per second of the seed implementation (`noiseprotocol` 0.3.1): NK both sides plus
the session binding (Ed25519 sign of h, verify), for comparison with benches/benches/noise.rs.

Usage: bench_seed.py [SECONDS]
"""

import sys
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from noise.connection import Keypair, NoiseConnection

from seed_common import PROTOCOL, raw_private, raw_public

STATIC = X25519PrivateKey.generate()
STATIC_PRIVATE, STATIC_PUBLIC = raw_private(STATIC), raw_public(STATIC)
BINDING = Ed25519PrivateKey.generate()
BINDING_PUBLIC = BINDING.public_key()


def handshake() -> None:
    client = NoiseConnection.from_name(PROTOCOL)
    client.set_as_initiator()
    client.set_keypair_from_public_bytes(Keypair.REMOTE_STATIC, STATIC_PUBLIC)
    client.start_handshake()
    server = NoiseConnection.from_name(PROTOCOL)
    server.set_as_responder()
    server.set_keypair_from_private_bytes(Keypair.STATIC, STATIC_PRIVATE)
    server.start_handshake()
    server.read_message(client.write_message())
    client.read_message(server.write_message())
    signature = BINDING.sign(server.get_handshake_hash())
    BINDING_PUBLIC.verify(signature, client.get_handshake_hash())


def main(seconds: float) -> None:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        handshake()
        count += 1
    print(f"noiseprotocol 0.3.1 NK + binding: {count / elapsed:.0f} handshakes/s "
          f"({elapsed / count * 1e6:.0f} us each)")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0)
