"""`yingji sms-gateway`: a stand-in of an SMS provider's HTTP API, for demos and tests.

    POST /messages   {"id", "to", "text", "sign"}, signed: x-sms-key, x-sms-timestamp (unix seconds, within 5
                     minutes), x-sms-signature = v1=hex(HMAC-SHA256(secret, "<timestamp>.<body>")).
                     200 {"id", "receipt", "duplicate"}: a message id seen before is not sent again (counted as
                     a duplicate), as a provider does with the client's message id. 401 bad signature, 400 bad body.
    GET  /messages   {"messages": [...], "duplicates": n, "requests": n}: what was "sent", in order
    DELETE /messages forget everything
    GET/POST/DELETE /faults   faults for POST /messages:
        error_rate / error_status   fraction answered error_status (default 503), nothing stored
        hang_rate / hang_seconds    fraction stored, then the answer held back hang_seconds (a client timeout:
                                    the message was sent, the acknowledgement lost)
        seed                        reseeds the random draws

Standard library only (http.server), so tests and `yingji serve --demo` run it on a thread of their own.
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from gateway.notify.channels import verify_sms_signature

FAULTS = {"error_rate": 0.0, "error_status": 503, "hang_rate": 0.0, "hang_seconds": 3.0}


class SmsGateway:
    def __init__(self, secret: str, faults: dict[str, Any] | None = None, seed: int | None = None):
        self.secret = secret
        self.faults = {**FAULTS, **(faults or {})}
        self.random = random.Random(seed)
        self.messages: list[dict[str, Any]] = []
        self.by_id: dict[str, dict[str, Any]] = {}
        self.duplicates = 0
        self.requests = 0
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def set_faults(self, values: dict[str, Any]) -> None:
        with self.lock:
            if "seed" in values:
                self.random.seed(values.pop("seed"))
            self.faults.update({k: v for k, v in values.items() if k in FAULTS})

    def receive(self, headers: Any, body: bytes) -> tuple[int, dict[str, Any], float]:
        """(status, answer, seconds to hold the answer back)."""
        with self.lock:
            self.requests += 1
            f = dict(self.faults)
            if self.random.random() < f["error_rate"]:
                return int(f["error_status"]), {"code": "provider_error"}, 0.0
            hang = f["hang_seconds"] if self.random.random() < f["hang_rate"] else 0.0
        if not verify_sms_signature(self.secret, headers, body):
            return 401, {"code": "bad_signature"}, 0.0
        try:
            msg = json.loads(body)
            mid, to, text = str(msg["id"]), str(msg["to"]), str(msg["text"])
        except (ValueError, KeyError, TypeError):
            return 400, {"code": "bad_request"}, 0.0
        with self.lock:
            if mid in self.by_id:
                self.duplicates += 1
                return 200, {"id": mid, "receipt": self.by_id[mid]["receipt"], "duplicate": True}, hang
            record = {"id": mid, "to": to, "text": text, "sign": msg.get("sign", ""), "receipt": f"sms-{len(self.messages) + 1}",
                      "at": datetime.now(timezone.utc).isoformat(), "segments": max(1, -(-len(text) // 70))}
            self.messages.append(record)
            self.by_id[mid] = record
        return 200, {"id": mid, "receipt": record["receipt"], "duplicate": False}, hang

    def listing(self) -> dict[str, Any]:
        with self.lock:
            return {"messages": list(self.messages), "duplicates": self.duplicates, "requests": self.requests}

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.by_id.clear()
            self.duplicates = self.requests = 0

    # -- serving ----------------------------------------------------------------------
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start on a thread; returns the base URL."""
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json" if status < 400 else "application/problem+json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a timeout fault)
                    self.close_connection = True

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("content-length") or 0))

            def do_POST(self) -> None:  # noqa: N802
                body = self._body()
                if self.path == "/messages":
                    status, answer, hang = gateway.receive(self.headers, body)
                    if hang:
                        time.sleep(hang)
                    self._send(status, answer)
                elif self.path == "/faults":
                    gateway.set_faults(json.loads(body or b"{}"))
                    self._send(200, gateway.faults)
                else:
                    self._send(404, {"code": "not_found"})

            def do_GET(self) -> None:  # noqa: N802
                if self.path == "/messages":
                    self._send(200, gateway.listing())
                elif self.path == "/faults":
                    self._send(200, gateway.faults)
                else:
                    self._send(404, {"code": "not_found"})

            def do_DELETE(self) -> None:  # noqa: N802
                if self.path == "/messages":
                    gateway.reset()
                    self._send(200, {})
                elif self.path == "/faults":
                    gateway.set_faults(dict(FAULTS))
                    self._send(200, gateway.faults)
                else:
                    self._send(404, {"code": "not_found"})

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="sms-gateway", daemon=True).start()
        return f"http://{host}:{self.server.server_address[1]}"

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="yingji sms-gateway", description="stand-in SMS provider (demos, tests)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8025)
    p.add_argument("--secret", default="", help="the shared secret (YINGJI_SMS_SECRET of the sender)")
    p.add_argument("--error-rate", type=float, default=0.0)
    p.add_argument("--error-status", type=int, default=503)
    p.add_argument("--hang-rate", type=float, default=0.0)
    p.add_argument("--hang-seconds", type=float, default=3.0)
    p.add_argument("--seed", type=int)
    a = p.parse_args(argv)
    import os

    secret = a.secret or os.environ.get("YINGJI_SMS_SECRET", "")
    if not secret:
        raise SystemExit("give --secret (or YINGJI_SMS_SECRET): requests are signed with it")
    gw = SmsGateway(secret, {"error_rate": a.error_rate, "error_status": a.error_status, "hang_rate": a.hang_rate,
                             "hang_seconds": a.hang_seconds}, seed=a.seed)
    url = gw.serve(a.host, a.port)
    print(f"stand-in SMS provider on {url} (GET /messages lists what was sent)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        gw.close()


if __name__ == "__main__":
    main()
