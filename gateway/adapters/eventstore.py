"""The district's event log on the `eventsourcing` library, with idempotency records.

An idempotency record is written by the recorder in the same transaction as
the command's events, so a command and "this key has been answered" are
stored together or not at all: a crash can never leave one without the other.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent, Repository
from eventsourcing.persistence import (
    DataError,
    IntegrityError,
    InterfaceError,
    JSONTranscoder,
    Notification,
    OperationalError,
    ProgrammingError,
    Recording,
    StoredEvent,
    Transcoding,
)
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import retry
import psycopg
from psycopg.sql import SQL, Identifier

from domain.common import Actor
from domain.incidents import Incident
from domain.teams import Team
from domain.units import Unit
from domain.warehouses import Warehouse
from gateway.adapters.groupcommit import GroupCommitter, PendingSave


@dataclass(frozen=True)
class IdempotencyRecord:
    scope_key: str  # "<user>:<Idempotency-Key>"
    request_hash: str
    result_id: str
    last_originator_id: UUID
    last_version: int


@dataclass(frozen=True)
class StoredAnswer:
    request_hash: str
    result_id: str
    position: int


class ActorAsDict(Transcoding):
    type = Actor
    name = "actor"

    def encode(self, obj: Actor) -> dict[str, str]:
        return obj.as_dict()

    def decode(self, data: dict[str, Any]) -> Actor:
        return Actor.from_dict(data)


class SQLiteRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS idempotency ("
            "scope_key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, result_id TEXT NOT NULL, "
            "last_originator_id TEXT NOT NULL, last_version INTEGER NOT NULL)",
        ]

    group_commit: GroupCommitter | None = None

    def use_group_commit(self, max_batch: int = 64) -> None:
        self.group_commit = GroupCommitter(self._write_batch, max_batch)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if self.group_commit is None:
            return super().insert_events(stored_events, **kwargs)
        return self.group_commit.save(stored_events, **kwargs)

    def _write_batch(self, batch: list[PendingSave]) -> None:
        """Group commit on SQLite (gateway/adapters/groupcommit.py): every save waiting meanwhile in
        one transaction, so one commit and one WAL flush (the cost of a save on this disk) for all.
        Each save in a savepoint of its own: a refused one (a version clash, a reused key) is rolled
        back alone and fails in its caller's thread as the library's IntegrityError."""
        with self.datastore.transaction(commit=True) as c:
            for i, p in enumerate(batch):
                c.execute(f"SAVEPOINT save{i}")
                try:
                    p.ids = self._insert_events(c, p.stored_events, **p.kwargs)
                except sqlite3.IntegrityError as e:
                    c.execute(f"ROLLBACK TO save{i}")
                    p.ids, p.error = None, IntegrityError(e)
                c.execute(f"RELEASE save{i}")

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        rec: IdempotencyRecord | None = kwargs.get("idempotency")
        if rec is not None:
            c.execute(
                "INSERT INTO idempotency VALUES (?, ?, ?, ?, ?)",
                (rec.scope_key, rec.request_hash, rec.result_id, rec.last_originator_id.hex, rec.last_version),
            )
        return ids

    def find_answer(self, scope_key: str) -> StoredAnswer | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT i.request_hash, i.result_id, e.rowid AS position FROM idempotency i "
                f"JOIN {self.events_table_name} e ON e.originator_id = i.last_originator_id "
                "AND e.originator_version = i.last_version WHERE i.scope_key = ?",
                (scope_key,),
            )
            row = c.fetchone()
        return StoredAnswer(row["request_hash"], row["result_id"], row["position"]) if row else None


    def insert_positioned(self, rows: Sequence[tuple[int, UUID, int, str, bytes]]) -> None:
        """Restore: insert stored events at their original positions (rowids)."""
        with self.datastore.transaction(commit=True) as c:
            c.executemany(
                f"INSERT INTO {self.events_table_name} (rowid, originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?, ?)",
                [(p, o.hex, v, t, s) for p, o, v, t, s in rows],
            )


def refusal(e: psycopg.Error) -> Exception:
    """A refused save's error, as the library names it (IntegrityError is what callers decide on)."""
    if isinstance(e, psycopg.IntegrityError):
        return IntegrityError(str(e))
    if isinstance(e, psycopg.DataError):
        return DataError(str(e))
    return ProgrammingError(str(e))


class PostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: Any, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.idempotency ("
                "scope_key text PRIMARY KEY, request_hash text NOT NULL, result_id text NOT NULL, "
                "last_originator_id uuid NOT NULL, last_version bigint NOT NULL)"
            ).format(schema=Identifier(self.datastore.schema))
        )
        self._insert_idem = SQL("INSERT INTO {schema}.idempotency VALUES (%s, %s, %s, %s, %s)").format(
            schema=Identifier(self.datastore.schema)
        )
        self._find_answer = SQL(
            "SELECT i.request_hash, i.result_id, e.notification_id AS position FROM {schema}.idempotency i "
            "JOIN {schema}.{table} e ON e.originator_id = i.last_originator_id "
            "AND e.originator_version = i.last_version WHERE i.scope_key = %s"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))

    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        # One save's idempotency record, in its savepoint before its events (`_write_batch`); saves
        # with a record never take the library's pipelined path, where a clash surfaces garbled.
        rec: IdempotencyRecord | None = kwargs.get("idempotency")
        if rec is not None:
            curs.execute(self._insert_idem, self._idem_row(rec))
        super()._insert_events(curs, stored_events, **kwargs)

    # -- group commit (gateway.adapters.groupcommit): concurrent saves share one transaction ---------------
    group_commit: GroupCommitter | None = None

    def use_group_commit(self, max_batch: int = 64) -> None:
        self.group_commit = GroupCommitter(self._write_batch, max_batch)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if self.datastore.enable_db_functions:
            return super().insert_events(stored_events, **kwargs)
        if self.group_commit is not None:
            return self._insert_grouped(stored_events, **kwargs)
        if kwargs.get("idempotency") is None:
            return super().insert_events(stored_events, **kwargs)  # the library's own path
        # The library pipelines its transaction; a clash on the idempotency row there surfaces as
        # "pipeline aborted" or a lost prepared statement instead of IntegrityError. One save alone:
        return self._insert_alone(stored_events, **kwargs)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library retries a lost connection
    def _insert_grouped(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        assert self.group_commit is not None
        return self.group_commit.save(stored_events, **kwargs)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _insert_alone(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        pending = PendingSave(stored_events, kwargs)
        self._write_batch([pending])
        if pending.error is not None:
            raise pending.error
        return pending.ids

    def _write_batch(self, batch: list[PendingSave]) -> None:
        """One transaction for the whole batch: one table lock, one NOTIFY, one commit.

        First all saves at once (one insert of every event, one of every idempotency record); when
        the server or the driver refuses any of it, the transaction is rolled back whole and the
        saves are written again, each in a savepoint of its own, so that only the refused ones fail
        and the others still commit together. A lost connection fails the batch (callers retry)."""
        with self.datastore.get_connection() as conn:
            try:
                self._write_all_at_once(conn, batch)
                return
            except (psycopg.OperationalError, psycopg.InterfaceError):
                raise
            except psycopg.Error:  # someone's save is refused: find whose
                for p in batch:
                    p.ids = None
            with conn.transaction(), conn.cursor() as curs:
                self._lock_table(curs)
                self._notify_channel(curs)
                for p in batch:
                    try:
                        with conn.transaction():  # a savepoint: a refused save is rolled back alone, key and events
                            self._insert_events(curs, p.stored_events, **p.kwargs)
                            if p.stored_events:
                                PostgresAggregateRecorder._insert_stored_events(self, curs, p.stored_events)
                                p.ids = [row["notification_id"] for row in curs.fetchall()]
                    except (psycopg.OperationalError, psycopg.InterfaceError):
                        raise
                    except psycopg.Error as e:  # a version clash, a reused key, a value the driver refuses
                        p.ids, p.error = None, refusal(e)

    def _write_all_at_once(self, conn: Any, batch: list[PendingSave]) -> None:
        # Not pipelined: an error must surface at its statement and roll the transaction back whole
        # (in a pipeline it can surface later, as "pipeline aborted", after the rest was queued).
        with conn.transaction(), conn.cursor() as curs:
            self._lock_table(curs)
            self._notify_channel(curs)
            records = [r for p in batch if (r := p.kwargs.get("idempotency")) is not None]
            if records:
                curs.executemany(self._insert_idem, [self._idem_row(r) for r in records])
            events = [e for p in batch for e in p.stored_events]
            ids: list[int] = []
            if events:
                # The plain insert, without the lock and NOTIFY taken above; ids come back in order.
                PostgresAggregateRecorder._insert_stored_events(self, curs, events)
                ids = [row["notification_id"] for row in curs.fetchall()]
            if len(ids) != len(events):
                raise psycopg.ProgrammingError(f"got {len(ids)} positions for {len(events)} events")
        for p in batch:  # committed: now each save learns its positions
            p.ids, ids = (ids[: len(p.stored_events)], ids[len(p.stored_events):]) if p.stored_events else (None, ids)

    @staticmethod
    def _idem_row(rec: IdempotencyRecord) -> tuple[Any, ...]:
        return rec.scope_key, rec.request_hash, rec.result_id, rec.last_originator_id, rec.last_version

    def find_answer(self, scope_key: str) -> StoredAnswer | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._find_answer, (scope_key,))
            row = curs.fetchone()
        return StoredAnswer(row["request_hash"], row["result_id"], row["position"]) if row else None


    def insert_positioned(self, rows: Sequence[tuple[int, UUID, int, str, bytes]]) -> None:
        """Restore: insert stored events at their original positions, then move the sequence past them."""
        table = SQL("{schema}.{table}").format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("LOCK TABLE {t} IN EXCLUSIVE MODE").format(t=table))
            curs.executemany(
                SQL("INSERT INTO {t} (notification_id, originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s, %s)").format(t=table),
                [(p, o, v, t, s) for p, o, v, t, s in rows],
            )
            curs.execute(
                SQL("SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), (SELECT MAX(notification_id) FROM {t}))").format(t=table),
                (f'"{self.datastore.schema}"."{self.events_table_name}"',),
            )


def project_events(aggregate: Any, events: Any) -> Any:
    """The library's `project_aggregate` without its per-event `assert isinstance(event, CanMutateProtocol)`:
    a runtime Protocol check that costs ~70 µs an event on Python 3.11, a third of a command's CPU when
    an aggregate is loaded from its snapshot and the events after it (measured 2026-12-03)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class FastRepository(Repository[UUID]):
    """The library's repository, loading with `project_events`."""

    def get(self, aggregate_id: UUID, *, version: int | None = None, projector_func: Any = project_events,
            **kwargs: Any) -> Any:
        return super().get(aggregate_id, version=version, projector_func=projector_func, **kwargs)


class DistrictLog(Application[UUID]):
    """One event log per district: aggregates in, positioned notifications out."""

    name = "yingji"
    # Long-lived aggregates (a warehouse sees every allocation, an incident every update) would
    # otherwise replay their whole history on every command. Snapshots live in their own table,
    # outside the notification log, so the board, the relay and exports never see them. Every 20
    # events: a situation update cost 2.7 ms of CPU at 50 (25 events decoded on average), 1.7 at 20.
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Incident: 20, Warehouse: 20, Team: 20, Unit: 20}
    snapshotting_projectors: ClassVar[dict[type[Any], Any]] = {cls: project_events for cls in snapshotting_intervals}

    def construct_repository(self) -> Repository[UUID]:
        repository = super().construct_repository()  # the library's reading of the environment (cache, fast-forward)
        repository.__class__ = FastRepository  # the same state; only `get`'s default projector differs
        return repository

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """As the library does, but from the aggregate just saved when it is at the snapshot's version, rather
        than loading it again from the store (one more read and decode on the command's thread)."""
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            interval = self.snapshotting_intervals.get(type(aggregate)) if aggregate is not None else None
            if interval is None or event.originator_version % interval != 0:
                continue
            if aggregate.version == event.originator_version and self.snapshots is not None:
                snapshot_class = getattr(type(aggregate), "Snapshot", type(self).snapshot_class)
                self.snapshots.put([snapshot_class.take(aggregate)])
            else:
                self.take_snapshot(event.originator_id, version=event.originator_version, projector_func=project_events)

    def __init__(self, env: dict[str, str]):
        super().__init__(env)
        if env.get("GROUP_COMMIT") == "y" and isinstance(self.recorder, (PostgresRecorder, SQLiteRecorder)):
            self.recorder.use_group_commit()
        self._listeners: list[Callable[[int], None]] = []
        self._lock = threading.Lock()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(ActorAsDict())

    def on_saved(self, listener: Callable[[int], None]) -> None:
        """Call `listener(last_position)` after every save in this process (the in-process wake-up)."""
        with self._lock:
            self._listeners.append(listener)

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        if recordings:
            last = recordings[-1].notification.id
            for listener in list(self._listeners):
                listener(last)

    def find_answer(self, scope_key: str) -> StoredAnswer | None:
        return self.recorder.find_answer(scope_key)  # type: ignore[attr-defined]

    def max_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def read(self, after: int, limit: int) -> Sequence[Notification]:
        """Notifications with position > after, in order (not capped at the log's section size)."""
        return self.recorder.select_notifications(start=after, limit=limit, inclusive_of_start=False)

    def decode(self, n: Notification) -> Any:
        return self.mapper.to_domain_event(n)
