"""A local Web Push endpoint for tests: a tiny HTTP server standing in for a push service, and the browser's
side of a subscription (an ECDH P-256 key pair and an auth secret), so a test decrypts what arrived with
`http_ece` exactly as a phone would."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Device:
    """One browser's subscription keys."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    def subscription(self, device: str = "") -> dict[str, Any]:
        public = self.private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64(public), "auth": b64(self.auth)}, "device": device}

    def decrypt(self, body: bytes) -> dict[str, Any]:
        return json.loads(http_ece.decrypt(body, private_key=self.private, auth_secret=self.auth, version="aes128gcm"))


class PushEndpoint:
    """Records every POST; `script` answers the next requests with a status (or 'hang' for a timeout) per path."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.script: dict[str, list[Any]] = {}  # path -> upcoming answers (int status or "hang")
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with endpoint.lock:
                    plan = endpoint.script.get(self.path) or []
                    answer = plan.pop(0) if plan else 201
                if answer == "hang":
                    endpoint.record(self.path, self.headers, body, stored=True)
                    time.sleep(2.0)
                    answer = 201
                elif answer == 201:
                    endpoint.record(self.path, self.headers, body, stored=True)
                self.send_response(int(answer))
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def record(self, path: str, headers: Any, body: bytes, stored: bool) -> None:
        with self.lock:
            self.received.append({"path": path, "headers": dict(headers), "body": body})

    def device(self, name: str) -> Device:
        return Device(f"{self.url}/push/{name}")

    def bodies(self, device: Device) -> list[bytes]:
        path = device.endpoint.removeprefix(self.url)
        with self.lock:
            return [r["body"] for r in self.received if r["path"] == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
