"""Read models of the duty desk (值班): `duty_day` (the roster) and `handover` (交接班).

`duty_day`: who is on duty at a unit on a duty day, one document per unit and day (the
aggregate's id, so the day on duty now is found by its id: domain.duty.duty_day_id).
`handover`: each handover with the open items signed over, and whether and when the incoming
officer confirmed it; a signed one is on the board until confirmed, with its deadline.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.incidents import OPEN, Level
from domain.policy import VERIFIED_REPORT_DAYS
from projections.disaster_reports import owing
from projections.reducer import Changes, Doc, Get, Reducer, actor_of, iso, updated

DUTY = "duty_day"
HANDOVER = "handover"


def _scheduled(get: Get, e: Any) -> Changes:
    return {str(e.originator_id): {
        "id": str(e.originator_id), "unit_code": e.unit_code, "day": e.day, "leader": dict(e.leader),
        "officers": [dict(p) for p in e.officers], "status": None, "changes": 0,
        "scheduled_by": actor_of(e), "updated_at": iso(e.timestamp),
    }}


def _changed(get: Get, e: Any) -> Changes:
    doc = get(DUTY, str(e.originator_id)) or {}
    return updated(get, DUTY, e, leader=dict(e.leader), officers=[dict(p) for p in e.officers], changes=doc.get("changes", 0) + 1)


DUTY_DAYS = Reducer(DUTY, {"DutyDay.Scheduled": _scheduled, "DutyDay.Changed": _changed})


def _signed(get: Get, e: Any) -> Changes:
    return {str(e.originator_id): {
        "id": str(e.originator_id), "unit_code": e.unit_code, "day": e.day, "status": "signed",
        "shift_from": iso(e.shift_from), "to_position": e.to_position, "open_items": [dict(i) for i in e.open_items],
        "notes": e.notes, "signed_at": iso(e.timestamp), "signed_by": actor_of(e), "confirm_by": iso(e.confirm_by),
        "confirmed_at": None, "confirmed_by": None, "confirm_note": "", "escalated_at": None, "updated_at": iso(e.timestamp),
    }}


HANDOVERS = Reducer(HANDOVER, {
    "Handover.Signed": _signed,
    "Handover.Confirmed": lambda get, e: updated(get, HANDOVER, e, status="confirmed", confirmed_at=iso(e.timestamp),
                                                 confirmed_by=actor_of(e), confirm_note=e.note),
    "Handover.Escalated": lambda get, e: updated(get, HANDOVER, e, escalated_at=iso(e.timestamp)),
})


def open_items(incidents: list[Doc], dispatches: list[Doc], schedules: list[Doc], now: datetime,
               verified_days: int = VERIFIED_REPORT_DAYS) -> list[dict[str, Any]]:
    """What a shift hands over as still open, generated from the read models (never typed): dispatches not yet
    acknowledged, open incidents, and the staged disaster reports owed, each with its deadline."""
    items: list[dict[str, Any]] = []
    for d in sorted(dispatches, key=lambda d: d["ack_deadline"]):
        if d["status"] == "ordered":
            items.append({"kind": "dispatch_unacknowledged", "ref": d["id"], "title": f"{d['team_name']} → {d['incident_title']}",
                          "unit_code": d["unit_code"], "since": d["ordered_at"], "due_at": d["ack_deadline"]})
    levels = [str(x) for x in Level]
    for i in sorted(incidents, key=lambda i: (levels.index(i["level"]) if i["level"] in levels else 9, i["occurred_at"])):
        if i["status"] in OPEN:
            items.append({"kind": "incident_open", "ref": i["id"], "title": i["title"], "unit_code": i["unit_code"],
                          "since": i["occurred_at"], "level": i["level"], "status": i["status"]})
    owed = [(s, o) for s in schedules for o in owing(s, now, verified_days)]
    for s, o in sorted(owed, key=lambda so: so[1]["due_at"]):
        items.append({"kind": "report_due", "ref": s["id"], "title": s["title"], "unit_code": s["unit_code"],
                      "stage": o["stage"], "key": o["key"], "due_at": o["due_at"], "overdue": o["overdue"]})
    return items
