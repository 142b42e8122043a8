"""Log notifications as CloudEvents 1.0 (structured JSON): for `GET /events`, export and the relay.

The event's stored JSON is turned into CloudEvent data directly (the
transcoder's typed values unwrapped to their plain JSON form), without
building domain event objects: this is the relay's hot path.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import Notification

from gateway.adapters.eventstore import DistrictLog

TYPE_PREFIX = "cn.gov.yingji."
_NOT_DATA = ("timestamp", "originator_topic")


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


def event_type(topic: str) -> str:
    """"domain.incidents:Incident.Reported" -> "cn.gov.yingji.incident.reported"."""
    return TYPE_PREFIX + topic.rsplit(":", 1)[-1].lower()


def to_cloudevent(log: DistrictLog, n: Notification, source: str) -> dict[str, Any]:
    state: dict[str, Any] = _decoder.decode(n.state.decode("utf-8"))
    time = state.get("timestamp")
    data = {k: v for k, v in state.items() if k not in _NOT_DATA}
    return {
        "specversion": "1.0",
        "id": event_id(n.originator_id, n.originator_version),
        "source": source,
        "type": event_type(n.topic),
        "subject": str(n.originator_id),
        "time": time,
        "datacontenttype": "application/json",
        "position": n.id,
        "aggregateversion": n.originator_version,
        "data": data,
    }
