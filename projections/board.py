"""The live board: which documents are on it, and what it derives from them (alerts, counts).

The same functions shape the live snapshot, the deltas' filtering and replay,
so a board rebuilt from the log is the board operators saw.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from domain.campaigns import rectification_overdue
from domain.dispatches import running_deadline
from domain.prevention import DANGER_OPEN, danger_overdue, review_overdue
from domain.policy import DAILY_REPORT_DUE, SHANGHAI, VERIFIED_REPORT_DAYS, daily_report_due_at, report_upward_due_at
from domain.reports import REPORTING_KINDS
from projections.disaster_reports import owing
from projections.readiness import live_overrides, street_counts
from projections.reducer import Doc
from projections.warnings import in_force, receipt_state

ON_BOARD = {
    "unit": None,  # all
    "incident": {"reported", "verified", "controlled"},
    "team": None,
    "dispatch": {"ordered", "acknowledged", "departed", "arrived"},
    "allocation": {"reserved", "shipped"},
    "warehouse": None,
    "directive": {"received"},
    "daily_status": None,  # one per reporting unit: its latest daily report
    "warning": {"draft", "issued"},  # drafts for the commander to sign off, and those issued (in force or expired)
    "warning_receipt": {"pending", "signed"},  # each target's copy while its warning is not lifted
    "report_schedule": {"open"},  # per natural-disaster incident: the staged reports it owes (projections.disaster_reports)
    "handover": {"signed"},  # a shift handover until the incoming officer confirms it
    "hidden_danger": {str(s) for s in DANGER_OPEN},  # 隐患 until 销号
    "risk_point": None,  # every risk point: an overdue review is an alarm
    "plan": {"active"},  # 预案: a plan past its drill or revision due day is an alarm
    "unit_drills": None,  # each unit's drill record: past its drill due day is an alarm
    "readiness": None,  # per street and village: its 1+4 / 1+3 / 六有 scorecard (projections.readiness)
    "rectification": {"open"},  # a campaign's rectification item until 销号: past its deadline it is an alarm
}
BOARD_KINDS = tuple(ON_BOARD)
Visible = Callable[[str, Doc], bool]  # (kind, document) -> may this board's viewer see it


def on_board(kind: str, doc: Doc | None) -> bool:
    if doc is None or kind not in ON_BOARD:
        return False
    statuses = ON_BOARD[kind]
    return statuses is None or doc.get("status") in statuses


def street_of(unit_code: str) -> str:
    """The street-level unit a code falls under (the district itself for district-level codes)."""
    if len(unit_code) != 12 or unit_code[6:9] == "000":
        return unit_code[:6] + "000000" if len(unit_code) == 12 else unit_code
    return unit_code[:9] + "000"


def reporting_units(board: dict[str, list[Doc]], visible: Visible = lambda kind, doc: True) -> list[str]:
    """The villages and communities whose daily report this board counts: those whose report its viewer may read.

    Every account sees the whole organisation tree (the map), so "on the board" is not "in scope" for units:
    a street's board must not count another street's villages as due nor raise alerts for them.
    """
    return sorted(u["code"] for u in board.get("unit", [])
                  if u.get("kind") in REPORTING_KINDS and visible("daily_status", {"unit_code": u["code"]}))


def derive(board: dict[str, list[Doc]], now: datetime, relay: dict[str, Any] | None = None,
           due_units: Iterable[str] | None = None, verified_days: int = VERIFIED_REPORT_DAYS) -> dict[str, Any]:
    """Alerts and per-street counts; `now` is passed in so replay can use the moment replayed.

    `due_units` are the reporting units in the viewer's scope (`reporting_units`); None counts every one on the board.
    `verified_days`: the deployment's 核报 period (settings), which the board sends as `report_rules`.
    """
    alerts: list[dict[str, Any]] = []
    for d in board.get("dispatch", []):
        # A missed deadline shows at once; `escalated` says the watchdog has recorded it in the log.
        escalated = {x["reason"] for x in d.get("escalations", [])}
        rule = running_deadline(d["status"])
        due = {rule[0]: d.get(rule[1])} if rule else {}
        for reason, deadline in due.items():
            if deadline and (reason in escalated or datetime.fromisoformat(deadline) < now):
                alerts.append({"kind": reason, "level": "danger", "dispatch_id": d["id"], "team_name": d["team_name"],
                               "incident_title": d["incident_title"], "since": deadline, "unit_code": d["unit_code"],
                               "escalated": reason in escalated})
    for i in board.get("incident", []):
        try:
            due = report_upward_due_at(datetime.fromisoformat(i["occurred_at"]))
        except (OverflowError, ValueError):  # stored before dates were bounded: no countdown, not a broken board
            continue
        if not i.get("reported_upward_at") and not i.get("exercise") and due < now:  # an exercise is not reported upward
            alerts.append({"kind": "report_overdue", "level": "danger", "incident_id": i["id"], "incident_title": i["title"],
                           "since": due.isoformat(), "unit_code": i["unit_code"]})
    for sched in board.get("report_schedule", []):
        for o in owing(sched, now, verified_days):
            if o["overdue"]:
                alerts.append({"kind": "disaster_report_overdue", "level": "danger", "incident_id": sched["id"],
                               "incident_title": sched["title"], "stage": o["stage"], "key": o["key"], "since": o["due_at"],
                               "unit_code": sched["unit_code"], "escalated": o["escalated"]})
    for h in board.get("handover", []):
        if h.get("escalated_at") or datetime.fromisoformat(h["confirm_by"]) < now:
            alerts.append({"kind": "handover_unconfirmed", "level": "danger", "handover_id": h["id"], "day": h["day"],
                           "since": h["confirm_by"], "unit_code": h["unit_code"], "escalated": bool(h.get("escalated_at"))})
    for dv in board.get("directive", []):
        alerts.append({"kind": "directive", "level": "warning", "directive_id": dv["id"], "title": dv["title"],
                       "since": dv["received_at"], "unit_code": dv["unit_code"]})
    # Early warnings: per warning in force and street, the targets that have not signed in time (one alarm each).
    warnings_in_force = {w["id"]: w for w in board.get("warning", []) if in_force(w, now)}
    overdue: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in board.get("warning_receipt", []):
        w = warnings_in_force.get(r["warning_id"])
        if w is not None and receipt_state(r, now) == "overdue":
            overdue.setdefault((w["id"], street_of(r["unit_code"])), []).append(r)
    for (warning_id, street), receipts in sorted(overdue.items()):
        w = warnings_in_force[warning_id]
        alerts.append({"kind": "receipt_overdue", "level": "danger", "warning_id": warning_id, "headline": w["headline"],
                       "warning_level": w["level"], "exercise": w["exercise"], "unit_code": street,
                       "units": sorted(r["unit_code"] for r in receipts), "since": min(r["deadline"] for r in receipts),
                       "escalated": any(r.get("escalated_at") for r in receipts)})
    if relay and relay.get("alarm"):
        alerts.append({"kind": "relay_alarm", "level": "danger", "detail": relay.get("last_error", ""),
                       "since": relay.get("alarm_since"), "unit_code": ""})
    for w in board.get("warehouse", []):
        for code, line in sorted(w["stock"].items()):
            available = line["on_hand"] - line["reserved"]
            if line["minimum"] and available < line["minimum"]:
                alerts.append({"kind": "stock_low", "level": "warning", "warehouse_id": w["id"], "warehouse_name": w["name"],
                               "material": code, "available": available, "minimum": line["minimum"], "unit_code": w["unit_code"]})
    # Daily reports: who has filed today; after the cut-off, one alert per street naming the silent units.
    local = now.astimezone(SHANGHAI)
    today = local.date().isoformat()
    filed_today = {d["unit_code"] for d in board.get("daily_status", []) if d["day"] == today}
    in_scope = None if due_units is None else set(due_units)
    reporting = [u for u in board.get("unit", []) if u.get("kind") in REPORTING_KINDS and (in_scope is None or u["code"] in in_scope)]
    if local.time() >= DAILY_REPORT_DUE:
        due = daily_report_due_at(local.date())
        missing: dict[str, list[str]] = {}
        for u in reporting:
            if u["code"] not in filed_today:
                missing.setdefault(street_of(u["code"]), []).append(u["code"])
        for street, codes in sorted(missing.items()):
            alerts.append({"kind": "daily_report_missing", "level": "warning", "unit_code": street, "day": today,
                           "units": sorted(codes), "since": due.isoformat()})
    counts: dict[str, dict[str, int]] = {}

    def bump(unit_code: str, key: str) -> None:
        row = counts.setdefault(street_of(unit_code), {"incidents": 0, "teams_busy": 0, "teams_idle": 0, "dispatches": 0,
                                                       "daily_due": 0, "daily_filed": 0, "warning_receipts": 0,
                                                       "warning_signed": 0})
        row[key] += 1

    for i in board.get("incident", []):  # exercises (演练) are shown, not counted
        if not i.get("exercise"):
            bump(i["unit_code"], "incidents")
    for t in board.get("team", []):
        if t["status"] == "idle":
            bump(t["unit_code"], "teams_idle")
        elif t["status"] != "off_duty":
            bump(t["unit_code"], "teams_busy")
    for d in board.get("dispatch", []):
        if not d.get("exercise"):
            bump(d["unit_code"], "dispatches")
    for r in board.get("warning_receipt", []):  # real warnings in force only: exercises never count
        w = warnings_in_force.get(r["warning_id"])
        if w is not None and not w["exercise"]:
            bump(r["unit_code"], "warning_receipts")
            if r.get("signed_at"):
                bump(r["unit_code"], "warning_signed")
    for u in reporting:
        bump(u["code"], "daily_due")
        if u["code"] in filed_today:
            bump(u["code"], "daily_filed")
    derive_plans(board, now, alerts)
    for r in board.get("rectification", []):  # 整改事项 open past their deadline (domain.campaigns)
        if rectification_overdue(r["status"], datetime.fromisoformat(r["deadline"]), now):
            alerts.append({"kind": "rectification_overdue", "level": "warning", "rectification_id": r["id"], "item_id": r["item_id"],
                           "since": r["deadline"], "unit_code": r["unit_code"], "escalated": bool(r.get("escalated_at"))})
    return {"alerts": alerts, "counts_by_street": counts, **derive_prevention(board, now, alerts),
            "readiness_by_street": street_counts(board.get("readiness", []), now, board.get("readiness_live") or {})}


def derive_prevention(board: dict[str, list[Doc]], now: datetime, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    """双重预防 on the board: overdue rectifications and reviews as alerts; per street the hidden dangers
    open, overdue and 重大 open (ui/board-model.js derives the same)."""
    per_street: dict[str, dict[str, int]] = {}
    for h in board.get("hidden_danger", []):
        row = per_street.setdefault(street_of(h["unit_code"]), {"open": 0, "overdue": 0, "major_open": 0})
        row["open"] += 1
        row["major_open"] += h["grade"] == "major"
        if danger_overdue(h["status"], datetime.fromisoformat(h["deadline"]) if h.get("deadline") else None, now):
            row["overdue"] += 1
            alerts.append({"kind": "danger_overdue", "level": "danger", "danger_id": h["id"], "title": h["title"],
                           "grade": h["grade"], "since": h["deadline"], "unit_code": h["unit_code"],
                           "escalated": any(x["deadline"] == h["deadline"] for x in h.get("escalations", []))})
    for r in board.get("risk_point", []):
        if review_overdue(datetime.fromisoformat(r["review_due"]) if r.get("review_due") else None, now):
            alerts.append({"kind": "risk_review_overdue", "level": "warning", "risk_point_id": r["id"], "title": r["name"],
                           "risk_level": r["level"], "since": r["review_due"], "unit_code": r["unit_code"]})
    return {"dangers_by_street": dict(sorted(per_street.items()))}


def derive_plans(board: dict[str, list[Doc]], now: datetime, alerts: list[dict[str, Any]]) -> None:
    """预案与演练 on the board: a plan past its drill (2-year rule) or revision due day, a unit past its drill due day.

    The due days are the documents' (projections.plans, from domain.policy.drill_due and the revision cycle); lapsed
    is "today after the due day", today in Asia/Shanghai (ui/board-model.js derives the same)."""
    today = now.astimezone(SHANGHAI).date().isoformat()
    for p in board.get("plan", []):
        for kind, reason, due in (("plan_drill_lapsed", "drill_lapsed", p["drill_due_on"]),
                                  ("plan_revision_lapsed", "revision_lapsed", p["revision_due_on"])):
            if due and today > due:
                alerts.append({"kind": kind, "level": "warning", "plan_id": p["id"], "title": p["title"], "since": due,
                               "unit_code": p["unit_code"],
                               "escalated": any(x["reason"] == reason and x["due_on"] == due for x in p.get("escalations", []))})
    for u in board.get("unit_drills", []):
        if today > u["drill_due_on"]:
            alerts.append({"kind": "unit_drill_lapsed", "level": "warning", "unit_code": u["unit_code"], "since": u["drill_due_on"],
                           "escalated": any(x["due_on"] == u["drill_due_on"] for x in u.get("escalations", []))})


def assemble(docs: Iterable[tuple[str, Doc]], position: int, now: datetime, visible: Visible = lambda kind, doc: True,
             relay: dict[str, Any] | None = None, verified_days: int = VERIFIED_REPORT_DAYS,
             signins: dict[str, datetime] | None = None) -> dict[str, Any]:
    """The board a viewer sees: the documents `visible` lets through, and what is derived from those alone.

    `reporting_units` goes with it so a client deriving counts itself (ui/board-model.js) counts the same units.
    `signins`: the accounts' last sign-ins per unit (kept beside the log): the readiness items judged from them go
    with the snapshot as `readiness_live`; without them (replay) those items stay unjudged.
    """
    board: dict[str, Any] = {k: [] for k in BOARD_KINDS}
    for kind, doc in docs:
        if on_board(kind, doc) and visible(kind, doc):
            board[kind].append(doc)
    board["readiness_live"] = live_overrides(board["readiness"], signins, now) if signins is not None else {}
    due = reporting_units(board, visible)
    return {"position": position, "at": now.isoformat(), **board, "relay": relay, "reporting_units": due,
            "report_rules": {"verified_report_days": verified_days}, **derive(board, now, relay, due, verified_days)}
