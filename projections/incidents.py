"""Read model `incident`: one document per incident, for lists, detail and the board."""

from __future__ import annotations

from typing import Any

from projections.reducer import Changes, Get, Reducer, actor_of, iso, updated

K = "incident"


def _reported(get: Get, e: Any) -> Changes:
    return {
        str(e.originator_id): {
            "id": str(e.originator_id),
            "category": e.category,
            "subtype": e.subtype,
            "level": e.level,
            "title": e.title,
            "description": e.description,
            "unit_code": e.unit_code,
            "address": e.address,
            "lat": e.lat,
            "lon": e.lon,
            "occurred_at": iso(e.occurred_at),
            "reported_at": iso(e.timestamp),
            "reported_by": actor_of(e),
            "source": e.source,
            "status": "reported",
            "situation": {"deaths": 0, "injured": 0, "missing": 0, "evacuated": 0, "affected": 0},
            "situation_notes": "",
            "verified_at": None,
            "controlled_at": None,
            "closed_at": None,
            "dismissed_at": None,
            "summary": "",
            "dismiss_reason": "",
            "reported_upward_at": None,
            "reported_upward_in_time": None,
            "exercise": e.exercise,  # 演练 (events before version 2 are read back as real ones)
            "plan_id": str(e.plan_id) if e.plan_id else None,
            "updated_at": iso(e.timestamp),
        }
    }


def _situation(get: Get, e: Any) -> Changes:
    doc = get(K, str(e.originator_id))
    if doc is None:
        return {}
    return updated(get, K, e, situation={**doc["situation"], **e.figures}, situation_notes=e.notes or doc["situation_notes"])


INCIDENTS = Reducer(
    K,
    {
        "Incident.Reported": _reported,
        "Incident.Verified": lambda get, e: updated(get, K, e, status="verified", verified_at=iso(e.timestamp)),
        "Incident.LevelChanged": lambda get, e: updated(get, K, e, level=e.level),
        "Incident.SituationUpdated": _situation,
        "Incident.Controlled": lambda get, e: updated(get, K, e, status="controlled", controlled_at=iso(e.timestamp)),
        "Incident.Closed": lambda get, e: updated(get, K, e, status="closed", closed_at=iso(e.timestamp), summary=e.summary),
        "Incident.ReportedUpward": lambda get, e: updated(
            get, K, e, reported_upward_at=iso(e.acknowledged_at), reported_upward_in_time=e.within_deadline
        ),
        "Incident.Dismissed": lambda get, e: updated(
            get, K, e, status="dismissed", dismissed_at=iso(e.timestamp), dismiss_reason=e.reason
        ),
    },
)
