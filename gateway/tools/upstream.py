"""`yingji upstream`: a stand-in of the city command platform (许昌市级应急指挥平台), for demos and tests.

It receives what the relay sends: `POST /events` with a JSON array of
CloudEvents 1.0 (`application/cloudevents-batch+json`), signed per Standard
Webhooks. It verifies the signature, validates the batch, deduplicates by
event `id`, refuses gaps in the `position` extension attribute, and stores
every new event of a batch in one SQLite transaction (all or nothing).

    200 {"accepted": n_new, "duplicates": n_dup, "last_position": N}
    401 bad signature · 400 malformed JSON · 415 wrong media type · 413 too large
    422 not an array / invalid event / wrong source / positions not contiguous
    409 {"code": "gap", "expected": last_position + 1}
    409 {"code": "conflict"}: a different event at a position (or an id) already held

Errors are problem+json (RFC 9457) with a machine-readable `code`.

Read back: `GET /status`, `GET /events?after=N&limit=M` (the stored CloudEvents
in position order, to compare with the district log).

Faults, for testing the relay (`POST /faults`, `GET /faults`, `DELETE /faults`,
or the same-named CLI flags). They apply to `POST /events` only; the control
and read endpoints always answer. Per batch request, in this order:

    refuse_for_seconds / refuse_status   every batch answered refuse_status for that long (0 clears)
    error_rate / error_status            fraction answered error_status (default 503), nothing stored
    drop_before_store_rate               fraction where the connection is closed with no HTTP answer, nothing stored
    (signature, validation, dedupe, store)
    exit_mid_batch_rate                  fraction where the process dies (os._exit(70)) halfway through the
                                         inserts, before the commit — subprocess use only
    drop_after_store_rate                fraction stored and committed, then the connection closed with no answer
    latency_ms / latency_rate            fraction (default all) delayed by latency_ms before the answer (or the
                                         drop) goes out — after storing, so a client timeout = a lost acknowledgement
    retry_after                          seconds, sent as Retry-After with refuse/error answers (none by default)
    seed                                 reseeds the random.Random used for every draw (determinism)

`drop_rate` is accepted on input as an alias of `drop_after_store_rate`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.citylink.webhooks import SignatureError, parse_secrets, verify

log = logging.getLogger("yingji.upstream")

BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"
ACCEPTED_CONTENT_TYPES = {BATCH_CONTENT_TYPE, "application/json"}
MAX_BODY_BYTES = 32 * 1024 * 1024
DEFAULT_LIMIT, MAX_LIMIT = 1000, 10000
EXIT_MID_BATCH_CODE = 70
_DROP_KEY = "yingji.upstream.drop"
_CYCLE_KEY = "yingji.upstream.cycle"

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position    INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    type        TEXT NOT NULL,
    subject     TEXT,
    time        TEXT,
    source      TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
-- Every batch request as it arrived (headers and raw body), so tests can check
-- each one with independent implementations (cloudevents SDK, standardwebhooks).
CREATE TABLE IF NOT EXISTS requests (
    n           INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    headers     TEXT NOT NULL,
    body        BLOB NOT NULL
);
"""


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


# ---------------------------------------------------------------------------
# Problems (RFC 9457)
# ---------------------------------------------------------------------------


class Problem(Exception):
    def __init__(self, status: int, code: str, title: str, detail: str = "", **extra: Any):
        super().__init__(detail or title)
        self.status, self.code, self.title, self.detail, self.extra = status, code, title, detail, extra

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": f"urn:yingji:upstream:{self.code}", "title": self.title, "status": self.status,
                               "code": self.code}
        if self.detail:
            out["detail"] = self.detail
        out.update(self.extra)
        return out


def problem_response(p: Problem, headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(p.body(), ensure_ascii=False), status_code=p.status, headers=dict(headers or {}),
                    media_type="application/problem+json")


# ---------------------------------------------------------------------------
# Validation of a batch
# ---------------------------------------------------------------------------


def parse_batch(body: bytes) -> list[dict[str, Any]]:
    """Parse and validate a CloudEvents JSON batch. Raises Problem (400/422)."""
    try:
        batch = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise Problem(400, "malformed_json", "The body is not JSON", str(e)) from None
    if not isinstance(batch, list):
        raise Problem(422, "not_a_batch", "The body is not a CloudEvents batch (a JSON array)",
                      f"got a JSON {type(batch).__name__}")
    ids: set[str] = set()
    for i, ev in enumerate(batch):
        _validate_event(i, ev)
        if ev["id"] in ids:
            raise Problem(422, "duplicate_in_batch", "The same event id twice in one batch", f"id {ev['id']}", index=i)
        ids.add(ev["id"])
        if i and not follows(ev, batch[i - 1]["position"]):
            raise Problem(422, "not_contiguous", "Positions in a batch must be contiguous and in order",
                          f"event {i} has position {ev['position']} after {batch[i - 1]['position']}", index=i)
    return batch


def follows(ev: Mapping[str, Any], previous: int) -> bool:
    """Does `ev` come right after position `previous`? The relay names the previous position
    (`prevposition`), since log positions may skip numbers (a PostgreSQL sequence does on a
    failed insert); without it, positions must be dense."""
    if "prevposition" in ev:
        return ev["prevposition"] == previous and ev["position"] > previous
    return ev["position"] == previous + 1


def _invalid(i: int, detail: str) -> Problem:
    return Problem(422, "invalid_event", "An event of the batch is not a valid CloudEvent", f"event {i}: {detail}", index=i)


def _validate_event(i: int, ev: Any) -> None:
    if not isinstance(ev, dict):
        raise _invalid(i, f"a JSON {type(ev).__name__}, not an object")
    if ev.get("specversion") != "1.0":
        raise _invalid(i, f"specversion must be \"1.0\", got {ev.get('specversion')!r}")
    for name in ("id", "source", "type"):
        if not isinstance(ev.get(name), str) or not ev[name]:
            raise _invalid(i, f"{name} is required (a non-empty string)")
    pos = ev.get("position")
    if not isinstance(pos, int) or isinstance(pos, bool) or pos < 1:
        raise _invalid(i, f"position (extension attribute) must be an integer >= 1, got {pos!r}")
    for name in ("subject", "time", "datacontenttype", "dataschema"):
        if name in ev and ev[name] is not None and not isinstance(ev[name], str):
            raise _invalid(i, f"{name} must be a string")
    if isinstance(ev.get("time"), str):
        try:
            datetime.fromisoformat(ev["time"].replace("Z", "+00:00"))
        except ValueError:
            raise _invalid(i, f"time is not an RFC 3339 timestamp: {ev['time']!r}") from None
    if "data" in ev and "data_base64" in ev:
        raise _invalid(i, "both data and data_base64")
    for name in ev:
        if name in ("data", "data_base64"):
            continue
        if not (name.isascii() and name.isalnum() and name == name.lower()):
            raise _invalid(i, f"attribute name {name!r} is not lower-case letters and digits")


# ---------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------


class Crash(BaseException):
    """The mid-batch exit hook returned instead of ending the process: the transaction is rolled back."""


@dataclass
class BatchResult:
    accepted: int
    duplicates: int
    last_position: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class UpstreamStore:
    """SQLite: events(position PRIMARY KEY, id UNIQUE, ...) and a few durable counters."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.executescript(SCHEMA)
        self.lock = threading.Lock()

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    # -- reads ------------------------------------------------------------
    def last_position(self) -> int:
        return int(self.conn.execute("SELECT COALESCE(MAX(position), 0) FROM events").fetchone()[0])

    def status(self) -> dict[str, Any]:
        with self.lock:
            count, first, last = self.conn.execute("SELECT COUNT(*), MIN(position), MAX(position) FROM events").fetchone()
            counters = dict(self.conn.execute("SELECT name, value FROM counters").fetchall())
        return {
            "count": int(count),
            "last_position": int(last or 0),
            "first_position": int(first) if first is not None else None,
            "duplicates_received": int(counters.get("duplicates_received", 0)),
            "batches": int(counters.get("batches", 0)),
        }

    def events_json(self, after: int, limit: int) -> str:
        """The stored CloudEvents with position > after, in order, as a JSON array text."""
        with self.lock:
            rows = self.conn.execute("SELECT body FROM events WHERE position > ? ORDER BY position LIMIT ?",
                                     (after, limit)).fetchall()
        return "[" + ",".join(r[0] for r in rows) + "]"

    def events(self, after: int = 0, limit: int = MAX_LIMIT) -> list[dict[str, Any]]:
        return json.loads(self.events_json(after, limit))

    def record_request(self, headers: Mapping[str, str], body: bytes) -> None:
        with self.lock:
            self.conn.execute("INSERT INTO requests (received_at, headers, body) VALUES (?, ?, ?)",
                              (_now_iso(), json.dumps(dict(headers)), body))

    def requests(self, after: int, limit: int) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.conn.execute("SELECT n, received_at, headers, body FROM requests WHERE n > ? ORDER BY n LIMIT ?",
                                     (after, limit)).fetchall()
        return [{"n": n, "received_at": at, "headers": json.loads(h), "body": bytes(b).decode("utf-8", "replace")}
                for n, at, h, b in rows]

    # -- the write ---------------------------------------------------------
    def store_batch(self, batch: Sequence[Mapping[str, Any]], midway: Callable[[], None] | None = None) -> BatchResult:
        """Dedupe, check for gaps, insert the new events: one transaction. Raises Problem (409).

        `midway`, if given, is called inside the open transaction once half of
        the new events are inserted (the exit-mid-batch fault: os._exit there).
        """
        with self.lock:
            c = self.conn
            c.execute("BEGIN IMMEDIATE")
            try:
                last = self.last_position()
                dups = 0
                for ev in batch:
                    if ev["position"] > last:
                        break
                    row = c.execute("SELECT id FROM events WHERE position = ?", (ev["position"],)).fetchone()
                    if row is None or row[0] != ev["id"]:
                        raise Problem(409, "conflict", "A different event is already held at this position",
                                      f"different event at position {ev['position']}: holding "
                                      f"{row[0] if row else 'nothing'}, got {ev['id']}",
                                      position=ev["position"], held_id=row[0] if row else None, id=ev["id"])
                    dups += 1
                new = list(batch[dups:])
                if new and not follows(new[0], last):
                    raise Problem(409, "gap", "The batch would leave a gap",
                                  f"expected the event after position {last}, got {new[0]['position']}"
                                  f" (after {new[0].get('prevposition', new[0]['position'] - 1)})",
                                  expected=last + 1, expected_after=last, received=new[0]["position"], last_position=last)
                received_at = _now_iso()
                half = max(len(new) // 2, 1)
                for k, ev in enumerate(new):
                    if midway is not None and k == half:
                        midway()
                        raise Crash()
                    held = c.execute("SELECT position FROM events WHERE id = ?", (ev["id"],)).fetchone()
                    if held is not None:
                        raise Problem(409, "conflict", "This event id is already held at another position",
                                      f"event {ev['id']} is held at position {held[0]}, sent at {ev['position']}",
                                      position=ev["position"], held_position=held[0], id=ev["id"])
                    c.execute(
                        "INSERT INTO events (position, id, type, subject, time, source, body, received_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (ev["position"], ev["id"], ev["type"], ev.get("subject"), ev.get("time"), ev["source"],
                         json.dumps(ev, ensure_ascii=False, separators=(",", ":")), received_at),
                    )
                if midway is not None and len(new) == 1:
                    midway()
                    raise Crash()
                for name, inc in (("batches", 1), ("duplicates_received", dups)):
                    c.execute("INSERT INTO counters (name, value) VALUES (?, ?) "
                              "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value", (name, inc))
                new_last = new[-1]["position"] if new else last
                c.execute("COMMIT")
            except sqlite3.IntegrityError as e:
                c.execute("ROLLBACK")
                raise Problem(409, "conflict", "The batch conflicts with events already held", str(e)) from None
            except BaseException:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                raise
        return BatchResult(len(new), dups, new_last)


# ---------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------


def _rate(v: Any, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
        raise ValueError(f"{name} must be a number between 0 and 1")
    return float(v)


def _status(v: Any, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 400 <= v <= 599:
        raise ValueError(f"{name} must be an HTTP status 400..599")
    return v


def _nonneg(v: Any, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        raise ValueError(f"{name} must be a number >= 0")
    return v


@dataclass
class Faults:
    error_rate: float = 0.0
    error_status: int = 503
    retry_after: int | None = None
    latency_ms: int = 0
    latency_rate: float = 1.0
    drop_before_store_rate: float = 0.0
    drop_after_store_rate: float = 0.0
    exit_mid_batch_rate: float = 0.0
    refuse_status: int = 503
    refuse_until: float = 0.0  # time.monotonic(); set through refuse_for_seconds
    seed: int | None = None
    rng: random.Random = field(default_factory=random.Random, repr=False)

    SETTABLE = ("error_rate", "error_status", "retry_after", "latency_ms", "latency_rate", "drop_before_store_rate",
                "drop_after_store_rate", "exit_mid_batch_rate", "refuse_for_seconds", "refuse_status", "seed")

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def refusing(self) -> bool:
        return time.monotonic() < self.refuse_until

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("rng", "refuse_until")}
        out["refuse_for_seconds"] = round(max(self.refuse_until - time.monotonic(), 0.0), 3)
        return out

    def update(self, settings: Mapping[str, Any]) -> None:
        """Apply some settings (validated all first: a bad one changes nothing). Raises ValueError."""
        s = dict(settings)
        if "drop_rate" in s:  # alias
            s.setdefault("drop_after_store_rate", s.pop("drop_rate"))
        reset = s.pop("reset", False)
        unknown = set(s) - set(self.SETTABLE)
        if unknown:
            raise ValueError(f"unknown fault settings {sorted(unknown)}; known: {', '.join(self.SETTABLE)}, drop_rate, reset")
        checked: dict[str, Any] = {}
        for k, v in s.items():
            if k.endswith("_rate"):
                checked[k] = _rate(v, k)
            elif k.endswith("_status"):
                checked[k] = _status(v, k)
            elif k == "latency_ms":
                checked[k] = int(_nonneg(v, k))
            elif k == "refuse_for_seconds":
                checked[k] = float(_nonneg(v, k))
            elif k in ("retry_after", "seed"):
                if v is not None and (isinstance(v, bool) or not isinstance(v, int) or (k == "retry_after" and v < 0)):
                    raise ValueError(f"{k} must be an integer or null")
                checked[k] = v
        if reset:
            fresh = Faults()
            for f in fields(self):
                if f.name != "rng":
                    setattr(self, f.name, getattr(fresh, f.name))
            self.rng = random.Random()
        for k, v in checked.items():
            if k == "refuse_for_seconds":
                self.refuse_until = time.monotonic() + v if v > 0 else 0.0
            elif k == "seed":
                self.seed = v
                self.rng = random.Random(v)
            else:
                setattr(self, k, v)

    def draw(self, rate: float) -> bool:
        if rate <= 0:
            return False
        if rate >= 1:
            return True
        return self.rng.random() < rate


# ---------------------------------------------------------------------------
# The app
# ---------------------------------------------------------------------------


def _keys(secrets: str | Sequence[str | bytes]) -> list[bytes]:
    if isinstance(secrets, str):
        return parse_secrets(secrets)
    keys: list[bytes] = []
    for s in secrets:
        keys += [s] if isinstance(s, bytes) else parse_secrets(s)
    return keys


class _ConnectionDropper:
    """Outermost ASGI layer: lets a handler answer with no HTTP response at all (the connection just closes).

    uvicorn's `send` is a bound method of its request/response cycle, which
    holds the asyncio transport; aborting it closes the socket without a byte
    of the response. A handler asks for that by setting scope[_DROP_KEY].
    """

    def __init__(self, app: Any):
        self.app = app
        self.state = app.state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cycle = getattr(send, "__self__", None)
        dropped = False

        async def guarded_send(message: dict[str, Any]) -> None:
            nonlocal dropped
            if dropped:
                return
            if message["type"] == "http.response.start" and scope.get(_DROP_KEY):
                transport = getattr(cycle, "transport", None)
                if transport is not None:
                    dropped = True
                    transport.abort()
                    for _ in range(100):  # until the server has seen the connection go
                        if getattr(cycle, "disconnected", True):
                            break
                        await asyncio.sleep(0.005)
                    return
                await send(message)  # unknown server: start the answer, then fail it mid-way
                raise ConnectionAbortedError("upstream stand-in: injected connection drop")
            await send(message)

        await self.app(scope, receive, guarded_send)


class Upstream:
    """The stand-in's state: store, secrets, faults, and in-memory counters."""

    def __init__(self, db_path: str | Path, secrets: str | Sequence[str | bytes], district_source: str | None = None,
                 faults: Faults | Mapping[str, Any] | None = None, exit_process: Any = None):
        self.db_path = str(db_path)
        self.secrets = _keys(secrets)
        if not self.secrets:
            raise ValueError("at least one webhook secret (whsec_...) is needed")
        self.district_source = district_source
        if isinstance(faults, Faults):
            self.faults = faults
        else:
            self.faults = Faults()
            if faults:
                self.faults.update(faults)
        self.exit_process = exit_process or (lambda: os._exit(EXIT_MID_BATCH_CODE))
        self.store: UpstreamStore | None = None
        self.injected = {k: 0 for k in ("refused", "error", "drop_before_store", "drop_after_store", "delayed",
                                        "exit_mid_batch")}
        self.answered: dict[str, int] = {}
        self.senders: dict[str, dict[str, Any]] = {}

    def open(self) -> None:
        if self.store is None:
            self.store = UpstreamStore(self.db_path)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def status(self) -> dict[str, Any]:
        assert self.store is not None
        return {
            **self.store.status(),
            "faults": self.faults.as_dict(),
            "injected": dict(self.injected),
            "answered": dict(self.answered),
            "senders": list(self.senders.values()),
            "district_source": self.district_source,
            "db": self.db_path,
        }

    # -- POST /events ------------------------------------------------------
    async def receive_batch(self, request: Request) -> Response:
        f = self.faults
        delay = f.latency_ms / 1000 if f.latency_ms > 0 and f.draw(f.latency_rate) else 0.0
        outcome = await self._handle(request)
        if delay:
            self.injected["delayed"] += 1
            await asyncio.sleep(delay)
        if outcome is None:  # drop the connection: no HTTP answer
            request.scope[_DROP_KEY] = True
            return Response(status_code=500)
        key = str(outcome.status_code)
        self.answered[key] = self.answered.get(key, 0) + 1
        return outcome

    def _exit_midway(self) -> None:
        self.injected["exit_mid_batch"] += 1
        log.error("injected fault: exiting in the middle of a batch's transaction, before the commit")
        logging.shutdown()
        self.exit_process()

    def _fault_headers(self) -> dict[str, str]:
        return {"retry-after": str(self.faults.retry_after)} if self.faults.retry_after is not None else {}

    async def _handle(self, request: Request) -> Response | None:
        f = self.faults
        assert self.store is not None
        if f.refusing():
            self.injected["refused"] += 1
            return problem_response(Problem(f.refuse_status, "refused", "Refused (injected fault)",
                                            f"refusing batches for {f.as_dict()['refuse_for_seconds']} more seconds"),
                                    self._fault_headers())
        if f.draw(f.error_rate):
            self.injected["error"] += 1
            return problem_response(Problem(f.error_status, "injected_error", "Error (injected fault)"), self._fault_headers())
        if f.draw(f.drop_before_store_rate):
            self.injected["drop_before_store"] += 1
            return None
        body = await request.body()
        self.store.record_request({k.lower(): v for k, v in request.headers.items()}, body)
        if len(body) > MAX_BODY_BYTES:
            return problem_response(Problem(413, "payload_too_large", "The batch is too large", f"{len(body)} bytes"))
        try:
            body.decode()
        except UnicodeDecodeError:  # JSON is UTF-8; and Standard Webhooks signs text, so nothing else verifies
            return problem_response(Problem(400, "malformed_json", "The batch is not JSON", "the body is not UTF-8"))
        try:
            verify(self.secrets, request.headers, body)
        except SignatureError as e:
            return problem_response(Problem(401, "bad_signature", "The webhook signature does not verify", str(e)))
        sender = request.headers.get("yingji-relay") or (request.client.host if request.client else "unknown")
        seen = self.senders.setdefault(sender, {"relay": sender, "batches": 0, "accepted": 0, "last_seen": None})
        seen["batches"] += 1
        seen["last_seen"] = _now_iso()
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in ACCEPTED_CONTENT_TYPES:
            return problem_response(Problem(415, "unsupported_media_type", "Send a CloudEvents JSON batch",
                                            f"content-type {ctype or '(none)'}; expected {BATCH_CONTENT_TYPE}"))
        try:
            batch = parse_batch(body)
            if self.district_source is not None:
                for i, ev in enumerate(batch):
                    if ev["source"] != self.district_source:
                        raise Problem(422, "wrong_source", "An event of the batch is from another source",
                                      f"event {i} has source {ev['source']!r}; this platform takes {self.district_source!r}",
                                      index=i)
            midway = self._exit_midway if f.draw(f.exit_mid_batch_rate) else None
            try:
                result = self.store.store_batch(batch, midway)
            except Crash:
                return None
        except Problem as p:
            return problem_response(p)
        seen["accepted"] += result.accepted
        if f.draw(f.drop_after_store_rate):
            self.injected["drop_after_store"] += 1
            return None
        return JSONResponse(result.as_dict())


def _int_param(request: Request, name: str, default: int, lo: int, hi: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        v = int(raw)
    except ValueError:
        raise Problem(422, "validation_error", f"{name} must be an integer", raw) from None
    if v < lo or (hi is not None and v > hi):
        raise Problem(422, "validation_error", f"{name} out of range", f"{name} must be in {lo}..{hi if hi else ''}")
    return v


def create_app(db_path: str | Path, secrets: str | Sequence[str | bytes], district_source: str | None = None,
               faults: Faults | Mapping[str, Any] | None = None, exit_process: Any = None) -> Any:
    """The ASGI app. `secrets`: "whsec_a,whsec_b", a list of them, or raw key bytes.

    `faults`: initial settings (a Faults, or a mapping as for POST /faults).
    `exit_process`: what exit_mid_batch_rate calls (default os._exit(70)).
    The returned app has `.state.upstream` (the Upstream instance).
    """
    up = Upstream(db_path, secrets, district_source, faults, exit_process)

    @asynccontextmanager
    async def lifespan(_app: Starlette):  # type: ignore[no-untyped-def]
        up.open()
        try:
            yield
        finally:
            up.close()

    async def post_events(request: Request) -> Response:
        return await up.receive_batch(request)

    async def get_events(request: Request) -> Response:
        assert up.store is not None
        try:
            after = _int_param(request, "after", 0, 0)
            limit = _int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        except Problem as p:
            return problem_response(p)
        return Response(up.store.events_json(after, limit), media_type=BATCH_CONTENT_TYPE)

    async def get_requests(request: Request) -> Response:
        assert up.store is not None
        try:
            after = _int_param(request, "after", 0, 0)
            limit = _int_param(request, "limit", 100, 1, 1000)
        except Problem as p:
            return problem_response(p)
        return JSONResponse(up.store.requests(after, limit))

    async def get_status(_request: Request) -> Response:
        return JSONResponse(up.status())

    async def faults_endpoint(request: Request) -> Response:
        if request.method == "DELETE":
            up.faults.update({"reset": True})
        elif request.method == "POST":
            try:
                settings = json.loads((await request.body()) or b"{}")
                if not isinstance(settings, dict):
                    raise ValueError("send a JSON object of fault settings")
                up.faults.update(settings)
            except ValueError as e:
                return problem_response(Problem(422, "validation_error", "Bad fault settings", str(e)))
            log.warning("faults now %s", up.faults.as_dict())
        return JSONResponse(up.faults.as_dict())

    async def index(_request: Request) -> Response:
        return JSONResponse({"service": "yingji upstream (city platform stand-in)",
                             "endpoints": ["POST /events", "GET /events?after=N&limit=M", "GET /status",
                                           "GET|POST|DELETE /faults"]})

    app = Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            Route("/events", post_events, methods=["POST"]),
            Route("/events", get_events, methods=["GET"]),
            Route("/status", get_status, methods=["GET"]),
            Route("/requests", get_requests, methods=["GET"]),
            Route("/faults", faults_endpoint, methods=["GET", "POST", "DELETE"]),
        ],
        lifespan=lifespan,
    )
    app.state.upstream = up
    return _ConnectionDropper(app)


# ---------------------------------------------------------------------------
# Running it
# ---------------------------------------------------------------------------


class ServerThread:
    """Run an app with uvicorn in a background thread (tests): `with ServerThread(app) as s: s.url`."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0):
        import uvicorn

        self.app = app
        self.config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on",
                                     timeout_graceful_shutdown=1, access_log=False)
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, name="yingji-upstream", daemon=True)
        self.url = ""

    def start(self, timeout: float = 10.0) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the upstream stand-in did not start")
            time.sleep(0.01)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="yingji upstream", description="Stand-in of the city command platform: "
                                "receives the relay's signed CloudEvents batches, dedupes, refuses gaps, injects faults.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8900)
    p.add_argument("--db", default="upstream.sqlite3", help="SQLite file (created if missing)")
    p.add_argument("--secret", action="append", default=None,
                   help="whsec_... (repeat, or comma-separate, during a rotation); default $YINGJI_UPSTREAM_SECRET")
    p.add_argument("--district-source", default=None, help="e.g. /districts/411099000000: refuse other sources (422)")
    p.add_argument("--log-level", default="info")
    g = p.add_argument_group("faults (also settable at run time: POST /faults)")
    g.add_argument("--seed", type=int, default=None)
    g.add_argument("--error-rate", type=float, default=0.0)
    g.add_argument("--error-status", type=int, default=503)
    g.add_argument("--retry-after", type=int, default=None)
    g.add_argument("--latency-ms", type=int, default=0)
    g.add_argument("--latency-rate", type=float, default=1.0)
    g.add_argument("--drop-before-store-rate", type=float, default=0.0)
    g.add_argument("--drop-after-store-rate", "--drop-rate", dest="drop_after_store_rate", type=float, default=0.0)
    g.add_argument("--exit-mid-batch-rate", type=float, default=0.0)
    g.add_argument("--refuse-for-seconds", type=float, default=0.0)
    g.add_argument("--refuse-status", type=int, default=503)
    return p


def main(argv: list[str] | None = None) -> None:
    """`yingji upstream [options]`."""
    import uvicorn

    args = build_parser().parse_args(argv)
    secrets = ",".join(args.secret) if args.secret else os.environ.get("YINGJI_UPSTREAM_SECRET", "")
    if not parse_secrets(secrets):
        raise SystemExit("give --secret whsec_... (or set YINGJI_UPSTREAM_SECRET); e.g. --secret " + new_secret())
    fault_settings = {k: getattr(args, k) for k in Faults.SETTABLE}
    try:
        app = create_app(args.db, secrets, args.district_source, fault_settings)
    except ValueError as e:
        raise SystemExit(f"yingji upstream: {e}")
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(f"yingji upstream (city platform stand-in) on http://{args.host}:{args.port}/  db={args.db}"
          f"{'  source=' + args.district_source if args.district_source else ''}", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, timeout_graceful_shutdown=2)


if __name__ == "__main__":
    main()
