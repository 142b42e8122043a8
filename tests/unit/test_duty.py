"""The duty roster (值班表) and the shift handover (交接班) as pure domain rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from domain.common import Actor
from domain.duty import DutyDay, Handover
from tests.unit.helpers import ACTOR, STREET, VILLAGE, given, raises, then_events

TODAY = date(2026, 7, 20)
NOW = datetime(2026, 7, 21, 0, 20, tzinfo=timezone.utc)  # 08:20 in Shanghai: the end of the 20th's shift
LEADER = {"name": "张局长", "phone": "13903740001"}
OFFICERS = [{"name": "李静", "phone": "0374-6600001"}, {"name": "王刚", "phone": ""}]
INCOMING = Actor(user="morning", role="operator", unit=STREET)


def new_day(day: date = TODAY, **kw) -> DutyDay:  # type: ignore[no-untyped-def]
    fields = dict(unit_code=STREET, unit_kind="street", day=day, today=TODAY, leader=LEADER, officers=OFFICERS, by=ACTOR)
    fields.update(kw)
    return DutyDay.schedule(**fields)


def test_the_roster_is_kept_from_today_to_a_month_ahead() -> None:
    assert new_day(TODAY + timedelta(days=31)).day == "2026-08-20"
    for day in (TODAY - timedelta(days=1), TODAY + timedelta(days=32)):
        with raises("validation_error") as info:
            new_day(day)
        assert info.value.extra["field"] == "day"


def test_a_roster_names_a_leader_and_one_to_eight_officers_with_phones() -> None:
    for kw in ({"officers": []}, {"officers": [LEADER] * 9}, {"leader": {"name": ""}}, {"leader": {"name": "甲", "phone": "call me"}},
               {"leader": {"name": "甲", "phone": "1", "email": "x"}}, {"unit_kind": "village", "unit_code": VILLAGE}):
        with raises("validation_error"):
            new_day(**kw)


def test_changing_a_day_records_the_change_and_the_same_roster_records_nothing() -> None:
    d = given(new_day)
    d.change(LEADER, OFFICERS, TODAY, by=ACTOR)
    assert then_events(d) == []
    d.change(LEADER, OFFICERS[:1], TODAY, by=ACTOR)
    assert then_events(d) == ["DutyDay.Changed"] and d.officers == OFFICERS[:1]
    with raises("validation_error", d):
        d.change(LEADER, OFFICERS, TODAY + timedelta(days=1), by=ACTOR)  # the day has passed


def new_handover(grace: timedelta = timedelta(minutes=30)) -> Handover:
    return Handover.sign(unit_code=STREET, unit_kind="street", day=TODAY, shift_from=NOW - timedelta(hours=24), to_position=42,
                         open_items=[{"kind": "incident_open", "ref": "x", "title": "积水"}], notes="夜间平稳", now=NOW,
                         grace=grace, by=ACTOR)


def test_the_incoming_officer_confirms_a_handover_not_the_one_who_signed_it() -> None:
    h = given(new_handover)
    assert h.confirm_by == NOW + timedelta(minutes=30)
    with raises("validation_error", h):
        h.confirm("", by=ACTOR)
    h.confirm("已接班", by=INCOMING)
    assert then_events(h) == ["Handover.Confirmed"]
    with raises("invalid_transition", h):
        h.confirm("", by=INCOMING)
    with raises("invalid_transition", h):
        h.escalate(NOW + timedelta(hours=1), by=ACTOR)  # confirmed: nothing to raise


def test_an_unconfirmed_handover_is_escalated_once_after_its_grace() -> None:
    h = given(new_handover)
    with raises("invalid_transition", h):
        h.escalate(NOW + timedelta(minutes=29), by=ACTOR)
    h.escalate(NOW + timedelta(minutes=30), by=ACTOR)
    assert then_events(h) == ["Handover.Escalated"]
    with raises("invalid_transition", h):
        h.escalate(NOW + timedelta(hours=2), by=ACTOR)
    h.confirm("迟到接班", by=INCOMING)  # confirming late still clears it
    assert h.status == "confirmed"


def test_open_items_are_of_known_kinds() -> None:
    with raises("validation_error"):
        Handover.sign(unit_code=STREET, unit_kind="street", day=TODAY, shift_from=NOW, to_position=1,
                      open_items=[{"kind": "typed_by_hand"}], notes="", now=NOW, grace=timedelta(0), by=ACTOR)
