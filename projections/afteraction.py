"""After-action figures for one incident, from the events of the incident, its dispatches and allocations.

Pure: given the events (in log order), returns the timeline and the
response-time figures reviewers ask for. Times are UTC; minutes are floats.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from statistics import median
from typing import Any

from domain.incidents import SITUATION_FIELDS
from domain.policy import reported_upward_in_time
from domain.units import street_of
from projections.reducer import actor_of, event_name, iso

_SKIP = {"originator_id", "originator_version", "timestamp", "originator_topic", "by"}


def _minutes(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return round((b - a).total_seconds() / 60, 2)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def incident_report(events: Iterable[Any]) -> dict[str, Any]:
    timeline: list[dict[str, Any]] = []
    incident: dict[str, Any] = {}
    dispatches: dict[str, dict[str, Any]] = {}
    materials = {"reserved": {}, "issued": {}, "returned": {}, "cancelled": {}}
    allocations: dict[str, dict[str, int]] = {}
    situation: list[dict[str, Any]] = []
    occurred = reported = verified = upward = None
    for e in events:
        name = event_name(e)
        aggregate, _, what = name.partition(".")
        timeline.append({
            "time": iso(e.timestamp), "aggregate": aggregate.lower(), "aggregate_id": str(e.originator_id), "event": what,
            "actor": actor_of(e), "data": {k: _plain(v) for k, v in e.__dict__.items() if k not in _SKIP},
        })
        if name == "Incident.Reported":
            occurred, reported = e.occurred_at, e.timestamp
            incident = {"id": str(e.originator_id), "title": e.title, "category": e.category, "subtype": e.subtype,
                        "level": e.level, "unit_code": e.unit_code, "address": e.address, "occurred_at": iso(e.occurred_at),
                        "exercise": e.exercise}
        elif name == "Incident.Verified":
            verified = e.timestamp
        elif name == "Incident.LevelChanged":
            incident["level"] = e.level
        elif name == "Incident.SituationUpdated":
            situation.append({"time": iso(e.timestamp), **e.figures, "notes": e.notes})
        elif name == "Incident.ReportedUpward":
            upward = e.acknowledged_at
        elif aggregate == "Dispatch":
            d = dispatches.setdefault(str(e.originator_id), {"id": str(e.originator_id)})
            d[what.lower() + "_at"] = e.timestamp
            if what == "Ordered":
                d["team_id"] = str(e.team_id)
                d["task"] = e.task
        elif aggregate == "Allocation":
            aid = str(e.originator_id)
            if what == "Requested":
                allocations[aid] = dict(e.lines)
                _add(materials["reserved"], e.lines)
            elif what == "Shipped":
                _add(materials["issued"], allocations.get(aid, {}))
            elif what == "Returned":
                _add(materials["returned"], e.lines)
            elif what == "Cancelled":
                _add(materials["cancelled"], allocations.get(aid, {}))
    first_dispatch = min((d["ordered_at"] for d in dispatches.values() if "ordered_at" in d), default=None)
    per_dispatch = []
    for d in dispatches.values():
        o = d.get("ordered_at")
        per_dispatch.append({
            "id": d["id"], "team_id": d.get("team_id"), "task": d.get("task"), "ordered_at": iso(o),
            "minutes_to_acknowledge": _minutes(o, d.get("acknowledged_at")),
            "minutes_to_depart": _minutes(o, d.get("departed_at")),
            "minutes_to_arrive": _minutes(o, d.get("arrived_at")),
            "minutes_to_complete": _minutes(o, d.get("completed_at")),
            "outcome": next((k[:-3] for k in ("completed_at", "declined_at", "cancelled_at") if k in d), "active"),
        })
    return {
        "incident": incident,
        "figures": {
            "minutes_occurrence_to_report": _minutes(occurred, reported),
            "minutes_report_to_verification": _minutes(reported, verified),
            "minutes_report_to_first_dispatch": _minutes(reported, first_dispatch),
            "reported_upward_at": iso(upward),
            "minutes_occurrence_to_upward_report": _minutes(occurred, upward),
            "upward_report_within_2h": None if upward is None or occurred is None else reported_upward_in_time(occurred, upward),
        },
        "dispatches": per_dispatch,
        "materials": materials,
        "situation": situation,
        "timeline": timeline,
    }


def _add(total: dict[str, int], lines: dict[str, int]) -> None:
    for code, qty in lines.items():
        total[code] = total.get(code, 0) + qty


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return round(ordered[k], 2)


def district_summary(incidents: list[dict[str, Any]], dispatches: list[dict[str, Any]], allocations: list[dict[str, Any]],
                     start: datetime, end: datetime) -> dict[str, Any]:
    """Over read-model documents: incidents occurring in [start, end) and the work done for them.

    Exercises (演练) are real statistics of nothing: left out of every figure, counted apart as `exercises`."""
    in_window = [i for i in incidents if start <= datetime.fromisoformat(i["occurred_at"]) < end]
    chosen = [i for i in in_window if not i.get("exercise")]
    ids = {i["id"] for i in chosen}
    by_type: dict[str, int] = {}
    by_level: dict[str, int] = {}
    for i in chosen:
        by_type[f"{i['category']}/{i['subtype']}"] = by_type.get(f"{i['category']}/{i['subtype']}", 0) + 1
        by_level[i["level"]] = by_level.get(i["level"], 0) + 1
    ds = [d for d in dispatches if d["incident_id"] in ids]
    to_ack = [m for d in ds if (m := _minutes(_dt(d["ordered_at"]), _dt(d.get("acknowledged_at")))) is not None]
    to_arrive = [m for d in ds if (m := _minutes(_dt(d["ordered_at"]), _dt(d.get("arrived_at")))) is not None]
    to_report = [m for i in chosen if (m := _minutes(_dt(i["occurred_at"]), _dt(i["reported_at"]))) is not None]
    used: dict[str, int] = {}
    for a in allocations:
        if a["incident_id"] in ids and a["status"] in ("shipped", "delivered", "returned"):
            for code, qty in a["lines"].items():
                used[code] = used.get(code, 0) + qty - a.get("returned", {}).get(code, 0)
    stat = lambda xs: {"count": len(xs), "median": round(median(xs), 2) if xs else None, "p90": percentile(xs, 90)}  # noqa: E731
    return {
        "by_street": by_street(chosen, ds),
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "incidents": len(chosen),
        "by_type": by_type,
        "by_level": by_level,
        "minutes_occurrence_to_report": stat(to_report),
        "minutes_to_acknowledge": stat(to_ack),
        "minutes_to_arrive": stat(to_arrive),
        "teams_used": len({d["team_id"] for d in ds}),
        "dispatches": len(ds),
        "materials_used": {code: qty for code, qty in sorted(used.items()) if qty},
        "exercises": len(in_window) - len(chosen),
    }


def by_street(incidents: list[dict[str, Any]], dispatches: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per street (the district's own incidents under the district's code): counts, levels, harm, work done."""
    out: dict[str, dict[str, Any]] = {}
    street_of_incident: dict[str, str] = {}
    for i in incidents:
        street = street_of(i["unit_code"]) or i["unit_code"]
        street_of_incident[i["id"]] = street
        row = out.setdefault(street, {"incidents": 0, "by_level": {}, "situation": dict.fromkeys(SITUATION_FIELDS, 0),
                                      "reported_upward_in_time": 0, "reported_upward_late": 0, "dispatches": 0})
        row["incidents"] += 1
        row["by_level"][i["level"]] = row["by_level"].get(i["level"], 0) + 1
        for k in SITUATION_FIELDS:
            row["situation"][k] += int((i.get("situation") or {}).get(k) or 0)
        if i.get("reported_upward_in_time") is True:
            row["reported_upward_in_time"] += 1
        elif i.get("reported_upward_in_time") is False:
            row["reported_upward_late"] += 1
    for d in dispatches:
        if d["incident_id"] in street_of_incident:
            out[street_of_incident[d["incident_id"]]]["dispatches"] += 1
    return dict(sorted(out.items()))


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
