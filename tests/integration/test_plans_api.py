"""预案与演练 over HTTP, in-process: a plan from upload to 备案, revision and drill with a finding resolved; refusals
(bad input, wrong unit's document, out of scope) as problem+json with nothing written; exercise incidents (演练) absent
from /reports/summary, the board's 2-hour alerts and the staged reports' deadlines, present as drills of their plan;
and a version-1 incident or dispatch read back as a real one."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from domain.policy import local_day
from gateway.service_layer.watchdog import Watchdog
from tests.integration.test_prevention_api import A, A1, B1, World
from tests.integration.test_prevention_api import world as world  # noqa: F401  (in-process app, accounts of A, B, D)

PDF = b"%PDF-1.4 plan of the village\n%%EOF\n"


def plan(w: World, **over: object) -> str:
    sha = w.upload("op_a", A1, [("防汛预案.pdf", PDF, "application/pdf")]).json()["files"][0]["sha256"]
    body = {"unit_code": A1, "kind": "special", "hazard": "防汛", "title": "魏庄村防汛应急预案", "version": "2025版",
            "revised_on": "2025-05-01", "document": sha} | over
    return w.ok("op_a", "/plans", body)["id"]  # type: ignore[no-any-return]


def refused(w: World, user: str, path: str, body: object, status: int, code: str) -> None:
    head = w.head()
    r = w.post(user, path, body)
    assert (r.status_code, r.headers["content-type"]) == (status, "application/problem+json"), r.text
    assert r.json()["code"] == code, r.text
    assert w.head() == head, "a refused request wrote"


def test_a_plan_from_upload_to_a_drill_and_its_finding(world: World) -> None:  # noqa: F811
    w = world
    pid = plan(w)
    sha = w.get("op_a", f"/plans/{pid}").json()["document"]["sha256"]
    w.ok("op_a", f"/plans/{pid}/file", {"filed_with": "新兴街道办事处", "filed_on": "2025-05-20", "reference": "新备〔2025〕3号"})
    today = local_day(datetime.now(timezone.utc))
    w.ok("op_a", f"/plans/{pid}/revise", {"version": "2026版", "revised_on": today.isoformat(), "document": sha, "note": "调整转移路线"})
    drill = w.ok("op_a", f"/plans/{pid}/drills", {
        "kind": "tabletop", "held_on": today.isoformat(), "scenario": "河道漫堤，村东群众转移", "participants": 18, "participant_units": [A1],
        "findings": [{"finding": "集合点无照明", "owner": "村委会", "deadline": (today + timedelta(days=10)).isoformat()}]})["id"]
    doc = w.get("op_a", f"/plans/{pid}").json()
    assert (doc["version"], doc["drills"], doc["last_drill_on"]) == ("2026版", 1, today.isoformat())
    assert doc["state"]["on_file"] is False and doc["state"]["filed"] is True  # the new version is not filed yet
    assert doc["state"]["drill_lapsed"] is False and doc["drill_due_on"] == today.replace(year=today.year + 2).isoformat()
    assert w.get("op_a", "/drills/findings", params={"open": "true"}).json()["total"] == 1
    w.ok("op_a", f"/drills/{drill}/findings/1/resolve", {"note": "已安装太阳能灯"})
    assert w.get("op_a", "/drills/findings", params={"open": "true"}).json()["total"] == 0
    ready = w.get("op_a", "/plans/readiness").json()["units"][A1]
    assert ready["last_drill_on"] == today.isoformat() and ready["drill_lapsed"] is False and ready["mechanisms"] == []
    assert len(ready["mechanisms_missing"]) == 6 and [p["id"] for p in ready["plans"]] == [pid]
    # Refused, nothing written: bad input, another unit's document, a second step out of order, out of scope (404).
    refused(w, "op_a", "/plans", {"unit_code": A1, "kind": "overall", "mechanism": "warning", "title": "x", "version": "1",
                                  "revised_on": "2025-01-01", "document": sha}, 422, "validation_error")
    refused(w, "op_a", "/plans", {"unit_code": A1, "kind": "special", "title": "x", "version": "1",
                                  "revised_on": (today + timedelta(days=3)).isoformat(), "document": sha}, 422, "validation_error")
    refused(w, "op_a", "/plans", {"unit_code": A, "kind": "special", "title": "x", "version": "1", "revised_on": "2025-01-01",
                                  "document": sha}, 422, "validation_error")  # uploaded for the village, not the street
    refused(w, "op_a", f"/plans/{pid}/drills", {"kind": "tabletop", "held_on": today.isoformat(), "scenario": "x", "participants": 0},
            422, "validation_error")
    refused(w, "op_a", f"/plans/{pid}/revise", {"version": "2026版", "revised_on": today.isoformat(), "document": sha}, 422,
            "validation_error")  # the same version again
    refused(w, "cmd_b", f"/plans/{pid}/retire", {"reason": "越权"}, 404, "not_found")
    refused(w, "cmd_b", "/plans", {"unit_code": A1, "kind": "special", "title": "x", "version": "1", "revised_on": "2025-01-01",
                                   "document": sha}, 403, "forbidden")
    refused(w, "obs_d", f"/plans/{pid}/retire", {"reason": "只读"}, 403, "forbidden")
    assert w.get("cmd_b", f"/plans/{pid}").status_code == 404
    assert w.get("cmd_b", f"/drills/{drill}").status_code == 404
    assert w.get("cmd_b", "/plans").json()["total"] == 0 and w.get("cmd_d", "/plans").json()["total"] == 1


def test_exercises_are_drills_and_no_statistic(world: World) -> None:  # noqa: F811
    w = world
    pid = plan(w)
    occurred = datetime.now(timezone.utc) - timedelta(hours=3)
    base = {"category": "natural_disaster", "subtype": "flood", "level": "III", "unit_code": A1, "occurred_at": occurred.isoformat()}
    real = w.ok("op_a", "/incidents", base | {"title": "村东低洼处积水"})["id"]
    drill = w.ok("op_a", "/incidents", base | {"title": "防汛演练：低洼处群众转移", "exercise": True, "plan_id": pid})["id"]
    loose = w.ok("op_a", "/incidents", base | {"title": "消防疏散演练", "subtype": "other_natural", "exercise": True})["id"]
    refused(w, "op_a", "/incidents", base | {"title": "x", "plan_id": pid}, 422, "validation_error")  # a plan only for an exercise
    refused(w, "cmd_b", "/incidents", base | {"title": "x", "unit_code": B1, "exercise": True, "plan_id": pid}, 404, "not_found")
    assert w.get("op_a", f"/incidents/{drill}").json()["exercise"] is True and w.get("op_a", f"/incidents/{real}").json()["exercise"] is False
    # Counted as drills: of the plan when linked, of the village either way, on the local day the exercise took place
    # (the day before, when the test runs in the first three hours after local midnight).
    drill_day = local_day(occurred).isoformat()
    assert w.get("op_a", f"/plans/{pid}").json()["last_drill_on"] == drill_day
    drills = {d["id"]: d for d in w.get("op_a", "/drills").json()["items"]}
    assert drills[drill]["source"] == "exercise" and drills[drill]["plan_id"] == pid and drills[loose]["plan_id"] is None
    assert real not in drills
    assert w.get("op_a", "/plans/readiness").json()["units"][A1]["last_drill_on"] == drill_day
    # Not in the statistics, the 2-hour alerts or the staged reports' deadlines.
    start = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()
    end = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    summary = w.get("op_d", "/reports/summary", params={"start": start, "end": end}).json()
    assert (summary["incidents"], summary["exercises"]) == (1, 2) and summary["by_street"][A]["incidents"] == 1
    board = w.get("op_d", "/board").json()
    overdue = {a["incident_id"] for a in board["alerts"] if a["kind"] in ("report_overdue", "disaster_report_overdue")}
    assert real in overdue and drill not in overdue and loose not in overdue
    assert board["counts_by_street"][A]["incidents"] == 1
    assert {s["id"] for s in board["report_schedule"]} == {real}
    c = w.container
    Watchdog(c.service, c.store).run_once()
    missed = [c.log.decode(n) for n in c.log.read(0, 100_000) if n.topic.endswith("ReportDeadline.Missed")]
    assert [str(m.incident_id) for m in missed] == [real]
    html = w.get("op_d", f"/incidents/{drill}/after-action", params={"format": "html"}).text
    assert "【演练】" in html and "【演练】" not in w.get("op_d", f"/incidents/{real}/after-action", params={"format": "html"}).text


def test_an_incident_and_a_dispatch_stored_at_version_1_read_back_as_real_ones(world: World) -> None:  # noqa: F811
    w = world
    c = w.container
    three_hours_ago = (datetime.now(timezone.utc) - timedelta(hours=3)).isoformat()
    iid = w.ok("op_d", "/incidents", {"category": "accident", "subtype": "fire", "level": "IV", "title": "仓库火情", "unit_code": A1,
                                      "occurred_at": three_hours_ago, "exercise": True})["id"]
    [n] = [n for n in c.log.read(0, 100_000) if n.topic.endswith("Incident.Reported")]
    state = json.loads(n.state)
    assert state["class_version"] == 2 and state["exercise"] is True
    for k in ("class_version", "exercise", "plan_id"):  # as the code before version 2 stored it
        state.pop(k)
    stored = c.log.mapper.to_stored_event(c.log.decode(n))
    old = type(stored)(originator_id=stored.originator_id, originator_version=stored.originator_version, topic=stored.topic,
                       state=json.dumps(state).encode())
    event = c.log.mapper.to_domain_event(old)
    assert (event.exercise, event.plan_id, event.title) == (False, None, "仓库火情")
    assert iid == str(event.originator_id)
