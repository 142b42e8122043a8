"""The reducer shape shared by every read model."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

Doc = dict[str, Any]
Changes = dict[str, Doc | None]


class Get(Protocol):
    def __call__(self, kind: str, doc_id: str) -> Doc | None: ...


Handler = Callable[[Get, Any], Changes]


def event_name(event: Any) -> str:
    """'Incident.Reported' for the nested event class Incident.Reported."""
    return type(event).__qualname__


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def sid(value: UUID | str | None) -> str | None:
    return str(value) if value is not None else None


def actor_of(event: Any) -> dict[str, str]:
    by = getattr(event, "by", None)
    if by is None:
        return {}
    return {"user": by.user, "role": by.role, "unit": by.unit, "name": getattr(by, "name", "")}


@dataclass(frozen=True)
class Reducer:
    """A read model's handlers, by event name.

    A reducer that `follows` other read models (readiness follows teams, warehouses, ...) derives its
    documents from theirs: its handlers are called as `handler(get, event, earlier)`, where `earlier`
    holds the changes this same event made to the read models folded before it (kind -> changes), so
    it reads their result instead of running their reducers a second time."""

    kind: str
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    follows: tuple[str, ...] = ()

    def __call__(self, get: Get, event: Any, earlier: Mapping[str, Changes] | None = None) -> Changes:
        handler = self.handlers.get(event_name(event))
        if handler is None:
            return {}
        return handler(get, event, earlier or {}) if self.follows else handler(get, event)  # type: ignore[call-arg]

    def handles(self, name: str) -> bool:
        return name in self.handlers


def updated(get: Get, kind: str, event: Any, **changes: Any) -> Changes:
    """Change fields of the document of the event's aggregate (if it exists)."""
    doc_id = str(event.originator_id)
    doc = get(kind, doc_id)
    if doc is None:
        return {}
    new = {**doc, **changes, "updated_at": event.timestamp.isoformat()}
    return {doc_id: new}
