"""The WebSocket hub of one gateway process: orders batches, fills gaps, fans out to clients.

Batches are accepted as they come (in order, gaps filled from the store) but fanned out in
flushes: one merged frame per client scope per flush, encoded once. A flush follows the last one
after a pause proportional to what the last one cost (so fanning out takes at most FLUSH_DUTY of
the loop) and at most `flush_seconds`: with a few clients every batch goes at once, with
thousands changes are held back a few tens of milliseconds and sent together. A client that keeps up gets it written straight to its socket; a client
whose socket is backed up (or that is still being sent its snapshot) collects frames in a
bounded pending list that its own short-lived sender task drains, so a slow or stalled client
only ever delays itself; when the list overflows it is closed (4008) and reconnects with the
last position it saw.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from domain.policy import VERIFIED_REPORT_DAYS
from gateway.adapters.bus import Bus
from gateway.adapters.tokens import Grant
from gateway.context import Principal
from projections.board import BOARD_KINDS, assemble, on_board
from projections.projector import Batch, Delta
from projections.store import DocStore

log = logging.getLogger("yingji.hub")

QUEUE_FRAMES = 1000  # frames a client may fall behind before it is cut loose
HEARTBEAT_SECONDS = 10.0
GAP_CHECK_SECONDS = 1.0
FLUSH_SECONDS = 0.04  # the longest a change is held back to be fanned out with others
FLUSH_DUTY = 0.2  # between flushes, wait so that fanning out takes at most this share of the loop
SNAPSHOT_REUSE_SECONDS = 1.0  # a finished snapshot serves clients of its scope this long (if recent enough)
# ... and this long while nothing was fanned out after it: rebuilding an unchanged board every second cost a
# gateway worker with thousands of open incidents most of its time. Bounded, because a snapshot also holds what
# is judged at build time (the readiness items from sign-ins, the relay's state).
SNAPSHOT_IDLE_REUSE_SECONDS = 10.0
CLOSE_TOO_SLOW = 4008
CLOSE_UNAUTHENTICATED = 4401  # the token no longer holds: sign in again (a new hello with it gets 4403)

Visible = Callable[[str, dict[str, Any]], bool]
ClientScope = tuple[str, str, str]
Item = tuple[int, int, str]  # (first change position, frame position, text); -1 first position marks a heartbeat


def recheck_from_thread(hub: Hub | None) -> None:
    """After an account change made on a worker thread of this gateway (revoke, sign-out): re-check
    its board sockets now rather than at the next heartbeat. Other gateways see it at theirs."""
    if hub is None:
        return
    try:
        import anyio.from_thread

        anyio.from_thread.run(hub.recheck)
    except Exception as e:  # noqa: BLE001 - not on an anyio worker thread, or the loop is stopping: the heartbeat will do
        log.debug("immediate re-check skipped: %r", e)


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def scope_of(p: Principal) -> ClientScope:
    """Clients with the same scope see the same frames (visibility depends on nothing else)."""
    return (p.role if p.role in ("admin", "field") else "scoped", p.unit_code, p.team_id or "")


# -- the direct path to the socket -------------------------------------------
RAW_PROTOCOL = "yingji.ws_protocol"


class ExposeWebSocketProtocol:
    """Pure ASGI middleware: puts uvicorn's websockets-sansio protocol object into the scope.

    The hub then writes frames it serialized once straight to each keeping-up client's transport
    instead of going through Starlette and uvicorn once per client. Any other server (or
    WebSocket implementation) leaves the key out, and every frame takes the ordinary path.
    """

    def __init__(self, app: ASGIApp):
        self.app = app
        try:
            from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
        except ImportError:  # pragma: no cover - another server
            self.protocol_type: type | None = None
        else:
            self.protocol_type = WebSocketsSansIOProtocol

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and self.protocol_type is not None:
            owner = getattr(send, "__self__", None)
            if isinstance(owner, self.protocol_type):
                scope[RAW_PROTOCOL] = owner
        await self.app(scope, receive, send)


class RawSocket:
    """Writes whole, already serialized text frames to the transport under uvicorn's protocol.

    Safe because every write is a complete unfragmented frame written on the event loop (so it
    never lands inside another frame), no extension is negotiated (checked), and it is only used
    while the protocol is open and its transport is not pushing back.
    """

    __slots__ = ("proto",)

    def __init__(self, proto: Any):
        self.proto = proto

    @staticmethod
    def of(ws: WebSocket) -> RawSocket | None:
        proto = ws.scope.get(RAW_PROTOCOL)
        if proto is None:
            return None
        conn = getattr(proto, "conn", None)
        if conn is None or conn.state is not _OPEN or conn.extensions or not all(hasattr(proto, a) for a in ("writable", "close_sent", "disconnected")):
            return None
        return RawSocket(proto)

    def writable(self) -> bool:
        # uvicorn sets close_sent as soon as either side starts the closing handshake, and
        # disconnected when the connection is lost; `writable` is cleared while the transport pushes back.
        p = self.proto
        return p.writable.is_set() and not p.close_sent and not p.disconnected and not p.transport.is_closing()

    def write(self, data: bytes) -> None:
        self.proto.transport.write(data)


def _websocket_frame_serializer() -> tuple[Any, Callable[[str], bytes]]:
    from websockets.frames import Frame, Opcode
    from websockets.protocol import State

    def serialize(text: str) -> bytes:
        return Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])

    return State.OPEN, serialize


_OPEN, frame_bytes = _websocket_frame_serializer()


# -- clients -------------------------------------------------------------------
@dataclass(eq=False)
class Client:
    ws: WebSocket
    principal: Principal
    visible: Visible
    queue_frames: int = QUEUE_FRAMES
    grant: Grant | None = None  # what its token said: checked again at every heartbeat
    sent_upto: int = 0  # frames at or below this position are already covered
    closed: bool = False
    ready: bool = False  # its snapshot or backlog is sent: live frames may flow
    scope: ClientScope = field(init=False)
    pending: list[Item] = field(init=False)  # frames waiting for the sender, oldest first
    sender: asyncio.Task[None] | None = field(init=False, default=None)
    raw: RawSocket | None = field(init=False)

    def __post_init__(self) -> None:
        self.scope = scope_of(self.principal)
        self.pending = []
        self.raw = RawSocket.of(self.ws)


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


def flush_pause(cost: float, duty: float, longest: float) -> float:
    """How long to wait after a flush that took `cost` seconds, so flushing takes at most `duty` of the time."""
    return min(longest, cost * (1 - duty) / duty)


@dataclass(frozen=True)
class _Built:
    position: int
    text: str  # the socket's snapshot frame
    data: bytes  # the same, serialized as a WebSocket frame
    board: bytes  # the board alone, encoded: GET /board's answer


@dataclass(eq=False)
class _SnapshotBuild:
    launched_at: int  # the hub's position when it was launched: the snapshot is at least there
    future: asyncio.Future[_Built]
    done_at: float | None = None  # loop time


class Hub:
    def __init__(self, store: DocStore, bus: Bus, relay_status: Callable[[], dict[str, Any] | None] = lambda: None,
                 flush_seconds: float = FLUSH_SECONDS, flush_duty: float = FLUSH_DUTY,
                 lapsed: Callable[[list[Grant]], dict[int, str]] | None = None, verified_days: int = VERIFIED_REPORT_DAYS):
        self.store = store
        self.verified_days = verified_days  # the deployment's 核报 period, judged on the board (settings)
        self.lapsed = lapsed  # which clients' grants no longer hold (gateway.adapters.tokens.lapsed_grants)
        self.auth_closed = 0
        self.awaiting_hello = 0  # board sockets accepted and not yet past their hello (api/board_live.py)
        self.bus = bus
        self.relay_status = relay_status
        self.signins: Callable[[], dict[str, datetime]] = dict  # the accounts' last sign-ins (readiness), set by the app
        self.flush_seconds = flush_seconds
        self.flush_duty = flush_duty
        self._relay_seen: tuple[Any, ...] | None = None
        self.position = 0  # everything up to here has been fanned out
        self._accepted = 0  # everything up to here is in order and waiting in _pending (if above position)
        self._pending: list[Delta] = []
        self._flush_handle: asyncio.Handle | None = None
        self._next_flush = float("-inf")  # loop time before which no flush starts
        self.clients: set[Client] = set()
        self._incoming: asyncio.Queue[Batch | None] = asyncio.Queue()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: set[asyncio.Task[None]] = set()
        self._builds: dict[ClientScope, _SnapshotBuild] = {}
        self.accepted_batches = 0
        self.delivered_batches = 0  # flushes
        self.flush_seconds_total = 0.0
        self.direct_frames = 0
        self.queued_frames = 0
        self.snapshot_builds = 0
        self.gap_fills = 0
        self.slow_closed = 0

    async def start(self) -> None:
        self.position = self._accepted = await run_in_threadpool(self.store.position)
        self._tasks = [
            asyncio.create_task(self.bus.run(self._incoming.put_nowait, self._stop)),
            asyncio.create_task(self._pump()),
            asyncio.create_task(self._ticker()),
        ]

    async def stop(self) -> None:
        self._stop.set()
        self._incoming.put_nowait(None)
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        for client in list(self.clients):
            await self._close(client, 1001, "server shutting down")
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, *self._closing, return_exceptions=True)

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
        if batch.upto <= self._accepted:
            return  # a duplicate or something a gap fill already covered
        if batch.after > self._accepted:
            await self._fill_gap()
            if batch.upto <= self._accepted:
                return
        self.accepted_batches += 1
        self._take(batch.upto, [d for d in batch.deltas if d.position > self._accepted])

    async def _fill_gap(self) -> None:
        """Bring the hub up to the store's position from the durable delta log."""
        upto = await run_in_threadpool(self.store.position)
        if upto <= self._accepted:
            return
        rows = await run_in_threadpool(self.store.deltas_after, self._accepted, upto)
        if upto <= self._accepted:  # raced with a batch while reading: take only what is newer
            return
        self.gap_fills += 1
        self._take(upto, [d for d in (Delta(**r) for r in rows) if d.position > self._accepted])

    def _take(self, upto: int, deltas: list[Delta]) -> None:
        self._pending.extend(deltas)
        self._accepted = upto
        if self._flush_handle is None:
            loop = asyncio.get_running_loop()
            due = self._next_flush
            # After a quiet spell: at once (but after the batches already on their way in this loop turn).
            self._flush_handle = loop.call_soon(self._flush) if due <= loop.time() else loop.call_at(due, self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        if self._accepted <= self.position:
            return
        deltas, self._pending = self._pending, []
        started = time.perf_counter()
        self._fan_out(self._accepted, deltas)
        cost = time.perf_counter() - started
        self.flush_seconds_total += cost
        self._next_flush = asyncio.get_running_loop().time() + flush_pause(cost, self.flush_duty, self.flush_seconds)

    def flush_now(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        self._flush()

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
            if ticks % max(1, int(HEARTBEAT_SECONDS / GAP_CHECK_SECONDS)) == 0:
                try:
                    await self.recheck()
                except Exception:
                    log.exception("re-checking board clients' tokens failed")
                self.flush_now()  # a heartbeat must never claim a position whose changes are still held back
                self._broadcast_raw({"type": "heartbeat", "position": self.position, "at": datetime.now(timezone.utc).isoformat()})

    async def recheck(self) -> None:
        """Close (4401) every client whose token no longer holds: expired, revoked, signed out, or its
        account's role or scope changed. Two reads of the accounts store for all clients."""
        if self.lapsed is None:
            return
        clients = [c for c in self.clients if c.grant is not None and not c.closed]
        if not clients:
            return
        lapsed = await run_in_threadpool(self.lapsed, [c.grant for c in clients])  # type: ignore[misc]
        for i, why in lapsed.items():
            self.close_unauthenticated(clients[i], why)

    async def close_for(self, client: Client, code: int, why: str) -> None:
        """Close one client for what it did (too big, too chatty)."""
        await self._close(client, code, why)

    def close_unauthenticated(self, client: Client, why: str) -> None:
        if not client.closed:
            self.auth_closed += 1
            self._close_soon(client, CLOSE_UNAUTHENTICATED, why)

    async def _relay_changed(self) -> None:
        """Relay health is not in the log: poll it and push a `relay` frame when it changes."""
        status = await run_in_threadpool(self.relay_status)
        if status is None:
            return
        seen = tuple(status[k] for k in ("position", "alarm", "paused", "last_error", "last_success_at", "lag_events"))
        if seen != self._relay_seen:
            self._relay_seen = seen
            self.flush_now()
            self._broadcast_raw({"type": "relay", "position": self.position, "relay": status})

    async def _fill_gap_if_quiet(self) -> None:
        # A batch lost on the bus while no later one arrives is noticed here.
        if self._incoming.empty():
            stored = await run_in_threadpool(self.store.position)
            if stored > self._accepted:
                self._incoming.put_nowait(Batch(stored, stored, []))  # `after` ahead of us: forces a fill

    # -- fan-out -----------------------------------------------------------
    def _fan_out(self, upto: int, deltas: list[Delta]) -> None:
        """One frame per client scope for everything since the last flush, encoded once."""
        self.delivered_batches += 1
        first = deltas[0].position if deltas else upto
        encoded: dict[ClientScope, tuple[str, bytes] | None] = {}
        for client in list(self.clients):
            scope = client.scope
            try:
                out = encoded[scope]
            except KeyError:
                frame = delta_frame(upto, deltas, client.visible)
                if frame is None:
                    out = None
                else:
                    text = encode(frame)
                    out = (text, frame_bytes(text))
                encoded[scope] = out
            if out is not None:
                self._deliver(client, first, upto, out[0], out[1])
        self.position = upto

    def _broadcast_raw(self, frame: dict[str, Any]) -> None:
        text = encode(frame)
        data = frame_bytes(text)
        for client in list(self.clients):
            self._deliver(client, -1, frame["position"], text, data)

    def _deliver(self, client: Client, first: int, position: int, text: str, data: bytes) -> None:
        """Write the frame now if the client keeps up; otherwise leave it to the client's sender."""
        if client.closed:
            return
        raw = client.raw
        if client.ready and raw is not None and client.sender is None and not client.pending and raw.writable():
            try:
                if first == -1:  # heartbeat / relay frame
                    if position >= client.sent_upto:
                        raw.write(data)
                    return
                if position <= client.sent_upto:
                    return
                if first > client.sent_upto:
                    raw.write(data)
                    client.sent_upto = position
                    self.direct_frames += 1
                    return
            except Exception as e:  # noqa: BLE001 - a transport going away under us: that client only
                log.debug("board client write failed: %r", e)
                self._close_soon(client, 1011, "send failed")
                return
            # partly covered by the snapshot: the sender trims it
        if len(client.pending) >= client.queue_frames:
            self.slow_closed += 1
            self._close_soon(client, CLOSE_TOO_SLOW, f"too slow; reconnect with after={client.sent_upto}")
            return
        self.queued_frames += 1
        client.pending.append((first, position, text))
        if client.ready and client.sender is None:
            client.sender = asyncio.create_task(self._drain(client))

    async def _drain(self, client: Client) -> None:
        """Send a client's pending frames in order, merging the delta frames that piled up."""
        try:
            while client.pending and not client.closed:
                items, client.pending = client.pending, []
                merged: list[str] = []
                merged_upto = 0
                for item in items:
                    text = self._admit(client, item)
                    if text is None:
                        continue
                    if item[0] == -1:  # a heartbeat or relay frame: what we have first, then it
                        if merged:
                            await self.send(client, merge_frames(merged, merged_upto))
                            merged = []
                        await self.send(client, text)
                    else:
                        merged.append(text)
                        merged_upto = item[1]
                        if len(merged) >= MERGE_FRAMES:
                            await self.send(client, merge_frames(merged, merged_upto))
                            merged = []
                if merged:
                    await self.send(client, merge_frames(merged, merged_upto))
        except Exception as e:  # noqa: BLE001 - the socket is gone; the connection's own task unregisters it
            log.debug("board client send failed: %r", e)
        finally:
            client.sender = None

    @staticmethod
    async def send(client: Client, text: str, data: bytes | None = None) -> None:
        """One frame to one client: straight to the socket when it takes it, else the ordinary (waiting) way."""
        raw = client.raw
        if raw is not None and raw.writable():
            raw.write(data if data is not None else frame_bytes(text))
        else:
            await client.ws.send_text(text)

    def _close_soon(self, client: Client, code: int, reason: str) -> None:
        if client.closed:
            return
        self._mark_closed(client)
        task = asyncio.create_task(self._send_close(client, code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _mark_closed(self, client: Client) -> None:
        client.closed = True
        self.clients.discard(client)
        client.pending.clear()

    async def _close(self, client: Client, code: int, reason: str) -> None:
        if client.closed:
            return
        self._mark_closed(client)
        await self._send_close(client, code, reason)

    @staticmethod
    async def _send_close(client: Client, code: int, reason: str) -> None:
        try:
            await client.ws.close(code=code, reason=reason[:120])
        except Exception:  # noqa: BLE001 - the socket may already be gone
            pass

    # -- one client's life -------------------------------------------------
    def register(self, client: Client) -> int:
        """Start collecting live frames for the client; returns the position they start after."""
        self.clients.add(client)
        return self.position

    def start_sending(self, client: Client) -> None:
        """The client's snapshot or backlog is sent: let what piled up meanwhile, and live frames, flow."""
        client.ready = True
        if client.pending and client.sender is None and not client.closed:
            client.sender = asyncio.create_task(self._drain(client))

    async def unregister(self, client: Client) -> None:
        sender = client.sender
        await self._close(client, 1000, "bye")
        if sender is not None:
            sender.cancel()

    @staticmethod
    def _admit(client: Client, item: Item) -> str | None:
        """The text to send for a pending item, or None if the client already has it."""
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

    # -- snapshots -----------------------------------------------------------
    async def snapshot(self, client: Client, at_least: int) -> tuple[int, str, bytes]:
        """A snapshot frame for the client's scope at a position >= `at_least`: (position, text, frame bytes)."""
        built = await self._snapshot_of(client.scope, client.visible, at_least)
        return built.position, built.text, built.data

    async def board_json(self, principal: Principal, visible: Visible, at_least: int) -> bytes:
        """`GET /board`'s answer, already encoded: the same per-scope build the sockets share."""
        built = await self._snapshot_of(scope_of(principal), visible, at_least)
        return built.board

    async def _snapshot_of(self, scope: ClientScope, visible: Visible, at_least: int) -> _Built:
        """The board of one scope at a position >= `at_least`, encoded once.

        Clients of one scope connecting at about the same time (sockets and GET /board alike) share
        one build and its encoded text. A build launched when the hub was at `at_least` or later is
        at least there (the hub never runs ahead of the store); an older one is only used if it
        turned out recent enough.
        """
        loop = asyncio.get_running_loop()
        for _attempt in range(3):
            build = self._builds.get(scope)
            if build is None or not self._usable(build, at_least, loop.time()):
                build = self._launch(scope, visible)
            built = await asyncio.shield(build.future)
            if built.position >= at_least:
                return built
        raise RuntimeError(f"no snapshot at or after {at_least}")  # pragma: no cover - cannot happen, see above

    def _usable(self, build: _SnapshotBuild, at_least: int, now: float) -> bool:
        fut = build.future
        if not fut.done():
            return build.launched_at >= at_least
        if fut.cancelled() or fut.exception() is not None or build.done_at is None:
            return False
        position = fut.result().position
        if position < at_least:
            return False
        age = now - build.done_at
        return age <= SNAPSHOT_REUSE_SECONDS or (position >= self.position and age <= SNAPSHOT_IDLE_REUSE_SECONDS)

    def _launch(self, scope: ClientScope, visible: Visible) -> _SnapshotBuild:
        self.snapshot_builds += 1
        fut: asyncio.Future[_Built] = asyncio.ensure_future(run_in_threadpool(self._build_snapshot, visible))
        build = _SnapshotBuild(self.position, fut)
        self._builds[scope] = build
        loop = asyncio.get_running_loop()

        def done(f: asyncio.Future[_Built]) -> None:
            build.done_at = loop.time()
            if (f.cancelled() or f.exception() is not None) and self._builds.get(scope) is build:
                del self._builds[scope]

        fut.add_done_callback(done)
        return build

    def _build_snapshot(self, visible: Visible) -> _Built:
        """Runs in a worker thread: read, assemble, encode and serialize once for a whole scope."""
        position, docs = self.store.snapshot(BOARD_KINDS)
        relay = self.relay_status()
        board = encode(assemble(docs, position, datetime.now(timezone.utc), visible, relay=relay, verified_days=self.verified_days,
                                signins=self.signins()))
        # The frame is the board's text inside an envelope: encoded once, used by both answers.
        text = f'{{"type":"snapshot","position":{position},"board":{board}}}'
        return _Built(position, text, frame_bytes(text), board.encode())
