"""WebSocket /api/v1/board/live: hello → snapshot or missed deltas → live deltas and heartbeats."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import datetime, timezone

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from domain.common import DomainError
from gateway.entrypoints.api.board import visible_to
from gateway.container import Container
from gateway.entrypoints.hub import CLOSE_UNAUTHENTICATED, Client, Hub, delta_frame, encode
from gateway.adapters.tokens import TokenRevoked, grant_for_token
from projections.projector import Delta

router = APIRouter(tags=["board"])
log = logging.getLogger("yingji.ws")

HELLO_SECONDS = 10.0
MAX_BACKLOG = 20_000  # deltas; a client further behind gets a snapshot
BACKLOG_CHUNK = 500  # changes per catch-up frame
CLOSE_REVOKED = 4403  # a hello with a token that was revoked or signed out
CLOSE_TOO_BIG = 1009
CLOSE_TRY_AGAIN = 1013
MAX_AWAITING_HELLO = 512  # sockets accepted but not yet past their hello, per gateway
CLOSE_POLICY = 1008
AFTER_HELLO_MAX_BYTES = 512  # a client has nothing to say after hello
CHATTER_WINDOW_SECONDS = 10.0
CHATTER_MAX_MESSAGES = 20


async def _reject(ws: WebSocket, code: str, detail: str, close_code: int = 4400) -> None:
    await ws.send_text(encode({"type": "error", "code": code, "detail": detail}))
    await ws.close(code=close_code, reason=code)


@router.websocket("/board/live")
async def board_live(ws: WebSocket) -> None:
    container: Container = ws.app.state.container
    hub: Hub = ws.app.state.hub
    await ws.accept()
    if hub.awaiting_hello >= MAX_AWAITING_HELLO:  # a flood of sockets that never say hello: the rest wait their turn
        await ws.close(code=CLOSE_TRY_AGAIN, reason="too many connections at once; try again")
        return
    hub.awaiting_hello += 1
    try:
        text = await asyncio.wait_for(ws.receive_text(), HELLO_SECONDS)
        if len(text) > container.settings.ws_max_bytes:  # uvicorn cuts these first; other servers may not
            await ws.close(code=CLOSE_TOO_BIG, reason="message too big")
            return
        hello = json.loads(text)
        if not isinstance(hello, dict) or hello.get("type") != "hello":
            raise ValueError("expected a hello frame")
        after = hello.get("after")
        if after is not None and (not isinstance(after, int) or isinstance(after, bool) or after < 0):
            raise ValueError("after must be a non-negative integer or null")
        token = str(hello.get("token") or "")
    except (asyncio.TimeoutError, ValueError, TypeError) as e:
        await _reject(ws, "validation_error", f"send {{'type':'hello','token':...,'after':N|null}} first ({e})")
        return
    except WebSocketDisconnect:
        return
    finally:
        hub.awaiting_hello -= 1
    try:
        account, grant = await run_in_threadpool(grant_for_token, token, container.settings.resolved_secret_key, container.accounts)
    except TokenRevoked as e:  # a token that held once: refused for good, not "try again"
        await _reject(ws, e.code, e.detail, CLOSE_REVOKED)
        return
    except DomainError as e:
        await _reject(ws, e.code, e.detail, CLOSE_UNAUTHENTICATED)
        return

    principal = account.principal
    client = Client(ws, principal, visible_to(principal), queue_frames=container.settings.ws_queue_frames, grant=grant)
    registered_at = hub.register(client)  # live frames after this position collect from here ...
    # Expiry needs no heartbeat: the socket closes when the token runs out.
    expiry = asyncio.get_running_loop().call_later(
        max(0.0, (grant.expires_at - datetime.now(timezone.utc)).total_seconds()),
        hub.close_unauthenticated, client, "the token has expired; sign in again")
    try:
        await _initial(ws, container, hub, client, after, registered_at)
        hub.start_sending(client)  # ... and flow once the catch-up is sent
        # Nothing is expected from the client after hello; reading detects the disconnect. Whatever a
        # client sends anyway is bounded: a small message now and then, or the connection is closed.
        window_start, in_window = time.monotonic(), 0
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            size = len(message.get("text") or message.get("bytes") or "")
            now = time.monotonic()
            if now - window_start > CHATTER_WINDOW_SECONDS:
                window_start, in_window = now, 0
            in_window += 1
            if size > AFTER_HELLO_MAX_BYTES or in_window > CHATTER_MAX_MESSAGES:
                await hub.close_for(client, CLOSE_TOO_BIG if size > AFTER_HELLO_MAX_BYTES else CLOSE_POLICY,
                                    "message too big" if size > AFTER_HELLO_MAX_BYTES else "too many messages")
                break
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("board connection failed")
    finally:
        expiry.cancel()
        await hub.unregister(client)


async def _initial(ws: WebSocket, container: Container, hub: Hub, client: Client, after: int | None, registered_at: int) -> None:
    """Send what the client missed (or a snapshot); live frames after `registered_at` are collected meanwhile."""
    store = container.store
    if after is not None:
        head = await run_in_threadpool(store.position)
        oldest = await run_in_threadpool(store.oldest_delta_position)
        if after >= head:
            client.sent_upto = max(client.sent_upto, after)
            # Up to date already: say so at once, so the client knows the connection works.
            await ws.send_text(encode({"type": "heartbeat", "position": head, "at": datetime.now(timezone.utc).isoformat()}))
            return
        if oldest and after >= oldest - 1:
            rows = await run_in_threadpool(store.deltas_after, after, None, MAX_BACKLOG + 1)
            if len(rows) <= MAX_BACKLOG:
                upto = rows[-1]["position"] if rows else after
                # Mark first, so live frames this backlog covers are skipped or trimmed.
                client.sent_upto = max(client.sent_upto, upto)
                for i in range(0, len(rows), BACKLOG_CHUNK):
                    chunk = [Delta(**r) for r in rows[i : i + BACKLOG_CHUNK]]
                    frame = delta_frame(chunk[-1].position, chunk, client.visible)
                    if frame:
                        await ws.send_text(encode(frame))
                await ws.send_text(encode({"type": "heartbeat", "position": upto, "at": datetime.now(timezone.utc).isoformat()}))
                return
    # Shared with the clients of the same scope connecting at about the same time; never older
    # than `registered_at`, so together with the frames collected since nothing is missed.
    position, text, data = await hub.snapshot(client, registered_at)
    client.sent_upto = max(client.sent_upto, position)
    await hub.send(client, text, data)
