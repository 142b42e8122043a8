"""Read models: fold the events of a scenario through projections.fold.MemoryDocs and check the documents.

Events are collected in the order the command service saves them (gateway/service_layer/service.py):
order_dispatch saves [dispatch, team], complete/decline/cancel_dispatch [dispatch, team],
request/ship/return/cancel_allocation [allocation, warehouse], deliver_allocation [allocation].
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from domain.units import Unit
from projections.board import assemble, derive, on_board, street_of
from projections.catalog import KINDS, READ_MODELS
from projections.fold import MemoryDocs, apply_event
from tests.unit.helpers import (
    ACTOR,
    DISTRICT,
    FIELD,
    OTHER_STREET,
    STREET,
    T0,
    VILLAGE,
    new_dispatch,
    new_incident,
    new_team,
    new_warehouse,
    new_allocation,
)


class Log:
    """Saves aggregates' pending events in order, like the command service, and folds them as it goes."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.docs = MemoryDocs()

    def save(self, *aggs: Any) -> list[Any]:
        events = [e for agg in aggs for e in agg.collect_events()]
        for e in events:
            self.events.append(e)
            self.docs.apply(e, position=len(self.events))
        return events

    def doc(self, kind: str, doc_id: Any) -> dict[str, Any]:
        doc = self.docs.get(kind, str(doc_id))
        assert doc is not None, (kind, doc_id)
        return doc

    def stamp(self, name: str, nth: int = -1) -> str:
        """ISO timestamp of the nth event with this qualified name."""
        return [e for e in self.events if type(e).__qualname__ == name][nth].timestamp.isoformat()


def register_units(log: Log) -> None:
    log.save(Unit.register(code=DISTRICT, name="示范区", kind="district", by=ACTOR))
    log.save(Unit.register(code=STREET, name="城关街道", kind="street", by=ACTOR, parts={"rescue_team_size": 20}))
    log.save(Unit.register(code=OTHER_STREET, name="产业集聚区", kind="cluster", by=ACTOR))
    log.save(Unit.register(code=VILLAGE, name="东村", kind="village", by=ACTOR))


def order_dispatch(log: Log, incident, team, task: str = "加固堤坝"):  # type: ignore[no-untyped-def]
    dispatch = new_dispatch(incident_id=incident.id, team_id=team.id, unit_code=incident.unit_code, task=task)
    team.assign(dispatch.id, by=ACTOR)
    log.save(dispatch, team)
    return dispatch


def request_allocation(log: Log, incident, warehouse, lines):  # type: ignore[no-untyped-def]
    allocation = new_allocation(dict(lines), incident_id=incident.id, warehouse_id=warehouse.id, unit_code=incident.unit_code)
    warehouse.reserve(allocation.id, allocation.lines, by=ACTOR)
    log.save(allocation, warehouse)
    return allocation


def assert_stock_matches(log: Log, warehouse) -> None:  # type: ignore[no-untyped-def]
    """The projected stock agrees with the aggregate's own figures."""
    stock = log.doc("warehouse", warehouse.id)["stock"]
    for code in set(stock) | set(warehouse.on_hand):
        assert stock[code]["on_hand"] == warehouse.on_hand.get(code, 0), code
        assert stock[code]["reserved"] == warehouse.reserved.get(code, 0), code
        assert stock[code]["minimum"] == warehouse.minimum.get(code, 0), code


@pytest.fixture
def log() -> Log:
    log = Log()
    register_units(log)
    return log


# -- the whole scenario ------------------------------------------------------
def test_full_scenario(log: Log):
    team = new_team(name="城关综合救援队", unit_code=STREET, members=24, leader="张三")
    log.save(team)
    warehouse = new_warehouse(name="城关物资仓库", unit_code=STREET)
    warehouse.receive({"TENT-12": 20, "QUILT": 100}, "入库", by=ACTOR)
    warehouse.set_minimum("TENT-12", 10, by=ACTOR)
    log.save(warehouse)

    # units
    assert {d["code"] for d in log.docs.of_kind("unit")} == {DISTRICT, STREET, OTHER_STREET, VILLAGE}
    village = log.doc("unit", VILLAGE)
    assert (village["name"], village["kind"], village["parent_code"]) == ("东村", "village", STREET)
    assert log.doc("unit", STREET)["parts"] == {"rescue_team_size": 20}

    # the incident
    incident = new_incident(title="河道漫堤", level="III", address="东堤")
    log.save(incident)
    doc = log.doc("incident", incident.id)
    assert (doc["status"], doc["title"], doc["level"], doc["unit_code"]) == ("reported", "河道漫堤", "III", VILLAGE)
    assert doc["occurred_at"] == T0.isoformat()
    assert doc["reported_by"] == {"user": ACTOR.user, "role": ACTOR.role, "unit": ACTOR.unit, "name": ACTOR.name}
    assert doc["reported_at"] == log.stamp("Incident.Reported")

    incident.verify(by=ACTOR)
    incident.update_situation({"evacuated": 120, "injured": 2}, "转移群众", by=ACTOR)
    log.save(incident)
    doc = log.doc("incident", incident.id)
    assert doc["status"] == "verified"
    assert doc["verified_at"] == log.stamp("Incident.Verified")
    assert doc["situation"] == {"deaths": 0, "injured": 2, "missing": 0, "evacuated": 120, "affected": 0}
    assert doc["situation_notes"] == "转移群众"

    # the team starts idle
    assert log.doc("team", team.id)["status"] == "idle"

    # order -> acknowledge -> depart -> arrive -> complete
    dispatch = order_dispatch(log, incident, team)
    t = log.doc("team", team.id)
    assert (t["status"], t["dispatch_id"], t["incident_id"]) == ("ordered", str(dispatch.id), str(incident.id))
    d = log.doc("dispatch", dispatch.id)
    assert (d["status"], d["team_name"], d["team_unit_code"], d["incident_title"], d["incident_level"], d["address"]) == (
        "ordered", "城关综合救援队", STREET, "河道漫堤", "III", "东堤"
    )
    assert d["ordered_at"] == log.stamp("Dispatch.Ordered")
    assert d["ack_deadline"] == dispatch.ack_deadline.isoformat()
    assert d["ordered_by"]["user"] == ACTOR.user
    assert d["acknowledged_at"] is None

    dispatch.acknowledge(by=FIELD)
    log.save(dispatch)
    assert log.doc("team", team.id)["status"] == "acknowledged"
    d = log.doc("dispatch", dispatch.id)
    assert (d["status"], d["acknowledged_at"]) == ("acknowledged", log.stamp("Dispatch.Acknowledged"))

    dispatch.depart(by=FIELD)
    log.save(dispatch)
    assert log.doc("team", team.id)["status"] == "departed"
    assert log.doc("dispatch", dispatch.id)["departed_at"] == log.stamp("Dispatch.Departed")

    dispatch.arrive(by=FIELD)
    log.save(dispatch)
    assert log.doc("team", team.id)["status"] == "arrived"
    assert log.doc("dispatch", dispatch.id)["arrived_at"] == log.stamp("Dispatch.Arrived")

    dispatch.complete(by=FIELD, note="完成")
    team.release(dispatch.id, by=FIELD)
    log.save(dispatch, team)
    t = log.doc("team", team.id)
    assert (t["status"], t["dispatch_id"], t["incident_id"]) == ("idle", None, None)
    d = log.doc("dispatch", dispatch.id)
    assert (d["status"], d["completed_at"]) == ("completed", log.stamp("Dispatch.Completed"))
    assert d["acknowledged_at"] <= d["departed_at"] <= d["arrived_at"] <= d["completed_at"]
    assert (d["declined_at"], d["cancelled_at"], d["reason"]) == (None, None, "")

    # materials: reserve -> ship -> deliver -> return part -> return the rest
    stock = log.doc("warehouse", warehouse.id)["stock"]
    assert stock == {"TENT-12": {"on_hand": 20, "reserved": 0, "minimum": 10}, "QUILT": {"on_hand": 100, "reserved": 0, "minimum": 0}}

    allocation = request_allocation(log, incident, warehouse, {"TENT-12": 12, "QUILT": 30})
    a = log.doc("allocation", allocation.id)
    assert (a["status"], a["lines"], a["returned"], a["warehouse_name"], a["incident_title"]) == (
        "reserved", {"TENT-12": 12, "QUILT": 30}, {}, "城关物资仓库", "河道漫堤"
    )
    stock = log.doc("warehouse", warehouse.id)["stock"]
    assert stock["TENT-12"] == {"on_hand": 20, "reserved": 12, "minimum": 10}
    assert stock["QUILT"] == {"on_hand": 100, "reserved": 30, "minimum": 0}
    assert_stock_matches(log, warehouse)

    allocation.ship(by=ACTOR, vehicle="豫A12345")
    warehouse.issue(allocation.id, by=ACTOR)
    log.save(allocation, warehouse)
    a = log.doc("allocation", allocation.id)
    assert (a["status"], a["shipped_at"]) == ("shipped", log.stamp("Allocation.Shipped"))
    stock = log.doc("warehouse", warehouse.id)["stock"]
    assert stock["TENT-12"] == {"on_hand": 8, "reserved": 0, "minimum": 10}
    assert stock["QUILT"] == {"on_hand": 70, "reserved": 0, "minimum": 0}
    assert_stock_matches(log, warehouse)

    allocation.deliver("村支书", by=FIELD)
    log.save(allocation)
    a = log.doc("allocation", allocation.id)
    assert (a["status"], a["received_by"], a["delivered_at"]) == ("delivered", "村支书", log.stamp("Allocation.Delivered"))

    allocation.give_back({"TENT-12": 5}, by=FIELD)
    warehouse.take_back(allocation.id, {"TENT-12": 5}, by=FIELD)
    log.save(allocation, warehouse)
    a = log.doc("allocation", allocation.id)
    assert (a["status"], a["returned"], a["returned_at"]) == ("delivered", {"TENT-12": 5}, log.stamp("Allocation.Returned"))
    assert log.doc("warehouse", warehouse.id)["stock"]["TENT-12"]["on_hand"] == 13

    rest = allocation.outstanding()
    allocation.give_back(rest, by=FIELD)
    warehouse.take_back(allocation.id, rest, by=FIELD)
    log.save(allocation, warehouse)
    a = log.doc("allocation", allocation.id)
    assert (a["status"], a["returned"]) == ("returned", {"TENT-12": 12, "QUILT": 30})
    assert log.doc("warehouse", warehouse.id)["stock"] == {
        "TENT-12": {"on_hand": 20, "reserved": 0, "minimum": 10},
        "QUILT": {"on_hand": 100, "reserved": 0, "minimum": 0},
    }
    assert_stock_matches(log, warehouse)

    # the incident ends
    incident.control(by=ACTOR)
    incident.close("处置完毕", by=ACTOR)
    log.save(incident)
    doc = log.doc("incident", incident.id)
    assert (doc["status"], doc["summary"]) == ("closed", "处置完毕")
    assert doc["controlled_at"] == log.stamp("Incident.Controlled")
    assert doc["closed_at"] == log.stamp("Incident.Closed")
    assert doc["updated_at"] == log.stamp("Incident.Closed")

    # replaying the same log from scratch gives the same documents
    assert MemoryDocs().fold(log.events).docs == log.docs.docs
    assert log.docs.position == len(log.events)


# -- smaller stories -----------------------------------------------------------
def test_declined_dispatch_frees_the_team(log: Log):
    incident = new_incident()
    team = new_team(kind="militia", members=8)
    log.save(incident)
    log.save(team)
    dispatch = order_dispatch(log, incident, team)
    dispatch.acknowledge(by=FIELD)
    log.save(dispatch)
    dispatch.decline("  车辆故障 ", by=FIELD)
    team.release(dispatch.id, by=FIELD)
    log.save(dispatch, team)
    d = log.doc("dispatch", dispatch.id)
    assert (d["status"], d["reason"], d["declined_at"]) == ("declined", "车辆故障", log.stamp("Dispatch.Declined"))
    t = log.doc("team", team.id)
    assert (t["status"], t["dispatch_id"]) == ("idle", None)


def test_cancelled_dispatch_on_the_way_frees_the_team_for_the_next_one(log: Log):
    incident = new_incident()
    team = new_team()
    log.save(incident)
    log.save(team)
    first = order_dispatch(log, incident, team)
    first.acknowledge(by=FIELD)
    first.depart(by=FIELD)
    log.save(first)
    assert log.doc("team", team.id)["status"] == "departed"
    first.cancel("改派", by=ACTOR)
    team.release(first.id, by=ACTOR)
    log.save(first, team)
    assert log.doc("dispatch", first.id)["status"] == "cancelled"
    assert log.doc("team", team.id)["status"] == "idle"

    second = order_dispatch(log, incident, team, task="转移群众")
    t = log.doc("team", team.id)
    assert (t["status"], t["dispatch_id"]) == ("ordered", str(second.id))
    assert log.doc("dispatch", first.id)["status"] == "cancelled"


def test_events_of_an_old_dispatch_do_not_move_the_team():
    """The team reducer only follows the dispatch the team is serving."""
    docs = MemoryDocs()
    incident, team = new_incident(), new_team()
    old = new_dispatch(incident_id=incident.id, team_id=team.id)
    new = new_dispatch(incident_id=incident.id, team_id=team.id)
    docs.fold(incident.collect_events() + team.collect_events() + old.collect_events() + new.collect_events())
    assert docs.get("team", str(team.id))["dispatch_id"] == str(new.id)
    old.acknowledge(by=FIELD)
    docs.fold(old.collect_events())
    assert docs.get("team", str(team.id))["status"] == "ordered"
    assert docs.get("dispatch", str(old.id))["status"] == "acknowledged"


def test_team_duty_shows_in_its_status(log: Log):
    team = new_team()
    log.save(team)
    team.set_duty(False, by=ACTOR)
    log.save(team)
    t = log.doc("team", team.id)
    assert (t["on_duty"], t["status"]) == (False, "off_duty")
    team.set_duty(True, by=ACTOR)
    log.save(team)
    t = log.doc("team", team.id)
    assert (t["on_duty"], t["status"]) == (True, "idle")


def test_cancelled_allocation_releases_stock(log: Log):
    incident = new_incident()
    warehouse = new_warehouse()
    warehouse.receive({"SANDBAG": 500}, "", by=ACTOR)
    log.save(incident)
    log.save(warehouse)
    allocation = request_allocation(log, incident, warehouse, {"SANDBAG": 200})
    assert log.doc("warehouse", warehouse.id)["stock"]["SANDBAG"] == {"on_hand": 500, "reserved": 200, "minimum": 0}
    allocation.cancel("不需要", by=ACTOR)
    warehouse.release(allocation.id, by=ACTOR)
    log.save(allocation, warehouse)
    a = log.doc("allocation", allocation.id)
    assert (a["status"], a["cancelled_at"]) == ("cancelled", log.stamp("Allocation.Cancelled"))
    assert log.doc("warehouse", warehouse.id)["stock"]["SANDBAG"] == {"on_hand": 500, "reserved": 0, "minimum": 0}
    assert_stock_matches(log, warehouse)


def test_stocktake_and_minimum(log: Log):
    warehouse = new_warehouse()
    warehouse.receive({"ROPE": 10}, "", by=ACTOR)
    warehouse.count("ROPE", 7, "盘点", by=ACTOR)
    warehouse.count("HELMET", 3, "", by=ACTOR)
    warehouse.set_minimum("GENERATOR", 2, by=ACTOR)
    log.save(warehouse)
    assert log.doc("warehouse", warehouse.id)["stock"] == {
        "ROPE": {"on_hand": 7, "reserved": 0, "minimum": 0},
        "HELMET": {"on_hand": 3, "reserved": 0, "minimum": 0},
        "GENERATOR": {"on_hand": 0, "reserved": 0, "minimum": 2},
    }
    assert_stock_matches(log, warehouse)


def test_incident_level_change_and_dismissal(log: Log):
    incident = new_incident(level="IV")
    log.save(incident)
    incident.change_level("II", "扩大", by=ACTOR)
    incident.update_situation({"affected": 3000}, "", by=ACTOR)
    log.save(incident)
    doc = log.doc("incident", incident.id)
    assert doc["level"] == "II"
    assert doc["situation"]["affected"] == 3000
    incident.update_situation({}, "新的情况说明", by=ACTOR)
    incident.update_situation({"affected": 3500}, "", by=ACTOR)
    log.save(incident)
    doc = log.doc("incident", incident.id)
    assert doc["situation_notes"] == "新的情况说明"  # an update without notes keeps the last notes
    assert doc["situation"]["affected"] == 3500
    incident.dismiss("重复上报", by=ACTOR)
    log.save(incident)
    doc = log.doc("incident", incident.id)
    assert (doc["status"], doc["dismiss_reason"], doc["dismissed_at"]) == ("dismissed", "重复上报", log.stamp("Incident.Dismissed"))


def test_unit_parts_update_finds_the_document_by_aggregate_id(log: Log):
    street = Unit.register(code="411099003000", name="新区街道", kind="street", by=ACTOR, parts={"committee": 1})
    log.save(street)
    assert log.doc("unit_by_id", street.id)["code"] == "411099003000"
    street.update_parts({"warehouses": 2}, by=ACTOR)
    log.save(street)
    assert log.doc("unit", "411099003000")["parts"] == {"committee": 1, "warehouses": 2}


# -- properties of the reducers ---------------------------------------------
def _scenario_events() -> list[Any]:
    log = Log()
    register_units(log)
    incident, team, warehouse = new_incident(), new_team(), new_warehouse()
    warehouse.receive({"TENT-12": 5, "QUILT": 5}, "", by=ACTOR)
    log.save(incident)
    log.save(team)
    log.save(warehouse)
    dispatch = order_dispatch(log, incident, team)
    dispatch.acknowledge(by=FIELD)
    log.save(dispatch)
    allocation = request_allocation(log, incident, warehouse, {"TENT-12": 5})
    allocation.ship(by=ACTOR)
    warehouse.issue(allocation.id, by=ACTOR)
    log.save(allocation, warehouse)
    allocation.deliver("", by=FIELD)
    log.save(allocation)
    allocation.give_back({"TENT-12": 2}, by=FIELD)
    warehouse.take_back(allocation.id, {"TENT-12": 2}, by=FIELD)
    log.save(allocation, warehouse)
    dispatch.cancel("结束", by=ACTOR)
    team.release(dispatch.id, by=ACTOR)
    log.save(dispatch, team)
    return log.events


def test_reducers_do_not_mutate_the_documents_they_read():
    docs = MemoryDocs()
    for event in _scenario_events():
        before = dict(docs.docs)
        snapshot = copy.deepcopy(docs.docs)
        docs.apply(event)
        for key, doc in before.items():
            assert doc == snapshot[key], (type(event).__qualname__, key)


def test_every_scenario_event_is_handled_or_deliberately_ignored():
    ignored = {"Team.Assigned"}  # the team document follows Dispatch.Ordered instead
    for event in _scenario_events():
        name = type(event).__qualname__
        if name not in ignored:
            assert any(r.handles(name) for r in READ_MODELS), name


def test_events_for_a_missing_document_change_nothing():
    incident = new_incident()
    incident.collect_events()  # the Reported event is lost
    incident.verify(by=ACTOR)
    team = new_team()
    team.collect_events()
    team.set_duty(False, by=ACTOR)
    warehouse = new_warehouse()
    warehouse.collect_events()
    warehouse.receive({"QUILT": 1}, "", by=ACTOR)
    docs = MemoryDocs()
    for e in incident.collect_events() + team.collect_events() + warehouse.collect_events():
        assert docs.apply(e) == []
    assert docs.docs == {}


def test_apply_event_reports_changes_per_kind_and_memory_docs_tracks_position():
    team = new_team()
    [e] = team.collect_events()
    changes = apply_event(lambda kind, doc_id: None, e)
    assert [(k, i) for k, i, _ in changes] == [("team", str(team.id))]
    docs = MemoryDocs()
    docs.apply(e, position=42)
    assert docs.position == 42
    assert [d["id"] for d in docs.of_kind("team")] == [str(team.id)]
    assert set(KINDS) == {"unit", "unit_by_id", "incident", "team", "dispatch", "warehouse", "allocation", "directive",
                          "daily_report", "daily_status", "warning", "warning_receipt", "disaster_report", "report_schedule",
                          "duty_day", "handover", "risk_point", "inspection", "hidden_danger", "readiness", "campaign",
                          "rectification", "plan", "drill", "unit_drills", "person", "training"}


# -- the board ---------------------------------------------------------------
def test_board_alerts_and_counts(log: Log):
    incident = new_incident()
    team = new_team(unit_code=STREET)
    idle_team = new_team(name="另一队", kind="flood", members=5, unit_code=OTHER_STREET)
    warehouse = new_warehouse()
    warehouse.receive({"TENT-12": 12}, "", by=ACTOR)
    warehouse.set_minimum("TENT-12", 10, by=ACTOR)
    for agg in (incident, team, idle_team, warehouse):
        log.save(agg)
    dispatch = order_dispatch(log, incident, team)
    request_allocation(log, incident, warehouse, {"TENT-12": 5})

    def board_at(now):  # type: ignore[no-untyped-def]
        return assemble(((k, d) for (k, _), d in log.docs.docs.items()), log.docs.position, now)

    before_deadline = board_at(dispatch.ack_deadline - timedelta(minutes=1))
    after_deadline = board_at(dispatch.ack_deadline + timedelta(minutes=1))
    kinds_before = [a["kind"] for a in before_deadline["alerts"]]
    assert kinds_before == ["stock_low", "daily_report_missing"]  # 16:29 in Shanghai, and the village has not reported
    [low, _] = before_deadline["alerts"]
    assert (low["material"], low["available"], low["minimum"]) == ("TENT-12", 7, 10)
    overdue = [a for a in after_deadline["alerts"] if a["kind"] == "ack_overdue"]
    assert [a["dispatch_id"] for a in overdue] == [str(dispatch.id)]

    counts = before_deadline["counts_by_street"]
    assert counts[STREET] == {"incidents": 1, "teams_busy": 1, "teams_idle": 0, "dispatches": 1, "daily_due": 1, "daily_filed": 0,
                              "warning_receipts": 0, "warning_signed": 0}
    assert counts[OTHER_STREET] == {"incidents": 0, "teams_busy": 0, "teams_idle": 1, "dispatches": 0, "daily_due": 0,
                                    "daily_filed": 0, "warning_receipts": 0, "warning_signed": 0}
    assert len(before_deadline["allocation"]) == 1 and len(before_deadline["unit"]) == 4

    # an acknowledged dispatch is no longer overdue
    dispatch.acknowledge(by=FIELD)
    log.save(dispatch)
    assert not [a for a in board_at(dispatch.ack_deadline + timedelta(hours=1))["alerts"] if a["kind"] == "ack_overdue"]


@pytest.mark.parametrize(
    ("kind", "status", "shown"),
    [
        ("incident", "reported", True),
        ("incident", "closed", False),
        ("incident", "dismissed", False),
        ("dispatch", "arrived", True),
        ("dispatch", "completed", False),
        ("allocation", "shipped", True),
        ("allocation", "delivered", False),
        ("team", "off_duty", True),
        ("unit_by_id", "active", False),
    ],
)
def test_on_board(kind, status, shown):
    assert on_board(kind, {"status": status}) is shown
    assert on_board(kind, None) is False


@pytest.mark.parametrize(
    ("code", "street"), [(DISTRICT, DISTRICT), (STREET, STREET), (VILLAGE, STREET), ("411099002007", OTHER_STREET), ("", "")]
)
def test_street_of(code, street):
    assert street_of(code) == street


def test_derive_of_an_empty_board():
    assert derive({}, T0) == {"alerts": [], "counts_by_street": {}, "dangers_by_street": {}, "readiness_by_street": {}}


# -- daily reports (零报告) on the board ---------------------------------------------------------


def test_daily_reports_count_per_street_and_silence_after_16_00_is_an_alert():
    from datetime import date, datetime, timezone

    from domain.reports import DailyReport

    docs = MemoryDocs()
    villages = {"411099001001": "魏庄村", "411099001002": "后河社区", "411099002001": "大周村"}
    kinds = {"411099001001": "village", "411099001002": "community", "411099002001": "village"}
    aggregates = [Unit.register(code=DISTRICT, name="东城区", kind="district", by=ACTOR),
                  Unit.register(code=STREET, name="新兴街道", kind="street", by=ACTOR),
                  Unit.register(code=OTHER_STREET, name="半截河街道", kind="street", by=ACTOR)]
    aggregates += [Unit.register(code=c, name=n, kind=kinds[c], by=ACTOR) for c, n in villages.items()]
    today, yesterday = date(2026, 7, 20), date(2026, 7, 19)
    filed = DailyReport.file(unit_code="411099001001", day=today, today=today, zero=True, summary="", by=ACTOR)
    late_old = DailyReport.file(unit_code="411099001001", day=yesterday, today=today, zero=True, summary="", by=ACTOR)
    other = DailyReport.file(unit_code="411099002001", day=yesterday, today=today, zero=False, summary="积水", by=ACTOR)
    position = 0
    for agg in [*aggregates, filed, late_old, other]:
        for e in agg.collect_events():
            position += 1
            docs.apply(e, position)
    status = {d["unit_code"]: d["day"] for d in docs.of_kind("daily_status")}
    assert status == {"411099001001": "2026-07-20", "411099002001": "2026-07-19"}  # a late earlier day does not win
    board = lambda now: assemble(((k, d) for (k, _), d in docs.docs.items()), position, now)  # noqa: E731

    morning = board(datetime(2026, 7, 20, 1, 0, tzinfo=timezone.utc))  # 09:00 in Shanghai
    assert not [a for a in morning["alerts"] if a["kind"] == "daily_report_missing"]
    counts = morning["counts_by_street"]
    assert (counts[STREET]["daily_due"], counts[STREET]["daily_filed"]) == (2, 1)
    assert (counts[OTHER_STREET]["daily_due"], counts[OTHER_STREET]["daily_filed"]) == (1, 0)

    afternoon = board(datetime(2026, 7, 20, 8, 0, tzinfo=timezone.utc))  # 16:00 in Shanghai: the cut-off
    missing = [(a["unit_code"], a["units"], a["day"], a["since"]) for a in afternoon["alerts"] if a["kind"] == "daily_report_missing"]
    assert missing == [(STREET, ["411099001002"], "2026-07-20", "2026-07-20T16:00:00+08:00"),
                       (OTHER_STREET, ["411099002001"], "2026-07-20", "2026-07-20T16:00:00+08:00")]

    reloaded = copy.deepcopy(filed)  # the report as the next command loads it
    reloaded.correct(False, "夜间暴雨，低洼处积水", by=ACTOR)
    for e in reloaded.collect_events():
        position += 1
        docs.apply(e, position)
    assert docs.docs[("daily_status", "411099001001")]["summary"] == "夜间暴雨，低洼处积水"
    assert docs.docs[("daily_report", str(filed.id))]["corrections"] == 1
