"""The CLI is safe on a running deployment: with a projector process and a gateway running on
PostgreSQL, `seed demo`, `users add` and `projections rebuild` each exit 0; the rebuild folds into
tables beside the live ones and switches them in while commands are written and a board client is
connected, which sees every command's position once, in order, across the switch."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.settings import Settings
from tests.conftest import PG_URL, ROOT, Server, drop_schema, env_of, postgres_or_skip, yingji
from tests.e2e.test_rebuild import read_models
from tests.e2e.test_scaleout import PrivateRedis, _follow

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Server, Settings]]:
    postgres_or_skip()
    redis_server = PrivateRedis(tmp_path)
    redis_server.start()
    schema = "t_" + uuid.uuid4().hex[:12]
    settings = Settings(data_dir=tmp_path, database_url=PG_URL, database_schema=schema, secret_key="test-secret-of-at-least-32-bytes!")
    yingji(settings, "db", "init")
    env = {"YINGJI_REDIS_URL": redis_server.url, "YINGJI_CREATE_SCHEMA": "false"}
    projector = subprocess.Popen(
        [sys.executable, "-m", "gateway.entrypoints.cli", "project"], cwd=ROOT, env=env_of(settings) | env,
        stdout=open(tmp_path / "projector.log", "ab"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )
    gateway = Server(settings, env | {"YINGJI_RUN_PROJECTOR": "false", "YINGJI_BOOTSTRAP_ADMIN": ""}).start()
    yield gateway, settings
    gateway.stop()
    projector.terminate()
    projector.wait(timeout=10)
    redis_server.kill()
    drop_schema(schema)


def test_seed_users_add_and_rebuild_while_the_deployment_runs(running: tuple[Server, Settings]) -> None:
    gateway, settings = running
    seeded = yingji(settings, "seed", "demo", check=False)
    assert seeded.returncode == 0 and "seeded" in seeded.stdout, seeded.stderr[-2000:]
    added = yingji(settings, "users", "add", "duty2", "--role", "operator", "--unit", "411099001000",
                   "--password", "Xinxing-duty-2026", check=False)
    assert added.returncode == 0, added.stderr[-2000:]

    token = httpx.post(gateway.base_url + "/api/v1/auth/token", data={"username": "commander", "password": "yingji2026"}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    incidents = httpx.get(gateway.base_url + "/api/v1/incidents", headers=headers).json()
    assert incidents["total"] >= 3  # the running projector projected what seed wrote
    incident = incidents["items"][0]["id"]

    rebuilt: dict[str, subprocess.CompletedProcess[str]] = {}
    totals: list[int] = []

    def read_while_rebuilding() -> None:
        """A desk reading incidents the whole time: the live read models keep serving until the switch."""
        with httpx.Client(headers=headers, timeout=10) as http:
            while "run" not in rebuilt:
                totals.append(http.get(gateway.base_url + "/api/v1/incidents", params={"limit": 1}).json()["total"])
                time.sleep(0.01)

    async def run() -> tuple[list[dict], list[int]]:
        done = asyncio.Event()
        frames: list[dict] = []
        follower = asyncio.create_task(_follow(gateway.base_url.replace("http", "ws") + "/api/v1/board/live", token, frames, done))
        await asyncio.sleep(1.0)
        positions: list[int] = []
        async with httpx.AsyncClient(headers=headers, timeout=20) as http:
            for n in range(40):
                if n == 10:  # the rebuild runs while the next thirty commands are written
                    threading.Thread(target=lambda: rebuilt.setdefault("run", yingji(settings, "projections", "rebuild", check=False))).start()
                    threading.Thread(target=read_while_rebuilding).start()
                r = await http.post(f"{gateway.base_url}/api/v1/incidents/{incident}/situation", json={"affected": 2000 + n})
                assert r.status_code == 200, r.text
                positions.append(r.json()["position"])
                await asyncio.sleep(0.05)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and ("run" not in rebuilt or not frames or frames[-1]["position"] < positions[-1]):
            await asyncio.sleep(0.2)
        done.set()
        await follower
        return frames, positions

    frames, positions = asyncio.run(run())
    assert rebuilt["run"].returncode == 0, rebuilt["run"].stderr[-2000:]
    assert "rebuilt read models" in rebuilt["run"].stdout
    assert len(totals) > 20 and min(totals) == incidents["total"], f"readers saw {sorted(set(totals))} incidents during the rebuild"
    got = [f["position"] for f in frames]
    assert got == sorted(set(got)), "frames out of order or repeated across the switch"
    seen = {c["position"] for f in frames for c in f["changes"] if c["id"] == incident}
    assert not [p for p in positions if p not in seen], "a command's change never reached the board client"
    for _ in range(6):  # a loaded machine may need more than the server's read wait: retry as a client is told to
        answer = httpx.get(gateway.base_url + "/api/v1/board", params={"min_position": positions[-1]}, headers=headers, timeout=10)
        if answer.status_code != 503:
            break
    assert answer.status_code == 200, answer.text
    board = answer.json()
    assert next(i for i in board["incident"] if i["id"] == incident)["situation"]["affected"] == 2039

    # What the running projector carried on with equals a rebuild from nothing.
    docs_live, _ = read_models(settings)
    assert yingji(settings, "projections", "rebuild").returncode == 0
    docs_again, _ = read_models(settings)
    assert docs_live == docs_again
