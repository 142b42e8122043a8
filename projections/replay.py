"""Replay: the board as it was at any position, folded with the live reducers, never touching live read models.

`BoardState` keeps only what is on the board, plus the auxiliary documents
reducers of board documents read, each for as long as a later event may still
read it; documents that leave the board are dropped, so the state stays the
size of a board however long the log, and the board folded here equals the
live one (tests/golden/test_replay_fold.py holds them equal at every position
of the golden log).
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime
from collections.abc import Callable
from typing import Any

from projections.board import BOARD_KINDS, assemble, on_board
from projections.catalog import KINDS
from projections.fold import MemoryDocs, apply_event
from projections.reducer import Doc, Get


def _always(doc: Doc, get: Get) -> bool:
    return True


# Kept beside the board's documents because reducers of board documents read them, each while `keep(doc, get)`
# (the state after the event) holds. A rule, once false, stays false for that document: dropping it whenever the
# rule is checked (when the document changes, and at every checkpoint) never loses what a later event reads.
AUXILIARY: dict[str, Callable[[Doc, Get], bool]] = {
    "unit_by_id": _always,  # the unit id index
    "person": _always,  # the people and training registers the readiness read model follows
    "training": _always,
    # a report event names only the report: its schedule finds the incident through it, while the schedule is owed
    "disaster_report": lambda doc, get: get("report_schedule", doc["incident_id"]) is not None,
    # its items read its kind when raised; it matters while any is still to 销号
    "campaign": lambda doc, get: doc["signed_off"] < doc["findings"],
    # a correction of a unit's latest report changes its daily status; a superseded day's cannot
    "daily_report": lambda doc, get: (get("daily_status", doc["unit_code"]) or {}).get("day") == doc["day"],
}
FOLDED_KINDS = sorted({*BOARD_KINDS, *AUXILIARY, *KINDS})  # what a checkpoint holds, and which reducers made it
# A checkpoint written under other keeping rules may lack a document a later event reads: such a fold starts over.
FOLD_VERSION = 2  # 2: disaster reports, campaigns and latest daily reports kept (replay had missed their effects)


class BoardState(MemoryDocs):
    def __init__(self, docs: dict[tuple[str, str], Any] | None = None, position: int = 0, at: str | None = None):
        super().__init__(docs)
        self.position = position
        self.at = at  # time of the event at `position`

    def apply(self, event: Any, position: int | None = None) -> list[tuple[str, str, Any]]:
        changes = apply_event(self.get, event)
        for kind, doc_id, doc in changes:
            if doc is not None and (kind in AUXILIARY or on_board(kind, doc)):
                self.docs[(kind, doc_id)] = doc
            else:
                self.docs.pop((kind, doc_id), None)
        for kind, doc_id, doc in changes:  # judged on the state after the whole event
            if doc is not None and self._unneeded(kind, doc):
                self.docs.pop((kind, doc_id), None)
        if position is not None:
            self.position = position
        self.at = event.timestamp.isoformat()
        return changes

    def board(self, visible=lambda kind, doc: True) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        now = datetime.fromisoformat(self.at) if self.at else datetime.fromtimestamp(0).astimezone()
        docs = [(k, d) for (k, _), d in sorted(self.docs.items()) if k in BOARD_KINDS]
        return assemble(docs, self.position, now, visible)

    def _unneeded(self, kind: str, doc: Doc) -> bool:
        return kind in AUXILIARY and not AUXILIARY[kind](doc, self.get)

    def sweep(self) -> None:
        """Drop the auxiliary documents no later event will read (their rule turned false after they last changed)."""
        for key in [key for key, doc in self.docs.items() if self._unneeded(key[0], doc)]:
            del self.docs[key]

    # A checkpoint is the state, compressed, with the kinds it was folded for: a version that folds other kinds
    # (a new read model on the board, e.g. readiness) must not resume from it, or the new kind would be missing
    # for everything before the checkpoint.
    def dump(self) -> bytes:
        self.sweep()
        body = {"kinds": FOLDED_KINDS, "fold": FOLD_VERSION, "docs": [[k, i, d] for (k, i), d in self.docs.items()]}
        return zlib.compress(json.dumps(body, ensure_ascii=False).encode(), 6)

    @classmethod
    def load(cls, blob: bytes, position: int, at: str | None) -> BoardState | None:
        """The state, or None when the checkpoint was folded for other kinds (by an older version)."""
        body = json.loads(zlib.decompress(blob))
        if not isinstance(body, dict) or body.get("kinds") != FOLDED_KINDS or body.get("fold") != FOLD_VERSION:
            return None
        return cls({(k, i): d for k, i, d in body["docs"]}, position, at)
