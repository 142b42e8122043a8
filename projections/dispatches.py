"""Read model `dispatch`: each dispatch with its times, for lists, the board and the field page."""

from __future__ import annotations

from typing import Any

from projections.reducer import Changes, Get, Reducer, actor_of, iso, updated

K = "dispatch"


def _ordered(get: Get, e: Any) -> Changes:
    team = get("team", str(e.team_id)) or {}
    incident = get("incident", str(e.incident_id)) or {}
    return {
        str(e.originator_id): {
            "id": str(e.originator_id),
            "incident_id": str(e.incident_id),
            "incident_title": incident.get("title", ""),
            "incident_level": incident.get("level", ""),
            "address": incident.get("address", ""),
            "team_id": str(e.team_id),
            "team_name": team.get("name", ""),
            "team_unit_code": team.get("unit_code", ""),
            "unit_code": e.unit_code,
            "task": e.task,
            "ack_deadline": iso(e.ack_deadline),
            "exercise": e.exercise,  # 演练: its incident's flag
            "arrive_deadline": None,
            "escalations": [],
            "ordered_by": actor_of(e),
            "status": "ordered",
            "ordered_at": iso(e.timestamp),
            "acknowledged_at": None,
            "departed_at": None,
            "arrived_at": None,
            "completed_at": None,
            "declined_at": None,
            "cancelled_at": None,
            "reason": "",
            "updated_at": iso(e.timestamp),
        }
    }


def _moved(status: str, stamp: str):  # type: ignore[no-untyped-def]
    def handle(get: Get, e: Any) -> Changes:
        extra = {"reason": e.reason} if hasattr(e, "reason") else {}
        return updated(get, K, e, status=status, **{stamp: iso(e.timestamp)}, **extra)

    return handle


def _acknowledged(get: Get, e: Any) -> Changes:
    deadline = getattr(e, "arrive_deadline", None)
    return updated(get, K, e, status="acknowledged", acknowledged_at=iso(e.timestamp), arrive_deadline=iso(deadline))


def _escalated(get: Get, e: Any) -> Changes:
    doc = get(K, str(e.originator_id))
    if doc is None:
        return {}
    return updated(get, K, e, escalations=[*doc.get("escalations", []), {"reason": e.reason, "deadline": iso(e.deadline), "at": iso(e.timestamp)}])


DISPATCHES = Reducer(
    K,
    {
        "Dispatch.Ordered": _ordered,
        "Dispatch.Acknowledged": _acknowledged,
        "Dispatch.Escalated": _escalated,
        "Dispatch.Departed": _moved("departed", "departed_at"),
        "Dispatch.Arrived": _moved("arrived", "arrived_at"),
        "Dispatch.Completed": _moved("completed", "completed_at"),
        "Dispatch.Declined": _moved("declined", "declined_at"),
        "Dispatch.Cancelled": _moved("cancelled", "cancelled_at"),
    },
)
