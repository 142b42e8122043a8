"""The WebSocket hub of one gateway process: orders batches, fills gaps, fans out to clients.

Every client has a bounded queue and its own sender task, so a slow or
stalled client only ever delays itself; when its queue overflows it is
closed (4008) and reconnects with the last position it saw.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket

from gateway.bus import Bus
from gateway.context import Principal
from projections.board import BOARD_KINDS, on_board
from projections.projector import Batch, Delta
from projections.store import DocStore

log = logging.getLogger("yingji.hub")

QUEUE_FRAMES = 1000  # frames a client may fall behind before it is cut loose
HEARTBEAT_SECONDS = 10.0
GAP_CHECK_SECONDS = 1.0
CLOSE_TOO_SLOW = 4008

Visible = Callable[[str, dict[str, Any]], bool]


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


@dataclass(eq=False)
class Client:
    ws: WebSocket
    principal: Principal
    visible: Visible
    queue_frames: int = QUEUE_FRAMES
    # (first change position, frame position, text); -1 first position marks a heartbeat
    queue: asyncio.Queue[tuple[int, int, str] | None] = field(init=False)
    sent_upto: int = 0  # frames at or below this position are already covered
    closed: bool = False

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.queue_frames)

    @property
    def scope(self) -> tuple[str, str, str]:
        p = self.principal
        return (p.role if p.role in ("admin", "field") else "scoped", p.unit_code, p.team_id or "")


def delta_frame(position: int, deltas: list[Delta], visible: Visible) -> dict[str, Any] | None:
    """One frame for a run of deltas up to `position`; each change keeps the position that caused it."""
    changes = []
    for d in deltas:
        if d.kind not in BOARD_KINDS:
            continue
        if d.doc is not None and not visible(d.kind, d.doc):
            continue
        changes.append({"kind": d.kind, "id": d.id, "doc": d.doc if on_board(d.kind, d.doc) else None, "position": d.position})
    return {"type": "delta", "position": position, "changes": changes} if changes else None


MERGE_FRAMES = 200
_DELTA_HEAD = '{"type":"delta","position":'
_CHANGES = ',"changes":['


def merge_frames(texts: list[str], position: int) -> str:
    """Several delta frames as one (their changes in order), without parsing them: cheap under load."""
    if len(texts) == 1:
        return texts[0]
    parts = []
    for t in texts:
        assert t.startswith(_DELTA_HEAD) and t.endswith("]}")
        parts.append(t[t.index(_CHANGES) + len(_CHANGES) : -2])
    return f'{_DELTA_HEAD}{position}{_CHANGES}{",".join(parts)}]}}'


def trim_frame(text: str, covered: int) -> str | None:
    """Drop changes at or below `covered` (already in the client's snapshot or backlog)."""
    frame = json.loads(text)
    frame["changes"] = [c for c in frame["changes"] if c["position"] > covered]
    return encode(frame) if frame["changes"] else None


class Hub:
    def __init__(self, store: DocStore, bus: Bus, relay_status: Callable[[], dict[str, Any] | None] = lambda: None):
        self.store = store
        self.bus = bus
        self.relay_status = relay_status
        self._relay_seen: tuple[Any, ...] | None = None
        self.position = 0  # everything up to here has been fanned out
        self.clients: set[Client] = set()
        self._incoming: asyncio.Queue[Batch | None] = asyncio.Queue()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.delivered_batches = 0
        self.gap_fills = 0
        self.slow_closed = 0

    async def start(self) -> None:
        self.position = await run_in_threadpool(self.store.position)
        self._tasks = [
            asyncio.create_task(self.bus.run(self._incoming.put_nowait, self._stop)),
            asyncio.create_task(self._pump()),
            asyncio.create_task(self._ticker()),
        ]

    async def stop(self) -> None:
        self._stop.set()
        self._incoming.put_nowait(None)
        for client in list(self.clients):
            await self._close(client, 1001, "server shutting down")
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- ordering ----------------------------------------------------------
    async def _pump(self) -> None:
        while not self._stop.is_set():
            batch = await self._incoming.get()
            if batch is None:
                return
            try:
                await self._accept(batch)
            except Exception:
                log.exception("hub failed to accept a batch; will resync from the store")

    async def _accept(self, batch: Batch) -> None:
        if batch.upto <= self.position:
            return  # a duplicate or something a gap fill already covered
        if batch.after > self.position:
            await self._fill_gap()
            if batch.upto <= self.position:
                return
        deltas = [d for d in batch.deltas if d.position > self.position]
        self._fan_out(batch.upto, deltas)

    async def _fill_gap(self) -> None:
        """Bring the hub up to the store's position from the durable delta log."""
        upto = await run_in_threadpool(self.store.position)
        if upto <= self.position:
            return
        rows = await run_in_threadpool(self.store.deltas_after, self.position, upto)
        self.gap_fills += 1
        self._fan_out(upto, [Delta(**r) for r in rows])

    async def _ticker(self) -> None:
        ticks = 0
        while not self._stop.is_set():
            await asyncio.sleep(GAP_CHECK_SECONDS)
            ticks += 1
            try:
                await self._fill_gap_if_quiet()
            except Exception:
                log.exception("gap check failed")
            if ticks % 2 == 0:
                await self._relay_changed()
            if ticks % int(HEARTBEAT_SECONDS / GAP_CHECK_SECONDS) == 0:
                self._broadcast_raw({"type": "heartbeat", "position": self.position, "at": datetime.now(timezone.utc).isoformat()})

    async def _relay_changed(self) -> None:
        """Relay health is not in the log: poll it and push a `relay` frame when it changes."""
        status = await run_in_threadpool(self.relay_status)
        if status is None:
            return
        seen = tuple(status[k] for k in ("position", "alarm", "paused", "last_error", "last_success_at", "lag_events"))
        if seen != self._relay_seen:
            self._relay_seen = seen
            self._broadcast_raw({"type": "relay", "position": self.position, "relay": status})

    async def _fill_gap_if_quiet(self) -> None:
        # A batch lost on the bus while no later one arrives is noticed here.
        if self._incoming.empty():
            stored = await run_in_threadpool(self.store.position)
            if stored > self.position:
                self._incoming.put_nowait(Batch(stored, stored, []))  # `after` ahead of us: forces a fill

    # -- fan-out -----------------------------------------------------------
    def _fan_out(self, upto: int, deltas: list[Delta]) -> None:
        """One frame per client scope for the whole batch, encoded once and queued for each client."""
        self.delivered_batches += 1
        first = deltas[0].position if deltas else upto
        encoded: dict[tuple[str, str, str], str | None] = {}
        for client in list(self.clients):
            if client.scope not in encoded:
                frame = delta_frame(upto, deltas, client.visible)
                encoded[client.scope] = encode(frame) if frame else None
            text = encoded[client.scope]
            if text is not None:
                self._enqueue(client, (first, upto, text))
        self.position = upto

    def _broadcast_raw(self, frame: dict[str, Any]) -> None:
        text = encode(frame)
        for client in list(self.clients):
            self._enqueue(client, (-1, frame["position"], text))

    def _enqueue(self, client: Client, item: tuple[int, int, str]) -> None:
        if client.closed:
            return
        try:
            client.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.slow_closed += 1
            asyncio.create_task(self._close(client, CLOSE_TOO_SLOW, f"too slow; reconnect with after={client.sent_upto}"))

    async def _close(self, client: Client, code: int, reason: str) -> None:
        if client.closed:
            return
        client.closed = True
        self.clients.discard(client)
        while not client.queue.empty():
            client.queue.get_nowait()
        client.queue.put_nowait(None)
        try:
            await client.ws.close(code=code, reason=reason[:120])
        except Exception:  # noqa: BLE001 - the socket may already be gone
            pass

    # -- one client's life -------------------------------------------------
    def register(self, client: Client) -> int:
        """Start queueing live frames for the client; returns the position they start after."""
        self.clients.add(client)
        return self.position

    async def unregister(self, client: Client) -> None:
        await self._close(client, 1000, "bye")

    async def send_loop(self, client: Client) -> None:
        """Send queued frames in order, skipping what the initial snapshot or backlog already covered.

        A client that has fallen behind gets the delta frames waiting in its queue merged into
        one message: under load the number of sends falls instead of the queue growing.
        """
        while True:
            item = await client.queue.get()
            if item is None:
                return
            text = self._admit(client, item)
            if text is None:
                continue
            if item[0] != -1 and not client.queue.empty():
                merged = [text]
                while not client.queue.empty() and len(merged) < MERGE_FRAMES:
                    nxt = client.queue.get_nowait()
                    if nxt is None:
                        await client.ws.send_text(merge_frames(merged, client.sent_upto))
                        return
                    if nxt[0] == -1:  # a heartbeat or relay frame: send what we have, then it
                        await client.ws.send_text(merge_frames(merged, client.sent_upto))
                        merged = []
                        extra = self._admit(client, nxt)
                        if extra is not None:
                            await client.ws.send_text(extra)
                        break
                    more = self._admit(client, nxt)
                    if more is not None:
                        merged.append(more)
                if merged:
                    await client.ws.send_text(merge_frames(merged, client.sent_upto))
                continue
            await client.ws.send_text(text)

    @staticmethod
    def _admit(client: Client, item: tuple[int, int, str]) -> str | None:
        """The text to send for a queued item, or None if the client already has it."""
        first, position, text = item
        if first == -1:  # heartbeat / relay frame
            return None if position < client.sent_upto else text
        if position <= client.sent_upto:
            return None
        if first <= client.sent_upto:
            trimmed = trim_frame(text, client.sent_upto)
            client.sent_upto = position
            return trimmed
        client.sent_upto = position
        return text
