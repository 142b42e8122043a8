"""The command API over a real server: a full scenario, races, idempotent retries."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from tests.conftest import Api, Server

VILLAGE = "411099001001"


def report(api: Api, **over: object) -> str:
    body = {
        "category": "natural_disaster", "subtype": "rainstorm", "level": "III", "title": "强降雨内涝",
        "unit_code": VILLAGE, "address": "魏庄村", "occurred_at": datetime.now(timezone.utc).isoformat(),
    } | over
    return api.ok("/incidents", body)["id"]


def idle_team(api: Api, unit_prefix: str = "") -> dict:
    teams = api.get("/teams", params={"status": "idle", "limit": 100}).json()["items"]
    return next(t for t in teams if t["unit_code"].startswith(unit_prefix))


def test_full_scenario_from_report_to_close(server: Server) -> None:
    cmd, field = server.client("commander"), server.client("field")
    incident = report(cmd)
    r = cmd.ok(f"/incidents/{incident}/verify", {"note": "已核实"})
    assert cmd.get(f"/incidents/{incident}", params={"min_position": r["position"]}).json()["status"] == "verified"
    cmd.ok(f"/incidents/{incident}/situation", {"evacuated": 30, "affected": 120, "notes": "转移30人"})
    cmd.ok(f"/incidents/{incident}/level", {"level": "II", "reason": "险情扩大"})

    team_id = field.user["team_id"]
    team = cmd.get(f"/teams/{team_id}").json()
    if team["status"] != "idle":  # the demo already dispatched this team: free it first
        cmd.ok(f"/dispatches/{team['dispatch_id']}/cancel", {"reason": "改派"})
    d = cmd.ok(f"/incidents/{incident}/dispatches", {"team_id": team_id, "task": "转移群众"})["id"]
    for step in ("acknowledge", "depart", "arrive"):
        field.ok(f"/dispatches/{d}/{step}")
    r = field.ok(f"/dispatches/{d}/complete", {"note": "任务完成"})
    dispatch = field.get(f"/dispatches/{d}", params={"min_position": r["position"]}).json()
    assert dispatch["status"] == "completed"
    assert all(dispatch[k] for k in ("acknowledged_at", "departed_at", "arrived_at", "completed_at"))
    assert cmd.get(f"/teams/{team_id}").json()["status"] == "idle"

    warehouse = cmd.get("/warehouses").json()["items"][0]
    before = warehouse["stock"]["LIFE-JACKET"]
    a = cmd.ok("/allocations", {"incident_id": incident, "warehouse_id": warehouse["id"], "lines": {"LIFE-JACKET": 10},
                                "team_id": team_id, "destination": "魏庄村委会"})["id"]
    cmd.ok(f"/allocations/{a}/ship", {"vehicle": "豫K12345"})
    field.ok(f"/allocations/{a}/deliver", {"received_by": "队长"})
    field.ok(f"/allocations/{a}/return", {"lines": {"LIFE-JACKET": 4}})
    r = cmd.ok(f"/allocations/{a}/return", {"lines": {"LIFE-JACKET": 6}})
    allocation = cmd.get(f"/allocations/{a}", params={"min_position": r["position"]}).json()
    assert allocation["status"] == "returned" and allocation["returned"] == {"LIFE-JACKET": 10}
    after = cmd.get(f"/warehouses/{warehouse['id']}").json()["stock"]["LIFE-JACKET"]
    assert after == before  # everything came back

    cmd.ok(f"/incidents/{incident}/control")
    r = cmd.ok(f"/incidents/{incident}/close", {"summary": "积水排除，群众安置完毕"})
    closed = cmd.get(f"/incidents/{incident}", params={"min_position": r["position"]}).json()
    assert closed["status"] == "closed" and closed["level"] == "II" and closed["situation"]["evacuated"] == 30

    mine = [e for e in cmd.events() if e["subject"] == incident]
    assert [e["type"].rsplit(".", 1)[1] for e in mine] == [
        "reported", "verified", "situationupdated", "levelchanged", "controlled", "closed"
    ]
    assert all(e["data"]["by"]["user"] == "commander" for e in mine)


def test_twenty_racing_dispatches_over_http(server: Server) -> None:
    cmd = server.client("commander")
    incident = report(cmd)
    team = idle_team(cmd)
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(
            lambda i: cmd.post(f"/incidents/{incident}/dispatches", {"team_id": team["id"], "task": f"任务{i}"}), range(20)
        ))
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] + [409] * 19
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"team_unavailable"}


def test_racing_allocations_over_http_only_those_that_fit(server: Server) -> None:
    cmd = server.client("commander")
    incident = report(cmd)
    w = cmd.get("/warehouses").json()["items"][0]
    line = w["stock"]["BOAT-INFL"]
    available = line["on_hand"] - line["reserved"]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(
            lambda _: cmd.post("/allocations", {"incident_id": incident, "warehouse_id": w["id"], "lines": {"BOAT-INFL": 1}}),
            range(available + 6),
        ))
    assert sorted(r.status_code for r in answers) == [201] * available + [409] * 6
    last = max(r.json()["position"] for r in answers if r.status_code == 201)
    stock = cmd.get(f"/warehouses/{w['id']}", params={"min_position": last}).json()["stock"]["BOAT-INFL"]
    assert stock["on_hand"] - stock["reserved"] == 0


def test_idempotent_retries_write_one_set_of_events(server: Server) -> None:
    cmd = server.client("commander")
    key = str(uuid.uuid4())
    body = {"category": "accident", "subtype": "traffic", "level": "IV", "title": "交通事故", "unit_code": VILLAGE,
            "occurred_at": "2026-11-28T08:00:00+08:00"}
    first = cmd.post("/incidents", body, key=key)
    head = cmd.get("/events", params={"after": 0, "limit": 1}).json()["head"]
    retries = [cmd.post("/incidents", body, key=key) for _ in range(5)]
    assert first.status_code == 201
    assert all(r.status_code == 201 and r.json() == first.json() for r in retries)
    assert all(r.headers.get("Idempotent-Replayed") == "true" for r in retries)
    assert cmd.get("/events", params={"after": 0, "limit": 1}).json()["head"] == head
    # A tap retried by a phone: acknowledge twice with the same key is one event and the same answer.
    field = server.client("field")
    dispatch = next(d for d in field.get("/dispatches").json()["items"] if d["status"] == "ordered")
    tap = str(uuid.uuid4())
    a1 = field.post(f"/dispatches/{dispatch['id']}/acknowledge", key=tap)
    a2 = field.post(f"/dispatches/{dispatch['id']}/acknowledge", key=tap)
    assert a1.status_code == a2.status_code == 200 and a1.json() == a2.json()
    # Without the key, the second tap is refused as a wrong transition (and writes nothing either).
    a3 = field.post(f"/dispatches/{dispatch['id']}/acknowledge")
    assert a3.status_code == 409 and a3.json()["code"] == "invalid_transition"
