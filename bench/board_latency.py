"""Command-to-screen latency of the live board with many WebSocket clients, and memory per idle connection.

    python -m bench.board_latency [--clients 1000] [--rate 100] [--seconds 20] [--out bench/results/board_latency.json]
    python -m bench.board_latency --quick          # 100 clients, 5 s: a smoke run

One run, one machine, one JSON document on stdout (and in --out):

1. a fresh data dir, `yingji seed demo`, and `yingji serve` in its own process;
2. `http_only`: the command stream with no WebSocket client: HTTP round trip only;
3. `one_client`: the same stream with one board client: command-to-screen latency with no fan-out;
4. `idle_memory`: server RSS before and after N clients said hello, got their snapshot and went idle
   (in two waves: the second one's share is the marginal cost);
5. `load`: the same stream with those N clients connected.

Clients live in `--workers` processes (asyncio, several hundred connections each), never in the
server's. Each records `time.time()` when a delta frame arrives, for every change position in it.
The command driver is open loop: command i is sent at t0 + i/rate whatever the earlier ones are
doing, and its answer's `position` names the change it causes. Latency of (client, command) =
client receive time of that position - command send time. Ratios against steps 2 and 3 are in
`ratios`: absolute numbers vary from machine to machine, the ratios much less.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import base64
import json
import math
import multiprocessing as mp
import os
import platform
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
USERNAME, PASSWORD = "commander", "yingji2026"  # a demo account (`yingji seed demo`)
GOAL = {"clients": 1000, "rate": 100, "p99_ms": 150.0, "idle_kib_per_connection": 50.0}
LATE_SECONDS = 0.1  # a change later than this to its first client is listed with its sending time
ON_BOARD_INCIDENT = ("reported", "verified", "controlled")

# A change inside a delta frame ends with its own position: ...,"doc":{...},"position":N}
CHANGE_POSITION = re.compile(rb',"position":(\d+)\}')
DELTA_PREFIX = b'{"type":"delta","position":'
SNAPSHOT_PREFIX = b'{"type":"snapshot","position":'
HEARTBEAT_PREFIX = b'{"type":"heartbeat","position":'


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def percentiles(values: list[float] | array.array, scale: float = 1000.0) -> dict[str, float | int | None]:
    """Nearest-rank p50/p90/p99/p99.9/max, in ms when the values are seconds."""
    if not len(values):
        return {"n": 0, "p50": None, "p90": None, "p99": None, "p999": None, "max": None, "mean": None}
    ordered = sorted(values)
    n = len(ordered)

    def q(p: float) -> float:
        return round(ordered[min(n - 1, max(0, math.ceil(p * n) - 1))] * scale, 2)

    return {"n": n, "p50": q(0.50), "p90": q(0.90), "p99": q(0.99), "p999": q(0.999), "max": round(ordered[-1] * scale, 2),
            "mean": round(sum(ordered) / n * scale, 2)}


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


# ---------------------------------------------------------------------------------------------
# The server under test
# ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """`yingji serve` on a loopback port, on a fresh embedded (SQLite) store with the demo district."""

    def __init__(self, data_dir: Path, root: Path = ROOT, extra_env: dict[str, str] | None = None, serve_args: list[str] | None = None):
        self.data_dir = data_dir
        self.serve_args = serve_args or []  # e.g. ["--workers", "2"]
        self.root = root  # the checkout whose `gateway` runs (python -m from there comes first on sys.path)
        self.extra_env = extra_env or {}
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("YINGJI_")}
        env.update(YINGJI_DATA_DIR=str(self.data_dir), YINGJI_SECRET_KEY="bench-board-latency-secret-key-0123456789", PYTHONUNBUFFERED="1")
        return env | self.extra_env

    def seed(self) -> str:
        r = subprocess.run([sys.executable, "-m", "gateway.entrypoints.cli", "seed", "demo"], cwd=self.root, env=self.env(),
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0 or "seeded" not in r.stdout:
            raise RuntimeError(f"seed demo failed: {r.stdout}\n{r.stderr}")
        return r.stdout.strip()

    def start(self) -> None:
        log_file = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.entrypoints.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning", *self.serve_args],
            cwd=self.root, env=self.env(), stdout=log_file, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + self.log_path.read_text(errors="replace")[-3000:])
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start: " + self.log_path.read_text(errors="replace")[-3000:])

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def threads(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
        return 0

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


# ---------------------------------------------------------------------------------------------
# Board clients (run in worker processes)
# ---------------------------------------------------------------------------------------------
class BoardClient:
    """What every client implementation shares: reading frames, recording receive times, reconnecting."""

    def __init__(self, worker: Worker):
        self.worker = worker
        self.ready = asyncio.Event()  # snapshot (or catch-up heartbeat) received
        self.after: int | None = None  # where a reconnect resumes (the last frame position seen)
        self.max_change = 0  # highest change position received
        self.rec: array.array | None = None  # receive time by (change position - base); 0.0 = not yet
        self.base = 0
        self.closing = False
        self.reconnects = 0
        self.close_codes: dict[int, int] = {}
        self.errors: list[str] = []
        self.messages = 0
        self.bytes = 0
        self.snapshot_bytes = 0

    def hello(self) -> bytes:
        return json.dumps({"type": "hello", "token": self.worker.token, "after": self.after}).encode()

    def message(self, payload: bytes, t: float) -> None:
        self.messages += 1
        self.bytes += len(payload)
        if payload.startswith(DELTA_PREFIX):
            rec, base, top = self.rec, self.base, self.max_change
            for m in CHANGE_POSITION.finditer(payload):
                p = int(m.group(1))
                if p > top:
                    top = p
                if rec is not None:
                    i = p - base
                    if 0 <= i < len(rec) and rec[i] == 0.0:
                        rec[i] = t
            self.max_change = top
            comma = payload.find(b",", len(DELTA_PREFIX))
            self.after = int(payload[len(DELTA_PREFIX):comma])
        elif payload.startswith(SNAPSHOT_PREFIX):
            comma = payload.find(b",", len(SNAPSHOT_PREFIX))
            self.after = int(payload[len(SNAPSHOT_PREFIX):comma])
            self.snapshot_bytes = len(payload)
            self.ready.set()
        elif payload.startswith(HEARTBEAT_PREFIX):
            comma = payload.find(b",", len(HEARTBEAT_PREFIX))
            self.after = max(self.after or 0, int(payload[len(HEARTBEAT_PREFIX):comma]))
            self.ready.set()
        elif payload.startswith(b'{"type":"error"'):
            self.errors.append(payload[:300].decode(errors="replace"))

    def closed(self, code: int) -> None:
        self.close_codes[code] = self.close_codes.get(code, 0) + 1
        if not self.closing and self.worker.running:
            self.reconnects += 1
            asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        await asyncio.sleep(0.05)
        try:
            await self.connect()
        except Exception as e:  # noqa: BLE001
            self.errors.append(f"reconnect: {e!r}")

    async def connect(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class RawClient(BoardClient, asyncio.Protocol):
    """A lean RFC 6455 client on a bare asyncio transport, so that 500 of them fit in one core:
    the server's frames are unmasked and uncompressed, only hello/pong/close go the other way."""

    def __init__(self, worker: Worker):
        BoardClient.__init__(self, worker)
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.upgraded = False
        self.fragments: bytearray | None = None
        self.lost: asyncio.Future[None] | None = None
        self.close_code = 1006  # until a close frame says otherwise

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        self.lost = loop.create_future()
        await loop.create_connection(lambda: self, self.worker.host, self.worker.port)

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not an asyncio.Transport subclass
        self.buf = bytearray()
        self.upgraded = False
        self.fragments = None
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            f"GET /api/v1/board/live HTTP/1.1\r\nHost: {self.worker.host}:{self.worker.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def data_received(self, data: bytes) -> None:
        t = time.time()
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.errors.append("handshake: " + bytes(buf[:200]).decode(errors="replace"))
                self.closing = True
                assert self.transport is not None
                self.transport.close()
                return
            del buf[: end + 4]
            self.upgraded = True
            self.send(0x1, self.hello())
        pos, n = 0, len(buf)
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if n - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if n - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if b1 & 0x80:
                head += 4  # servers do not mask; tolerate it anyway (payload left masked)
            end = pos + head + length
            if end > n:
                break
            self.frame(b0 & 0x80, b0 & 0x0F, bytes(buf[pos + head : end]), t)
            pos = end
        if pos:
            del buf[:pos]

    def frame(self, fin: int, opcode: int, payload: bytes, t: float) -> None:
        if opcode == 0x0 and self.fragments is not None:
            self.fragments += payload
            if fin:
                whole, self.fragments = bytes(self.fragments), None
                self.message(whole, t)
        elif opcode in (0x1, 0x2):
            if fin:
                self.message(payload, t)
            else:
                self.fragments = bytearray(payload)
        elif opcode == 0x8:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.close_code = code
            self.send(0x8, payload[:2])
            if self.transport:
                self.transport.close()
        elif opcode == 0x9:
            self.send(0xA, payload)

    def send(self, opcode: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        n = len(payload)
        if n < 126:
            head = bytes((0x80 | opcode, 0x80 | n))
        elif n < 65536:
            head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
        else:
            head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
        mask = os.urandom(4)
        if n:
            key = (mask * (n // 4 + 1))[:n]
            payload = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
        self.transport.write(head + mask + payload)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        code, self.close_code = self.close_code, 1006
        if self.lost and not self.lost.done():
            self.lost.set_result(None)
        self.closed(code)

    async def close(self) -> None:
        self.closing = True
        if self.transport is not None and not self.transport.is_closing():
            self.send(0x8, (1000).to_bytes(2, "big"))
            lost = self.lost
            try:
                if lost is not None:
                    await asyncio.wait_for(asyncio.shield(lost), 2)
            except asyncio.TimeoutError:
                pass
            if self.transport is not None:
                self.transport.close()


class WebsocketsClient(BoardClient):
    """The same client on the `websockets` library (heavier per frame; for cross-checking RawClient)."""

    def __init__(self, worker: Worker):
        super().__init__(worker)
        self.ws: Any = None
        self.task: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        url = f"ws://{self.worker.host}:{self.worker.port}/api/v1/board/live"
        self.ws = await connect(url, max_size=None, compression=None, ping_interval=None, open_timeout=60)
        await self.ws.send(self.hello().decode())
        self.task = asyncio.get_running_loop().create_task(self._read(self.ws))

    async def _read(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            while True:
                payload = await ws.recv(decode=False)
                self.message(payload, time.time())
        except ConnectionClosed:
            pass
        self.closed(ws.close_code or 1006)

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            await self.ws.close()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)


class Worker:
    """One client process: a set of board clients, steered over a pipe by the orchestrator."""

    def __init__(self, pipe: Any, host: str, port: int, token: str, lib: str):
        self.pipe = pipe
        self.host = host
        self.port = port
        self.token = token
        self.lib = lib
        self.clients: list[BoardClient] = []
        self.running = True
        self.cpu_mark = 0.0

    @staticmethod
    def cpu() -> float:
        u = resource.getrusage(resource.RUSAGE_SELF)
        return u.ru_utime + u.ru_stime

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        self.pipe.send(("started", os.getpid()))
        while True:
            op, *args = await loop.run_in_executor(None, self.pipe.recv)
            if op == "exit":
                self.running = False
                self.pipe.send(("bye",))
                return
            reply = await getattr(self, "op_" + op)(*args)
            self.pipe.send(reply)

    async def op_connect(self, n: int, concurrency: int, timeout: float) -> dict[str, Any]:
        cls = RawClient if self.lib == "raw" else WebsocketsClient
        fresh = [cls(self) for _ in range(n)]
        gate = asyncio.Semaphore(concurrency)
        failures: list[str] = []
        started = time.time()

        async def one(c: BoardClient) -> None:
            async with gate:
                try:
                    await c.connect()
                    await asyncio.wait_for(c.ready.wait(), timeout)
                except Exception as e:  # noqa: BLE001
                    failures.append(repr(e)[:200])

        await asyncio.gather(*(one(c) for c in fresh))
        self.clients.extend(fresh)
        ready = [c for c in fresh if c.ready.is_set()]
        return {"connected": len(ready), "failed": n - len(ready), "seconds": round(time.time() - started, 3),
                "snapshot_bytes": round(sum(c.snapshot_bytes for c in ready) / max(1, len(ready))),
                "errors": (failures + [e for c in fresh for e in c.errors])[:5]}

    async def op_record(self, base: int, size: int) -> dict[str, Any]:
        for c in self.clients:
            c.base = base
            c.rec = array.array("d", bytes(8 * size))
            c.messages = c.bytes = 0
        self.cpu_mark = self.cpu()
        return {"clients": len(self.clients)}

    async def op_collect(self, positions: list[int], sent: list[float], deadline: float) -> dict[str, Any]:
        """Wait until every client has the last command's change (or the deadline), then compute latencies."""
        last = max(positions) if positions else 0
        while time.time() < deadline and any(c.max_change < last for c in self.clients):
            await asyncio.sleep(0.05)
        cpu = self.cpu() - self.cpu_mark
        caught_up = sum(1 for c in self.clients if c.max_change >= last)
        latencies = array.array("d")
        missing = 0
        first = [math.inf] * len(positions)  # per command: earliest and latest receive over this worker's clients
        latest = [0.0] * len(positions)
        for c in self.clients:
            rec, base = c.rec, c.base
            assert rec is not None
            size = len(rec)
            for j, (p, s) in enumerate(zip(positions, sent, strict=True)):
                i = p - base
                r = rec[i] if 0 <= i < size else 0.0
                if r:
                    latencies.append(r - s)
                    if r > latest[j]:
                        latest[j] = r
                    if r < first[j]:
                        first[j] = r
                else:
                    missing += 1
            c.rec = None
        return {
            "latencies": latencies.tobytes(), "missing": missing, "first": first, "latest": latest, "cpu_seconds": round(cpu, 3),
            "clients": len(self.clients), "caught_up": caught_up, "messages": sum(c.messages for c in self.clients),
            "bytes": sum(c.bytes for c in self.clients), "reconnects": sum(c.reconnects for c in self.clients),
            "close_codes": _merge_counts(c.close_codes for c in self.clients),
            "errors": [e for c in self.clients for e in c.errors][:5],
        }

    async def op_close(self) -> dict[str, Any]:
        clients, self.clients = self.clients, []
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        return {"closed": len(clients)}


def _merge_counts(counts: Any) -> dict[str, int]:
    total: dict[str, int] = {}
    for d in counts:
        for k, v in d.items():
            total[str(k)] = total.get(str(k), 0) + v
    return total


def worker_main(pipe: Any, host: str, port: int, token: str, lib: str) -> None:
    raise_nofile()
    worker = Worker(pipe, host, port, token, lib)
    try:
        import uvloop

        uvloop.run(worker.serve())
    except ImportError:
        asyncio.run(worker.serve())


class WorkerHandle:
    def __init__(self, ctx: Any, host: str, port: int, token: str, lib: str):
        self.pipe, child = ctx.Pipe()
        self.proc = ctx.Process(target=worker_main, args=(child, host, port, token, lib), daemon=True)
        self.proc.start()
        child.close()
        self.pid = self.ask_reply(120)[1]

    def ask(self, *message: Any) -> None:
        self.pipe.send(message)

    def ask_reply(self, timeout: float = 300) -> Any:
        if not self.pipe.poll(timeout):
            raise RuntimeError(f"client worker {self.proc.pid} did not answer in {timeout} s")
        return self.pipe.recv()

    def stop(self) -> None:
        try:
            if self.proc.is_alive():
                self.ask("exit")
                self.ask_reply(10)
        except Exception:  # noqa: BLE001
            pass
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)


def ask_all(workers: list[WorkerHandle], messages: list[tuple[Any, ...]], timeout: float = 300) -> list[Any]:
    for w, m in zip(workers, messages, strict=True):
        w.ask(*m)
    return [w.ask_reply(timeout) for w in workers]


# ---------------------------------------------------------------------------------------------
# The command driver (orchestrator process)
# ---------------------------------------------------------------------------------------------
class HttpConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection of the command driver: a request, then its answer (Content-Length)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.head: tuple[int, int] | None = None
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def usable(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def request(self, data: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self.waiter

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.head is None:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end])
            del self.buf[: end + 4]
            m = CONTENT_LENGTH.search(head)
            if m is None:
                self._fail(ConnectionError("answer without Content-Length: " + head[:200].decode(errors="replace")))
                return
            self.head = (int(head[9:12]), int(m.group(1)))
        status, length = self.head
        if len(self.buf) >= length:
            body = bytes(self.buf[:length])
            del self.buf[:length]
            self.head = None
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_result((status, body))

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))


CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


class CommandDriver:
    """POSTs over a pool of keep-alive connections, opened as needed (several when answers are slow).
    Bare asyncio, not httpx: on a 2-core box httpx's few ms of CPU per request would be taken from the server."""

    def __init__(self, host: str, port: int, token: str, timeout: float):
        self.host, self.port, self.token, self.timeout = host, port, token, timeout
        self.idle: list[HttpConnection] = []
        self.opened = 0

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        payload = json.dumps(body).encode()
        data = (f"POST /api/v1{path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAuthorization: Bearer {self.token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n").encode() + payload
        for attempt in range(2):
            conn = None
            while self.idle and conn is None:
                candidate = self.idle.pop()
                conn = candidate if candidate.usable() else None
            reused = conn is not None
            if conn is None:
                loop = asyncio.get_running_loop()
                _, conn = await loop.create_connection(HttpConnection, self.host, self.port)
                self.opened += 1
            try:
                answer = await asyncio.wait_for(conn.request(data), self.timeout)
            except ConnectionError:
                if reused and attempt == 0:
                    continue  # the server closed an idle keep-alive connection just now: once more on a fresh one
                raise
            except asyncio.TimeoutError:
                if conn.transport is not None:
                    conn.transport.close()
                raise
            self.idle.append(conn)
            return answer
        raise ConnectionError("unreachable")

    def close(self) -> None:
        for conn in self.idle:
            if conn.transport is not None:
                conn.transport.close()
        self.idle = []


async def drive(host: str, port: int, token: str, incidents: list[str], rate: float, seconds: float, value0: int,
                timeout: float) -> list[dict[str, Any]]:
    """Open loop: command i goes out at t0 + i/rate whether or not earlier ones were answered."""
    n = max(1, int(round(rate * seconds)))
    results: list[dict[str, Any]] = [{} for _ in range(n)]
    driver = CommandDriver(host, port, token, timeout)

    async def one(i: int, due: float) -> None:
        sent = time.time()
        try:
            status, body = await driver.post(f"/incidents/{incidents[i % len(incidents)]}/situation", {"affected": (value0 + i) % 10_000_000})
            position = json.loads(body).get("position") if status == 200 else None
            results[i] = {"due": due, "sent": sent, "done": time.time(), "status": status, "position": position}
        except Exception as e:  # noqa: BLE001 - a timeout or a refused connection is a result too
            results[i] = {"due": due, "sent": sent, "done": time.time(), "status": type(e).__name__, "position": None}

    tasks = []
    t0 = time.time() + 0.05
    for i in range(n):
        due = t0 + i / rate
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    driver.close()
    return results


def run_drive(base_url: str, token: str, incidents: list[str], rate: float, seconds: float, value0: int,
              timeout: float = 30.0) -> list[dict[str, Any]]:
    host, port = base_url.split("://", 1)[1].split(":")
    coro = drive(host, int(port), token, incidents, rate, seconds, value0, timeout)
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def command_stats(results: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    ok = [r for r in results if r.get("position") is not None]
    statuses: dict[str, int] = {}
    for r in results:
        statuses[str(r.get("status"))] = statuses.get(str(r.get("status")), 0) + 1
    sent = sorted(r["sent"] for r in results)
    span = sent[-1] - sent[0] if len(sent) > 1 else 0.0
    return {
        "commands": len(results), "ok": len(ok), "statuses": statuses,
        "target_rate": round(len(results) / seconds, 2),
        "achieved_rate": round((len(sent) - 1) / span, 2) if span else None,
        "ok_rate": round(len(ok) / (max(r["done"] for r in results) - sent[0]), 2) if results and sent else None,
        "send_lag_ms": percentiles([r["sent"] - r["due"] for r in results]),
        "rtt_ms": percentiles([r["done"] - r["sent"] for r in ok]),
    }


def report_incidents(base_url: str, token: str, unit_codes: list[str], n: int) -> list[str]:
    """Open `n` more incidents, so that the command stream spreads over many aggregates (see README: with
    only the demo's three, every incident soon has thousands of events, each replayed on every command)."""
    ids = []
    with httpx.Client(base_url=base_url + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        for k in range(n):
            r = http.post("/incidents", json={
                "category": "natural_disaster", "subtype": "geological", "level": "IV", "title": f"压测事件 {k + 1}",
                "unit_code": unit_codes[k % len(unit_codes)], "occurred_at": datetime.now(timezone.utc).isoformat(),
            })
            r.raise_for_status()
            ids.append(r.json()["id"])
    return ids


def head_position(base_url: str, token: str) -> int:
    r = httpx.get(base_url + "/api/v1/incidents", params={"limit": 1}, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    r.raise_for_status()
    return int(r.json()["position"])


def server_counters(base_url: str) -> dict[str, float]:
    """The fan-out counters in the server's /metrics (yingji_hub_*, yingji_ws_*, yingji_board_*)."""
    try:
        text = httpx.get(base_url + "/metrics", timeout=10).text
    except httpx.HTTPError:
        return {}
    out: dict[str, float] = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name.startswith(("yingji_hub_", "yingji_ws_", "yingji_board_")) and name.endswith(("_total",)):
            try:
                out[name] = float(value)
            except ValueError:
                continue
    return out


def measure_with_clients(server: ServerProcess, workers: list[WorkerHandle], token: str, incidents: list[str],
                         rate: float, seconds: float, value0: int, drain: float, meter: CpuMeter, timeout: float) -> dict[str, Any]:
    """One command stream while the workers' clients record; latency over every (client, command) pair."""
    n = max(1, int(round(rate * seconds)))
    base = head_position(server.base_url, token) + 1
    ask_all(workers, [("record", base, 3 * n + 2000)] * len(workers))
    counters0 = server_counters(server.base_url)
    wall0 = time.time()
    meter.start()
    results = run_drive(server.base_url, token, incidents, rate, seconds, value0, timeout)
    cpu = meter.stop()
    wall_drive = time.time()
    ok = [r for r in results if r.get("position") is not None]
    positions = [r["position"] for r in ok]
    sent = [r["sent"] for r in ok]
    deadline = time.time() + drain
    replies = ask_all(workers, [("collect", positions, sent, deadline)] * len(workers), timeout=drain + 300)
    latencies = array.array("d")
    for rep in replies:
        latencies.frombytes(rep["latencies"])
    clients = sum(rep["clients"] for rep in replies)
    # Per command: when its change reached the first and the last of all clients.
    first = [min(rep["first"][j] for rep in replies) for j in range(len(ok))]
    latest = [max(rep["latest"][j] for rep in replies) for j in range(len(ok))]
    complete = [latest[j] - sent[j] for j in range(len(ok)) if latest[j] > 0]
    earliest = [first[j] - sent[j] for j in range(len(ok)) if first[j] != math.inf]
    duration = wall_drive - wall0
    messages = sum(rep["messages"] for rep in replies)
    counters1 = server_counters(server.base_url)
    return {
        "clients": clients,
        "latency_ms": percentiles(latencies),
        "first_client_ms": percentiles(earliest),
        "last_client_ms": percentiles(complete),
        # when the slowest changes were sent (seconds into the phase) and how long the first client waited (ms):
        # stalls that recur at a period point at what runs at that period (a watchdog pass, a checkpoint)
        "late_commands": [[round(sent[j] - wall0, 3), round((first[j] - sent[j]) * 1000)] for j in range(len(ok))
                          if first[j] != math.inf and first[j] - sent[j] > LATE_SECONDS][:100],
        "expected_deliveries": clients * len(ok),
        "deliveries": len(latencies),
        "missing_deliveries": sum(rep["missing"] for rep in replies),
        "clients_caught_up": sum(rep["caught_up"] for rep in replies),
        "reconnects": sum(rep["reconnects"] for rep in replies),
        "close_codes": _merge_counts(rep["close_codes"] for rep in replies),
        "client_errors": [e for rep in replies for e in rep["errors"]][:5],
        "frames_per_client_per_s": round(messages / max(1, clients) / max(duration, 1e-9), 1),
        "mean_frame_bytes": round(sum(rep["bytes"] for rep in replies) / max(1, messages)),
        # the hub's own counters over the phase (servers that do not export one leave it out)
        "server_counters": {k: round(v - counters0.get(k, 0.0), 3) for k, v in counters1.items()},
        "commands": command_stats(results, seconds),
        "cpu_percent_while_sending": cpu,
        "server_rss_kib": server.rss_kib(),
    }


def proc_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs together, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values[:8]) - idle, sum(values[:8])


class CpuMeter:
    """CPU used over a window, in % of one core: the server, the client workers, this driver, and the rest
    of the machine (other people's work on a shared box: read the latencies in its light)."""

    def __init__(self, server_pid: int, worker_pids: list[int]):
        self.pids = {"server": [server_pid], "clients": worker_pids, "driver": [os.getpid()]}

    def start(self) -> CpuMeter:
        self.t0 = time.time()
        self.m0 = machine_ticks()[0]
        self.p0 = {k: sum(proc_ticks(p) for p in pids) for k, pids in self.pids.items()}
        return self

    def stop(self) -> dict[str, float]:
        wall = max(time.time() - self.t0, 1e-9)
        hz = os.sysconf("SC_CLK_TCK")
        used = {k: 100 * (sum(proc_ticks(p) for p in pids) - self.p0[k]) / hz / wall for k, pids in self.pids.items()}
        busy = 100 * (machine_ticks()[0] - self.m0) / hz / wall
        used["other_processes"] = max(0.0, busy - sum(used.values()))
        used["machine_busy"] = busy
        used["machine_capacity"] = 100.0 * (os.cpu_count() or 1)
        return {k: round(v, 1) for k, v in used.items()}


def background_busy(seconds: float = 1.0) -> float:
    """Cores busy over `seconds`, everything on the machine counted."""
    b0, t0 = machine_ticks()[0], time.time()
    time.sleep(seconds)
    return (machine_ticks()[0] - b0) / os.sysconf("SC_CLK_TCK") / (time.time() - t0)


def wait_quiet(max_seconds: float, below_cores: float = 0.3) -> float:
    """Wait (up to max_seconds) for the machine to be nearly idle; returns the cores busy last seen."""
    deadline = time.time() + max_seconds
    busy = background_busy()
    while busy >= below_cores and time.time() < deadline:
        busy = background_busy()
    return round(busy, 2)


def py_spy() -> str | None:
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


def start_profile(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    """py-spy on the server, GIL holders only (where its one core of Python goes), collapsed stacks per thread."""
    exe = py_spy()
    if exe is None:
        log("--profile: py-spy not found (pip install py-spy); no profile")
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [exe, "record", "-p", str(pid), "-d", str(max(1, int(seconds))), "-r", "100", "--gil", "--threads", "--nonblocking",
           "--format", "raw", "-o", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarize_profile(path: Path, top: int = 20) -> dict[str, Any]:
    """Share of GIL-holding samples: by thread, by function itself (self) and with its callees (inclusive)."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    threads: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        thread = re.sub(r"\(\d+\)|0x[0-9a-f]+", "", frames[0]).strip()
        threads[thread] = threads.get(thread, 0) + n
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for f in set(frames[1:]):
            inclusive[f] = inclusive.get(f, 0) + n

    def share(d: dict[str, int]) -> list[list[Any]]:
        return [[round(100 * v / max(1, total), 1), k] for k, v in sorted(d.items(), key=lambda kv: -kv[1])[:top]]

    return {"file": str(path), "samples": total, "threads_percent": share(threads), "self_percent": share(own),
            "inclusive_percent": share(inclusive)}


def fill_thread_pool(base_url: str, token: str, incident: str, requests: int = 200) -> None:
    """Many cheap reads at once, so the server's thread pool has grown to its limit before the idle-memory
    `before` reading (its threads and their malloc arenas are a one-off cost, not a per-connection one)."""

    async def burst() -> None:
        limits = httpx.Limits(max_connections=requests)
        async with httpx.AsyncClient(base_url=base_url + "/api/v1", headers={"Authorization": f"Bearer {token}"},
                                     limits=limits, timeout=60) as http:
            await asyncio.gather(*(http.get(f"/incidents/{incident}") for _ in range(requests)))

    asyncio.run(burst())


def measure_idle_memory(server: ServerProcess, workers: list[WorkerHandle], clients: int, concurrency: int,
                        settle: float) -> dict[str, Any]:
    """Server RSS before and after `clients` connect (hello, snapshot, then idle), in two equal waves.

    (after - before) / N is the goal's figure; it includes one-off growth (the thread pool, first-use
    caches) and the allocator's high-water mark from building many snapshots at once. The second wave
    reuses what the first one freed, so (after - middle) / (N/2) is closer to what a connection keeps."""
    time.sleep(2.0)
    rss0, threads0 = server.rss_kib(), server.threads()
    readings: list[tuple[int, int]] = []
    connected = failed = snapshot_bytes = 0
    seconds = 0.0
    errors: list[str] = []
    for wave in (clients // 2, clients - clients // 2):
        t0 = time.time()
        replies = ask_all(workers, [("connect", k, concurrency, 120) for k in split(wave, len(workers))])
        seconds += time.time() - t0
        connected += sum(rep["connected"] for rep in replies)
        failed += sum(rep["failed"] for rep in replies)
        snapshot_bytes += sum(rep["snapshot_bytes"] * rep["connected"] for rep in replies)
        errors += [e for rep in replies for e in rep["errors"]]
        log(f"{connected} clients have their snapshot ({time.time() - t0:.1f} s for this wave); settling {settle:g} s")
        time.sleep(settle)
        readings.append((connected, server.rss_kib()))
    (n1, rss1), (n2, rss2) = readings
    return {
        "clients": clients, "connected": n2, "failed": failed, "connect_seconds": round(seconds, 2),
        "connect_concurrency_per_worker": concurrency, "snapshot_bytes": round(snapshot_bytes / max(1, n2)),
        "rss_before_kib": rss0, "rss_after_first_half_kib": rss1, "rss_after_kib": rss2,
        "server_threads_before": threads0, "server_threads_after": server.threads(),
        "kib_per_connection": round((rss2 - rss0) / max(1, n2), 2),
        "marginal_kib_per_connection": round((rss2 - rss1) / max(1, n2 - n1), 2),
        "errors": errors[:5],
    }


def split(n: int, parts: int) -> list[int]:
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m bench.board_latency", description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=1000, help="board clients during the load phase and the idle-memory phase")
    p.add_argument("--rate", type=float, default=100.0, help="situation-update commands per second (open loop)")
    p.add_argument("--seconds", type=float, default=20.0, help="length of the load phase")
    p.add_argument("--baseline-seconds", type=float, default=None, help="length of each baseline phase (default: min(10, --seconds))")
    p.add_argument("--incidents", type=int, default=100,
                   help="incidents to report before measuring; commands go round robin over these and the demo's open ones")
    p.add_argument("--workers", type=int, default=2, help="client processes")
    p.add_argument("--client-lib", choices=("raw", "websockets"), default="raw",
                   help="raw: a lean asyncio RFC 6455 client (default); websockets: the websockets library")
    p.add_argument("--settle", type=float, default=5.0, help="seconds idle after the last snapshot before reading RSS")
    p.add_argument("--drain", type=float, default=15.0, help="seconds to wait for late deliveries after the last command")
    p.add_argument("--command-timeout", type=float, default=10.0, help="seconds before an unanswered command counts as failed")
    p.add_argument("--connect-concurrency", type=int, default=100, help="connections opening at once, per worker")
    p.add_argument("--wait-quiet", type=float, default=0.0,
                   help="wait up to this many seconds for the machine to be nearly idle (< 0.3 cores busy) before starting")
    p.add_argument("--profile", action="store_true",
                   help="py-spy record (--gil) the server during the load phase; a summary goes into the JSON")
    p.add_argument("--profile-out", default=None, help="where to keep py-spy's collapsed stacks (default: the temporary data dir)")
    p.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                   help="extra environment for the server (e.g. MALLOC_ARENA_MAX=2); repeatable")
    p.add_argument("--serve-arg", action="append", default=[], metavar="ARG",
                   help="an argument for `yingji serve`, repeated (e.g. --serve-arg=--workers --serve-arg=2)")
    p.add_argument("--server-root", default=str(ROOT), help="checkout to run the server from (A/B a patched copy)")
    p.add_argument("--quick", action="store_true", help="smoke run: 100 clients, 5 s (unless given explicitly)")
    p.add_argument("--keep", action="store_true", help="keep the temporary data dir (server log inside)")
    p.add_argument("--out", default="bench/results/board_latency.json")
    args = p.parse_args(argv)
    given = set(a.split("=")[0] for a in (argv if argv is not None else sys.argv[1:]))
    if args.quick:
        if "--clients" not in given:
            args.clients = 100
        if "--seconds" not in given:
            args.seconds = 5.0
        if "--settle" not in given:
            args.settle = 2.0
        if "--drain" not in given:
            args.drain = 10.0
    baseline_seconds = args.baseline_seconds or min(10.0, args.seconds)
    if args.quick and args.baseline_seconds is None:
        baseline_seconds = min(3.0, args.seconds)
    nofile = raise_nofile()
    started = time.time()
    background = wait_quiet(args.wait_quiet) if args.wait_quiet > 0 else round(background_busy(), 2)
    log(f"background load before the run: {background} cores busy")

    data_dir = Path(tempfile.mkdtemp(prefix="yingji-bench-"))
    server = ServerProcess(data_dir, Path(args.server_root).resolve(), dict(kv.split("=", 1) for kv in args.server_env),
                           serve_args=args.serve_arg)
    workers: list[WorkerHandle] = []
    report: dict[str, Any] = {}
    try:
        log(f"seeding the demo district in {data_dir}")
        server.seed()
        server.start()
        log(f"server pid {server.pid} on {server.base_url}")
        r = httpx.post(server.base_url + "/api/v1/auth/token", data={"username": USERNAME, "password": PASSWORD}, timeout=30)
        r.raise_for_status()
        token = r.json()["access_token"]
        items = httpx.get(server.base_url + "/api/v1/incidents", params={"limit": 1000},
                          headers={"Authorization": f"Bearer {token}"}, timeout=30).json()["items"]
        demo = [i for i in items if i["status"] in ON_BOARD_INCIDENT]
        if not demo:
            raise RuntimeError("the demo district has no open incident to update")
        incidents = [i["id"] for i in demo] + report_incidents(server.base_url, token, [i["unit_code"] for i in demo], args.incidents)
        log(f"updating {len(incidents)} open incidents round robin ({len(demo)} from the demo, {args.incidents} reported now)")

        ctx = mp.get_context("spawn")
        workers = [WorkerHandle(ctx, "127.0.0.1", server.port, token, args.client_lib) for _ in range(args.workers)]
        value = 1

        log("warm-up: 1 s of commands")
        commands_total = len(run_drive(server.base_url, token, incidents, args.rate, 1.0, value, args.command_timeout))
        value += 100_000

        log(f"baseline http_only: {args.rate:g}/s for {baseline_seconds:g} s, no WebSocket client")
        meter = CpuMeter(server.pid, [w.proc.pid for w in workers])
        meter.start()
        http_results = run_drive(server.base_url, token, incidents, args.rate, baseline_seconds, value, args.command_timeout)
        http_only = command_stats(http_results, baseline_seconds)
        http_only["cpu_percent_while_sending"] = meter.stop()
        value += 100_000

        log(f"baseline one_client: {args.rate:g}/s for {baseline_seconds:g} s, 1 client")
        workers[0].ask("connect", 1, 1, 60)
        connected = workers[0].ask_reply()
        if connected["connected"] != 1:
            raise RuntimeError(f"the single client did not connect: {connected}")
        one = measure_with_clients(server, workers[:1], token, incidents, args.rate, baseline_seconds, value, args.drain, meter, args.command_timeout)
        value += 100_000
        workers[0].ask("close")
        workers[0].ask_reply()

        log(f"idle memory: {args.clients} clients in two waves")
        fill_thread_pool(server.base_url, token, incidents[0])
        idle = measure_idle_memory(server, workers, args.clients, args.connect_concurrency, args.settle)
        connected_n = idle["connected"]
        log(f"idle: {idle['kib_per_connection']} KiB per connection ({idle['marginal_kib_per_connection']} KiB for the second half)")

        log(f"load: {args.rate:g}/s for {args.seconds:g} s with {connected_n} clients")
        profile_path = Path(args.profile_out) if args.profile_out else data_dir / "server.pyspy.txt"
        profiler = start_profile(server.pid, args.seconds, profile_path) if args.profile else None
        load = measure_with_clients(server, workers, token, incidents, args.rate, args.seconds, value, args.drain, meter, args.command_timeout)
        if profiler is not None:
            profiler.wait(60)
            load["profile"] = summarize_profile(profile_path) if profile_path.exists() else {"error": "py-spy wrote nothing"}
        ask_all(workers, [("close",)] * len(workers))
        time.sleep(1.0)
        load["server_rss_after_close_kib"] = server.rss_kib()

        commands_total += http_only["commands"] + one["commands"]["commands"] + load["commands"]["commands"]
        p99_ok = load["latency_ms"]["p99"] is not None and load["latency_ms"]["p99"] <= GOAL["p99_ms"] and load["missing_deliveries"] == 0
        report = {
            "benchmark": "board_latency",
            "config": {
                "clients": args.clients, "rate": args.rate, "seconds": args.seconds, "baseline_seconds": baseline_seconds,
                "workers": args.workers, "client_lib": args.client_lib, "quick": args.quick, "incidents_updated": len(incidents),
                "commands_per_incident_at_end": round(commands_total / len(incidents), 1),
                "store": "sqlite (embedded)", "server_root": str(server.root), "server_env": server.extra_env, "serve_args": server.serve_args, "cpus": os.cpu_count(), "python": platform.python_version(),
                "machine": platform.machine(), "nofile": nofile, "server_pid": server.pid,
                "background_cores_busy_before": background, "loadavg_after": list(os.getloadavg()),
            },
            "goal": GOAL,
            "http_only": http_only,
            "one_client": one,
            "idle_memory": idle,
            "load": load,
            "ratios": {
                "load_over_one_client_p50": ratio(load["latency_ms"]["p50"], one["latency_ms"]["p50"]),
                "load_over_one_client_p99": ratio(load["latency_ms"]["p99"], one["latency_ms"]["p99"]),
                "one_client_over_http_rtt_p50": ratio(one["latency_ms"]["p50"], http_only["rtt_ms"]["p50"]),
                "load_rtt_over_http_rtt_p50": ratio(load["commands"]["rtt_ms"]["p50"], http_only["rtt_ms"]["p50"]),
                "load_rtt_over_http_rtt_p99": ratio(load["commands"]["rtt_ms"]["p99"], http_only["rtt_ms"]["p99"]),
            },
            "verdict": {
                "at_goal_size": args.clients >= GOAL["clients"] and args.rate >= GOAL["rate"],
                "p99_within_goal": p99_ok,
                "idle_memory_within_goal": idle["kib_per_connection"] <= GOAL["idle_kib_per_connection"],
            },
            "wall_seconds": round(time.time() - started, 1),
        }
    except BaseException:
        log("failed; server log tail:\n" + server.log_tail())
        raise
    finally:
        for w in workers:
            w.stop()
        server.stop()
        if args.keep:
            log(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)

    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
        log(f"wrote {out}")
    return report


if __name__ == "__main__":
    main()
