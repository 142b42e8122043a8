"""Allocation: reserved -> shipped -> delivered -> returned (partly, then fully); cancelled only before shipping."""

from __future__ import annotations

import pytest

from domain.allocations import IN_FLIGHT, Allocation
from tests.unit.helpers import (
    ACTOR,
    FIELD,
    VILLAGE,
    assert_stock_sane,
    given,
    new_allocation,
    new_warehouse,
    raises,
    stocked,
    then_events,
    then_one,
    uid,
)

LINES = {"TENT-12": 5, "QUILT": 10}
ship = lambda a: a.ship(by=ACTOR)  # noqa: E731
deliver = lambda a: a.deliver("王五", by=FIELD)  # noqa: E731
give_back_some = lambda a: a.give_back({"TENT-12": 2}, by=FIELD)  # noqa: E731
give_back_all = lambda a: a.give_back(a.outstanding(), by=FIELD)  # noqa: E731
cancel = lambda a: a.cancel("不再需要", by=ACTOR)  # noqa: E731

PATH_TO = {
    "reserved": (),
    "shipped": (ship,),
    "delivered": (ship, deliver),
    "partly_returned": (ship, deliver, give_back_some),
    "returned": (ship, deliver, give_back_all),
    "cancelled": (cancel,),
}
STATUS_OF = {
    "reserved": "reserved",
    "shipped": "shipped",
    "delivered": "delivered",
    "partly_returned": "delivered",
    "returned": "returned",
    "cancelled": "cancelled",
}


def allocation_in(path: str) -> Allocation:
    a = given(lambda: new_allocation(dict(LINES)), *PATH_TO[path])
    assert a.status == STATUS_OF[path]
    return a


class TestRequest:
    def test_request_emits_requested_with_every_field(self):
        incident_id, warehouse_id, team_id = uid(1), uid(2), uid(3)
        a = Allocation.request(
            incident_id=incident_id,
            warehouse_id=warehouse_id,
            unit_code=VILLAGE,
            lines={"SANDBAG": 500},
            by=ACTOR,
            destination="东堤 3 号段",
            team_id=team_id,
        )
        e = then_one(a, "Allocation.Requested")
        assert e.originator_id == a.id
        assert (e.incident_id, e.warehouse_id, e.unit_code, e.lines, e.destination, e.team_id, e.by) == (
            incident_id, warehouse_id, VILLAGE, {"SANDBAG": 500}, "东堤 3 号段", team_id, ACTOR
        )
        assert a.status == "reserved" and a.returned == {}
        assert a.outstanding() == {"SANDBAG": 500}

    def test_team_and_destination_are_optional(self):
        e = then_one(new_allocation(), "Allocation.Requested")
        assert (e.team_id, e.destination) == (None, "")

    def test_no_lines_is_a_validation_error(self):
        with raises("validation_error") as info:
            new_allocation({})
        assert info.value.extra["field"] == "lines"

    def test_unknown_material_is_refused(self):
        with raises("unknown_material") as info:
            new_allocation({"TENT-12": 1, "XYZ": 2})
        assert info.value.extra["material"] == "XYZ"

    @pytest.mark.parametrize("qty", [0, -1, True, False, 1.0, "1", None])
    def test_zero_negative_bool_or_non_int_quantity_is_a_validation_error(self, qty):
        with raises("validation_error") as info:
            new_allocation({"TENT-12": 1, "QUILT": qty})
        assert info.value.extra["field"] == "lines.QUILT"


# command -> (allowed from, event, status after)
COMMANDS = {
    "ship": (ship, {"reserved"}, "Allocation.Shipped", "shipped"),
    "deliver": (deliver, {"shipped"}, "Allocation.Delivered", "delivered"),
    "give_back": (lambda a: a.give_back({"QUILT": 1}, by=FIELD), {"delivered"}, "Allocation.Returned", "delivered"),
    "cancel": (cancel, {"reserved"}, "Allocation.Cancelled", "cancelled"),
}


@pytest.mark.parametrize("path", list(PATH_TO))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_transition_table(command, path):
    act, allowed, event_name, after = COMMANDS[command]
    a = allocation_in(path)
    before = a.status
    if before in allowed:
        act(a)
        assert then_events(a) == [event_name]
        assert a.status == after
    else:
        with raises("invalid_transition", a) as info:
            act(a)
        assert info.value.extra["state"] == before


def test_in_flight_is_reserved_or_shipped():
    assert {s.value for s in IN_FLIGHT} == {"reserved", "shipped"}


class TestShipDeliver:
    def test_ship(self):
        a = allocation_in("reserved")
        a.ship(by=FIELD, vehicle="豫A12345")
        e = then_one(a, "Allocation.Shipped")
        assert (e.vehicle, e.by) == ("豫A12345", FIELD)

    def test_deliver_records_who_received_it(self):
        a = allocation_in("shipped")
        a.deliver("村支书", by=FIELD)
        e = then_one(a, "Allocation.Delivered")
        assert (e.received_by, e.by) == ("村支书", FIELD)

    def test_received_by_defaults_to_the_confirming_user(self):
        a = allocation_in("shipped")
        a.deliver("", by=FIELD)
        assert then_one(a, "Allocation.Delivered").received_by == FIELD.user

    def test_ship_a_cancelled_allocation_is_an_invalid_transition(self):
        a = allocation_in("cancelled")
        with raises("invalid_transition", a):
            a.ship(by=ACTOR)

    def test_ship_twice_is_an_invalid_transition(self):
        a = allocation_in("shipped")
        with raises("invalid_transition", a):
            a.ship(by=ACTOR)

    def test_deliver_before_ship_is_an_invalid_transition(self):
        a = allocation_in("reserved")
        with raises("invalid_transition", a):
            a.deliver("x", by=FIELD)


class TestReturn:
    def test_partial_then_full_return(self):
        a = allocation_in("delivered")
        a.give_back({"TENT-12": 2}, by=FIELD, note="帐篷部分归还")
        e = then_one(a, "Allocation.Returned")
        assert (e.lines, e.fully, e.note, e.by) == ({"TENT-12": 2}, False, "帐篷部分归还", FIELD)
        assert a.status == "delivered"
        assert a.returned == {"TENT-12": 2}
        assert a.outstanding() == {"TENT-12": 3, "QUILT": 10}

        a.give_back({"QUILT": 10}, by=FIELD)
        e = then_one(a, "Allocation.Returned")
        assert e.fully is False
        assert a.status == "delivered"
        assert a.outstanding() == {"TENT-12": 3}

        a.give_back({"TENT-12": 3}, by=FIELD)
        e = then_one(a, "Allocation.Returned")
        assert (e.lines, e.fully) == ({"TENT-12": 3}, True)
        assert a.status == "returned"
        assert a.returned == {"TENT-12": 5, "QUILT": 10}
        assert a.outstanding() == {}

    def test_return_everything_at_once(self):
        a = allocation_in("delivered")
        a.give_back(dict(LINES), by=FIELD)
        assert then_one(a, "Allocation.Returned").fully is True
        assert a.status == "returned"

    def test_return_before_delivery_is_an_invalid_transition(self):
        for path in ("reserved", "shipped"):
            a = allocation_in(path)
            with raises("invalid_transition", a):
                a.give_back({"TENT-12": 1}, by=FIELD)

    def test_return_after_everything_is_back_is_an_invalid_transition(self):
        a = allocation_in("returned")
        with raises("invalid_transition", a):
            a.give_back({"TENT-12": 1}, by=FIELD)

    # The domain reports an over-return as a validation error on `lines` (not an invalid transition):
    # the allocation is in a state that takes returns, the quantity is what is wrong.
    @pytest.mark.parametrize("path", ["delivered", "partly_returned"])
    def test_return_more_than_outstanding_is_refused(self, path):
        a = allocation_in(path)
        outstanding = a.outstanding()
        with raises("validation_error", a) as info:
            a.give_back({"TENT-12": outstanding["TENT-12"] + 1}, by=FIELD)
        assert info.value.extra == {"field": "lines", "outstanding": outstanding}

    def test_return_of_a_material_not_allocated_is_refused(self):
        a = allocation_in("delivered")
        with raises("validation_error", a):
            a.give_back({"ROPE": 1}, by=FIELD)

    def test_one_bad_line_refuses_the_whole_return(self):
        a = allocation_in("delivered")
        with raises("validation_error", a):
            a.give_back({"QUILT": 1, "TENT-12": 6}, by=FIELD)
        assert a.returned == {}

    def test_return_unknown_material_is_refused(self):
        a = allocation_in("delivered")
        with raises("unknown_material", a):
            a.give_back({"NOPE": 1}, by=FIELD)

    @pytest.mark.parametrize("qty", [0, -1, True, 1.0])
    def test_return_bad_quantity_is_a_validation_error(self, qty):
        a = allocation_in("delivered")
        with raises("validation_error", a):
            a.give_back({"TENT-12": qty}, by=FIELD)

    def test_empty_return_is_a_validation_error(self):
        a = allocation_in("delivered")
        with raises("validation_error", a):
            a.give_back({}, by=FIELD)


class TestCancel:
    def test_cancel_a_reserved_allocation(self):
        a = allocation_in("reserved")
        a.cancel("  险情解除 ", by=ACTOR)
        e = then_one(a, "Allocation.Cancelled")
        assert (e.reason, e.by) == ("险情解除", ACTOR)
        assert a.status == "cancelled"

    @pytest.mark.parametrize("reason", ["", "  "])
    def test_cancel_without_reason_is_a_validation_error(self, reason):
        a = allocation_in("reserved")
        with raises("validation_error", a) as info:
            a.cancel(reason, by=ACTOR)
        assert info.value.extra["field"] == "reason"

    @pytest.mark.parametrize("path", ["shipped", "delivered", "returned", "cancelled"])
    def test_cancel_after_shipping_is_an_invalid_transition(self, path):
        a = allocation_in(path)
        with raises("invalid_transition", a):
            a.cancel("reason", by=ACTOR)


class TestWithTheWarehouse:
    """The allocation and its warehouse change together, as the command service does it."""

    def test_reserve_ship_deliver_return_moves_stock_and_status(self):
        w = given(stocked({"TENT-12": 8, "QUILT": 10}))
        a = new_allocation({"TENT-12": 5, "QUILT": 10}, warehouse_id=w.id)
        w.reserve(a.id, a.lines, by=ACTOR)
        assert then_events(a) == ["Allocation.Requested"]
        assert then_events(w) == ["Warehouse.StockReserved"]
        assert (w.on_hand, w.reserved) == ({"TENT-12": 8, "QUILT": 10}, {"TENT-12": 5, "QUILT": 10})

        a.ship(by=ACTOR)
        w.issue(a.id, by=ACTOR)
        assert then_events(a) == ["Allocation.Shipped"]
        assert then_one(w, "Warehouse.StockIssued").lines == {"TENT-12": 5, "QUILT": 10}
        assert (w.on_hand, w.reserved) == ({"TENT-12": 3, "QUILT": 0}, {"TENT-12": 0, "QUILT": 0})

        a.deliver("", by=FIELD)
        assert then_events(a) == ["Allocation.Delivered"]

        a.give_back({"QUILT": 4}, by=FIELD)
        w.take_back(a.id, {"QUILT": 4}, by=FIELD)
        assert then_events(a) == ["Allocation.Returned"] and then_events(w) == ["Warehouse.StockReturned"]
        assert a.status == "delivered" and w.on_hand == {"TENT-12": 3, "QUILT": 4}

        rest = a.outstanding()
        a.give_back(rest, by=FIELD)
        w.take_back(a.id, rest, by=FIELD)
        assert a.status == "returned"
        assert w.on_hand == {"TENT-12": 8, "QUILT": 10}
        assert_stock_sane(w)

    def test_cancel_releases_the_reservation(self):
        w = given(stocked({"TENT-12": 5}))
        a = given(lambda: new_allocation({"TENT-12": 5}, warehouse_id=w.id))
        w.reserve(a.id, a.lines, by=ACTOR)
        w.collect_events()
        a.cancel("改用其他仓库", by=ACTOR)
        w.release(a.id, by=ACTOR)
        assert then_events(a) == ["Allocation.Cancelled"]
        assert then_events(w) == ["Warehouse.StockReleased"]
        assert w.available("TENT-12") == 5
        with raises("invalid_transition", w):
            w.issue(a.id, by=ACTOR)

    def test_a_short_warehouse_refuses_the_request(self):
        w = given(new_warehouse, lambda w: w.receive({"TENT-12": 4}, "", by=ACTOR))
        a = new_allocation({"TENT-12": 5, "QUILT": 1}, warehouse_id=w.id)
        with raises("insufficient_stock", w):
            w.reserve(a.id, a.lines, by=ACTOR)
