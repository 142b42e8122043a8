"""Read models of 双重预防: `risk_point`, `inspection`, `hidden_danger`, and the statistics per street.

The hidden danger document carries its whole timeline (each step with who, when, notes and the
evidence files named by SHA-256), so the desk page shows a record from one read. Statistics are
computed from these documents (`danger_stats`); a test recounts them from the exported log.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from domain.policy import local_day
from domain.prevention import RISK_COLOUR, danger_overdue
from projections.board import street_of
from projections.reducer import Changes, Get, Reducer, actor_of, iso, sid, updated

RISK = "risk_point"
INSPECTION = "inspection"
DANGER = "hidden_danger"


# -- risk points -----------------------------------------------------------------
def _risk_registered(get: Get, e: Any) -> Changes:
    return {str(e.originator_id): {
        "id": str(e.originator_id), "unit_code": e.unit_code, "street_code": street_of(e.unit_code), "name": e.name,
        "subject": e.subject, "industry": e.industry, "address": e.address, "hazard": e.hazard, "lat": e.lat, "lon": e.lon,
        "level": None, "colour": None, "status": "unassessed", "assessment": None, "assessments": [], "review_due": None,
        "controls": [], "registered_at": iso(e.timestamp), "registered_by": actor_of(e), "updated_at": iso(e.timestamp),
    }}


def _risk_assessed(get: Get, e: Any) -> Changes:
    doc = get(RISK, str(e.originator_id))
    if doc is None:
        return {}
    a = {"method": e.method, "l": e.l, "e": e.e, "c": e.c, "d": e.d, "level": e.level, "basis": e.basis,
         "review_due": iso(e.review_due), "at": iso(e.timestamp), "by": actor_of(e)}
    return updated(get, RISK, e, level=e.level, colour=RISK_COLOUR[e.level], status=e.level, assessment=a,
                   assessments=[*doc["assessments"], a], review_due=iso(e.review_due))


def _risk_controls(get: Get, e: Any) -> Changes:
    return updated(get, RISK, e, controls=list(e.controls))


RISK_POINTS = Reducer(RISK, {"RiskPoint.Registered": _risk_registered, "RiskPoint.Assessed": _risk_assessed,
                             "RiskPoint.ControlsSet": _risk_controls})


# -- inspections -------------------------------------------------------------------
def _inspected(get: Get, e: Any) -> Changes:
    return {str(e.originator_id): {
        "id": str(e.originator_id), "unit_code": e.unit_code, "street_code": street_of(e.unit_code), "kind": e.kind,
        "risk_point_ids": [str(x) for x in e.risk_point_ids], "site": e.site, "inspected_at": iso(e.inspected_at),
        "checklist": list(e.checklist), "failed": sum(1 for r in e.checklist if r["result"] == "fail"), "inspectors": e.inspectors,
        "dangers": [], "status": "recorded", "recorded_by": actor_of(e), "updated_at": iso(e.timestamp),
    }}


def _inspection_finding(get: Get, e: Any) -> Changes:
    if e.inspection_id is None:
        return {}
    doc = get(INSPECTION, str(e.inspection_id))
    if doc is None:
        return {}
    return {doc["id"]: {**doc, "dangers": [*doc["dangers"], str(e.originator_id)]}}


INSPECTIONS = Reducer(INSPECTION, {"Inspection.Recorded": _inspected, "HiddenDanger.Found": _inspection_finding})


# -- hidden dangers ------------------------------------------------------------------
def _step(e: Any, step: str, **extra: Any) -> dict[str, Any]:
    return {"step": step, "at": iso(e.timestamp), "by": actor_of(e), **extra}


def _found(get: Get, e: Any) -> Changes:
    point = get(RISK, str(e.risk_point_id)) if e.risk_point_id else None
    return {str(e.originator_id): {
        "id": str(e.originator_id), "unit_code": e.unit_code, "street_code": street_of(e.unit_code), "grade": e.grade,
        "title": e.title, "description": e.description, "risk_point_id": sid(e.risk_point_id),
        "risk_point_name": (point or {}).get("name", ""), "site": e.site, "inspection_id": sid(e.inspection_id),
        "status": "found", "found_at": iso(e.timestamp), "found_by": actor_of(e), "deadline": None, "rectifier": "",
        "responsible": "", "measures": "", "five": {}, "supervision": "", "reported_at": None, "reported_by": None,
        "verified_at": None, "verified_by": None, "closed_at": None, "escalations": [], "rejections": 0,
        "rectified_on_time": None, "evidence": list(e.evidence),
        "timeline": [_step(e, "found", note=e.description, evidence=list(e.evidence))], "updated_at": iso(e.timestamp),
    }}


def _danger_step(step: str, fields: Any = None):  # type: ignore[no-untyped-def]
    """A handler that appends the step to the timeline and sets what `fields(event, doc)` returns."""

    def handle(get: Get, e: Any) -> Changes:
        doc = get(DANGER, str(e.originator_id))
        if doc is None:
            return {}
        changes = fields(e, doc) if fields else {}
        detail = {k: v for k, v in (("note", getattr(e, "note", None)), ("reason", getattr(e, "reason", None)),
                                    ("deadline", iso(getattr(e, "deadline", None)))) if v}
        files = list(getattr(e, "evidence", []) or [])
        return updated(get, DANGER, e, **changes, evidence=[*doc["evidence"], *files],
                       timeline=[*doc["timeline"], _step(e, step, **detail, evidence=files)])

    return handle


def _assigned(e: Any, doc: dict[str, Any]) -> dict[str, Any]:
    return {"status": "rectifying", "deadline": iso(e.deadline), "rectifier": e.rectifier, "responsible": e.responsible,
            "measures": e.measures, "five": dict(e.five), "supervision": e.supervision}


def _reported(e: Any, doc: dict[str, Any]) -> dict[str, Any]:
    on_time = doc["deadline"] is None or e.timestamp <= datetime.fromisoformat(doc["deadline"])
    return {"status": "reported", "reported_at": iso(e.timestamp), "reported_by": actor_of(e), "rectified_on_time": on_time}


HIDDEN_DANGERS = Reducer(DANGER, {
    "HiddenDanger.Found": _found,
    "HiddenDanger.Assigned": _danger_step("assigned", _assigned),
    "HiddenDanger.ProgressNoted": _danger_step("progress"),
    "HiddenDanger.DeadlineMoved": _danger_step("deadline_moved", lambda e, d: {"deadline": iso(e.deadline)}),
    "HiddenDanger.RectificationReported": _danger_step("reported", _reported),
    "HiddenDanger.Verified": _danger_step("verified", lambda e, d: {"status": "verified", "verified_at": iso(e.timestamp),
                                                                   "verified_by": actor_of(e)}),
    "HiddenDanger.Rejected": _danger_step("rejected", lambda e, d: {"status": "rectifying", "deadline": iso(e.deadline),
                                                                   "reported_at": None, "reported_by": None,
                                                                   "rectified_on_time": None, "rejections": d["rejections"] + 1}),
    "HiddenDanger.Closed": _danger_step("closed", lambda e, d: {"status": "closed", "closed_at": iso(e.timestamp)}),
    "HiddenDanger.Escalated": _danger_step("escalated", lambda e, d: {
        "escalations": [*d["escalations"], {"deadline": iso(e.deadline), "at": iso(e.timestamp)}]}),
})


def is_overdue(doc: dict[str, Any], now: datetime) -> bool:
    """Past its rectification deadline while being rectified (domain.prevention.danger_overdue)."""
    return danger_overdue(doc["status"], datetime.fromisoformat(doc["deadline"]) if doc.get("deadline") else None, now)


STAT_FIELDS = ("found", "rectified", "rectified_on_time", "on_time_rate", "overdue", "major_found", "major_closed",
               "avg_days_to_close")


def danger_stats(docs: Iterable[dict[str, Any]], now: datetime, start: date | None = None, end: date | None = None,
                 ) -> dict[str, dict[str, Any]]:
    """Per street, over the hidden dangers found in [start, end] (local days; open ends unbounded):

    found; rectified (verified or closed); rectified_on_time (their accepted rectification reported by the
    deadline then in force) and on_time_rate; overdue (missed a deadline: escalated, past it now, or
    reported rectified after it);
    major_found; major_closed; avg_days_to_close (found to 销号, of the closed ones)."""
    rows: dict[str, dict[str, Any]] = {}
    days: dict[str, list[float]] = {}
    for d in docs:
        day = local_day(datetime.fromisoformat(d["found_at"]))
        if (start and day < start) or (end and day > end):
            continue
        street = d.get("street_code") or street_of(d["unit_code"])
        row = rows.setdefault(street, {k: 0 for k in STAT_FIELDS})
        row["found"] += 1
        major = d["grade"] == "major"
        row["major_found"] += major
        if d["status"] in ("verified", "closed"):
            row["rectified"] += 1
            row["rectified_on_time"] += bool(d.get("rectified_on_time"))
        if d["escalations"] or is_overdue(d, now) or d.get("rectified_on_time") is False:
            row["overdue"] += 1
        if d["status"] == "closed":
            row["major_closed"] += major
            took = datetime.fromisoformat(d["closed_at"]) - datetime.fromisoformat(d["found_at"])
            days.setdefault(street, []).append(took.total_seconds() / 86400)
    for street, row in rows.items():
        row["on_time_rate"] = round(row["rectified_on_time"] / row["rectified"], 4) if row["rectified"] else None
        closed = days.get(street, [])
        row["avg_days_to_close"] = round(sum(closed) / len(closed), 2) if closed else None
    return dict(sorted(rows.items()))
