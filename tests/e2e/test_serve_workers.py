"""`yingji serve --workers 2` on the embedded default: two gateway processes on one port, the
projector in a process of its own, no Redis. Board clients on either worker see every change in
order, soon after its command was answered (each worker learns of changes from the store's
position: gateway/adapters/bus.py StoreBus)."""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import websockets

from gateway.settings import Settings
from tests.conftest import ROOT, env_of, free_port, seed_demo


async def _follow(url: str, token: str, frames: list[dict], done: asyncio.Event) -> None:
    """A board client collecting delta frames with the moment each arrived (`_at`)."""
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "hello", "token": token}))
        while not done.is_set():
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
            except asyncio.TimeoutError:
                continue
            if frame["type"] == "delta":
                frames.append(frame | {"_at": time.monotonic()})


def _children(pid: int) -> list[str]:
    out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


def test_two_workers_and_a_projector_process_serve_every_change_to_every_board(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="test-secret-of-at-least-32-bytes!")
    seed_demo(settings)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "gateway.entrypoints.cli", "serve", "--port", str(port), "--workers", "2", "--log-level", "warning"],
                            cwd=ROOT, env=env_of(settings), stdout=open(tmp_path / "serve.log", "ab"), stderr=subprocess.STDOUT)  # noqa: SIM115
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError((tmp_path / "serve.log").read_text()[-3000:])
        kids = _children(proc.pid)
        assert sum("cli project" in k for k in kids) == 1, kids  # the one projector
        token = httpx.post(base + "/api/v1/auth/token", data={"username": "commander", "password": "yingji2026"}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        incident = httpx.get(base + "/api/v1/incidents", headers=headers).json()["items"][0]["id"]

        async def run() -> tuple[list[list[dict]], list[tuple[int, float]]]:
            done = asyncio.Event()
            seen: list[list[dict]] = [[] for _ in range(4)]  # four clients: both workers get some
            followers = [asyncio.create_task(_follow(base.replace("http", "ws") + "/api/v1/board/live", token, s, done)) for s in seen]
            await asyncio.sleep(1.5)
            answered: list[tuple[int, float]] = []
            for n in range(30):
                async with httpx.AsyncClient(headers=headers, timeout=10) as http:  # a new connection: either worker
                    r = await http.post(f"{base}/api/v1/incidents/{incident}/situation", json={"affected": 2000 + n})
                assert r.status_code == 200, r.text
                answered.append((r.json()["position"], time.monotonic()))
                await asyncio.sleep(0.05)
            last = answered[-1][0]
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not all(s and s[-1]["position"] >= last for s in seen):
                await asyncio.sleep(0.1)
            done.set()
            await asyncio.gather(*followers)
            return seen, answered

        seen, answered = asyncio.run(run())
        positions = [p for p, _ in answered]
        for frames in seen:
            got = [f["position"] for f in frames]
            assert got == sorted(set(got)), "frames out of order or repeated"
            shown = {c["position"] for f in frames for c in f["changes"] if c["id"] == incident}
            assert not [p for p in positions if p not in shown], "a change never reached this board"
        # Soon, not only eventually: a worker that learnt of changes only from its hub's one-second
        # gap check would show them ~0.5 s late on average.
        delays = [next(f["_at"] for f in frames if f["position"] >= p) - at for frames in seen for p, at in answered]
        assert statistics.median(delays) < 0.4, f"median command → screen {statistics.median(delays):.3f} s"
        workers = {line.split()[0] for line in _children(proc.pid) if "cli project" not in line}
        assert len(workers) >= 2, _children(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert not [k for k in _children(proc.pid)]  # nothing left behind
