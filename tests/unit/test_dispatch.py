"""Dispatch: ordered -> acknowledged -> departed -> arrived -> completed; declined early, cancelled while active."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from domain.dispatches import ACTIVE, FINAL, Dispatch
from tests.unit.helpers import ACTOR, FIELD, T0, VILLAGE, given, new_dispatch, raises, then_events, then_one, uid

ack = lambda d: d.acknowledge(by=FIELD)  # noqa: E731
depart = lambda d: d.depart(by=FIELD)  # noqa: E731
arrive = lambda d: d.arrive(by=FIELD)  # noqa: E731
complete = lambda d: d.complete(by=FIELD)  # noqa: E731
decline = lambda d: d.decline("人员不足", by=FIELD)  # noqa: E731
cancel = lambda d: d.cancel("险情解除", by=ACTOR)  # noqa: E731

PATH_TO = {
    "ordered": (),
    "acknowledged": (ack,),
    "departed": (ack, depart),
    "arrived": (ack, depart, arrive),
    "completed": (ack, depart, arrive, complete),
    "declined": (decline,),
    "declined_after_ack": (ack, decline),
    "cancelled": (cancel,),
    "cancelled_on_the_way": (ack, depart, cancel),
    "cancelled_on_site": (ack, depart, arrive, cancel),
}


def dispatch_in(path: str) -> Dispatch:
    d = given(new_dispatch, *PATH_TO[path])
    assert d.status == path.split("_")[0]
    return d


class TestOrder:
    def test_order_emits_ordered_with_every_field(self):
        incident_id, team_id = uid(10), uid(20)
        deadline = T0 + timedelta(minutes=15)
        d = Dispatch.order(
            incident_id=incident_id, team_id=team_id, unit_code=VILLAGE, task="  转移群众 ", ack_deadline=deadline, by=ACTOR
        )
        e = then_one(d, "Dispatch.Ordered")
        assert e.originator_id == d.id
        assert (e.incident_id, e.team_id, e.unit_code, e.task, e.ack_deadline, e.by) == (
            incident_id, team_id, VILLAGE, "转移群众", deadline, ACTOR
        )
        assert d.status == "ordered" and d.is_active

    @pytest.mark.parametrize("task", ["", "  "])
    def test_empty_task_is_a_validation_error(self, task):
        with raises("validation_error") as info:
            new_dispatch(task=task)
        assert info.value.extra["field"] == "task"

    def test_naive_ack_deadline_is_a_validation_error(self):
        with raises("validation_error") as info:
            new_dispatch(ack_deadline=datetime(2026, 7, 20, 9, 0))
        assert info.value.extra["field"] == "ack_deadline"


# command -> (allowed from, event, status after)
COMMANDS = {
    "acknowledge": (ack, {"ordered"}, "Dispatch.Acknowledged", "acknowledged"),
    "depart": (depart, {"acknowledged"}, "Dispatch.Departed", "departed"),
    "arrive": (arrive, {"departed"}, "Dispatch.Arrived", "arrived"),
    "complete": (complete, {"arrived"}, "Dispatch.Completed", "completed"),
    "decline": (decline, {"ordered", "acknowledged"}, "Dispatch.Declined", "declined"),
    "cancel": (cancel, {"ordered", "acknowledged", "departed", "arrived"}, "Dispatch.Cancelled", "cancelled"),
}


@pytest.mark.parametrize("path", list(PATH_TO))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_transition_table(command, path):
    act, allowed, event_name, after = COMMANDS[command]
    d = dispatch_in(path)
    before = d.status
    if before in allowed:
        act(d)
        assert then_events(d) == [event_name]
        assert d.status == after
        assert d.is_active == (after in ACTIVE)
    else:
        with raises("invalid_transition", d) as info:
            act(d)
        assert info.value.extra["state"] == before


def test_active_and_final_partition_the_statuses():
    assert ACTIVE.isdisjoint(FINAL)
    assert {s.value for s in ACTIVE | FINAL} == {"ordered", "acknowledged", "departed", "arrived", "completed", "declined", "cancelled"}


class TestHappyPath:
    def test_each_step_records_who_did_it(self):
        d = given(new_dispatch)
        d.acknowledge(by=FIELD)
        assert then_one(d, "Dispatch.Acknowledged").by == FIELD
        d.depart(by=FIELD)
        assert then_one(d, "Dispatch.Departed").by == FIELD
        d.arrive(by=FIELD)
        assert then_one(d, "Dispatch.Arrived").by == FIELD
        d.complete(by=ACTOR, note="任务完成")
        e = then_one(d, "Dispatch.Completed")
        assert (e.note, e.by) == ("任务完成", ACTOR)
        assert d.status == "completed" and not d.is_active

    def test_versions_increase_by_one(self):
        d = given(new_dispatch, ack, depart)
        d.arrive(by=FIELD)
        assert then_one(d, "Dispatch.Arrived").originator_version == 4


class TestSpecificRefusals:
    def test_depart_before_acknowledge(self):
        d = given(new_dispatch)
        with raises("invalid_transition", d) as info:
            d.depart(by=FIELD)
        assert info.value.extra == {"state": "ordered", "allowed_from": ["acknowledged"]}

    def test_arrive_before_depart(self):
        d = given(new_dispatch, ack)
        with raises("invalid_transition", d):
            d.arrive(by=FIELD)

    def test_complete_before_arrive(self):
        d = given(new_dispatch, ack, depart)
        with raises("invalid_transition", d):
            d.complete(by=FIELD)

    def test_decline_after_depart(self):
        d = given(new_dispatch, ack, depart)
        with raises("invalid_transition", d):
            d.decline("太远", by=FIELD)

    def test_cancel_a_completed_dispatch(self):
        d = dispatch_in("completed")
        with raises("invalid_transition", d):
            d.cancel("oops", by=ACTOR)

    def test_acknowledge_twice(self):
        d = given(new_dispatch, ack)
        with raises("invalid_transition", d):
            d.acknowledge(by=FIELD)


class TestReasons:
    @pytest.mark.parametrize("path", ["ordered", "acknowledged"])
    def test_decline_with_a_reason(self, path):
        d = dispatch_in(path)
        d.decline("  车辆故障 ", by=FIELD)
        e = then_one(d, "Dispatch.Declined")
        assert (e.reason, e.by) == ("车辆故障", FIELD)

    @pytest.mark.parametrize("path", ["ordered", "acknowledged", "departed", "arrived"])
    def test_cancel_with_a_reason(self, path):
        d = dispatch_in(path)
        d.cancel(" 改派其他队伍 ", by=ACTOR)
        e = then_one(d, "Dispatch.Cancelled")
        assert (e.reason, e.by) == ("改派其他队伍", ACTOR)

    @pytest.mark.parametrize("reason", ["", "   "])
    def test_decline_without_reason_is_a_validation_error(self, reason):
        d = given(new_dispatch)
        with raises("validation_error", d) as info:
            d.decline(reason, by=FIELD)
        assert info.value.extra["field"] == "reason"

    @pytest.mark.parametrize("reason", ["", "   "])
    @pytest.mark.parametrize("path", ["ordered", "arrived"])
    def test_cancel_without_reason_is_a_validation_error(self, path, reason):
        d = dispatch_in(path)
        with raises("validation_error", d) as info:
            d.cancel(reason, by=ACTOR)
        assert info.value.extra["field"] == "reason"

    def test_state_is_checked_before_the_reason(self):
        d = dispatch_in("completed")
        with raises("invalid_transition", d):
            d.cancel("", by=ACTOR)
