"""Apply one event to every read model; fold a stream of events in memory (replay, tests)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from projections.catalog import READ_MODELS
from projections.reducer import Changes, Doc, Get, Reducer, event_name

Key = tuple[str, str]


def _routes(read_models: Sequence[Reducer]) -> dict[str, list[tuple[str, Any, bool]]]:
    """Event name -> the (kind, handler, follows) triples that fold it, in read-model order."""
    routes: dict[str, list[tuple[str, Any, bool]]] = {}
    for reducer in read_models:
        for name, handler in reducer.handlers.items():
            routes.setdefault(name, []).append((reducer.kind, handler, bool(reducer.follows)))
    return routes


_ROUTES = _routes(READ_MODELS)


def apply_event(get: Get, event: Any, read_models: Sequence[Reducer] = READ_MODELS) -> list[tuple[str, str, Doc | None]]:
    """Every read model sees the documents as they were before this event."""
    routes = _ROUTES if read_models is READ_MODELS else _routes(read_models)
    changes: list[tuple[str, str, Doc | None]] = []
    earlier: dict[str, Changes] = {}  # what this event changed, per kind, for the reducers that follow others
    for kind, handler, follows in routes.get(event_name(event), ()):
        result = handler(get, event, earlier) if follows else handler(get, event)
        earlier[kind] = result
        for doc_id, doc in result.items():
            changes.append((kind, doc_id, doc))
    return changes


class MemoryDocs:
    """Read models held in a dict: what replay and unit tests fold into."""

    def __init__(self, docs: dict[Key, Doc] | None = None):
        self.docs: dict[Key, Doc] = dict(docs or {})
        self.position = 0

    def get(self, kind: str, doc_id: str) -> Doc | None:
        return self.docs.get((kind, doc_id))

    def apply(self, event: Any, position: int | None = None) -> list[tuple[str, str, Doc | None]]:
        changes = apply_event(self.get, event)
        for kind, doc_id, doc in changes:
            if doc is None:
                self.docs.pop((kind, doc_id), None)
            else:
                self.docs[(kind, doc_id)] = doc
        if position is not None:
            self.position = position
        return changes

    def fold(self, events: Iterable[Any]) -> MemoryDocs:
        for event in events:
            self.apply(event)
        return self

    def of_kind(self, kind: str) -> list[Doc]:
        return [d for (k, _), d in self.docs.items() if k == kind]
