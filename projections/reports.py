"""Read models of the daily reports (零报告).

`daily_report`: every filed report, keyed by its aggregate id (unit and day).
`daily_status`: one document per reporting unit with its latest filed day, which
is what the board needs to tell who has not reported today; it stays as small
as the list of villages however many days pass.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.policy import daily_report_due_at
from projections.reducer import Changes, Get, Reducer, actor_of, iso, updated

K = "daily_report"
STATUS = "daily_status"


def _filed(get: Get, e: Any) -> Changes:
    return {
        str(e.originator_id): {
            "id": str(e.originator_id),
            "unit_code": e.unit_code,
            "day": e.day,
            "zero": e.zero,
            "summary": e.summary,
            "status": "filed",
            "filed_at": iso(e.timestamp),
            "filed_by": actor_of(e),
            "corrections": 0,
            "updated_at": iso(e.timestamp),
        }
    }


def _corrected(get: Get, e: Any) -> Changes:
    doc = get(K, str(e.originator_id))
    return updated(get, K, e, zero=e.zero, summary=e.summary, corrections=(doc or {}).get("corrections", 0) + 1)


DAILY_REPORTS = Reducer(K, {"DailyReport.Filed": _filed, "DailyReport.Corrected": _corrected})


def _status_filed(get: Get, e: Any) -> Changes:
    doc = get(STATUS, e.unit_code)
    if doc is not None and doc["day"] > e.day:  # a late filing of an earlier day: the latest stays
        return {}
    return {e.unit_code: {"id": e.unit_code, "unit_code": e.unit_code, "day": e.day, "zero": e.zero, "summary": e.summary,
                          "filed_at": iso(e.timestamp), "status": "filed", "updated_at": iso(e.timestamp)}}


def _status_corrected(get: Get, e: Any) -> Changes:
    report = get(K, str(e.originator_id))  # the state before this event: it names the unit and day
    if report is None:
        return {}
    doc = get(STATUS, report["unit_code"])
    if doc is None or doc["day"] != report["day"]:
        return {}
    return {doc["id"]: {**doc, "zero": e.zero, "summary": e.summary, "updated_at": iso(e.timestamp)}}


DAILY_STATUS = Reducer(STATUS, {"DailyReport.Filed": _status_filed, "DailyReport.Corrected": _status_corrected})


def day_row(unit: dict[str, Any], report: dict[str, Any] | None, day: date, now: datetime) -> dict[str, Any]:
    """One reporting unit's day as the desk sees it at `now`: filed (late or not), still due, or missing.

    Filed reports are read models; whether an absent one is "due" or "missing", and whether a filed one
    was late, follows from the day's cut-off (domain.policy), so it is judged here, at the moment asked.
    """
    due = daily_report_due_at(day)
    row = {"id": None, "unit_code": unit["code"], "unit_name": unit["name"], "parent_code": unit["parent_code"],
           "day": day.isoformat(), "status": "missing" if now >= due else "due", "late": False, "zero": None, "summary": "",
           "filed_at": None, "filed_by": None, "corrections": 0}
    if report is not None:
        row |= {k: report[k] for k in ("id", "zero", "summary", "filed_at", "filed_by", "corrections")}
        row |= {"status": "filed", "late": datetime.fromisoformat(report["filed_at"]) > due}
    return row
