"""The live board over real WebSockets: resume after random disconnects, and a stalled client."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import httpx
import websockets

from projections.board import BOARD_KINDS
from tests.conftest import DEMO_PASSWORD, Server

Board = dict[str, dict[str, dict[str, Any]]]


def as_board(snapshot: dict[str, Any]) -> Board:
    return {k: {d["id"]: d for d in snapshot[k]} for k in BOARD_KINDS}


def apply(board: Board, frame: dict[str, Any]) -> Board:
    if frame["type"] == "snapshot":
        return as_board(frame["board"])
    for c in frame.get("changes", []):
        if c["doc"] is None:
            board[c["kind"]].pop(c["id"], None)
        else:
            board[c["kind"]][c["id"]] = c["doc"]
    return board


def token(server: Server, user: str = "commander") -> str:
    r = httpx.post(server.base_url + "/api/v1/auth/token", data={"username": user, "password": DEMO_PASSWORD})
    return str(r.json()["access_token"])


async def burst(server: Server, tok: str, n: int) -> int:
    """n commands of several kinds; returns the last position."""
    h = {"Authorization": f"Bearer {tok}"}
    last = 0
    async with httpx.AsyncClient(base_url=server.base_url + "/api/v1", headers=h, timeout=20) as http:
        incidents = (await http.get("/incidents")).json()["items"]
        warehouse = (await http.get("/warehouses")).json()["items"][0]
        for i in range(n):
            if i % 3 == 0:
                r = await http.post("/incidents", json={
                    "category": "accident", "subtype": "traffic", "level": "IV", "title": f"事故{i}",
                    "unit_code": "411099002001", "occurred_at": "2026-11-28T10:00:00+08:00"})
            elif i % 3 == 1:
                r = await http.post(f"/incidents/{incidents[0]['id']}/situation", json={"affected": i})
            else:
                r = await http.post(f"/warehouses/{warehouse['id']}/receipts", json={"lines": {"QUILT": 1}})
            assert r.status_code in (200, 201), r.text
            last = max(last, r.json()["position"])
    return last


def test_clients_that_drop_at_random_resume_to_the_exact_board(server: Server) -> None:
    tok = token(server)
    url = server.base_url.replace("http", "ws") + "/api/v1/board/live"
    rng = random.Random(7)

    async def follower(state: dict[str, Any], stop: asyncio.Event) -> None:
        board: Board = {}
        last = None
        while True:
            async with websockets.connect(url) as ws:
                await ws.send(json.dumps({"type": "hello", "token": tok, "after": last}))
                drop_after = rng.randint(3, 40)
                got = 0
                while True:
                    try:
                        frame = json.loads(await asyncio.wait_for(ws.recv(), 0.3))
                    except asyncio.TimeoutError:
                        if stop.is_set():
                            state.update(board=board, position=last, reconnects=state.get("reconnects", 0))
                            return
                        continue
                    if frame["type"] == "delta" and last is not None:
                        assert frame["position"] > last, "a position was delivered twice or out of order"
                    board = apply(board, frame)
                    last = frame["position"]
                    got += 1
                    if got >= drop_after and not stop.is_set():
                        state["reconnects"] = state.get("reconnects", 0) + 1
                        break  # drop the connection abruptly and resume

    async def run() -> tuple[list[dict[str, Any]], int]:
        states: list[dict[str, Any]] = [{} for _ in range(6)]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(follower(s, stop)) for s in states]
        await asyncio.sleep(0.5)
        last = await burst(server, tok, 120)
        await asyncio.sleep(2.5)  # let every follower catch up
        stop.set()
        await asyncio.gather(*tasks)
        return states, last

    states, last = asyncio.run(run())
    reference = httpx.get(server.base_url + "/api/v1/board", headers={"Authorization": f"Bearer {tok}"}).json()
    assert reference["position"] >= last
    for s in states:
        assert s["reconnects"] > 0
        assert s["position"] == reference["position"]
        assert s["board"] == as_board(reference)
