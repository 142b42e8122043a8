"""Item 2 of issue #16: bounded WebSocket frames. Oversized and flooded hellos and a sign-in flood
against a real server: the oversized frames are cut at their header (never buffered), the server's
RSS comes back within 20% of before, and a normal client's GET /incidents still answers (its
latency is measured by `python -m bench.abuse`, not asserted here). In-process: the hub's own
bounds (a hello only a few KiB, almost nothing after it)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.websockets import WebSocketDisconnect

from bench.abuse import abuse_round, latencies, oversized_hello, rss_kib
from gateway.settings import Settings
from tests.conftest import ADMIN, Server
from tests.integration.scoped_district import District

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    srv = Server(settings).start()
    yield srv
    srv.stop()


def test_abuse_of_hellos_and_sign_in_leaves_memory_and_service_as_they_were(server: Server) -> None:
    assert server.proc is not None
    host, port = "127.0.0.1", server.port
    token = httpx.post(server.base_url + "/api/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}).json()["access_token"]
    abuse_round(host, port, server.base_url, oversized=2, junk=20)  # warm-up: every path once
    latencies(server.base_url, token, n=20, pause=0)
    time.sleep(0.5)
    before = rss_kib(server.proc.pid)
    for _ in range(3):
        r = abuse_round(host, port, server.base_url, oversized=20, junk=100)
        assert r["oversized_bytes_taken_max"] < 4 * 1024 * 1024, r  # cut long before its claimed 15 MiB
        assert r["signin_flood"].get("429", 0) > 0, r  # the flood met the throttle
    time.sleep(1)
    after = rss_kib(server.proc.pid)
    assert after <= before * 1.2, f"RSS {before} KiB before, {after} KiB after"
    assert len(latencies(server.base_url, token, n=5, pause=0)) == 5  # a normal client is answered


def test_an_oversized_hello_is_cut_at_its_header(server: Server) -> None:
    # The server closes as soon as it reads the frame header: the client can push little beyond the socket buffers.
    assert oversized_hello("127.0.0.1", server.port, claim=200 * 1024 * 1024) < 16 * 1024 * 1024


def test_the_hub_refuses_a_hello_over_its_bound(district: District) -> None:
    limit = district.container.settings.ws_max_bytes
    with district.client.websocket_connect("/api/v1/board/live") as ws:
        ws.send_text('{"type":"hello","token":"' + "x" * limit + '"}')
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 1009


@pytest.mark.parametrize("chatter,code", [(["x" * 2048], 1009), (["{}"] * 25, 1008)], ids=["big-message", "many-messages"])
def test_the_hub_closes_a_client_that_talks_after_hello(district: District, chatter: list[str], code: int) -> None:
    with district.client.websocket_connect("/api/v1/board/live") as ws:
        ws.send_json({"type": "hello", "token": district.tokens["A"], "after": None})
        assert ws.receive_json()["type"] == "snapshot"
        for text in chatter:
            ws.send_text(text)
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(50):
                ws.receive_json()
    assert closed.value.code == code


def test_sockets_that_never_say_hello_are_bounded(district: District, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.entrypoints.api import board_live

    monkeypatch.setattr(board_live, "MAX_AWAITING_HELLO", 2)
    hub = district.client.app.state.hub  # type: ignore[attr-defined]
    with district.client.websocket_connect("/api/v1/board/live"), district.client.websocket_connect("/api/v1/board/live"):
        deadline = time.monotonic() + 5
        while hub.awaiting_hello < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        with district.client.websocket_connect("/api/v1/board/live") as third:
            with pytest.raises(WebSocketDisconnect) as closed:
                third.receive_json()
        assert closed.value.code == 1013
    # Once they are gone, a hello is welcome again.
    deadline = time.monotonic() + 5
    while hub.awaiting_hello > 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    with district.client.websocket_connect("/api/v1/board/live") as ws:
        ws.send_json({"type": "hello", "token": district.tokens["A"], "after": None})
        assert ws.receive_json()["type"] == "snapshot"
