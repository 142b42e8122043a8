"""Directives (上级指令) sent down by the city platform, acknowledged by a commander."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidValue, event_versions, natural_id, require_state


def directive_id(upstream_id: str) -> UUID:
    """The city's id names the aggregate, so a re-sent directive is recognised, not duplicated."""
    return natural_id("directive", upstream_id)


class Directive(Aggregate):
    class_version = 1  # its state as kept in snapshots; its events' versions are declared below the class

    @staticmethod
    def create_id(upstream_id: str, **_: Any) -> UUID:
        return directive_id(upstream_id)

    @event("Received")
    def __init__(
        self, upstream_id: str, title: str, content: str, level: str, issuer: str, issued_at: datetime, unit_code: str, by: Actor
    ) -> None:
        self.upstream_id = upstream_id
        self.title = title
        self.content = content
        self.level = level
        self.issuer = issuer
        self.issued_at = issued_at
        self.unit_code = unit_code
        self.status = "received"

    @classmethod
    def receive(cls, *, upstream_id: str, title: str, content: str, level: str, issuer: str, issued_at: datetime,
                unit_code: str, by: Actor) -> Directive:
        if not upstream_id.strip() or not title.strip():
            raise InvalidValue("a directive needs an id and a title", field="title")
        if issued_at.tzinfo is None:
            raise InvalidValue("issued_at needs a time zone", field="issued_at")
        return cls(upstream_id=upstream_id, title=title.strip(), content=content, level=level, issuer=issuer,
                   issued_at=issued_at, unit_code=unit_code, by=by)

    def acknowledge(self, note: str, by: Actor) -> None:
        require_state(self.status, {"received"}, "acknowledge", "directive")
        self._acknowledged(note=note, by=by)

    @event("Acknowledged")
    def _acknowledged(self, note: str, by: Actor) -> None:
        self.status = "acknowledged"


# The version of each stored event type (see domain.common.event_versions): a new shape is a new version.
event_versions(Directive, Received=1, Acknowledged=1)
