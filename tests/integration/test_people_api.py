"""The people register, the directory and training over HTTP, in-process: scope and privacy (another street's
phones never come back: list, search, one record, export; nor into a log line), bad input refused as
problem+json with nothing written, search by name, post and unit with keyset pages, the .xlsx export read back."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.glossary import term
from domain.policy import local_day
from projections.people import holders, unit_summary
from tests.integration.scoped_district import A1, A2, B1, District, serve

openpyxl = pytest.importorskip("openpyxl")
PHONE_A1, PHONE_B1 = "13800000001", "13800000002"  # the sweep district's reporters of villages A1 and B1


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def d(settings: Any) -> Iterator[District]:
    with serve(settings) as district:
        yield district


def refused(d: District, viewer: str, path: str, body: Any, status: int, code: str) -> None:
    head = d.container.log.max_position()
    r = d.post(viewer, path, body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json" and r.json()["code"] == code, r.text
    assert d.container.log.max_position() == head, "a refused command wrote to the log"


def ok(d: District, viewer: str, path: str, body: Any = None) -> dict[str, Any]:
    r = d.post(viewer, path, body)
    assert r.status_code in (200, 201), r.text
    d.settle()
    return r.json()  # type: ignore[no-any-return]


def test_another_streets_phones_never_come_back_nor_reach_a_log_line(d: District, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    own = {"A": PHONE_A1, "B": PHONE_B1}
    for viewer, other in (("A", PHONE_B1), ("B", PHONE_A1)):
        other_person = d.ids["PB1" if viewer == "A" else "PA1"]
        answers = [d.get(viewer, "/people"), d.get(viewer, "/people", params={"q": "PERSON"}),
                   d.get(viewer, "/people", params={"post": "info_reporter"}), d.get(viewer, "/people", params={"unit": B1}),
                   d.get(viewer, "/trainings"), d.get(viewer, f"/trainings/{d.ids['TRB' if viewer == 'A' else 'TRA']}")]
        assert own[viewer] in answers[0].text  # the viewer's own people do come back, with their phones
        for r in answers:
            assert other not in r.text, (viewer, r.url, r.text[:300])
        assert d.get(viewer, f"/people/{other_person}").status_code == 404  # as if unknown
        export = d.get(viewer, "/people", params={"format": "xlsx"})
        cells = [c for row in openpyxl.load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True) for c in row]
        assert own[viewer] in cells and other not in cells
    for viewer in ("V", "F"):  # a reporter's and a team's phone do not read the directory at all
        assert d.get(viewer, "/people").status_code == 403 and d.get(viewer, f"/people/{d.ids['PA1']}").status_code == 403
    ok(d, "A", "/people", {"unit_code": A1, "name": "魏秀英", "phone": "13800000077", "posts": ["persuader"]})
    assert not [r.getMessage() for r in caplog.records if any(p in r.getMessage() for p in (PHONE_A1, PHONE_B1, "13800000077"))]


def test_the_register_refuses_bad_input_and_searches_by_name_post_and_unit(d: District) -> None:
    good = {"unit_code": A1, "name": "魏秀英", "phone": "13800000077", "posts": ["station_head"]}
    refused(d, "A", "/people", {**good, "phone": "call me"}, 422, "validation_error")
    refused(d, "A", "/people", {**good, "posts": ["committee_director"]}, 422, "validation_error")  # not a village's post
    refused(d, "A", "/people", {**good, "posts": ["station_head", "station_head"]}, 422, "validation_error")
    refused(d, "A", "/people", {**good, "posts": ["captain"]}, 422, "validation_error")
    refused(d, "A", "/people", {**good, "extra": 1}, 422, "validation_error")
    refused(d, "A", "/people", {**good, "unit_code": B1}, 403, "forbidden")  # another street's village
    refused(d, "V", "/people", good, 403, "forbidden")  # a reporter does not keep the register
    refused(d, "A", "/people", {**good, "posts": ["team_member"], "team_id": d.ids["TB"]}, 404, "not_found")
    head = ok(d, "A", "/people", good)["id"]
    ok(d, "A", "/people", {"unit_code": A1, "name": "魏建军", "phone": "13800000078", "posts": ["persuader", "militia"]})
    ok(d, "A", "/people", {"unit_code": A2, "name": "刘建军", "phone": "13800000079", "posts": ["persuader"]})
    names = lambda **q: sorted(p["name"] for p in d.get("A", "/people", params=q).json()["items"])  # noqa: E731
    assert names(q="建军") == ["刘建军", "魏建军"]
    assert names(post="persuader") == ["刘建军", "魏建军"]
    assert names(post="persuader", unit=A1) == ["魏建军"]
    assert names(post="militia", q="刘") == []
    assert d.get("A", "/people", params={"post": "nobody"}).status_code == 422
    first = d.get("A", "/people", params={"limit": 2}).json()
    second = d.get("A", "/people", params={"limit": 2, "cursor": first["next"]}).json()
    assert first["total"] == second["total"] == 4 and {p["id"] for p in first["items"]}.isdisjoint(p["id"] for p in second["items"])
    # contact, posts, a linked account, leaving: each refused when it changes nothing or breaks a rule
    ok(d, "A", f"/people/{head}/contact", {"name": "魏秀英", "phone": "13800000088"})
    refused(d, "A", f"/people/{head}/contact", {"name": "魏秀英", "phone": "13800000088"}, 422, "validation_error")
    refused(d, "B", f"/people/{head}/contact", {"name": "魏秀英", "phone": "13800000089"}, 404, "not_found")
    ok(d, "A", f"/people/{head}/posts", {"posts": ["station_head", "info_reporter"]})
    refused(d, "A", f"/people/{head}/account", {"username": "cmd_b"}, 422, "validation_error")  # street B's account
    ok(d, "A", f"/people/{head}/account", {"username": "rep_a1"})
    ok(d, "A", f"/people/{head}/left", {"reason": "调任镇政府"})
    refused(d, "A", f"/people/{head}/left", {"reason": "再次"}, 409, "invalid_transition")
    doc = d.get("A", f"/people/{head}").json()
    assert (doc["phone"], doc["posts"], doc["account"], doc["status"]) == ("13800000088", ["station_head", "info_reporter"],
                                                                         "rep_a1", "left")
    assert names(status="active", unit=A1) == [m for m in names(unit=A1) if m != "魏秀英"]
    sheet = openpyxl.load_workbook(io.BytesIO(d.get("A", "/people", params={"format": "xlsx", "unit": A1}).content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == tuple(term("personField", k) for k in ("unit", "name", "phone", "posts"))
    assert {r[1] for r in rows[1:]} == set(names(unit=A1)) and "安全劝导员、民兵应急连" in {r[3] for r in rows[1:]}


def test_training_attendees_are_people_in_scope_and_their_days_reach_the_directory(d: District) -> None:
    today = local_day(d.container.service.clock())
    store = d.container.store
    pa1, pb1 = d.ids["PA1"], d.ids["PB1"]
    new = ok(d, "A", "/people", {"unit_code": A1, "name": "魏长河", "phone": "13800000090", "posts": ["info_reporter"]})["id"]
    assert unit_summary(store, A1, today)["untrained_reporters"] == ["魏长河"]
    session = {"unit_code": "411099001000", "day": today.isoformat(), "topic": "灾情报送", "hours": 2, "attendees": [new]}
    refused(d, "A", "/trainings", {**session, "attendees": [new, pb1]}, 404, "not_found")  # another street's person
    refused(d, "A", "/trainings", {**session, "day": (today + timedelta(days=1)).isoformat()}, 422, "validation_error")
    refused(d, "A", "/trainings", {**session, "hours": 0}, 422, "validation_error")
    refused(d, "A", "/trainings", {**session, "unit_code": A2}, 422, "validation_error")  # A2 does not hold A1's people
    tid = ok(d, "A", "/trainings", session)["id"]
    refused(d, "A", f"/trainings/{tid}/attendees", {"attendees": [new]}, 422, "validation_error")  # already there
    ok(d, "A", f"/trainings/{tid}/attendees", {"attendees": [pa1]})
    training = d.get("A", f"/trainings/{tid}").json()
    assert (training["level"], training["attendee_count"], [a["name"] for a in training["attendees"]][0]) == ("street", 2, "魏长河")
    assert d.get("B", f"/trainings/{tid}").status_code == 404
    assert d.get("A", f"/people/{new}").json()["last_trained"] == today.isoformat()
    summary = unit_summary(store, A1, today)
    assert summary["untrained_reporters"] == [] and len(summary["trained_reporters"]) == 2 and summary["posts"]["info_reporter"] == 2
    assert [p["name"] for p in holders(store, A1, "info_reporter")] == sorted(p["name"] for p in holders(store, A1, "info_reporter"))
    assert holders(store, A1, "persuader") == [] and {p["id"] for p in holders(store, A1, "info_reporter")} == {new, pa1}


def test_the_relay_sends_the_city_person_events_without_their_phones(settings: Any) -> None:
    """The city link mirrors the log, but the register's phones stay in the district (gateway/citylink/privacy.py);
    the district's own copies (GET /events, the backup) keep them."""
    import json

    from gateway.citylink.cloudevents import to_cloudevent
    from gateway.container import Container
    from gateway.context import CommandContext, Principal
    from gateway.service_layer import commands as cmd

    settings = settings.model_copy(update={"run_projector": False, "upstream_url": "http://127.0.0.1:9",
                                           "upstream_secret": "whsec_" + "c2VjcmV0LW9mLWF0LWxlYXN0LTMyLWJ5dGVzLWxvbmchIQ=="})
    c = Container.build(settings)
    try:
        admin = CommandContext(Principal("t", "admin", "411099000000"), request_id="t")
        for code, name, kind in (("411099000000", "东城区", "district"), ("411099001000", "新兴街道", "street"), (A1, "魏庄村", "village")):
            c.service.handle(admin, cmd.RegisterUnit(code=code, name=name, kind=kind))
        pid = c.service.handle(admin, cmd.RegisterPerson(unit_code=A1, name="赵敏", phone="13803749999", posts=["info_reporter"])).id
        c.service.handle(admin, cmd.UpdatePersonContact(person_id=UUID(pid), name="赵敏", phone="13803748888"))
        relay = c.make_relay()
        try:
            body = relay.prepare(0).body  # type: ignore[union-attr]
        finally:
            relay.http.close()
        batch = json.loads(body)
        people = [e for e in batch if e["type"].startswith("cn.gov.yingji.person.")]
        assert [e["data"]["phone"] for e in people] == ["", ""] and people[0]["data"]["name"] == "赵敏"
        assert b"13803749999" not in body and b"13803748888" not in body
        own = [to_cloudevent(c.log, n, "/districts/411099000000") for n in c.log.read(0, 100)]
        assert [e["data"]["phone"] for e in own if e["type"].startswith("cn.gov.yingji.person.")] == ["13803749999", "13803748888"]
    finally:
        c.close()


def test_the_demo_register_has_the_mix_the_scorecards_show(settings: Any) -> None:
    """Every street's committee and office full but 祖师街道's (4 of 5 full-time staff); every village's reporter
    trained this year but 榆林社区's and 清潩社区's; 魏庄村's reporter is the `reporter` account."""
    from gateway.container import Container
    from gateway.tools.seed import seed_demo

    c = Container.build(settings.model_copy(update={"run_projector": False}))
    try:
        seed_demo(c)
        c.projector.catch_up()
        today = local_day(c.service.clock())
        units = {u["code"]: u for u in c.store.list("unit", limit=1000)[0]}
        staff, untrained = {}, []
        for code, unit in sorted(units.items()):
            summary = unit_summary(c.store, code, today)
            if unit["kind"] in ("street", "cluster"):
                staff[unit["name"]] = summary["posts"].get("office_staff", 0)
                assert summary["posts"]["committee_director"] == 2 and summary["posts"]["office_deputy"] == 1
            elif unit["kind"] in ("village", "community"):
                assert summary["posts"]["info_reporter"] == 1 and summary["posts"]["station_head"] == 1
                untrained += [unit["name"]] if summary["untrained_reporters"] else []
                assert all(date.fromisoformat(d).year == today.year for d in [summary["last_trained"]] if d)
        assert {n: k for n, k in staff.items() if k != 5} == {"祖师街道": 4}
        assert untrained == ["榆林社区", "清潩社区"]
        [zhao] = [p for p in holders(c.store, "411099001001", "info_reporter")]
        assert (zhao["name"], zhao["account"]) == ("赵敏", "reporter")
    finally:
        c.close()
