"""A board client that never reads must not hold up the others: it is closed (4008) and may resume."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator

import httpx
import pytest
import websockets

from gateway.settings import Settings
from tests.conftest import Server
from tests.e2e.test_board_live import token


@pytest.fixture
def backend() -> str:  # one backend is enough here
    return "sqlite"


@pytest.fixture
def small_queue_server(demo_settings: Settings) -> Iterator[Server]:
    srv = Server(demo_settings, {"YINGJI_WS_QUEUE_FRAMES": "20"}).start()
    yield srv
    srv.stop()


def test_a_stalled_client_is_cut_loose_and_does_not_hold_up_the_others(small_queue_server: Server) -> None:
    server = small_queue_server
    tok = token(server)
    url = server.base_url.replace("http", "ws") + "/api/v1/board/live"

    async def run() -> tuple[int, list[int], int]:
        # A client with a tiny receive buffer that stops reading right after hello.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        stalled = await websockets.connect(url, sock=sock, max_queue=1)
        await stalled.send(json.dumps({"type": "hello", "token": tok, "after": None}))
        stalled.transport.pause_reading()
        live_positions: list[int] = []
        stop = asyncio.Event()

        async def reader() -> None:
            async with websockets.connect(url) as ws:
                await ws.send(json.dumps({"type": "hello", "token": tok, "after": None}))
                while not stop.is_set():
                    try:
                        frame = json.loads(await asyncio.wait_for(ws.recv(), 0.3))
                    except asyncio.TimeoutError:
                        continue
                    live_positions.append(frame["position"])

        task = asyncio.create_task(reader())
        await asyncio.sleep(0.5)
        # Big frames (the incident document carries 6 KB of notes), enough to fill
        # the kernel's socket buffers between the server and the stalled client.
        last = 0
        notes = "汛情持续" * 500
        async with httpx.AsyncClient(base_url=server.base_url + "/api/v1", headers={"Authorization": f"Bearer {tok}"}) as http:
            incident = (await http.get("/incidents")).json()["items"][0]["id"]
            for i in range(600):
                r = await http.post(f"/incidents/{incident}/situation", json={"affected": i, "notes": notes[: 2000 - i % 7]})
                assert r.status_code == 200, r.text
                last = r.json()["position"]
        await asyncio.sleep(1.5)
        stop.set()
        await task
        stalled.transport.resume_reading()
        close_code = 0
        try:
            while True:
                await asyncio.wait_for(stalled.recv(), 10)
        except websockets.ConnectionClosed as e:
            close_code = e.rcvd.code if e.rcvd else 0
        return last, live_positions, close_code

    last, live_positions, close_code = asyncio.run(run())
    assert max(live_positions) >= last  # the reading client got everything
    # The server cut the stalled one loose. It says so with 4008 ("reconnect with after=N") when the close
    # frame gets through; if the close handshake itself times out the socket is dropped without one.
    assert close_code in (4008, 0)
    metrics = httpx.get(server.base_url + "/metrics").text
    slow_closed = next(float(line.split()[1]) for line in metrics.splitlines() if line.startswith("yingji_ws_slow_closed_total "))
    assert slow_closed >= 1
