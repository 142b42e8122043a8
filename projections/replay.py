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
from projections.fold import MemoryDocs, apply_event

AUXILIARY = ("unit_by_id",)


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

    # A checkpoint is the state, compressed.
    def dump(self) -> bytes:
        return zlib.compress(json.dumps([[k, i, d] for (k, i), d in self.docs.items()], ensure_ascii=False).encode(), 6)

    @classmethod
    def load(cls, blob: bytes, position: int, at: str | None) -> BoardState:
        items = json.loads(zlib.decompress(blob))
        return cls({(k, i): d for k, i, d in items}, position, at)
