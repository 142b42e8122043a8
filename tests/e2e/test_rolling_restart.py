"""A rolling restart: two gateways behind a client that fails over, restarted one at a time while
commands are written and a board client follows each gateway. Every command is applied exactly
once (a retry carries the same Idempotency-Key to the other gateway) and every board client sees
every command's change, in order, once, across its gateway's restart."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.test_scaleout import _follow, scaled  # noqa: F401 (the fixture: PostgreSQL, Redis, projector, two gateways)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]
COMMANDS = 60


async def send_with_failover(gateways: list[Any], first: int, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """What a load balancer and a retrying client do: on a refused connection or a 5xx, the same
    request (same Idempotency-Key) to the next gateway, until one answers."""
    key = str(uuid.uuid4())
    async with httpx.AsyncClient(headers=headers | {"Idempotency-Key": key}, timeout=10) as http:
        for attempt in range(60):
            g = gateways[(first + attempt) % len(gateways)]
            try:
                r = await http.post(g.base_url + path, json=body)
            except httpx.TransportError:
                await asyncio.sleep(0.2)
                continue
            if r.status_code >= 500:
                await asyncio.sleep(0.2)
                continue
            assert r.status_code == 200, r.text
            return r.json()
    raise AssertionError(f"no gateway took {path} {body}")


def test_a_rolling_restart_loses_and_repeats_nothing(scaled) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    gateways, _redis, _settings = scaled
    token = httpx.post(gateways[0].base_url + "/api/v1/auth/token", data={"username": "commander", "password": "yingji2026"}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    incident = httpx.get(gateways[0].base_url + "/api/v1/incidents", headers=headers).json()["items"][0]["id"]

    def restart(i: int) -> None:
        gateways[i].stop()  # SIGTERM: in-flight requests finish, new ones are refused until it is back
        gateways[i].start()

    async def run() -> tuple[list[list[dict]], list[int]]:
        done = asyncio.Event()
        seen: list[list[dict]] = [[], []]
        followers = [asyncio.create_task(_follow(g.base_url.replace("http", "ws") + "/api/v1/board/live", token, seen[i], done))
                     for i, g in enumerate(gateways)]
        await asyncio.sleep(1.0)
        positions: list[int] = []
        restarts: list[asyncio.Task[None]] = []
        for n in range(COMMANDS):
            if n in (15, 40):
                restarts.append(asyncio.create_task(asyncio.to_thread(restart, 0 if n == 15 else 1)))
            answer = await send_with_failover(gateways, n, f"/api/v1/incidents/{incident}/situation", {"affected": 3000 + n}, headers)
            positions.append(answer["position"])
            await asyncio.sleep(0.05)
        await asyncio.gather(*restarts)
        for _ in range(150):
            if all(s and s[-1]["position"] >= positions[-1] for s in seen):
                break
            await asyncio.sleep(0.2)
        done.set()
        await asyncio.gather(*followers)
        return seen, positions

    seen, positions = asyncio.run(run())
    assert len(set(positions)) == COMMANDS  # each command its own position: none applied twice
    events: list[dict[str, Any]] = []
    while page := httpx.get(gateways[1].base_url + "/api/v1/events", params={"after": events[-1]["position"] if events else 0,
                                                                              "limit": 1000}, headers=headers).json()["items"]:
        events += page
    figures = [e["data"]["figures"]["affected"] for e in events
               if e["type"].endswith("incident.situationupdated") and e["subject"] == incident and "affected" in e["data"].get("figures", {})]
    assert [f for f in figures if f >= 3000] == [3000 + n for n in range(COMMANDS)]  # all applied, once, in order
    for frames in seen:
        got = [f["position"] for f in frames]
        assert got == sorted(set(got)), "frames out of order or repeated across a restart"
        changed = {c["position"] for f in frames for c in f["changes"] if c["id"] == incident}
        assert not [p for p in positions if p not in changed], "a board client missed a change across a restart"
