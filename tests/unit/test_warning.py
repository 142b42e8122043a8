"""The Warning, WarningReceipt and WarningCounter aggregates: given events, when a command, then events or a refusal."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

from domain.policy import receipt_due_at, warning_in_force
from domain.warnings import Warning, WarningCounter, WarningReceipt, cap_identifier, city_warning_id, receipt_id
from tests.unit.helpers import ACTOR, DISTRICT, STREET, VILLAGE, given, raises, then_events, then_one

T0 = datetime(2026, 7, 20, 1, 0, tzinfo=timezone.utc)


def new_warning(**kw: Any) -> Warning:
    fields: dict[str, Any] = dict(category="natural_disaster", subtype="rainstorm", level="red", headline=" 暴雨红色预警 ", onset=T0,
                                  expires=T0 + timedelta(hours=6), targets=[DISTRICT], issuer_unit=DISTRICT, by=ACTOR)
    fields.update(kw)
    return Warning.draft(**fields)


def issue(w: Warning) -> None:
    w.issue("id-1", T0, T0 + timedelta(minutes=15), [STREET, VILLAGE], by=ACTOR)


def test_a_draft_checks_hazard_level_times_and_targets() -> None:
    w = new_warning(targets=[STREET, VILLAGE, STREET])
    assert (w.headline, w.targets, w.status, w.revision) == ("暴雨红色预警", [STREET], "draft", 0)  # the widest target stays
    for bad, code in [({"subtype": "fire"}, "validation_error"), ({"level": "purple"}, "validation_error"),
                      ({"expires": T0}, "validation_error"), ({"targets": []}, "validation_error"),
                      ({"targets": ["411100001001"]}, "validation_error"), ({"headline": " "}, "validation_error"),
                      ({"issuer_unit": STREET, "targets": [DISTRICT]}, "validation_error")]:
        with raises(code):
            new_warning(**bad)


def test_issue_update_and_lift_keep_every_cap_message() -> None:
    w = given(new_warning)
    issue(w)
    then_one(w, "Warning.Issued")
    with raises("invalid_transition", w):
        issue(w)
    w.update({"level": "orange", "headline": "暴雨橙色预警"}, "雨势减弱", "id-2", T0 + timedelta(hours=1), by=ACTOR)
    e = then_one(w, "Warning.Updated")
    assert (e.changes, e.previous, e.revision) == ({"level": "orange", "headline": "暴雨橙色预警"},
                                                   {"level": "red", "headline": "暴雨红色预警"}, 2)
    with raises("validation_error", w):
        w.update({"level": "orange"}, "", "id-3", T0, by=ACTOR)  # changes nothing
    with raises("validation_error", w):
        w.update({"targets": [STREET]}, "", "id-3", T0, by=ACTOR)  # not an updatable field
    with raises("validation_error", w):
        w.lift(" ", "id-3", T0, by=ACTOR)
    w.lift("降雨结束", "id-3", T0 + timedelta(hours=2), by=ACTOR)
    assert then_events(w) == ["Warning.Lifted"]
    assert [m["msg_type"] for m in w.messages] == ["Alert", "Update", "Cancel"] and w.status == "lifted"


def test_expiry_is_judged_from_time() -> None:
    w = given(new_warning, issue)
    assert w.in_force(T0 + timedelta(hours=5, minutes=59)) and not w.in_force(T0 + timedelta(hours=6))
    assert not warning_in_force("lifted", T0 + timedelta(hours=1), T0)
    with raises("validation_error", w := given(new_warning)):
        w.issue("x", T0 + timedelta(hours=7), T0 + timedelta(hours=8), [STREET], by=ACTOR)  # already expired


def test_a_city_alert_names_its_copy() -> None:
    w = new_warning(upstream={"sender": "xuchang", "identifier": "C-1"}, source="city")
    assert w.id == city_warning_id("xuchang", "C-1") and new_warning().id != new_warning().id


def test_a_receipt_is_signed_once_late_after_its_deadline_and_escalated_once() -> None:
    deadline = receipt_due_at(T0, "red")
    assert deadline == T0 + timedelta(minutes=15) and receipt_due_at(T0, "blue") == T0 + timedelta(minutes=120)
    wid = uuid4()
    r = given(lambda: WarningReceipt(warning_id=wid, unit_code=VILLAGE, level="red", exercise=False, deadline=deadline, by=ACTOR))
    assert r.id == receipt_id(wid, VILLAGE)
    with raises("invalid_transition", r):
        r.escalate(deadline - timedelta(seconds=1), by=ACTOR)
    r.escalate(deadline, by=ACTOR)
    then_one(r, "WarningReceipt.Escalated")
    with raises("invalid_transition", r):
        r.escalate(deadline + timedelta(hours=1), by=ACTOR)
    r.acknowledge(deadline + timedelta(minutes=3), by=ACTOR)
    assert then_one(r, "WarningReceipt.Acknowledged").late is True
    with raises("invalid_transition", r):
        r.acknowledge(deadline, by=ACTOR)
    with raises("validation_error", r):
        r.report_response({"boats": 2}, "", by=ACTOR)
    with raises("validation_error", r):
        r.report_response({"patrols": -1}, "", by=ACTOR)
    r.report_response({"patrols": 3, "people_moved": 12}, "已转移", by=ACTOR)
    assert r.measures == {"patrols": 3, "people_moved": 12}


def test_the_counter_numbers_each_message_of_a_unit_and_the_identifier_has_the_national_form() -> None:
    c = WarningCounter(unit_code=STREET, by=ACTOR)
    assert [c.next(ACTOR), c.next(ACTOR), c.next(ACTOR)] == [1, 2, 3]
    assert cap_identifier(STREET, "416", "00", T0, 7) == "411099416001" + "00_20260720090000_0007"
    with raises("validation_error"):
        cap_identifier(STREET, "41", "00", T0, 1)


def test_a_raised_warning_is_delivered_again_once_per_version() -> None:
    deadline = T0 + timedelta(minutes=60)
    r = given(lambda: WarningReceipt(warning_id=uuid4(), unit_code=VILLAGE, level="yellow", exercise=False, deadline=deadline, by=ACTOR))
    r.acknowledge(T0, by=ACTOR)
    r.escalated = False
    r.collect_events()
    r.redeliver(2, "red", T0 + timedelta(minutes=75), by=ACTOR)
    then_one(r, "WarningReceipt.Redelivered")
    assert (r.status, r.level, r.revision, r.escalated) == ("pending", "red", 2, False)
    with raises("invalid_transition", r):
        r.redeliver(2, "red", T0, by=ACTOR)
    r.acknowledge(T0 + timedelta(minutes=80), by=ACTOR)
    assert then_one(r, "WarningReceipt.Acknowledged").late is True
