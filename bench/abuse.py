"""Abuse of the public edges, and what it leaves behind: server memory and a normal client's latency.

    python -m bench.abuse [--rounds 3] [--out bench/results/abuse.json]

One run, one JSON document on stdout (and in --out), against `yingji serve` in its own process on a
fresh demo district:

1. `baseline`: `GET /incidents` latency of a signed-in client (p50, max) and the server's RSS after a warm-up;
2. per round (a normal client timing `GET /incidents` from a process of its own meanwhile): 20 concurrent oversized hellos (each claims 15 MiB, sent in 64 KiB chunks until the
   server cuts it), 200 junk hellos (a small frame with a bad token), and a sign-in flood (64 concurrent
   connections of wrong passwords);
3. `after`: the same latency and RSS once the abuse has stopped.

The functions are shared with tests/security/test_abuse.py, which asserts what must hold (RSS back
within 20%, the normal GET answered) but not the latency figures, which vary from machine to machine.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import statistics
import struct
import tempfile
import threading
import time
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

OVERSIZED_CLAIM = 15 * 1024 * 1024
CHUNK = 64 * 1024


def _handshake(host: str, port: int, path: str = "/api/v1/board/live") -> socket.socket:
    s = socket.create_connection((host, port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        got = s.recv(4096)
        if not got:
            raise ConnectionError("closed during the handshake")
        answer += got
    if b" 101 " not in answer.split(b"\r\n", 1)[0]:
        raise ConnectionError(answer.split(b"\r\n", 1)[0].decode(errors="replace"))
    return s


def _frame_header(length: int) -> bytes:
    """A masked text frame's header claiming `length` bytes (the mask is zeros: the payload goes as is)."""
    if length < 126:
        return bytes([0x81, 0x80 | length]) + b"\0\0\0\0"
    if length < 65536:
        return bytes([0x81, 0x80 | 126]) + struct.pack("!H", length) + b"\0\0\0\0"
    return bytes([0x81, 0x80 | 127]) + struct.pack("!Q", length) + b"\0\0\0\0"


def oversized_hello(host: str, port: int, claim: int = OVERSIZED_CLAIM) -> int:
    """Claim a huge hello and stream it until the server cuts the connection; returns the bytes it took."""
    s = _handshake(host, port)
    sent = 0
    chunk = b'{"type":"hello","token":"' + b"x" * (CHUNK - 26)
    try:
        s.sendall(_frame_header(claim))
        while sent < claim:
            s.sendall(chunk[: min(CHUNK, claim - sent)])
            sent += min(CHUNK, claim - sent)
    except OSError:
        pass
    finally:
        s.close()
    return sent


def junk_hello(host: str, port: int) -> bytes:
    """A small hello with a junk token; returns the server's first answer bytes (an error frame and a close)."""
    s = _handshake(host, port)
    try:
        body = json.dumps({"type": "hello", "token": "junk." + os.urandom(8).hex(), "after": None}).encode()
        s.sendall(_frame_header(len(body)) + body)
        return s.recv(4096)
    except OSError:
        return b""
    finally:
        s.close()


def signin_flood(base_url: str, attempts: int = 256, connections: int = 64) -> dict[str, int]:
    """Wrong passwords from `connections` concurrent clients; counts of answers by status."""
    counts: dict[str, int] = {}
    lock = threading.Lock()

    def one(i: int) -> None:
        try:
            r = httpx.post(base_url + "/api/v1/auth/token", data={"username": f"admin{i % 4 or ''}", "password": f"wrong-{i}"}, timeout=30)
            key = str(r.status_code)
        except httpx.HTTPError as e:
            key = type(e).__name__
        with lock:
            counts[key] = counts.get(key, 0) + 1

    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(one, range(attempts)))
    return counts


def abuse_round(host: str, port: int, base_url: str, oversized: int = 20, junk: int = 200) -> dict[str, Any]:
    started = time.perf_counter()
    with ThreadPoolExecutor(oversized) as pool:
        took = list(pool.map(lambda _: oversized_hello(host, port), range(oversized)))
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: junk_hello(host, port), range(junk)))
    flood = signin_flood(base_url)
    return {"seconds": round(time.perf_counter() - started, 2), "oversized_bytes_taken_max": max(took),
            "junk_hellos_answered": sum(1 for a in answers if a), "signin_flood": flood}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def latencies(base_url: str, token: str, n: int = 50, pause: float = 0.02) -> list[float]:
    out = []
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        for _ in range(n):
            t = time.perf_counter()
            r = http.get("/api/v1/incidents")
            out.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text
            time.sleep(pause)
    return out


def summary(xs: list[float]) -> dict[str, float]:
    return {"n": len(xs), "p50_ms": round(statistics.median(xs) * 1000, 1), "max_ms": round(max(xs) * 1000, 1)}


def main(argv: list[str] | None = None) -> None:
    from bench.board_latency import ServerProcess

    p = argparse.ArgumentParser(prog="bench.abuse")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", type=Path, default=Path("bench/results/abuse.json"))
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="yingji-abuse-") as tmp:
        server = ServerProcess(Path(tmp))
        server.seed()
        server.start()
        try:
            host, port = "127.0.0.1", server.port
            token = httpx.post(server.base_url + "/api/v1/auth/token", data={"username": "admin", "password": "yingji2026"}).json()["access_token"]
            abuse_round(host, port, server.base_url, oversized=2, junk=20)  # warm-up: every path once
            time.sleep(1)
            before = {"rss_kib": rss_kib(server.pid), "get_incidents": summary(latencies(server.base_url, token))}
            rounds = []
            for _ in range(args.rounds):
                # The normal client is a process of its own: in this one it would wait for the GIL behind the attackers' threads.
                with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as probe:
                    during = probe.submit(latencies, server.base_url, token, 100, 0.01)
                    r = abuse_round(host, port, server.base_url)
                    rounds.append(r | {"rss_kib": rss_kib(server.pid), "get_incidents_during": summary(during.result())})
            time.sleep(2)
            after = {"rss_kib": rss_kib(server.pid), "get_incidents": summary(latencies(server.base_url, token))}
        finally:
            server.stop()
    result = {"benchmark": "abuse", "rounds": rounds, "before": before, "after": after,
              "rss_after_over_before": round(after["rss_kib"] / before["rss_kib"], 3)}
    text = json.dumps(result, indent=2)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
