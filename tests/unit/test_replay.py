"""Replaying an aggregate's events rebuilds the same state (apply never re-checks), and recorded events stay as recorded."""

from __future__ import annotations

import copy
from typing import Any

from tests.unit.helpers import (
    ACTOR,
    FIELD,
    STREET,
    VILLAGE,
    new_allocation,
    new_dispatch,
    new_incident,
    new_team,
    new_unit,
    stocked,
    uid,
)


def replay(events: list[Any]) -> Any:
    agg = None
    for e in events:
        agg = e.mutate(agg)
    return agg


def public_state(agg: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(agg).items() if k != "_pending_events"}


def check_replay(agg: Any, events: list[Any]) -> None:
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    assert {e.originator_id for e in events} == {agg.id}
    rebuilt = replay(events)
    assert type(rebuilt) is type(agg)
    assert public_state(rebuilt) == public_state(agg)


def test_incident_replays():
    inc = new_incident()
    inc.update_situation({"injured": 2}, "n", by=ACTOR)
    inc.verify(by=ACTOR)
    inc.change_level("II", "r", by=ACTOR)
    inc.control(by=ACTOR)
    inc.update_situation({"injured": 3, "deaths": 1}, "", by=ACTOR)
    inc.close("done", by=ACTOR)
    check_replay(inc, inc.collect_events())


def test_team_replays():
    team = new_team()
    team.set_duty(False, by=ACTOR)
    team.set_duty(True, by=ACTOR)
    team.assign(uid(1), by=ACTOR)
    team.release(uid(1), by=ACTOR)
    team.assign(uid(2), by=ACTOR)
    check_replay(team, team.collect_events())


def test_dispatch_replays():
    d = new_dispatch()
    d.acknowledge(by=FIELD)
    d.depart(by=FIELD)
    d.arrive(by=FIELD)
    d.complete(by=FIELD)
    check_replay(d, d.collect_events())


def test_warehouse_replays():
    w = stocked({"TENT-12": 10, "QUILT": 10})()
    w.set_minimum("QUILT", 3, by=ACTOR)
    w.reserve(uid(1), {"TENT-12": 4}, by=ACTOR)
    w.reserve(uid(2), {"QUILT": 4, "TENT-12": 1}, by=ACTOR)
    w.release(uid(2), by=ACTOR)
    w.issue(uid(1), by=ACTOR)
    w.take_back(uid(1), {"TENT-12": 1}, by=ACTOR)
    w.count("QUILT", 9, "", by=ACTOR)
    check_replay(w, w.collect_events())


def test_allocation_replays():
    a = new_allocation({"TENT-12": 3, "QUILT": 2})
    a.ship(by=ACTOR)
    a.deliver("", by=FIELD)
    a.give_back({"TENT-12": 1}, by=FIELD)
    a.give_back({"TENT-12": 2, "QUILT": 2}, by=FIELD)
    events = a.collect_events()
    check_replay(a, events)
    assert replay(events).status == "returned"


def test_unit_replays():
    u = new_unit(VILLAGE, "village", parts={"militia_team": 1})
    u.update_parts({"militia_team": 2, "info_reporter": 1}, by=ACTOR)
    check_replay(u, u.collect_events())
    s = new_unit(STREET, "street")
    check_replay(s, s.collect_events())


def test_later_commands_do_not_alter_recorded_events():
    """Aggregate state must not share mutable objects with the events that built it."""
    a = new_allocation({"TENT-12": 3})
    [requested] = a.collect_events()
    a.ship(by=ACTOR)
    a.deliver("", by=FIELD)
    a.give_back({"TENT-12": 1}, by=FIELD)
    assert requested.lines == {"TENT-12": 3}

    u = new_unit(STREET, "street", parts={"committee": 1})
    [registered] = u.collect_events()
    u.update_parts({"committee": 2, "warehouses": 1}, by=ACTOR)
    assert registered.parts == {"committee": 1}

    w = stocked({"TENT-12": 5})()
    w.collect_events()
    w.reserve(uid(1), {"TENT-12": 2}, by=ACTOR)
    [reserved] = w.collect_events()
    snapshot = copy.deepcopy(reserved.lines)
    w.release(uid(1), by=ACTOR)
    assert reserved.lines == snapshot

    inc = new_incident()
    inc.collect_events()
    inc.update_situation({"injured": 1}, "", by=ACTOR)
    [first] = inc.collect_events()
    inc.update_situation({"injured": 5, "deaths": 1}, "", by=ACTOR)
    assert first.figures == {"injured": 1}
