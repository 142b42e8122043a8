"""Read model `team`: each team, on or off duty, and what its current dispatch is doing."""

from __future__ import annotations

from typing import Any

from projections.reducer import Changes, Get, Reducer, iso, sid, updated

K = "team"


def _registered(get: Get, e: Any) -> Changes:
    return {
        str(e.originator_id): {
            "id": str(e.originator_id),
            "name": e.name,
            "kind": e.kind,
            "unit_code": e.unit_code,
            "members": e.members,
            "leader": e.leader,
            "phone": e.phone,
            "on_duty": True,
            "status": "idle",
            "dispatch_id": None,
            "incident_id": None,
            "updated_at": iso(e.timestamp),
        }
    }


def _dispatch_moved(status: str):  # type: ignore[no-untyped-def]
    """A dispatch event moves the team serving it to `status`."""

    def handle(get: Get, e: Any) -> Changes:
        dispatch = get("dispatch", str(e.originator_id))
        if dispatch is None:
            return {}
        team = get(K, dispatch["team_id"])
        if team is None or team["dispatch_id"] != dispatch["id"]:
            return {}
        return {team["id"]: {**team, "status": status, "updated_at": iso(e.timestamp)}}

    return handle


def _ordered(get: Get, e: Any) -> Changes:
    team = get(K, str(e.team_id))
    if team is None:
        return {}
    return {
        team["id"]: {
            **team,
            "status": "ordered",
            "dispatch_id": str(e.originator_id),
            "incident_id": sid(e.incident_id),
            "updated_at": iso(e.timestamp),
        }
    }


def _released(get: Get, e: Any) -> Changes:
    return updated(get, K, e, status="idle", dispatch_id=None, incident_id=None)


TEAMS = Reducer(
    K,
    {
        "Team.Registered": _registered,
        "Team.WentOnDuty": lambda get, e: updated(get, K, e, on_duty=True, status="idle"),
        "Team.WentOffDuty": lambda get, e: updated(get, K, e, on_duty=False, status="off_duty"),
        "Team.Released": _released,
        "Team.StrengthChanged": lambda get, e: updated(get, K, e, members=e.members),
        "Dispatch.Ordered": _ordered,
        "Dispatch.Acknowledged": _dispatch_moved("acknowledged"),
        "Dispatch.Departed": _dispatch_moved("departed"),
        "Dispatch.Arrived": _dispatch_moved("arrived"),
    },
)
