"""ohttpy (PyPI, Microsoft's ohttp fork inside) as a client of `ohttp-gateway --azure-compat`.

Usage: ohttpy_peer.py BASE_URL AUDIO_LEN
Prints one JSON line per request: {"case", "status", "body"} (body as text).
- "discover": keys fetched by ohttpy itself from BASE_URL/discover (key_config=None).
- "ohttp-keys": keys given as the bytes of BASE_URL/ohttp-keys.
- "failing": a multipart body without its file part, which mock-whisper refuses.
ohttpy POSTs to BASE_URL/score and puts the URL's path and authority in the inner request.
"""
import json
import sys

import httpx
from ohttpy import Transport

BOUNDARY = "ohttpyboundary"


def multipart(audio):
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n'.encode()
    ]
    if audio is not None:
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
            "Content-Type: audio/wav\r\n\r\n".encode()
            + audio
            + b"\r\n"
        )
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def transcribe(base, key_config, audio):
    # httpx streams `files=` uploads, which ohttpy's Transport cannot read: the body is built
    # here and sent whole.
    client = httpx.Client(transport=Transport(key_config=key_config))
    answer = client.post(
        base + "/v1/audio/transcriptions",
        content=multipart(audio),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    return answer.status_code, answer.content


def main():
    base, audio_len = sys.argv[1], int(sys.argv[2])
    audio = bytes((i * 7) % 251 for i in range(audio_len))
    keys = httpx.get(base + "/ohttp-keys").content
    for case, key_config, body in [
        ("discover", None, audio),
        ("ohttp-keys", keys, audio),
        ("failing", None, None),
    ]:
        status, content = transcribe(base, key_config, body)
        text = content.decode("utf-8", errors="replace")
        print(json.dumps({"case": case, "status": status, "body": text}), flush=True)


if __name__ == "__main__":
    main()
