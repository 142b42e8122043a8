"""The staged disaster reports and the duty desk over HTTP, in-process: the whole way of a report, its .xlsx
export read back, the roster and a handover; every refusal is problem+json and writes nothing."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from domain.disaster_reports import FIGURES, SECTORS
from domain.glossary import term
from domain.policy import duty_day, local_day
from tests.integration.scoped_district import A, B, PASSWORD, District, serve

openpyxl = pytest.importorskip("openpyxl")


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def d(settings: Any) -> Iterator[District]:
    with serve(settings) as district:
        district.container.accounts.add("cmd_a", PASSWORD, "commander", A, None, "指挥长 A")
        district.container.accounts.add("op_a2", PASSWORD, "operator", A, None, "值班员 A2")
        for viewer, user in (("CA", "cmd_a"), ("A2", "op_a2")):
            r = district.client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
            district.tokens[viewer] = r.json()["access_token"]
        yield district


def refused(d: District, viewer: str, path: str, body: Any, status: int, code: str) -> dict[str, Any]:
    head = d.container.log.max_position()
    r = d.post(viewer, path, body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json" and r.json()["code"] == code, r.text
    assert d.container.log.max_position() == head, "a refused command wrote to the log"
    return r.json()  # type: ignore[no-any-return]


def ok(d: District, viewer: str, path: str, body: Any = None) -> dict[str, Any]:
    r = d.post(viewer, path, body)
    assert r.status_code in (200, 201), r.text
    d.settle()
    return r.json()  # type: ignore[no-any-return]


FIGS = {"affected_population": 1520, "deaths": 1, "missing": 2, "relocated": 310, "needing_assistance": 96, "houses_collapsed": 4,
        "houses_severely_damaged": 11, "houses_generally_damaged": 37, "crops_affected_ha": 86.4, "crops_failed_ha": 9.25,
        "economic_loss_10k": 412.75}


def test_a_continuing_report_drafted_signed_submitted_and_exported(d: District) -> None:
    incident = d.ids["IA1"]
    rid = ok(d, "A", f"/incidents/{incident}/disaster-reports",
             {"stage": "continuing", "figures": {**FIGS, "deaths": 0}, "sectors": {"agriculture": 200}, "notes": "截至昨日24时"})["id"]
    ok(d, "A", f"/disaster-reports/{rid}/revise", {"figures": FIGS, "sectors": {"agriculture": 240.5, "transport": 60}, "notes": "核对后"})
    refused(d, "A", f"/disaster-reports/{rid}/sign-off", {}, 403, "forbidden")  # an operator drafts; a commander signs off
    refused(d, "A", f"/disaster-reports/{rid}/submit", None, 409, "invalid_transition")  # not signed
    ok(d, "CA", f"/disaster-reports/{rid}/sign-off", {"note": "同意报送"})
    ok(d, "A", f"/disaster-reports/{rid}/submit")
    report = d.get("A", f"/disaster-reports/{rid}").json()
    assert report["status"] == "submitted" and report["figures"] == FIGS and report["signed_by"]["user"] == "cmd_a"
    assert report["key"] == local_day(d.container.service.clock()).isoformat()
    assert d.get("B", f"/disaster-reports/{rid}").status_code == 404  # another street's: as if unknown

    sheet = d.get("A", f"/disaster-reports/{rid}/xlsx")
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(openpyxl.load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    cells = {row[0]: row[1] for row in rows if row and row[0]}
    assert cells["报告类型"] == "续报" and cells["状态"] == "已报送" and cells["灾害事件"] == report["incident_title"]
    for code, _ in FIGURES:  # every figure of the form, in words, with the API's value
        assert cells[term("reportFigure", code)] == report["figures"][code], code
    for code in SECTORS:
        if code in report["sectors"]:
            assert cells[term("reportSector", code)] == report["sectors"][code]
    assert not any(isinstance(v, str) and v in {c for c, _ in FIGURES} for row in rows for v in row)  # no raw codes
    due = {(o["incident_id"], o["stage"]) for o in d.get("A", "/disaster-reports/due").json()["items"]}
    assert (incident, "initial") in due and (incident, "continuing") not in due  # level IV: no daily 续报 owed


@pytest.mark.parametrize("body, field", [
    ({"stage": "initial", "figures": {"deaths": -1}}, "deaths"),
    ({"stage": "initial", "figures": {"deaths": 1.5}}, "deaths"),
    ({"stage": "initial", "figures": {"affected_population": 9_000_000}}, "affected_population"),
    ({"stage": "initial", "figures": {"wounded": 3}}, "wounded"),
    ({"stage": "initial", "figures": {}, "sectors": {"fisheries": 1}}, "fisheries"),
    ({"stage": "first", "figures": {}}, "stage"),
    ({"stage": "continuing", "figures": {}, "notes": "a\u202eb"}, "notes"),
])
def test_bad_figures_are_refused_by_the_schema(d: District, body: dict[str, Any], field: str) -> None:
    problem = refused(d, "A", f"/incidents/{d.ids['IA2']}/disaster-reports", body, 422, "validation_error")
    assert any(field in e["loc"] for e in problem["errors"]), problem


def test_refusals_of_the_domain_write_nothing(d: District) -> None:
    ia2 = d.ids["IA2"]
    refused(d, "A", f"/incidents/{ia2}/disaster-reports", {"stage": "initial", "figures": {"affected_population": 10, "relocated": 11}},
            422, "validation_error")  # more relocated than affected
    refused(d, "A", f"/incidents/{ia2}/disaster-reports", {"stage": "initial", "figures": {"economic_loss_10k": 10},
                                                           "sectors": {"agriculture": 8, "transport": 5}}, 422, "validation_error")
    refused(d, "A", f"/incidents/{ia2}/disaster-reports", {"stage": "verified", "figures": {}}, 422, "validation_error")  # not controlled
    refused(d, "A", f"/incidents/{d.ids['IA1']}/disaster-reports", {"stage": "initial", "figures": {}}, 409, "conflict")  # drafted already
    refused(d, "B", f"/incidents/{ia2}/disaster-reports", {"stage": "initial", "figures": {}}, 404, "not_found")
    refused(d, "V", f"/incidents/{ia2}/disaster-reports", {"stage": "initial", "figures": {}}, 403, "forbidden")
    refused(d, "A", f"/disaster-reports/{uuid.uuid4()}/submit", None, 404, "not_found")


def test_the_roster_a_month_ahead_and_who_is_on_duty_now(d: District) -> None:
    today = duty_day(d.container.service.clock())  # the duty day on shift: before 08:30, yesterday's date
    body = lambda day: {"unit_code": A, "day": day.isoformat(), "leader": {"name": "张局长", "phone": "13903740001"},  # noqa: E731
                        "officers": [{"name": "李静", "phone": "0374-6600001"}]}
    ok(d, "A", "/roster", body(today + timedelta(days=31)))
    refused(d, "A", "/roster", body(today + timedelta(days=32)), 422, "validation_error")
    refused(d, "A", "/roster", body(today - timedelta(days=1)), 422, "validation_error")
    refused(d, "A", "/roster", {**body(today), "officers": []}, 422, "validation_error")
    refused(d, "A", "/roster", {**body(today), "leader": {"name": "张", "phone": "call me"}}, 422, "validation_error")
    refused(d, "B", "/roster", body(today), 403, "forbidden")  # another street's desk
    refused(d, "F", "/roster", body(today), 403, "forbidden")
    assert d.get("A", "/roster").json()["today"] == today.isoformat()
    week = d.get("A", "/roster", params={"start": today.isoformat(), "days": 32}).json()["items"]
    assert week[-1]["leader"] == {"name": "张局长", "phone": "13903740001"} and week[-2]["leader"] is None
    assert d.get("B", "/roster", params={"unit_code": A}).status_code == 404
    now = d.get("A", "/roster/now").json()
    assert now["unit_code"] == A and now["day"] == duty_day(d.container.service.clock()).isoformat()


def test_a_handover_carries_generated_open_items_and_the_incoming_officer_confirms_it(d: District) -> None:
    draft = d.get("A", "/handovers/draft").json()
    kinds = {(i["kind"], i["ref"]) for i in draft["open_items"]}
    assert ("incident_open", d.ids["IA1"]) in kinds and ("dispatch_unacknowledged", d.ids["DTA"]) in kinds
    assert ("report_due", d.ids["IA2"]) in kinds and ("incident_open", d.ids["IB1"]) not in kinds  # street B is not A's
    handover = d.get("A", f"/handovers/{d.ids['HA']}").json()
    assert handover["status"] == "signed" and any(e["type"] == "incident.reported" for e in handover["events"])
    assert all(e["unit_code"].startswith(A[:9]) for e in handover["events"])
    assert d.get("B", f"/handovers/{d.ids['HA']}").status_code == 404
    refused(d, "A", "/handovers", {"unit_code": A}, 409, "conflict")  # this shift is handed over already
    refused(d, "B", "/handovers", {"unit_code": A}, 403, "forbidden")
    refused(d, "A", "/handovers", {"unit_code": A, "open_items": []}, 422, "validation_error")  # open items are not typed
    ok(d, "A2", f"/handovers/{d.ids['HA']}/confirm", {"note": "已接班"})
    refused(d, "A2", f"/handovers/{d.ids['HA']}/confirm", {}, 409, "invalid_transition")
    confirmed = d.get("A", f"/handovers/{d.ids['HA']}").json()
    assert confirmed["status"] == "confirmed" and confirmed["confirmed_by"]["user"] == "op_a2"
    assert B not in {h["unit_code"] for h in d.get("A", "/handovers").json()["items"]}
