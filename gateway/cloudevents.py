"""Log notifications as CloudEvents 1.0 (structured JSON): for `GET /events`, export and the relay."""

from __future__ import annotations

import json
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import Notification

from gateway.eventstore import DistrictLog

TYPE_PREFIX = "cn.gov.yingji."


def event_id(originator_id: UUID, version: int) -> str:
    """Stable: the same domain event always has the same id (receivers deduplicate by it)."""
    return str(uuid5(NAMESPACE_URL, f"yingji:{originator_id}:{version}"))


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=_default, ensure_ascii=False))


def _default(o: Any) -> Any:
    if isinstance(o, UUID):
        return str(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    if hasattr(o, "as_dict"):
        return o.as_dict()
    raise TypeError(type(o).__name__)


def to_cloudevent(log: DistrictLog, n: Notification, source: str) -> dict[str, Any]:
    event = log.decode(n)
    data = {k: v for k, v in event.__dict__.items() if k not in ("originator_id", "originator_version", "timestamp", "originator_topic")}
    name = type(event).__qualname__  # "Incident.Reported"
    return {
        "specversion": "1.0",
        "id": event_id(n.originator_id, n.originator_version),
        "source": source,
        "type": TYPE_PREFIX + name.lower(),
        "subject": str(n.originator_id),
        "time": event.timestamp.isoformat(),
        "datacontenttype": "application/json",
        "position": n.id,
        "aggregateversion": n.originator_version,
        "data": _jsonable(data),
    }
