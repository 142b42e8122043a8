"""The notifier's durable tables, beside the accounts (not derived from the log, so never rebuilt or dropped).

`notify_outbox`: one row per (source event, recipient, channel), its primary key, so a message is planned
once however often the events are read again. Rows are written in the same transaction that moves the
notifier's position (`plan`), so a `kill -9` never loses a planned message nor plans one twice. Each row
carries its delivery: attempts, when to try next, the outcome.

`push_subscriptions`: the Web Push subscriptions of each account and device (endpoint and keys).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (BigInteger, Boolean, Column, DateTime, Engine, Integer, MetaData, String, Table, Text, and_, delete, or_,
                        select, update)
from sqlalchemy.dialects import postgresql, sqlite

from gateway.citylink.relay import relay_table

metadata = MetaData()
outbox_table = Table(
    "notify_outbox",
    metadata,
    Column("key", String(300), primary_key=True),  # source event | recipient | channel
    Column("notification_id", String(36), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("record_kind", String(32), nullable=False),
    Column("record_id", String(64), nullable=False),
    Column("unit_code", String(12), nullable=False),
    Column("recipient_name", String(100), nullable=False),
    Column("recipient_post", String(40), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("address", Text, nullable=False),  # a phone, or the push subscription's id
    Column("text", Text, nullable=False),
    Column("urgent", Boolean, nullable=False),
    Column("source_position", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("recorded", Boolean, nullable=False, default=False),  # Notification.Queued is in the log
    Column("status", String(16), nullable=False, default="pending"),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_at", DateTime(timezone=True), nullable=False),
    Column("not_before", DateTime(timezone=True), nullable=True),  # quiet hours
    Column("last_error", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
subscriptions_table = Table(
    "push_subscriptions",
    metadata,
    Column("id", String(32), primary_key=True),  # from the endpoint: the same browser subscribing again is the same row
    Column("username", String(64), nullable=False, index=True),
    Column("role", String(16), nullable=False),
    Column("unit_code", String(12), nullable=False, index=True),
    Column("team_id", String(36), nullable=True),
    Column("device", String(120), nullable=False),
    Column("endpoint", Text, nullable=False),
    Column("p256dh", String(200), nullable=False),
    Column("auth", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Values the notifier's processes must agree on (the generated VAPID key): the first to write one wins.
keys_table = Table(
    "notify_keys",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def utc(value: Any) -> Any:
    """Times go in as UTC (SQLite keeps no offset) and come out aware."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    return value


def _utc_row(row: Any) -> dict[str, Any]:
    return {k: utc(v) for k, v in dict(row).items()}


def _insert(engine: Engine, table: Table) -> Any:
    return (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(table)


def subscription_id(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()[:32]


def shared_value(engine: Engine, name: str, make: Any) -> str:
    """The value stored under `name`, made and stored by the first process to ask (every gateway then serves the
    same public VAPID key, so a phone subscribed through one is reached by the notifier of any)."""
    metadata.create_all(engine, tables=[keys_table])
    with engine.begin() as conn:
        conn.execute(_insert(engine, keys_table).values(name=name, value=make()).on_conflict_do_nothing(index_elements=["name"]))
    with engine.connect() as conn:
        return str(conn.execute(select(keys_table.c.value).where(keys_table.c.name == name)).scalar_one())


class Outbox:
    def __init__(self, engine: Engine, state_name: str):
        self.engine = engine
        self.state_name = state_name  # the notifier's row in relay_state (its position)

    def create_schema(self) -> None:
        metadata.create_all(self.engine)

    # -- planning ---------------------------------------------------------------
    def plan(self, old: int, new: int, rows: list[dict[str, Any]]) -> int:
        """Add the planned messages and move the position from `old` to `new`, in one transaction."""
        with self.engine.begin() as conn:
            moved = conn.execute(update(relay_table).where(relay_table.c.name == self.state_name, relay_table.c.position == old)
                                 .values(position=new, last_success_at=now_utc())).rowcount
            if moved != 1:
                raise RuntimeError(f"notifier position moved under us (expected {old})")
            if rows:
                conn.execute(_insert(self.engine, outbox_table).on_conflict_do_nothing(index_elements=["key"]),
                             [_utc_row(r) for r in rows])
        return len(rows)

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Messages not driven by an event (a zero report missing at the cut-off): once per key."""
        if rows:
            with self.engine.begin() as conn:
                conn.execute(_insert(self.engine, outbox_table).on_conflict_do_nothing(index_elements=["key"]),
                             [_utc_row(r) for r in rows])

    # -- delivering -------------------------------------------------------------
    def due(self, now: datetime, limit: int = 20) -> list[dict[str, Any]]:
        c = outbox_table.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(outbox_table).where(and_(c.status == "pending", or_(c.next_at <= utc(now), c.recorded.is_(False))))
                                .order_by(c.urgent.desc(), c.next_at).limit(limit)).mappings().all()
        return [_utc_row(r) for r in rows]

    def next_due_at(self) -> datetime | None:
        c = outbox_table.c
        with self.engine.connect() as conn:
            return utc(conn.execute(select(c.next_at).where(c.status == "pending").order_by(c.next_at).limit(1)).scalar())

    def set(self, key: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(outbox_table).where(outbox_table.c.key == key).values(updated_at=now_utc(), **_utc_row(values)))

    def rows(self, **where: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            q = select(outbox_table).where(*[outbox_table.c[k] == v for k, v in where.items()]).order_by(outbox_table.c.created_at)
            return [_utc_row(r) for r in conn.execute(q).mappings().all()]

    def counts(self) -> dict[str, int]:
        from sqlalchemy import func

        with self.engine.connect() as conn:
            return {s: int(n) for s, n in conn.execute(select(outbox_table.c.status, func.count()).group_by(outbox_table.c.status))}


class Subscriptions:
    def __init__(self, engine: Engine):
        self.engine = engine

    def save(self, *, username: str, role: str, unit_code: str, team_id: str | None, device: str, endpoint: str,
             p256dh: str, auth: str) -> str:
        sid = subscription_id(endpoint)
        row = dict(id=sid, username=username, role=role, unit_code=unit_code, team_id=team_id, device=device[:120],
                   endpoint=endpoint, p256dh=p256dh, auth=auth, created_at=now_utc())
        ins = _insert(self.engine, subscriptions_table)
        with self.engine.begin() as conn:
            # A browser's endpoint belongs to whoever subscribed with it last (one phone, a new sign-in).
            conn.execute(ins.values(**row).on_conflict_do_update(index_elements=["id"], set_={k: v for k, v in row.items() if k != "id"}))
        return sid

    def remove(self, sid: str, username: str | None = None) -> bool:
        cond = [subscriptions_table.c.id == sid] + ([subscriptions_table.c.username == username] if username else [])
        with self.engine.begin() as conn:
            return conn.execute(delete(subscriptions_table).where(*cond)).rowcount > 0

    def get(self, sid: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(subscriptions_table).where(subscriptions_table.c.id == sid)).mappings().first()
        return dict(row) if row else None

    def find(self, *, unit_code: str | None = None, roles: tuple[str, ...] = (), team_id: str | None = None,
             username: str | None = None) -> list[dict[str, Any]]:
        c = subscriptions_table.c
        cond = []
        if unit_code is not None:
            cond.append(c.unit_code == unit_code)
        if roles:
            cond.append(c.role.in_(roles))
        if team_id is not None:
            cond.append(c.team_id == team_id)
        if username is not None:
            cond.append(c.username == username)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(subscriptions_table).where(*cond).order_by(c.created_at)).mappings().all()]
