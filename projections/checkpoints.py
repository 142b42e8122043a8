"""Checkpoints of the replay board every K events, kept by a log follower, so any moment comes back fast."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import BigInteger, Column, Engine, LargeBinary, MetaData, String, Table, select

from projections.projector import LogReader
from projections.replay import BoardState

log = logging.getLogger("yingji.checkpoints")

metadata = MetaData()
checkpoints_table = Table(
    "rm_checkpoints",
    metadata,
    Column("position", BigInteger, primary_key=True),
    Column("at", String(40), nullable=True),  # ISO time of the event at `position`
    Column("state", LargeBinary, nullable=False),
)


class Checkpoints:
    def __init__(self, engine: Engine, reader: LogReader, every: int = 5000):
        self.engine = engine
        self.reader = reader
        self.every = every

    def create_schema(self) -> None:
        metadata.create_all(self.engine)

    def latest(self, position: int | None = None, at: datetime | None = None) -> BoardState:
        """The newest checkpoint at or before `position` (or time `at`); an empty board if none."""
        q = select(checkpoints_table).order_by(checkpoints_table.c.position.desc()).limit(1)
        if position is not None:
            q = q.where(checkpoints_table.c.position <= position)
        if at is not None:
            q = q.where(checkpoints_table.c.at <= at.astimezone(timezone.utc).isoformat())
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        if row is None:
            return BoardState()
        state = BoardState.load(row.state, row.position, row.at)
        if state is None:  # written by a version that folded other read models: fold from the start instead
            log.info("checkpoint at %s is from another set of read models; replaying from the start", row.position)
            return BoardState()
        return state

    def save(self, state: BoardState) -> None:
        with self.engine.begin() as conn:
            exists = conn.execute(select(checkpoints_table.c.position).where(checkpoints_table.c.position == state.position)).first()
            if exists is None:
                conn.execute(checkpoints_table.insert().values(position=state.position, at=state.at, state=state.dump()))
            else:  # the same position folds to the same state; an older version's checkpoint is replaced by it
                conn.execute(checkpoints_table.update().where(checkpoints_table.c.position == state.position)
                             .values(at=state.at, state=state.dump()))

    def fold(self, state: BoardState, upto: int | None = None, until: datetime | None = None, save: bool = False) -> BoardState:
        """Fold events after the state's position up to `upto` or up to the last event at or before `until`."""
        while True:
            limit = 1000 if upto is None else min(1000, upto - state.position)
            if limit <= 0:
                return state
            batch = self.reader.read(state.position, limit)
            if not batch:
                return state
            for n in batch:
                event = self.reader.decode(n)
                if until is not None and event.timestamp > until:
                    return state
                state.apply(event, n.id)
                if save and n.id % self.every == 0:
                    self.save(state)

    def board_at(self, position: int | None = None, at: datetime | None = None, visible=lambda kind, doc: True) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        if at is not None:
            state = self.fold(self.latest(at=at), until=at)
        else:
            state = self.fold(self.latest(position=position), upto=position)
        return state.board(visible)

    def run_forever(self, stop: threading.Event, poll_seconds: float = 2.0) -> None:
        """Follow the log, writing a checkpoint at every multiple of `every`."""
        state = self.latest()
        while not stop.is_set():
            try:
                before = state.position
                state = self.fold(state, save=True)
                if state.position == before:
                    stop.wait(poll_seconds)
            except Exception:
                log.exception("checkpointing failed; retrying")
                stop.wait(5)
                state = self.latest()
