"""Replay: the board as it was at any position, folded with the live reducers, never touching live read models.

`BoardState` keeps only what is on the board (plus the unit id index the
reducers consult); documents that leave the board are dropped, so the state
stays the size of a board however long the log. No reducer reads a document
that has left the board, so the board folded here equals the live one.
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime
from typing import Any

from projections.board import BOARD_KINDS, assemble, on_board
from projections.catalog import KINDS
from projections.fold import MemoryDocs, apply_event

# Kept beside the board's documents because reducers of board documents read them: the unit id index, and the
# people and training registers the readiness read model follows.
AUXILIARY = ("unit_by_id", "person", "training")
FOLDED_KINDS = sorted({*BOARD_KINDS, *AUXILIARY, *KINDS})  # what a checkpoint holds, and which reducers made it


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
        if position is not None:
            self.position = position
        self.at = event.timestamp.isoformat()
        return changes

    def board(self, visible=lambda kind, doc: True) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        now = datetime.fromisoformat(self.at) if self.at else datetime.fromtimestamp(0).astimezone()
        docs = [(k, d) for (k, _), d in sorted(self.docs.items()) if k in BOARD_KINDS]
        return assemble(docs, self.position, now, visible)

    # A checkpoint is the state, compressed, with the kinds it was folded for: a version that folds other kinds
    # (a new read model on the board, e.g. readiness) must not resume from it, or the new kind would be missing
    # for everything before the checkpoint.
    def dump(self) -> bytes:
        body = {"kinds": FOLDED_KINDS, "docs": [[k, i, d] for (k, i), d in self.docs.items()]}
        return zlib.compress(json.dumps(body, ensure_ascii=False).encode(), 6)

    @classmethod
    def load(cls, blob: bytes, position: int, at: str | None) -> BoardState | None:
        """The state, or None when the checkpoint was folded for other kinds (by an older version)."""
        body = json.loads(zlib.decompress(blob))
        if not isinstance(body, dict) or body.get("kinds") != FOLDED_KINDS:
            return None
        return cls({(k, i): d for k, i, d in body["docs"]}, position, at)
