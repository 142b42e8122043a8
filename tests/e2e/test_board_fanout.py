"""The hub's fan-out under a burst: coalesced frames, shared snapshots, clients joining mid-burst."""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

import httpx
import websockets

from tests.conftest import Server
from tests.e2e.test_board_live import Board, apply, as_board, burst, token


def metric(server: Server, name: str) -> float:
    text = httpx.get(server.base_url + "/metrics").text
    return next(float(line.split()[1]) for line in text.splitlines() if line.startswith(name + " "))


async def follow(url: str, tok: str, state: dict[str, Any], stop: asyncio.Event) -> None:
    """A board client: hello, snapshot, then deltas; checks positions only ever grow."""
    board: Board = {}
    last: int | None = None
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "hello", "token": tok, "after": None}))
        while True:
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 0.3))
            except asyncio.TimeoutError:
                if stop.is_set():
                    break
                continue
            if frame["type"] == "snapshot":
                assert last is None, "a second snapshot"
                state["snapshot_position"] = frame["position"]
            elif frame["type"] == "delta":
                assert last is not None, "a delta before the snapshot"
                assert frame["position"] > last, "a position was delivered twice or out of order"
                positions = [c["position"] for c in frame["changes"]]
                assert positions == sorted(positions) and positions[0] > last and positions[-1] <= frame["position"]
                state["frames"] = state.get("frames", 0) + 1
                state["changes"] = state.get("changes", 0) + len(positions)
            elif frame["type"] == "heartbeat":
                assert last is None or frame["position"] >= last
            board = apply(board, frame)
            last = max(last or 0, frame["position"])
            state["last"] = last
    state.update(board=board, position=last)


def test_clients_connecting_during_a_burst_end_with_the_board_at_the_same_position(server: Server) -> None:
    """Snapshots shared between clients connecting at once must never lose the changes made meanwhile."""
    tokens = {"commander": token(server), "field": token(server, "field")}
    url = server.base_url.replace("http", "ws") + "/api/v1/board/live"
    rng = random.Random(11)

    async def run() -> list[tuple[str, dict[str, Any]]]:
        stop = asyncio.Event()
        clients: list[tuple[str, dict[str, Any]]] = []
        tasks = []
        load = asyncio.gather(*(burst(server, tokens["commander"], 45) for _ in range(3)))
        for _wave in range(5):  # waves of clients connecting at once, mid-burst
            await asyncio.sleep(rng.uniform(0.05, 0.3))
            for i in range(10):
                user = "commander" if i % 3 else "field"
                state: dict[str, Any] = {}
                clients.append((user, state))
                tasks.append(asyncio.create_task(follow(url, tokens[user], state, stop)))
        await load
        # Let every commander catch up with the board as it now is: waited for, not a fixed pause, since a
        # loaded machine (CI) may take longer than an idle one to deliver the burst's last frames.
        async with httpx.AsyncClient() as http:
            target = (await http.get(server.base_url + "/api/v1/board",
                                     headers={"Authorization": f"Bearer {tokens['commander']}"})).json()["position"]
        for _ in range(200):
            if all(s.get("last", 0) >= target for u, s in clients if u == "commander"):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)  # the field accounts' last frames, if any
        stop.set()
        await asyncio.gather(*tasks)
        return clients

    clients = asyncio.run(run())
    references = {
        user: httpx.get(server.base_url + "/api/v1/board", headers={"Authorization": f"Bearer {tok}"}).json()
        for user, tok in tokens.items()
    }
    assert references["commander"]["position"] == references["field"]["position"]
    snapshot_positions = {s["snapshot_position"] for _, s in clients}
    assert len(snapshot_positions) > 1, "the clients should have joined at different moments of the burst"
    for user, state in clients:
        assert state["board"] == as_board(references[user]), user
        # Every client ends where the board is (a field account may see no change at the very end).
        assert state["position"] <= references[user]["position"]
        if user == "commander":
            assert state["position"] == references[user]["position"]
    assert metric(server, "yingji_hub_flushes_total") <= metric(server, "yingji_hub_batches_total")


def settled(server: Server, tok: str, quiet_s: float = 1.0, max_s: float = 20.0) -> int:
    """Wait until the log has been still for `quiet_s` (the notifier and watchdog write after a burst)."""
    headers = {"Authorization": f"Bearer {tok}"}
    last, since, deadline = -1, time.monotonic(), time.monotonic() + max_s
    while time.monotonic() < deadline:
        position = httpx.get(server.base_url + "/api/v1/board", headers=headers).json()["position"]
        if position != last:
            last, since = position, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
        time.sleep(0.2)
    return last


def test_clients_connecting_at_once_share_one_snapshot(server: Server) -> None:
    tok = token(server)
    settled(server, tok)  # so that the snapshot and the reference read below are of the same moment
    url = server.base_url.replace("http", "ws") + "/api/v1/board/live"
    before = metric(server, "yingji_board_snapshot_builds_total")

    async def run() -> list[dict[str, Any]]:
        async def one() -> dict[str, Any]:
            async with websockets.connect(url, max_size=None) as ws:
                await ws.send(json.dumps({"type": "hello", "token": tok, "after": None}))
                return dict(json.loads(await asyncio.wait_for(ws.recv(), 20)))

        return await asyncio.gather(*(one() for _ in range(40)))

    frames = asyncio.run(run())
    builds = metric(server, "yingji_board_snapshot_builds_total") - before
    # one build serves them all (a slow machine may need another); none when the one built while waiting for the
    # log to be still is still current (a snapshot is reused while nothing changed)
    assert builds <= 3, builds
    # All forty got the one snapshot: the same position and the same board ...
    assert {f["type"] for f in frames} == {"snapshot"} and len({f["position"] for f in frames}) == 1
    first = as_board(frames[0]["board"])
    assert all(as_board(f["board"]) == first for f in frames[1:])
    # ... which is the board GET /board serves at that position. A write that lands after the log was still for a
    # second (the notifier, the watchdog, on a loaded machine) moves the board on: read it again once that is done.
    for _ in range(3):
        reference = httpx.get(server.base_url + "/api/v1/board", headers={"Authorization": f"Bearer {tok}"}).json()
        if reference["position"] == frames[0]["position"]:
            break
        assert reference["position"] > frames[0]["position"]
        frames = asyncio.run(run())[:1]
        first = as_board(frames[0]["board"])
    assert frames[0]["position"] == reference["position"] and first == as_board(reference)
