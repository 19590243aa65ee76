"""A seed-profile server on `noiseprotocol` 0.3.1, as the Python proxy is written: one Noise
message per binary WebSocket frame, JSON messages, REPORTDATA = SHA-512(binding key), binding
signature over the raw handshake hash. The Python proxy gets its quote from the TDX platform; this
one is handed it: it prints `noise_pubkey HEX` and `binding_pubkey HEX`, reads one line of hex
from stdin (a quote whose REPORTDATA is SHA-512 of the binding key, from the caller's TDX
platform, simulated in tests), then prints `listening on ADDR` and serves until killed. Chat answers are `sha256:<hex of the last message's content>`.
"""

import asyncio
import base64
import hashlib
import json
import sys

import websockets
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from noise.connection import Keypair, NoiseConnection

from seed_common import PROTOCOL, raw_private, raw_public, tdx_quote_fields

STATIC = X25519PrivateKey.generate()
BINDING = Ed25519PrivateKey.generate()
QUOTE = b""
MRTD = b""


async def session(ws) -> None:
    noise = NoiseConnection.from_name(PROTOCOL)
    noise.set_as_responder()
    noise.set_keypair_from_private_bytes(Keypair.STATIC, raw_private(STATIC))
    noise.start_handshake()
    noise.read_message(await ws.recv())
    await ws.send(noise.write_message())
    h = noise.get_handshake_hash()
    async for frame in ws:
        message = json.loads(noise.decrypt(frame))
        kind = message.get("type")
        if kind == "get_attestation":
            reply = {"type": "attestation", "payload": {
                "quote_b64": base64.b64encode(QUOTE).decode(),
                "intel_ta_token": None,
                "mrtd": MRTD.hex(),
                "measurements": {"mrtd": MRTD.hex()},
                "noise_pubkey": raw_public(STATIC).hex(),
                "session_binding": {
                    "session_hash": h.hex(),
                    "signature": BINDING.sign(h).hex(),
                    "binding_pubkey": raw_public(BINDING).hex(),
                },
            }}
        elif kind == "chat":
            content = message["payload"]["messages"][-1]["content"]
            answer = "sha256:" + hashlib.sha256(content.encode()).hexdigest()
            reply = {"type": "chat_response", "payload": {
                "message": {"role": "assistant", "content": answer},
                "model": "python", "prompt_tokens": 1, "completion_tokens": 1,
            }}
        elif kind == "ping":
            reply = {"type": "pong", "payload": {}}
        else:
            reply = {"type": "error", "payload": {"error": "unknown message type"}}
        await ws.send(noise.encrypt(json.dumps(reply).encode()))


async def main() -> None:
    global QUOTE, MRTD
    print(f"noise_pubkey {raw_public(STATIC).hex()}")
    print(f"binding_pubkey {raw_public(BINDING).hex()}", flush=True)
    QUOTE = bytes.fromhex(sys.stdin.readline().strip())
    report_data, MRTD = tdx_quote_fields(QUOTE)
    if report_data != hashlib.sha512(raw_public(BINDING)).digest():
        raise SystemExit("the quote does not bind the binding key")
    async with websockets.serve(session, "127.0.0.1", 0, max_size=65535) as server:
        host, port = server.sockets[0].getsockname()[:2]
        print(f"listening on {host}:{port}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
