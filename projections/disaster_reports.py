"""Read models of the staged disaster reports (灾情报告).

`disaster_report`: each report with its figures and how far it went (draft, signed, submitted,
acknowledged by the city).
`report_schedule`: one document per natural-disaster incident with what its deadlines are
judged from (occurrence, level, status, when it was controlled), which reports were submitted
and which misses the watchdog recorded. What is owed at a moment is `owing` (the rules in
domain.disaster_reports), so the board, replay, the watchdog and the handover judge alike;
ui/board-model.js `reportsOwing` mirrors it and tests/unit/test_board_model_js.py holds them equal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.disaster_reports import STAGED_CATEGORIES, Stage, due_key, reports_due
from domain.incidents import OPEN
from domain.policy import VERIFIED_REPORT_DAYS, initial_report_due_at
from projections.reducer import Changes, Doc, Get, Reducer, actor_of, iso, updated

K = "disaster_report"
SCHEDULE = "report_schedule"


# -- the reports -------------------------------------------------------------
def _drafted(get: Get, e: Any) -> Changes:
    incident = get("incident", str(e.incident_id)) or {}
    return {
        str(e.originator_id): {
            "id": str(e.originator_id),
            "incident_id": str(e.incident_id),
            "incident_title": incident.get("title", ""),
            "unit_code": e.unit_code,
            "stage": e.stage,
            "day": e.day,
            "key": due_key(e.stage, e.day),
            "figures": dict(e.figures),
            "sectors": dict(e.sectors),
            "notes": e.notes,
            "status": "draft",
            "drafted_at": iso(e.timestamp),
            "drafted_by": actor_of(e),
            "revisions": 0,
            "signed_at": None,
            "signed_by": None,
            "sign_note": "",
            "submitted_at": None,
            "submitted_by": None,
            "due_at": None,
            "in_time": None,
            "acknowledged_at": None,
            "batch_id": None,
            "updated_at": iso(e.timestamp),
        }
    }


def _revised(get: Get, e: Any) -> Changes:
    doc = get(K, str(e.originator_id)) or {}
    return updated(get, K, e, figures=dict(e.figures), sectors=dict(e.sectors), notes=e.notes, status="draft",
                   revisions=doc.get("revisions", 0) + 1, signed_at=None, signed_by=None, sign_note="")


DISASTER_REPORTS = Reducer(K, {
    "DisasterReport.Drafted": _drafted,
    "DisasterReport.Revised": _revised,
    "DisasterReport.SignedOff": lambda get, e: updated(get, K, e, status="signed", signed_at=iso(e.timestamp),
                                                      signed_by=actor_of(e), sign_note=e.note),
    "DisasterReport.Submitted": lambda get, e: updated(get, K, e, status="submitted", submitted_at=iso(e.timestamp),
                                                      submitted_by=actor_of(e), due_at=iso(e.due_at), in_time=e.in_time),
    "DisasterReport.CityAcknowledged": lambda get, e: updated(get, K, e, status="acknowledged",
                                                             acknowledged_at=iso(e.acknowledged_at), batch_id=e.batch_id),
})


# -- what each incident owes -------------------------------------------------
def schedule_status(doc: Doc) -> str:
    """'open' while the incident may still owe a report (on the board), 'done' after."""
    if doc["incident_status"] == "dismissed":
        return "done"
    if doc["incident_status"] in OPEN:
        return "open"
    return "open" if doc["controlled_at"] and Stage.VERIFIED.value not in doc["submitted"] else "done"


def _with_status(doc: Doc) -> Doc:
    return {**doc, "status": schedule_status(doc)}


def _reported(get: Get, e: Any) -> Changes:
    if e.category not in STAGED_CATEGORIES or e.exercise:  # an exercise (演练) owes no staged report
        return {}
    doc = {"id": str(e.originator_id), "incident_id": str(e.originator_id), "title": e.title, "unit_code": e.unit_code,
           "category": e.category, "level": e.level, "incident_status": "reported", "occurred_at": iso(e.occurred_at),
           "initial_due_at": iso(initial_report_due_at(e.occurred_at)), "controlled_at": None,
           "submitted": {}, "escalated": [], "reports": {}, "updated_at": iso(e.timestamp)}
    return {doc["id"]: _with_status(doc)}


def _incident(**fields: Any):  # type: ignore[no-untyped-def]
    def handle(get: Get, e: Any) -> Changes:
        doc = get(SCHEDULE, str(e.originator_id))
        if doc is None:
            return {}
        changes = {k: (v(e) if callable(v) else v) for k, v in fields.items()}
        return {doc["id"]: _with_status({**doc, **changes, "updated_at": iso(e.timestamp)})}

    return handle


def _report_event(change):  # type: ignore[no-untyped-def]
    """A report's event changes its incident's schedule; the report's document (state before) names it."""

    def handle(get: Get, e: Any) -> Changes:
        incident_id = str(e.incident_id) if hasattr(e, "incident_id") else (get(K, str(e.originator_id)) or {}).get("incident_id")
        doc = get(SCHEDULE, incident_id) if incident_id else None
        if doc is None:
            return {}
        report = get(K, str(e.originator_id)) or {}
        new = change(dict(doc), e, report)
        return {doc["id"]: _with_status({**new, "updated_at": iso(e.timestamp)})}

    return handle


def _on_drafted(doc: Doc, e: Any, report: Doc) -> Doc:
    return {**doc, "reports": {**doc["reports"], due_key(e.stage, e.day): {"id": str(e.originator_id), "status": "draft"}}}


def _on_status(status: str):  # type: ignore[no-untyped-def]
    def change(doc: Doc, e: Any, report: Doc) -> Doc:
        key = report.get("key")
        if key is None:
            return doc
        new = {**doc, "reports": {**doc["reports"], key: {"id": str(e.originator_id), "status": status}}}
        if status == "submitted":
            new["submitted"] = {**doc["submitted"], key: iso(e.timestamp)}
        return new

    return change


def _on_missed(doc: Doc, e: Any, report: Doc) -> Doc:
    return {**doc, "escalated": sorted({*doc["escalated"], e.key})}


REPORT_SCHEDULES = Reducer(SCHEDULE, {
    "Incident.Reported": _reported,
    "Incident.Verified": _incident(incident_status="verified"),
    "Incident.LevelChanged": _incident(level=lambda e: e.level),
    "Incident.Controlled": _incident(incident_status="controlled", controlled_at=lambda e: iso(e.timestamp)),
    "Incident.Closed": _incident(incident_status="closed"),
    "Incident.Dismissed": _incident(incident_status="dismissed"),
    "DisasterReport.Drafted": _report_event(_on_drafted),
    "DisasterReport.Revised": _report_event(_on_status("draft")),
    "DisasterReport.SignedOff": _report_event(_on_status("signed")),
    "DisasterReport.Submitted": _report_event(_on_status("submitted")),
    "DisasterReport.CityAcknowledged": _report_event(_on_status("acknowledged")),
    "ReportDeadline.Missed": _report_event(_on_missed),
})


def owing(doc: Doc, now: datetime, verified_days: int = VERIFIED_REPORT_DAYS, lookback_days: int = 0) -> list[dict[str, Any]]:
    """The reports an incident's schedule still owes at `now`, each with its deadline and whether it is overdue
    (`lookback_days`: past days' missed 续报 too, for the watchdog; the board shows today's)."""
    out = []
    for due in reports_due(category=doc["category"], level=doc["level"], status=doc["incident_status"],
                           occurred_at=datetime.fromisoformat(doc["occurred_at"]),
                           controlled_at=datetime.fromisoformat(doc["controlled_at"]) if doc["controlled_at"] else None,
                           now=now, verified_days=verified_days, lookback_days=lookback_days):
        if due.key in doc["submitted"]:
            continue
        escalated = due.key in doc["escalated"]
        out.append({"incident_id": doc["id"], "stage": due.stage, "key": due.key, "due_at": due.due_at.isoformat(),
                    "overdue": escalated or due.due_at < now, "escalated": escalated,
                    "report_id": doc["reports"].get(due.key, {}).get("id"),
                    "report_status": doc["reports"].get(due.key, {}).get("status")})
    return out
