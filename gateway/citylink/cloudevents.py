"""Log notifications as CloudEvents 1.0 (structured JSON): for `GET /events`, export and the relay.

The event's stored JSON is turned into CloudEvent data directly (the
transcoder's typed values unwrapped to their plain JSON form), without
building domain event objects: this is the relay's hot path.

Events are published in their type's current version (`dataschema` names its
JSON Schema, gateway.citylink.eventschemas). An event stored in an older version
takes the slow path: the library's mapper reads it back through the event class's
upcasters, and the upcast event is encoded as today's code would store it.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import Notification
from eventsourcing.utils import resolve_topic

from gateway.adapters.eventstore import DistrictLog
from gateway.citylink.eventschemas import TYPE_PREFIX, event_type, schema_uri, version_of

__all__ = ["TYPE_PREFIX", "event_id", "event_type", "to_cloudevent"]
_NOT_DATA = ("timestamp", "originator_topic")
_ENVELOPE = ("originator_id", "originator_version")


def event_id(originator_id: UUID, version: int) -> str:
    """Stable: the same domain event always has the same id (receivers deduplicate by it)."""
    return str(uuid5(NAMESPACE_URL, f"yingji:{originator_id}:{version}"))


def _plain(d: dict[str, Any]) -> Any:
    """object_hook: {"_type_": "uuid_hex", "_data_": "..."} and friends become plain JSON values."""
    if len(d) == 2 and "_type_" in d and "_data_" in d:
        kind, data = d["_type_"], d["_data_"]
        if kind == "uuid_hex":
            return str(UUID(data))
        return data  # datetime_iso (an ISO string), actor (a dict), decimal_str (a string)
    return d


_decoder = json.JSONDecoder(object_hook=_plain)


@cache
def _published(topic: str) -> tuple[str, int, str]:
    """A stored topic's CloudEvent type, its event class's current version and that version's schema."""
    type_ = event_type(topic)
    version = version_of(resolve_topic(topic))
    return type_, version, schema_uri(type_, version)


def _upcast_state(log: DistrictLog, n: Notification) -> dict[str, Any]:
    """An event stored in an older version, as today's code would have stored it (plain JSON values)."""
    event = log.decode(n)  # the library's mapper runs the upcast_vN_vN+1 chain
    state = {k: v for k, v in vars(event).items() if k not in _ENVELOPE}
    return _decoder.decode(log.mapper.transcoder.encode(state).decode("utf-8"))  # type: ignore[no-any-return]


def to_cloudevent(log: DistrictLog, n: Notification, source: str) -> dict[str, Any]:
    type_, version, dataschema = _published(n.topic)
    state: dict[str, Any] = _decoder.decode(n.state.decode("utf-8"))
    # The library stores `class_version` only above 1; version 1 is an event stored without it.
    if state.pop("class_version", 1) < version:
        state = _upcast_state(log, n)
    time = state.get("timestamp")
    data = {k: v for k, v in state.items() if k not in _NOT_DATA}
    return {
        "specversion": "1.0",
        "id": event_id(n.originator_id, n.originator_version),
        "source": source,
        "type": type_,
        "subject": str(n.originator_id),
        "time": time,
        "datacontenttype": "application/json",
        "dataschema": dataschema,
        "position": n.id,
        "aggregateversion": n.originator_version,
        "data": data,
    }
