"""After-action report of an incident: JSON figures, printable HTML, CSV; and the district summary."""

from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import Server


@pytest.fixture
def backend() -> str:
    return "sqlite"


def test_after_action_of_the_demo_flood(server: Server) -> None:
    cmd = server.client("commander")
    flood = next(i for i in cmd.get("/incidents").json()["items"] if i["subtype"] == "flood" and not i["exercise"])  # not the demo's flood drill
    d = next(x for x in cmd.get("/dispatches").json()["items"] if x["incident_id"] == flood["id"])
    for step in ("acknowledge", "depart", "arrive", "complete"):
        cmd.ok(f"/dispatches/{d['id']}/{step}")
    a = next(x for x in cmd.get("/allocations").json()["items"] if x["incident_id"] == flood["id"])
    cmd.ok(f"/allocations/{a['id']}/ship")
    cmd.ok(f"/allocations/{a['id']}/deliver")
    r = cmd.ok(f"/allocations/{a['id']}/return", {"lines": {"PUMP": 2}})
    report = cmd.get(f"/incidents/{flood['id']}/after-action", params={"min_position": r["position"]}).json()
    f = report["figures"]
    assert 49 <= f["minutes_occurrence_to_report"] <= 51  # the demo reports it 50 minutes after it occurred
    assert f["minutes_report_to_verification"] >= 0 and f["minutes_report_to_first_dispatch"] >= 0
    assert f["upward_report_within_2h"] is None  # no city platform in this run
    [dispatch] = report["dispatches"]
    assert dispatch["outcome"] == "completed" and dispatch["minutes_to_complete"] >= dispatch["minutes_to_arrive"] >= 0
    assert report["materials"]["reserved"] == {"LIFE-JACKET": 40, "PUMP": 2, "TENT-12": 10}
    assert report["materials"]["issued"] == report["materials"]["reserved"]
    assert report["materials"]["returned"] == {"PUMP": 2}
    assert [s["evacuated"] for s in report["situation"]] == [46]
    events = [(t["aggregate"], t["event"]) for t in report["timeline"]]
    assert events[0] == ("incident", "Reported") and ("dispatch", "Completed") in events and ("allocation", "Returned") in events
    assert all(t["actor"]["user"] for t in report["timeline"])

    page = cmd.get(f"/incidents/{flood['id']}/after-action", params={"format": "html"})
    assert page.headers["content-type"].startswith("text/html") and "事件复盘报告" in page.text and "魏庄村低洼区域积水" in page.text
    sheet = cmd.get(f"/incidents/{flood['id']}/after-action", params={"format": "csv"})
    rows = list(csv.reader(io.StringIO(sheet.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["time_asia_shanghai", "time_utc", "aggregate"] and len(rows) == len(report["timeline"]) + 1

    summary = cmd.get("/reports/summary", params={"start": "2000-01-01T00:00:00+08:00", "end": "2100-01-01T00:00:00+08:00"}).json()
    assert summary["incidents"] == 4 and summary["by_level"] == {"II": 1, "III": 1, "IV": 2}  # the seed's rainstorm is level II
    assert summary["minutes_to_acknowledge"]["count"] == 1 and summary["materials_used"] == {"LIFE-JACKET": 40, "TENT-12": 10}
    bad = cmd.get("/reports/summary", params={"start": "2026-01-01T00:00:00", "end": "2025-01-01T00:00:00+08:00"})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    assert server.client("field").get(f"/incidents/{flood['id']}/after-action").status_code == 403
