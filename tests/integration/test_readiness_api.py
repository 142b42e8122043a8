"""Readiness over HTTP, in-process, with an injected clock: a self-inspection (自查) finds three gaps, two are
fixed and signed off (销号 only once green: a red one is refused as problem+json and nothing is written), the
third stays open and the watchdog escalates it exactly once at its deadline; the campaign report and the
annual assessment as `.xlsx`, read back with openpyxl, equal the API's figures; scope reads 404 out of it;
replay shows the scorecard as it stood before the fix. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from domain.glossary import term
from gateway.container import Container
from gateway.context import CommandContext, Principal
from gateway.entrypoints.app import create_app
from gateway.service_layer.watchdog import Watchdog
from gateway.settings import Settings
from projections.campaigns import REPORT_FIELDS
from tests.integration.test_watchdog import T0, Clock

D, A, A1, B, B1 = "411099000000", "411099001000", "411099001001", "411099002000", "411099002001"
PASSWORD = "Readiness-Passw0rd!"
ACCOUNTS = {"op_a": ("operator", A), "cmd_d": ("commander", D), "op_b": ("operator", B)}
ITEMS = ["s1_4.team", "s1_4.warehouse", "s1_4.platform"]


@dataclass
class World:
    client: TestClient
    container: Container
    clock: Clock
    ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def h(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, user: str, path: str, **kw: Any) -> Any:
        return self.client.get("/api/v1" + path, headers=self.h(user), **kw)

    def post(self, user: str, path: str, body: Any = None) -> Any:
        r = self.client.post("/api/v1" + path, headers=self.h(user) | {"Idempotency-Key": str(uuid.uuid4())}, json=body or {})
        assert self.container.wait_for(self.container.log.max_position(), 10)
        return r

    def ok(self, user: str, path: str, body: Any = None) -> dict[str, Any]:
        r = self.post(user, path, body)
        assert r.status_code in (200, 201), r.text
        return r.json()  # type: ignore[no-any-return]


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    clock = Clock()
    c = Container.build(settings.model_copy(update={"watchdog_seconds": 0}))
    c.service.clock = clock
    setup = CommandContext(Principal("setup", "admin", D), request_id="setup")
    for code, name, kind in [(D, "东城区", "district"), (A, "新兴街道", "street"), (A1, "魏庄村", "village"), (B, "东城街道", "street"),
                             (B1, "大周村", "village")]:
        c.service.register_unit(setup, code=code, name=name, kind=kind)
    ids = {"team": c.service.register_team(setup, name="新兴街道综合应急救援队", kind="comprehensive", unit_code=A, members=20).id}
    wh = c.service.register_warehouse(setup, name="新兴街道应急物资仓库", unit_code=A)
    ids["warehouse"] = wh.id
    c.service.receive_stock(setup, wh.id, {"LIFE-JACKET": 30, "SANDBAG": 3000})
    c.service.set_minimum(setup, wh.id, "LIFE-JACKET", 80)
    c.service.set_minimum(setup, wh.id, "SANDBAG", 2000)
    for user, (role, unit) in ACCOUNTS.items():
        c.accounts.add(user, PASSWORD, role, unit, None, user)
    with TestClient(create_app(settings, c)) as client:
        w = World(client, c, clock, ids)
        for user in ACCOUNTS:
            w.tokens[user] = client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD}).json()["access_token"]
        # Nobody of street A has signed in within 30 days: its sign-ins are 40 days old (the clock is the test's).
        for user in ("op_a",):
            c.accounts.record_signin(user, T0 - timedelta(days=40))
        c.accounts.record_signin("op_b", T0 - timedelta(days=1))
        ids["at19"] = str(w.ok("op_a", f"/teams/{ids['team']}/strength", {"members": 19, "reason": "1人调离"})["position"])
        yield w


def item_of(w: World, user: str, unit: str, item: str) -> dict[str, Any]:
    body = w.get(user, "/readiness", params={"unit": unit}).json()
    card = next(u for u in body["units"] if u["unit_code"] == unit)
    return next(i for i in card["items"] if i["id"] == item)


def test_self_inspection_round_trip_to_sign_off_escalation_and_xlsx(world: World) -> None:
    w = world
    assert item_of(w, "op_a", A, "s1_4.team")["reason"]["zh"] == "综合应急救援队 19 人，差 1 人"
    before = w.container.log.max_position()
    # 自查: street A's desk over its own street, a special inspection of three 1+4 items; three gaps found.
    cid = w.ok("op_a", "/campaigns", {"kind": "self", "unit_code": A, "title": "新兴街道1+4专项自查", "items": ITEMS,
                                      "units": [A], "deadline": (T0 + timedelta(days=14)).isoformat()})["id"]
    campaign = w.get("op_a", f"/campaigns/{cid}").json()
    assert (campaign["checked"], campaign["passed"], campaign["findings"]) == (3, 0, 3)
    items = {i["item_id"]: i for i in campaign["items"]}
    assert set(items) == set(ITEMS)
    assert "救生衣 30/80" in items["s1_4.warehouse"]["reason"]["zh"]
    # A red item cannot be signed off: problem+json, nothing written.
    head = w.container.log.max_position()
    r = w.post("op_a", f"/rectifications/{items['s1_4.team']['id']}/sign-off", {"note": "已补员"})
    assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert "19 人" in r.json()["detail"] and w.container.log.max_position() == head
    # Fixed: the team grows to 20, the warehouse is restocked; both are signed off with their green reason as evidence.
    w.clock.advance(days=3)
    w.ok("op_a", f"/teams/{w.ids['team']}/strength", {"members": 20, "reason": "新招录队员1人"})
    w.ok("op_a", f"/warehouses/{w.ids['warehouse']}/receipts", {"lines": {"LIFE-JACKET": 60}})
    for item in ("s1_4.team", "s1_4.warehouse"):
        w.ok("op_a", f"/rectifications/{items[item]['id']}/sign-off", {"note": "对标销号"})
    done = {i["item_id"]: i for i in w.get("op_a", f"/campaigns/{cid}").json()["items"]}
    assert done["s1_4.team"]["status"] == "signed_off" and done["s1_4.team"]["evidence"]["zh"] == "新兴街道综合应急救援队 20 人"
    assert done["s1_4.team"]["on_time"] is True
    # The platform item stays red; the watchdog escalates it once, at its deadline and never again.
    dog = Watchdog(w.container.service, w.container.store, w.clock)
    w.clock.now = T0 + timedelta(days=14)
    assert dog.run_once() == 0
    w.clock.advance(seconds=1)
    assert dog.run_once() == 1
    assert w.container.wait_for(w.container.log.max_position(), 10)
    assert dog.run_once() == 0
    escalated = [n for n in w.container.log.read(before, 100_000) if n.topic.endswith("Rectification.Escalated")]
    assert [str(n.originator_id) for n in escalated] == [items["s1_4.platform"]["id"]]
    # On the board: the open item past its deadline is an alarm, marked escalated; the signed-off ones are gone.
    board = w.get("op_a", "/board", params={"min_position": w.container.log.max_position()}).json()
    assert [(a["rectification_id"], a["escalated"]) for a in board["alerts"] if a["kind"] == "rectification_overdue"] == [
        (items["s1_4.platform"]["id"], True)]
    # The report: the API's figures, and the same figures in the workbook.
    report = w.get("op_a", f"/campaigns/{cid}/report").json()
    assert report["total"] == {"units": 1, "checked": 3, "passed": 0, "found": 3, "signed_off": 2, "on_time": 2, "open": 1,
                               "overdue": 1, "escalated": 1}
    xlsx = w.get("op_a", f"/campaigns/{cid}/report", params={"format": "xlsx"})
    assert xlsx.status_code == 200
    rows = list(load_workbook(io.BytesIO(xlsx.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][1:] == tuple(term("campaignStat", k) for k in REPORT_FIELDS)
    assert rows[1] == ("新兴街道", *[report["streets"][A][k] for k in REPORT_FIELDS])
    assert rows[-1][1:] == tuple(report["total"][k] for k in REPORT_FIELDS)
    # The annual assessment: JSON and workbook agree.
    year = w.get("cmd_d", "/readiness/assessment", params={"year": 2026}).json()
    street_a = next(s for s in year["streets"] if s["street_code"] == A)
    assert (street_a["found"], street_a["signed_off"], street_a["open"], street_a["escalated"]) == (3, 2, 1, 1)
    book = w.get("cmd_d", "/readiness/assessment", params={"year": 2026, "format": "xlsx"})
    sheet = list(load_workbook(io.BytesIO(book.content)).worksheets[0].iter_rows(values_only=True))
    fields = ("units", "complete", "items", "green", "rate", "found", "signed_off", "open", "escalated")
    assert [r[1:] for r in sheet[1:-1]] == [tuple(s[k] for k in fields) for s in year["streets"]]
    assert sheet[-1][1:] == tuple(year["total"][k] for k in fields)
    # Replay: before the fix the team item stood red; the platform item is not judged there.
    past = w.get("cmd_d", "/readiness", params={"as_of": w.ids["at19"], "unit": A}).json()
    card = next(u for u in past["units"] if u["unit_code"] == A)
    by_id = {i["id"]: i for i in card["items"]}
    assert past["replay"] and by_id["s1_4.team"]["status"] == "red" and by_id["s1_4.platform"]["status"] == "unknown"


def test_scope_out_of_it_reads_404_and_the_wrong_runner_is_refused(world: World) -> None:
    w = world
    cid = w.ok("op_a", "/campaigns", {"kind": "self", "unit_code": A, "title": "新兴街道自查"})["id"]
    assert w.get("op_b", f"/campaigns/{cid}").status_code == 404
    assert w.get("op_b", f"/campaigns/{cid}/report", params={"format": "xlsx"}).status_code == 404
    assert w.get("op_b", "/rectifications").json()["total"] == 0
    assert {u["unit_code"] for u in w.get("op_b", "/readiness").json()["units"]} == {B, B1}
    some = w.get("op_a", "/rectifications").json()["items"][0]
    r = w.post("op_b", f"/rectifications/{some['id']}/sign-off", {})
    assert r.status_code == 404
    head = w.container.log.max_position()
    assert w.post("op_b", "/campaigns", {"kind": "self", "unit_code": A, "title": "x"}).status_code == 403  # another street's units
    assert w.post("op_a", "/campaigns", {"kind": "supervision", "unit_code": A, "title": "x"}).status_code == 422  # 督查 is the district's
    assert w.post("op_a", "/campaigns", {"kind": "supervision", "unit_code": D, "title": "x"}).status_code == 403
    assert w.post("op_a", "/campaigns", {"kind": "self", "unit_code": A, "title": "x", "items": ["s9.nope"]}).status_code == 422
    assert w.container.log.max_position() == head
    # 督查 by the district covers both streets and their villages.
    sid = w.ok("cmd_d", "/campaigns", {"kind": "supervision", "unit_code": D, "title": "区级督查考核"})["id"]
    assert set(w.get("cmd_d", f"/campaigns/{sid}").json()["units"]) == {A, A1, B, B1}
    assert w.get("op_a", f"/campaigns/{sid}").status_code == 404  # the district's campaign record; A sees its own items
    mine = w.get("op_a", "/rectifications").json()["items"]
    assert {i["street_code"] for i in mine} == {A}
