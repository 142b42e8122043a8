"""The relay: mirrors the district log, in order and without loss, to the city platform.

At least once, in log order, deduplicable by event id. The position moves
only after a 2xx. 5xx, 408, 429, timeouts and connection errors are retried
with exponential backoff and jitter; any other 4xx stops the relay with an
alarm (position kept) until an operator resumes it. Only one relay per
district sends at a time: a PostgreSQL advisory lock, or a file lock on the
embedded default; a second relay waits for the lock.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import random
import socket
import threading
import time
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import BigInteger, Boolean, Column, DateTime, Engine, MetaData, String, Table, Text, select, update
from sqlalchemy.dialects import postgresql, sqlite

from domain.common import DomainError
from gateway.citylink.cloudevents import to_cloudevent
from gateway.citylink.privacy import for_the_city
from gateway.context import CommandContext, Principal
from gateway.adapters.eventstore import DistrictLog
from gateway.service_layer.commands import RecordReportedUpward, RecordReportsAcknowledged
from gateway.service_layer.service import CommandService
from gateway.settings import Settings
from gateway.citylink.webhooks import parse_secrets, sign

log = logging.getLogger("yingji.relay")

metadata = MetaData()
relay_table = Table(
    "relay_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False, default=0),
    Column("last_success_at", DateTime(timezone=True), nullable=True),
    Column("last_attempt_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("alarm", Boolean, nullable=False, default=False),
    Column("alarm_since", DateTime(timezone=True), nullable=True),
    Column("paused", Boolean, nullable=False, default=False),
)

RETRYABLE = {408, 429}
CONTENT_TYPE = "application/cloudevents-batch+json"
RELAY_PRINCIPAL = Principal("relay", "system", "")


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


class RelayState:
    """The relay's durable row: position, health and alarm."""

    def __init__(self, engine: Engine, name: str):
        self.engine = engine
        self.name = name

    def create_schema(self) -> None:
        metadata.create_all(self.engine)
        ins = (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(relay_table)
        with self.engine.begin() as conn:
            conn.execute(ins.values(name=self.name, position=0, alarm=False, paused=False).on_conflict_do_nothing())

    def read(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(relay_table).where(relay_table.c.name == self.name)).first()
        if row is None:
            return {"position": 0, "alarm": False, "paused": False, "last_success_at": None, "last_error": None,
                    "alarm_since": None, "last_attempt_at": None}
        m = dict(row._mapping)
        m["position"] = int(m["position"])
        return m

    def set(self, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(relay_table).where(relay_table.c.name == self.name).values(**values))

    def advance(self, old: int, new: int) -> None:
        with self.engine.begin() as conn:
            n = conn.execute(
                update(relay_table)
                .where(relay_table.c.name == self.name, relay_table.c.position == old)
                .values(position=new, last_success_at=now_utc(), last_error=None)
            ).rowcount
        if n != 1:
            raise RuntimeError(f"relay position moved under us (expected {old})")

    def resume(self) -> None:
        self.set(alarm=False, alarm_since=None, paused=False)


class Lease:
    """One active relay per district."""

    def acquire(self) -> bool: ...

    def held(self) -> bool: ...

    def release(self) -> None: ...


class FileLease(Lease):
    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> bool:
        import os

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        import os

        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class AdvisoryLease(Lease):
    """A session-level advisory lock on a connection of its own: lost with the connection."""

    def __init__(self, dsn: str, key: str):
        self.dsn = dsn
        self.key = zlib.crc32(key.encode())
        self.conn: Any = None

    def acquire(self) -> bool:
        import psycopg

        try:
            conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=3)
            got = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0]
        except psycopg.Error:
            return False
        if not got:
            conn.close()
            return False
        self.conn = conn
        return True

    def held(self) -> bool:
        if self.conn is None:
            return False
        try:
            self.conn.execute("SELECT 1")
            return True
        except Exception:  # noqa: BLE001 - connection gone: so is the lock
            self.release()
            return False

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001
                pass
            self.conn = None


@dataclass(frozen=True)
class Prepared:
    after: int
    notifications: list[Any]
    body: bytes
    headers: dict[str, str]
    msg_id: str

    @property
    def first(self) -> int:
        return int(self.notifications[0].id)

    @property
    def last(self) -> int:
        return int(self.notifications[-1].id)


class Relay:
    def __init__(
        self,
        log_: DistrictLog,
        state: RelayState,
        service: CommandService,
        settings: Settings,
        lease: Lease,
        max_backoff: float = 30.0,
    ):
        self.log = log_
        self.state = state
        self.service = service
        self.url = settings.upstream_url.rstrip("/") + "/events"
        self.secrets = parse_secrets(settings.upstream_secret)
        self.source = f"/districts/{settings.district_code}"
        self.lease = lease
        self.batch_size = settings.relay_batch_size
        self.max_backoff = max_backoff
        self.http = httpx.Client(timeout=settings.upstream_timeout)
        self.instance = f"{socket.gethostname()}:{os.getpid()}"  # says which relay sent a batch
        self._wake = threading.Event()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="relay-prepare")
        self._next: tuple[int, Future[Prepared | None]] | None = None
        self._backoff = 0.5
        self.sent_batches = 0
        self.active = False  # holds the lease (the others wait)
        self.loop_at = time.monotonic()  # when run_forever last turned: a health check tells a stuck relay by it

    def wake(self, _position: int | None = None) -> None:
        self._wake.set()

    # -- status ----------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return relay_status(self.state, self.log)

    # -- one step ----------------------------------------------------------
    def prepare(self, position: int) -> Prepared | None:
        """The next batch after `position`, converted, encoded and signed; None when there is nothing new."""
        notifications = list(self.log.read(position, self.batch_size))
        if not notifications:
            return None
        events = []
        previous = position
        for n in notifications:
            # Positions may skip numbers (a PostgreSQL sequence does on a failed insert), so each
            # event names the one before it: the receiver can tell a skip from a lost event.
            # Personal phones of the people register stay in the district (gateway/citylink/privacy.py).
            events.append(for_the_city(to_cloudevent(self.log, n, self.source)) | {"prevposition": previous})
            previous = n.id
        body = json.dumps(events, ensure_ascii=False, separators=(",", ":")).encode()
        first, last = notifications[0].id, notifications[-1].id
        msg_id = f"{self.source}:{first}-{last}"
        headers = {"content-type": CONTENT_TYPE, "yingji-relay": self.instance, **sign(self.secrets, msg_id, body)}
        return Prepared(position, notifications, body, headers, msg_id)

    def step(self) -> str:
        """Try to deliver one batch. Returns 'sent', 'idle', 'retry', 'stopped'.

        While one batch is in flight the next is prepared on a second thread,
        so reading, converting and signing overlap the wait for the city.
        """
        st = self.state.read()
        if st["paused"]:
            self._next = None
            return "stopped"
        position = st["position"]
        prepared = None
        if self._next is not None and self._next[0] == position:
            prepared = self._next[1].result()
        self._next = None
        if prepared is None:
            prepared = self.prepare(position)
        if prepared is None:
            return "idle"
        self._next = (prepared.last, self._pool.submit(self.prepare, prepared.last))
        self.state.set(last_attempt_at=now_utc())
        try:
            response = self.http.post(self.url, content=prepared.body, headers=prepared.headers)
        except httpx.HTTPError as e:
            return self._retry(f"{type(e).__name__}: {e}")
        if 200 <= response.status_code < 300:
            self._after_acknowledged(prepared.notifications, prepared.msg_id)
            self.state.advance(position, prepared.last)
            self._backoff = 0.5
            self.sent_batches += 1
            return "sent"
        if response.status_code >= 500 or response.status_code in RETRYABLE:
            retry_after = response.headers.get("retry-after")
            return self._retry(f"HTTP {response.status_code}", float(retry_after) if retry_after and retry_after.isdigit() else None)
        detail = f"HTTP {response.status_code} at position {prepared.first}: {response.text[:300]}"
        log.error("relay stopped: %s", detail)
        self.state.set(alarm=True, alarm_since=now_utc(), paused=True, last_error=detail)
        self._next = None
        return "stopped"

    def _retry(self, error: str, at_least: float | None = None) -> str:
        log.warning("relay: %s; retrying", error)
        self.state.set(last_error=error)
        self._delay = max(at_least or 0, random.uniform(self._backoff / 2, self._backoff))
        self._backoff = min(self._backoff * 2, self.max_backoff)
        return "retry"

    def _after_acknowledged(self, notifications: list[Any], msg_id: str) -> None:
        """The 2-hour rule made provable: record when each incident's report reached the city.

        Done before the position moves: a crash in between resends the batch
        and records again, which the incident refuses as already recorded.
        """
        reported = [UUID(str(n.originator_id)) for n in notifications if n.topic.endswith("Incident.Reported")]
        if reported:
            try:
                self.service.handle(CommandContext(RELAY_PRINCIPAL, request_id=msg_id), RecordReportedUpward(reported, now_utc(), msg_id))
            except DomainError:
                log.exception("could not record reports acknowledged by the city")
        # Staged disaster reports (初报/续报/核报): the city has the submission; recorded on each report, once.
        submitted = [UUID(str(n.originator_id)) for n in notifications if n.topic.endswith("DisasterReport.Submitted")]
        if submitted:
            try:
                self.service.handle(CommandContext(RELAY_PRINCIPAL, request_id=msg_id),
                                    RecordReportsAcknowledged(submitted, now_utc(), msg_id))
            except DomainError:
                log.exception("could not record disaster reports acknowledged by the city")

    # -- the loop ------------------------------------------------------------
    def run_forever(self, stop: threading.Event, poll_seconds: float = 0.5) -> None:
        while not stop.is_set():
            self.loop_at = time.monotonic()
            if not self.lease.held():
                self.active = False
                if not self.lease.acquire():
                    stop.wait(1.0)  # another relay is active: wait for its lease
                    continue
                log.info("relay lease acquired")
            self.active = True
            try:
                outcome = self.step()
            except Exception:
                log.exception("relay step failed")
                outcome, self._delay = "retry", 1.0
            if outcome == "sent":
                continue
            if outcome == "retry":
                stop.wait(self._delay)
            else:
                self._wake.wait(poll_seconds)
                self._wake.clear()
        self.lease.release()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.http.close()
        self.lease.release()
        self.active = False


def relay_status(state: RelayState, log_: DistrictLog) -> dict[str, Any]:
    st = state.read()
    head = log_.max_position()
    lag_events = max(head - st["position"], 0)
    lag_seconds = 0.0
    if lag_events:
        oldest = log_.read(st["position"], 1)
        if oldest:
            lag_seconds = max((now_utc() - log_.decode(oldest[0]).timestamp).total_seconds(), 0.0)
    iso = lambda v: v.isoformat() if isinstance(v, datetime) else v  # noqa: E731
    return {
        "position": st["position"],
        "head": head,
        "lag_events": lag_events,
        "lag_seconds": round(lag_seconds, 1),
        "last_success_at": iso(st["last_success_at"]),
        "last_attempt_at": iso(st["last_attempt_at"]),
        "last_error": st["last_error"],
        "alarm": bool(st["alarm"]),
        "alarm_since": iso(st["alarm_since"]),
        "paused": bool(st["paused"]),
    }


def make_lease(settings: Settings, role: str = "relay") -> Lease:
    """One active `role` (the relay, the notifier) per district."""
    if settings.is_postgres:
        return AdvisoryLease(settings.database_url, f"yingji-{role}:{settings.district_code}:{settings.database_schema}")
    return FileLease(Path(settings.data_dir) / f"{role}-{settings.district_code}.lock")
