"""A seed-profile client on `noiseprotocol` 0.3.1, as the Python proxy's client speaks it, but
checking what that client does not: REPORTDATA and MRTD are taken from the TDX quote itself.

Usage: seed_client.py PROXY_URL PROMPT. Prints the answer; exits non-zero on any
failed check.
"""

import asyncio
import base64
import hashlib
import json
import sys
import urllib.request

import websockets
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from noise.connection import Keypair, NoiseConnection

from seed_common import PROTOCOL, tdx_quote_fields


async def main(url: str, prompt: str) -> None:
    with urllib.request.urlopen(f"{url}/health") as response:
        server_key = bytes.fromhex(json.load(response)["noise_pubkey"])
    noise = NoiseConnection.from_name(PROTOCOL)
    noise.set_as_initiator()
    noise.set_keypair_from_public_bytes(Keypair.REMOTE_STATIC, server_key)
    noise.start_handshake()
    ws_url = url.replace("http://", "ws://") + "/ws/noise"
    async with websockets.connect(ws_url, max_size=65535) as ws:
        await ws.send(noise.write_message())
        noise.read_message(await ws.recv())
        assert noise.handshake_finished
        h = noise.get_handshake_hash()

        async def request(message: dict) -> dict:
            await ws.send(noise.encrypt(json.dumps(message).encode()))
            return json.loads(noise.decrypt(await ws.recv()))

        reply = await request({"type": "get_attestation", "payload": {}})
        assert reply["type"] == "attestation", reply
        payload = reply["payload"]
        binding = payload["session_binding"]
        report_data, mrtd = tdx_quote_fields(base64.b64decode(payload["quote_b64"]))
        binding_key = bytes.fromhex(binding["binding_pubkey"])
        assert report_data == hashlib.sha512(binding_key).digest(), "REPORTDATA"
        assert bytes.fromhex(binding["session_hash"]) == h, "session hash"
        Ed25519PublicKey.from_public_bytes(binding_key).verify(
            bytes.fromhex(binding["signature"]), h
        )
        assert bytes.fromhex(payload["noise_pubkey"]) == server_key, "noise key"
        print(f"verified: mrtd {mrtd.hex()}")

        reply = await request({"type": "ping"})
        assert reply["type"] == "pong", reply
        reply = await request({"type": "no_such_type", "payload": {}})
        assert reply["type"] == "error", reply
        reply = await request(
            {"type": "chat", "payload": {"messages": [{"role": "user", "content": prompt}]}}
        )
        assert reply["type"] == "chat_response", reply
        print(reply["payload"]["message"]["content"])


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1].rstrip("/"), sys.argv[2]))
