"""Two gateway processes, one projector process, PostgreSQL and Redis, as separate OS processes.

A WebSocket client on each gateway must see every change, in position order,
none missing, while Redis is killed and restarted in the middle of the run.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from gateway.settings import Settings
from tests.conftest import IN_CI, PG_URL, ROOT, Server, drop_schema, env_of, free_port, postgres_or_skip, seed_demo, yingji

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


class PrivateRedis:
    """A redis-server of the test's own on a free loopback port, so it can be killed and restarted."""

    def __init__(self, workdir: Path):
        binary = shutil.which("redis-server")
        if binary is None:
            if IN_CI:
                pytest.fail("redis-server binary not found — required in CI", pytrace=False)
            pytest.skip("redis-server binary not found")
        self.binary = binary
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("private redis did not start")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def scaled(tmp_path: Path) -> Iterator[tuple[list[Server], PrivateRedis, Settings]]:
    postgres_or_skip()
    redis_server = PrivateRedis(tmp_path)
    redis_server.start()
    schema = "t_" + uuid.uuid4().hex[:12]
    settings = Settings(data_dir=tmp_path, database_url=PG_URL, database_schema=schema, secret_key="test-secret-of-at-least-32-bytes!")
    yingji(settings, "db", "init")
    seed_demo(settings)
    worker_env = {"YINGJI_REDIS_URL": redis_server.url, "YINGJI_CREATE_SCHEMA": "false"}
    projector = subprocess.Popen(
        [sys.executable, "-m", "gateway.entrypoints.cli", "project"], cwd=ROOT, env=env_of(settings) | worker_env,
        stdout=open(tmp_path / "projector.log", "ab"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )
    gateways = [Server(settings, worker_env | {"YINGJI_RUN_PROJECTOR": "false"}).start() for _ in range(2)]
    yield gateways, redis_server, settings
    for g in gateways:
        g.stop()
    projector.terminate()
    projector.wait(timeout=10)
    redis_server.kill()
    drop_schema(schema)


async def _follow(url: str, token: str, frames: list[dict], done: asyncio.Event) -> None:
    """One board client that reconnects with `after` like the page does, collecting delta frames."""
    last: int | None = None
    while not done.is_set():
        try:
            async with websockets.connect(url) as ws:
                await ws.send(json.dumps({"type": "hello", "token": token, "after": last}))
                while not done.is_set():
                    try:
                        frame = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                    except asyncio.TimeoutError:
                        continue
                    if frame["type"] in ("snapshot", "delta", "heartbeat"):
                        if frame["type"] == "delta":
                            frames.append(frame)
                        last = frame["position"]
        except (OSError, websockets.ConnectionClosed):
            await asyncio.sleep(0.2)


def test_two_gateways_see_every_change_in_order_across_a_redis_restart(scaled) -> None:  # type: ignore[no-untyped-def]
    gateways, redis_server, _ = scaled
    token = httpx.post(gateways[0].base_url + "/api/v1/auth/token", data={"username": "commander", "password": "yingji2026"}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    incident = httpx.get(gateways[0].base_url + "/api/v1/incidents", headers=headers).json()["items"][0]["id"]

    async def run() -> tuple[list[list[dict]], list[int]]:
        done = asyncio.Event()
        seen: list[list[dict]] = [[], []]
        followers = [
            asyncio.create_task(_follow(g.base_url.replace("http", "ws") + "/api/v1/board/live", token, seen[i], done))
            for i, g in enumerate(gateways)
        ]
        await asyncio.sleep(1.0)
        positions: list[int] = []
        async with httpx.AsyncClient(headers=headers, timeout=10) as http:
            for n in range(60):
                g = gateways[n % 2]
                r = await http.post(f"{g.base_url}/api/v1/incidents/{incident}/situation", json={"affected": 1000 + n})
                assert r.status_code == 200, r.text
                positions.append(r.json()["position"])
                if n == 20:
                    redis_server.kill()
                if n == 35:
                    redis_server.start()
                await asyncio.sleep(0.05)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if all(s and s[-1]["position"] >= positions[-1] for s in seen):
                break
            await asyncio.sleep(0.2)
        done.set()
        await asyncio.gather(*followers)
        return seen, positions

    seen, positions = asyncio.run(run())
    for frames in seen:
        got = [f["position"] for f in frames]
        assert got == sorted(set(got)), "frames out of order or repeated"
        incident_positions = {c["position"] for f in frames for c in f["changes"] if c["id"] == incident}
        missing = [p for p in positions if p not in incident_positions]
        assert not missing, f"missing positions {missing}"
        last_doc = next(c["doc"] for f in reversed(frames) for c in reversed(f["changes"]) if c["id"] == incident)
        assert last_doc["situation"]["affected"] == 1059
