"""Read models of 预案与演练: `plan`, `drill`, `unit_drills`, and the readiness query API.

Kinds and their indexed columns (projections.columns):

- `plan`: one document per plan. Columns: unit_code, status (`active` | `retired`), category = the plan's kind
  (`overall` | `special` | `mechanism`), level = its mechanism (one of domain.plans.MECHANISMS, or none),
  at = revised_on, text = title and hazard. Fields: id, unit_code, street_code, kind, mechanism, hazard, title,
  version, revised_on, revision_due_on, document {sha256, media_type, size, name}, versions [each version with
  its document and note], filing {version, filed_with, filed_on, reference} (the latest), filings [...],
  registered_on, last_drill_on, drill_due_on (domain.policy.drill_due; none for a mechanism document, which is not
  drilled), drills (count), escalations
  [{reason, due_on, at}], status.
- `drill`: one document per drill, and one per exercise incident (演练, `source: "exercise"`, id = the incident's).
  Columns: unit_code, ref_id = plan_id, category = drill kind, at = held_on, text = scenario and plan title.
  Fields: id, source (`drill` | `exercise`), plan_id, plan_title, unit_code, street_code, kind, held_on, scenario,
  participants, participant_units, people, findings [{n, finding, owner, deadline, resolved_at, note}],
  open_findings (count), incident_id, status (`open` while a finding is unresolved, else `done`).
- `unit_drills`: one document per unit with plans or drills (its id is the unit code): unit_code, since,
  last_drill_on, drill_due_on, escalations [{due_on, at}].

Query API for readiness (pure functions over documents, so the live store, replay at any moment and tests
use the same; `today` is an Asia/Shanghai day):

- `plan_state(plan, today)` -> the plan's flags: within_cycle, revision_lapsed, drill_lapsed, on_file
  (filed, the current version), drill_due_on.
- `unit_readiness(plans, unit_drills, today)` -> per unit code: {unit_code, plans: [plan_state rows of its
  active plans], overall_on_file, mechanisms (the six recorded, sorted), mechanisms_missing, last_drill_on,
  drill_due_on, drill_lapsed, plans_revision_lapsed [ids], plans_drill_lapsed [ids]}.
- `readiness_from_store(store, unit_prefix, today)` -> the same, read from a DocStore within a unit subtree
  (None: the whole district).
- `drill_findings(drills)` -> every finding as a rectification item {drill_id, plan_id, unit_code, n, finding,
  owner, deadline, resolved}: what a campaign's rectification list can take in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from domain.plans import MECHANISMS, PlanKind
from domain.policy import drill_due, local_day, revision_lapsed
from projections.board import street_of
from projections.reducer import Changes, Get, Reducer, actor_of, iso, updated

PLAN = "plan"
DRILL = "drill"
UNIT_DRILLS = "unit_drills"


def _due(last: str | None, since: str) -> str:
    """The drill due day by the 2-year rule (domain.policy.drill_due, the one function)."""
    due, _ = drill_due(date.fromisoformat(last) if last else None, date.fromisoformat(since), date.min)
    return due.isoformat()


# -- plans ------------------------------------------------------------------------------
def _version(e: Any, **extra: Any) -> dict[str, Any]:
    return {"version": e.version, "revised_on": e.revised_on, "document": dict(e.document), "at": iso(e.timestamp),
            "by": actor_of(e), **extra}


def _registered(get: Get, e: Any) -> Changes:
    return {str(e.originator_id): {
        "id": str(e.originator_id), "unit_code": e.unit_code, "street_code": street_of(e.unit_code), "kind": e.kind,
        "mechanism": e.mechanism, "hazard": e.hazard, "title": e.title, "version": e.version, "revised_on": e.revised_on,
        "revision_due_on": e.revision_due_on, "document": dict(e.document), "versions": [_version(e, note="")],
        "filing": None, "filings": [], "registered_on": e.registered_on, "registered_by": actor_of(e),
        "last_drill_on": None,
        "drill_due_on": None if e.kind == PlanKind.MECHANISM else _due(None, e.registered_on), "drills": 0, "escalations": [],
        "status": "active", "retired_reason": "", "updated_at": iso(e.timestamp),
    }}


def _revised(get: Get, e: Any) -> Changes:
    doc = get(PLAN, str(e.originator_id))
    if doc is None:
        return {}
    return updated(get, PLAN, e, version=e.version, revised_on=e.revised_on, revision_due_on=e.revision_due_on, title=e.title,
                   document=dict(e.document), versions=[*doc["versions"], _version(e, note=e.note)])


def _filed(get: Get, e: Any) -> Changes:
    doc = get(PLAN, str(e.originator_id))
    if doc is None:
        return {}
    filing = {"version": e.version, "filed_with": e.filed_with, "filed_on": e.filed_on, "reference": e.reference,
              "at": iso(e.timestamp), "by": actor_of(e)}
    return updated(get, PLAN, e, filing=filing, filings=[*doc["filings"], filing])


def _plan_drill(get: Get, e: Any) -> Changes:
    doc = get(PLAN, str(e.originator_id))
    if doc is None:
        return {}
    last = max(doc["last_drill_on"] or e.held_on, e.held_on)
    return updated(get, PLAN, e, last_drill_on=last, drill_due_on=_due(last, doc["registered_on"]), drills=doc["drills"] + 1)


def _plan_escalated(get: Get, e: Any) -> Changes:
    doc = get(PLAN, str(e.originator_id))
    if doc is None:
        return {}
    return updated(get, PLAN, e, escalations=[*doc["escalations"], {"reason": e.reason, "due_on": e.due_on, "at": iso(e.timestamp)}])


PLANS = Reducer(PLAN, {
    "Plan.Registered": _registered,
    "Plan.Revised": _revised,
    "Plan.Filed": _filed,
    "Plan.Retired": lambda get, e: updated(get, PLAN, e, status="retired", retired_reason=e.reason),
    "Plan.DrillCounted": _plan_drill,
    "Plan.Escalated": _plan_escalated,
})


# -- drills -------------------------------------------------------------------------------
def _drill_recorded(get: Get, e: Any) -> Changes:
    plan = get(PLAN, str(e.plan_id)) or {}
    findings = [{**f, "resolved_at": None, "note": ""} for f in e.findings]
    return {str(e.originator_id): {
        "id": str(e.originator_id), "source": "drill", "plan_id": str(e.plan_id), "plan_title": plan.get("title", ""),
        "unit_code": e.unit_code, "street_code": street_of(e.unit_code), "kind": e.kind, "held_on": e.held_on,
        "scenario": e.scenario, "participants": e.participants, "participant_units": list(e.participant_units),
        "people": list(e.people), "findings": findings, "open_findings": len(findings), "incident_id": None,
        "status": "open" if findings else "done", "recorded_at": iso(e.timestamp), "recorded_by": actor_of(e),
        "updated_at": iso(e.timestamp),
    }}


def _finding_resolved(get: Get, e: Any) -> Changes:
    doc = get(DRILL, str(e.originator_id))
    if doc is None:
        return {}
    findings = [{**f, "resolved_at": iso(e.timestamp), "note": e.note, "resolved_by": actor_of(e)} if f["n"] == e.n else f
                for f in doc["findings"]]
    still = sum(1 for f in findings if not f["resolved_at"])
    return updated(get, DRILL, e, findings=findings, open_findings=still, status="open" if still else "done")


def _exercise_reported(get: Get, e: Any) -> Changes:
    """An exercise incident (演练) is listed as a drill: of its plan when linked, else of its place's unit."""
    if not e.exercise:
        return {}
    plan = get(PLAN, str(e.plan_id)) if e.plan_id else None
    return {str(e.originator_id): {
        "id": str(e.originator_id), "source": "exercise", "plan_id": str(e.plan_id) if e.plan_id else None,
        "plan_title": (plan or {}).get("title", ""), "unit_code": e.unit_code, "street_code": street_of(e.unit_code),
        "kind": None, "held_on": local_day(e.occurred_at).isoformat(), "scenario": e.title, "participants": None,
        "participant_units": [], "people": [], "findings": [], "open_findings": 0, "incident_id": str(e.originator_id),
        "status": "done", "recorded_at": iso(e.timestamp), "recorded_by": actor_of(e), "updated_at": iso(e.timestamp),
    }}


DRILLS = Reducer(DRILL, {"Drill.Recorded": _drill_recorded, "Drill.FindingResolved": _finding_resolved,
                         "Incident.Reported": _exercise_reported})


# -- the unit's drill record ------------------------------------------------------------------
def _opened(get: Get, e: Any) -> Changes:
    return {e.unit_code: {"id": e.unit_code, "unit_code": e.unit_code, "street_code": street_of(e.unit_code), "since": e.since,
                          "last_drill_on": None, "drill_due_on": _due(None, e.since), "drills": 0, "escalations": [],
                          "status": "open", "updated_at": iso(e.timestamp)}}


def _unit_counted(get: Get, e: Any) -> Changes:
    doc = get(UNIT_DRILLS, e.unit_code)
    if doc is None:
        return {}
    last = max(doc["last_drill_on"] or e.held_on, e.held_on)
    return {doc["id"]: {**doc, "last_drill_on": last, "drill_due_on": _due(last, doc["since"]), "drills": doc["drills"] + 1,
                        "updated_at": iso(e.timestamp)}}


def _unit_escalated(get: Get, e: Any) -> Changes:
    doc = get(UNIT_DRILLS, e.unit_code)
    if doc is None:
        return {}
    return {doc["id"]: {**doc, "escalations": [*doc["escalations"], {"due_on": e.due_on, "at": iso(e.timestamp)}],
                        "updated_at": iso(e.timestamp)}}


UNIT_DRILL_RECORDS = Reducer(UNIT_DRILLS, {"UnitDrills.Opened": _opened, "UnitDrills.Counted": _unit_counted,
                                           "UnitDrills.Escalated": _unit_escalated})


# -- the readiness query API --------------------------------------------------------------------
def plan_state(plan: dict[str, Any], today: date) -> dict[str, Any]:
    """A plan's standing on `today`: revision within its cycle, its current version filed (备案), its 2-year drill rule."""
    due: date | None = None
    drill_lapsed = False
    if plan["kind"] != PlanKind.MECHANISM:  # mechanism documents are not drilled
        due, drill_lapsed = drill_due(date.fromisoformat(plan["last_drill_on"]) if plan.get("last_drill_on") else None,
                                      date.fromisoformat(plan["registered_on"]), today)
    lapsed = revision_lapsed(date.fromisoformat(plan["revision_due_on"]), today)
    filing = plan.get("filing") or None
    active = plan["status"] == "active"
    return {"id": plan["id"], "unit_code": plan["unit_code"], "kind": plan["kind"], "mechanism": plan.get("mechanism"),
            "hazard": plan.get("hazard", ""), "title": plan["title"], "version": plan["version"], "revised_on": plan["revised_on"],
            "revision_due_on": plan["revision_due_on"], "within_cycle": active and not lapsed, "revision_lapsed": active and lapsed,
            "filed": filing is not None, "on_file": active and filing is not None and filing["version"] == plan["version"],
            "filed_on": filing["filed_on"] if filing else None, "filed_with": filing["filed_with"] if filing else None,
            "last_drill_on": plan.get("last_drill_on"), "drill_due_on": due.isoformat() if due else None, "drill_lapsed": active and drill_lapsed,
            "status": plan["status"]}


def unit_readiness(plans: Iterable[dict[str, Any]], unit_drills: Iterable[dict[str, Any]], today: date) -> dict[str, dict[str, Any]]:
    """Per unit code: its active plans' states, whether an overall plan is on file and within its cycle, the six
    mechanisms recorded (an active mechanism document within its cycle), and the unit's own 2-year rule."""
    out: dict[str, dict[str, Any]] = {}

    def row(code: str) -> dict[str, Any]:
        return out.setdefault(code, {"unit_code": code, "plans": [], "overall_on_file": False, "mechanisms": [],
                                     "mechanisms_missing": list(MECHANISMS), "last_drill_on": None, "drill_due_on": None,
                                     "drill_lapsed": False, "plans_revision_lapsed": [], "plans_drill_lapsed": []})

    for p in plans:
        if p["status"] != "active":
            continue
        s = plan_state(p, today)
        r = row(p["unit_code"])
        r["plans"].append(s)
        if s["kind"] == PlanKind.OVERALL and s["on_file"] and s["within_cycle"]:
            r["overall_on_file"] = True
        if s["kind"] == PlanKind.MECHANISM and s["within_cycle"] and s["mechanism"] not in r["mechanisms"]:
            r["mechanisms"] = sorted([*r["mechanisms"], s["mechanism"]], key=MECHANISMS.index)
        if s["revision_lapsed"]:
            r["plans_revision_lapsed"].append(s["id"])
        if s["drill_lapsed"]:
            r["plans_drill_lapsed"].append(s["id"])
    for u in unit_drills:
        r = row(u["unit_code"])
        due, lapsed = drill_due(date.fromisoformat(u["last_drill_on"]) if u.get("last_drill_on") else None,
                                date.fromisoformat(u["since"]), today)
        r.update(last_drill_on=u.get("last_drill_on"), drill_due_on=due.isoformat(), drill_lapsed=lapsed)
    for r in out.values():
        r["mechanisms_missing"] = [m for m in MECHANISMS if m not in r["mechanisms"]]
        r["plans"].sort(key=lambda s: (list(PlanKind).index(s["kind"]), s["mechanism"] or "", s["title"]))
    return dict(sorted(out.items()))


def readiness_from_store(store: Any, unit_prefix: str | None, today: date) -> dict[str, dict[str, Any]]:
    """`unit_readiness` over a DocStore's plans and unit drill records within a unit subtree (None: all)."""
    plans, _ = store.list(PLAN, unit_prefix=unit_prefix, statuses=["active"], limit=10_000_000)
    records, _ = store.list(UNIT_DRILLS, unit_prefix=unit_prefix, limit=10_000_000)
    return unit_readiness(plans, records, today)


def drill_findings(drills: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every drill finding as a rectification item (owner, deadline, resolved or not), oldest drill first."""
    return [{"drill_id": d["id"], "plan_id": d.get("plan_id"), "plan_title": d.get("plan_title", ""), "unit_code": d["unit_code"],
             "held_on": d["held_on"], "n": f["n"], "finding": f["finding"], "owner": f["owner"], "deadline": f["deadline"],
             "resolved": bool(f.get("resolved_at")), "resolved_at": f.get("resolved_at"), "note": f.get("note", "")}
            for d in sorted(drills, key=lambda d: (d["held_on"], d["id"])) for f in d.get("findings", [])]
