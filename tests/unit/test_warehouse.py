"""Warehouse stock: on hand, reserved, minimum. Every change keeps on_hand >= reserved >= 0."""

from __future__ import annotations

import random
from uuid import UUID

import pytest

from domain.common import DomainError
from domain.materials import CATALOGUE
from domain.warehouses import Warehouse
from tests.unit.helpers import (
    ACTOR,
    FIELD,
    STREET,
    assert_stock_sane,
    given,
    new_warehouse,
    raises,
    state,
    stock_of,
    stocked,
    then,
    then_events,
    then_one,
    uid,
)

A1, A2, A3 = uid(1), uid(2), uid(3)
BAD_QUANTITIES = [0, -1, -50, True, False, 1.0, 2.5, "3", None]


def reserve(aid: UUID, lines: dict[str, int]):  # type: ignore[no-untyped-def]
    return lambda w: w.reserve(aid, lines, by=ACTOR)


class TestRegister:
    def test_register_emits_registered_with_every_field(self):
        w = Warehouse.register(
            name=" 城关物资仓库 ", unit_code=STREET, by=ACTOR, address="建设路 1 号", manager="李四", phone="0371-1", lat=34.0, lon=114.0
        )
        e = then_one(w, "Warehouse.Registered")
        assert (e.name, e.unit_code, e.address, e.manager, e.phone, e.lat, e.lon, e.by) == (
            "城关物资仓库", STREET, "建设路 1 号", "李四", "0371-1", 34.0, 114.0, ACTOR
        )
        assert w.on_hand == w.reserved == w.minimum == w.reservations == {}

    @pytest.mark.parametrize("name", ["", "  "])
    def test_empty_name_is_a_validation_error(self, name):
        with raises("validation_error") as info:
            new_warehouse(name=name)
        assert info.value.extra["field"] == "name"

    @pytest.mark.parametrize("code", ["", "411099", "41109900100a", "4110990010000"])
    def test_bad_unit_code_is_a_validation_error(self, code):
        with raises("validation_error") as info:
            new_warehouse(unit_code=code)
        assert info.value.extra["field"] == "unit_code"


class TestReceive:
    def test_receive_adds_to_on_hand(self):
        w = given(stocked({"TENT-12": 10}))
        w.receive({"TENT-12": 5, "QUILT": 100}, "省厅调拨", by=FIELD)
        e = then_one(w, "Warehouse.StockReceived")
        assert (e.lines, e.note, e.by) == ({"TENT-12": 5, "QUILT": 100}, "省厅调拨", FIELD)
        assert w.on_hand == {"TENT-12": 15, "QUILT": 100}
        assert w.available("TENT-12") == 15
        assert w.available("SANDBAG") == 0

    def test_every_catalogue_material_can_be_received(self):
        w = given(new_warehouse)
        w.receive({code: 1 for code in CATALOGUE}, "", by=ACTOR)
        assert then_events(w) == ["Warehouse.StockReceived"]
        assert w.on_hand == {code: 1 for code in CATALOGUE}

    def test_no_lines_is_a_validation_error(self):
        w = given(new_warehouse)
        with raises("validation_error", w) as info:
            w.receive({}, "", by=ACTOR)
        assert info.value.extra["field"] == "lines"

    @pytest.mark.parametrize("code", ["NOPE", "tent-12", "", "TENT-12 "])
    def test_unknown_material_is_refused(self, code):
        w = given(stocked({"TENT-12": 1}))
        with raises("unknown_material", w) as info:
            w.receive({"QUILT": 1, code: 1}, "", by=ACTOR)
        assert info.value.extra["material"] == code

    @pytest.mark.parametrize("qty", BAD_QUANTITIES)
    def test_zero_negative_bool_or_non_int_quantity_is_a_validation_error(self, qty):
        w = given(stocked({"TENT-12": 1}))
        with raises("validation_error", w) as info:
            w.receive({"QUILT": 3, "TENT-12": qty}, "", by=ACTOR)
        assert info.value.extra["field"] == "lines.TENT-12"

    def test_event_lines_are_a_copy(self):
        w = given(new_warehouse)
        lines = {"QUILT": 2}
        w.receive(lines, "", by=ACTOR)
        lines["QUILT"] = 1000
        assert then_one(w, "Warehouse.StockReceived").lines == {"QUILT": 2}
        assert w.on_hand == {"QUILT": 2}


class TestCount:
    def test_count_sets_on_hand_and_records_the_previous_figure(self):
        w = given(stocked({"QUILT": 100}))
        w.count("QUILT", 97, "盘点", by=FIELD)
        e = then_one(w, "Warehouse.StockCounted")
        assert (e.code, e.counted, e.previous, e.note, e.by) == ("QUILT", 97, 100, "盘点", FIELD)
        assert w.on_hand["QUILT"] == 97

    def test_count_a_material_never_received(self):
        w = given(new_warehouse)
        w.count("ROPE", 4, "", by=ACTOR)
        assert then_one(w, "Warehouse.StockCounted").previous == 0
        assert w.on_hand == {"ROPE": 4}

    def test_count_to_zero(self):
        w = given(stocked({"ROPE": 4}))
        w.count("ROPE", 0, "", by=ACTOR)
        assert then_events(w) == ["Warehouse.StockCounted"]
        assert w.on_hand["ROPE"] == 0

    def test_unknown_material_is_refused(self):
        w = given(new_warehouse)
        with raises("unknown_material", w):
            w.count("NOPE", 1, "", by=ACTOR)

    @pytest.mark.parametrize("counted", [-1, True, False, 1.0, "1", None])
    def test_negative_bool_or_non_int_count_is_a_validation_error(self, counted):
        w = given(stocked({"ROPE": 4}))
        with raises("validation_error", w) as info:
            w.count("ROPE", counted, "", by=ACTOR)
        assert info.value.extra["field"] == "counted"

    def test_a_count_below_reserved_is_insufficient_stock(self):
        w = given(stocked({"ROPE": 10}), reserve(A1, {"ROPE": 6}))
        with raises("insufficient_stock", w) as info:
            w.count("ROPE", 5, "丢失", by=ACTOR)
        assert info.value.extra == {"material": "ROPE", "reserved": 6}

    def test_a_count_equal_to_reserved_is_allowed(self):
        w = given(stocked({"ROPE": 10}), reserve(A1, {"ROPE": 6}))
        w.count("ROPE", 6, "", by=ACTOR)
        assert then_events(w) == ["Warehouse.StockCounted"]
        assert w.available("ROPE") == 0
        assert_stock_sane(w)


class TestMinimum:
    @pytest.mark.parametrize("minimum", [0, 1, 500])
    def test_set_minimum(self, minimum):
        w = given(new_warehouse)
        w.set_minimum("SANDBAG", minimum, by=ACTOR)
        e = then_one(w, "Warehouse.MinimumSet")
        assert (e.code, e.minimum, e.by) == ("SANDBAG", minimum, ACTOR)
        assert w.minimum == {"SANDBAG": minimum}

    def test_unknown_material_is_refused(self):
        w = given(new_warehouse)
        with raises("unknown_material", w):
            w.set_minimum("NOPE", 1, by=ACTOR)

    @pytest.mark.parametrize("minimum", [-1, True, False, 1.5, "1", None])
    def test_negative_bool_or_non_int_minimum_is_a_validation_error(self, minimum):
        w = given(new_warehouse)
        with raises("validation_error", w) as info:
            w.set_minimum("SANDBAG", minimum, by=ACTOR)
        assert info.value.extra["field"] == "minimum"


class TestReserve:
    def test_reserve_holds_stock_for_the_allocation(self):
        w = given(stocked({"TENT-12": 10, "QUILT": 50}))
        w.reserve(A1, {"TENT-12": 4, "QUILT": 50}, by=FIELD)
        e = then_one(w, "Warehouse.StockReserved")
        assert (e.allocation_id, e.lines, e.by) == (A1, {"TENT-12": 4, "QUILT": 50}, FIELD)
        assert w.reserved == {"TENT-12": 4, "QUILT": 50}
        assert w.on_hand == {"TENT-12": 10, "QUILT": 50}
        assert (w.available("TENT-12"), w.available("QUILT")) == (6, 0)
        assert w.reservations == {A1.hex: {"TENT-12": 4, "QUILT": 50}}
        assert_stock_sane(w)

    def test_reserved_stock_is_not_available_to_the_next_allocation(self):
        w = given(stocked({"TENT-12": 10}), reserve(A1, {"TENT-12": 7}))
        with raises("insufficient_stock", w) as info:
            w.reserve(A2, {"TENT-12": 4}, by=ACTOR)
        assert info.value.extra["shortages"] == {"TENT-12": {"requested": 4, "available": 3}}
        w.reserve(A2, {"TENT-12": 3}, by=ACTOR)
        assert then_events(w) == ["Warehouse.StockReserved"]
        assert w.reserved == {"TENT-12": 10}

    def test_a_shortage_on_any_line_refuses_the_whole_reservation(self):
        w = given(stocked({"TENT-12": 10, "QUILT": 50, "ROPE": 2}))
        with raises("insufficient_stock", w) as info:
            w.reserve(A1, {"TENT-12": 1, "QUILT": 51, "ROPE": 1}, by=ACTOR)
        assert info.value.extra["shortages"] == {"QUILT": {"requested": 51, "available": 50}}
        assert w.reserved == {} and w.reservations == {}

    def test_every_short_line_is_reported(self):
        w = given(stocked({"TENT-12": 10}))
        with raises("insufficient_stock", w) as info:
            w.reserve(A1, {"TENT-12": 11, "SANDBAG": 1, "QUILT": 0 + 1}, by=ACTOR)
        assert set(info.value.extra["shortages"]) == {"TENT-12", "SANDBAG", "QUILT"}

    def test_a_material_never_received_is_insufficient_stock(self):
        w = given(new_warehouse)
        with raises("insufficient_stock", w):
            w.reserve(A1, {"GENERATOR": 1}, by=ACTOR)

    def test_unknown_material_is_refused(self):
        w = given(stocked({"TENT-12": 10}))
        with raises("unknown_material", w):
            w.reserve(A1, {"TENT-12": 1, "UFO": 1}, by=ACTOR)

    @pytest.mark.parametrize("qty", BAD_QUANTITIES)
    def test_bad_quantity_is_a_validation_error(self, qty):
        w = given(stocked({"TENT-12": 10}))
        with raises("validation_error", w):
            w.reserve(A1, {"TENT-12": qty}, by=ACTOR)

    def test_no_lines_is_a_validation_error(self):
        w = given(stocked({"TENT-12": 10}))
        with raises("validation_error", w):
            w.reserve(A1, {}, by=ACTOR)

    def test_reserving_twice_for_the_same_allocation_does_not_leak_reserved_stock(self):
        w = given(stocked({"TENT-12": 10}), reserve(A1, {"TENT-12": 3}))
        try:
            w.reserve(A1, {"TENT-12": 2}, by=ACTOR)  # either refused, or merged into one reservation
        except DomainError:
            pass
        w.collect_events()
        assert_stock_sane(w)
        w.release(A1, by=ACTOR)
        assert w.reserved.get("TENT-12", 0) == 0
        assert w.available("TENT-12") == 10


class TestReleaseIssueReturn:
    def test_release_gives_the_reservation_back(self):
        w = given(stocked({"TENT-12": 10, "QUILT": 5}), reserve(A1, {"TENT-12": 4, "QUILT": 5}), reserve(A2, {"TENT-12": 1}))
        w.release(A1, by=FIELD)
        e = then_one(w, "Warehouse.StockReleased")
        assert (e.allocation_id, e.lines, e.by) == (A1, {"TENT-12": 4, "QUILT": 5}, FIELD)
        assert w.reserved == {"TENT-12": 1, "QUILT": 0}
        assert w.on_hand == {"TENT-12": 10, "QUILT": 5}
        assert w.reservations == {A2.hex: {"TENT-12": 1}}
        assert_stock_sane(w)

    def test_issue_takes_reserved_stock_out(self):
        w = given(stocked({"TENT-12": 10, "QUILT": 5}), reserve(A1, {"TENT-12": 4, "QUILT": 5}))
        w.issue(A1, by=FIELD)
        e = then_one(w, "Warehouse.StockIssued")
        assert (e.allocation_id, e.lines, e.by) == (A1, {"TENT-12": 4, "QUILT": 5}, FIELD)
        assert w.on_hand == {"TENT-12": 6, "QUILT": 0}
        assert w.reserved == {"TENT-12": 0, "QUILT": 0}
        assert w.reservations == {}
        assert_stock_sane(w)

    @pytest.mark.parametrize(
        "earlier",
        [
            (),
            (lambda w: w.release(A1, by=ACTOR),),
            (lambda w: w.issue(A1, by=ACTOR),),
        ],
        ids=["never_reserved", "released", "issued"],
    )
    @pytest.mark.parametrize("command", ["release", "issue"])
    def test_release_or_issue_without_a_reservation_is_an_invalid_transition(self, command, earlier):
        steps = (reserve(A1, {"TENT-12": 2}), *earlier) if earlier else ()
        w = given(stocked({"TENT-12": 10}), reserve(A2, {"TENT-12": 1}), *steps)
        with raises("invalid_transition", w):
            getattr(w, command)(A1, by=ACTOR)

    def test_take_back_returns_stock_to_on_hand(self):
        w = given(stocked({"TENT-12": 10}), reserve(A1, {"TENT-12": 4}), lambda w: w.issue(A1, by=ACTOR))
        w.take_back(A1, {"TENT-12": 3}, by=FIELD)
        e = then_one(w, "Warehouse.StockReturned")
        assert (e.allocation_id, e.lines, e.by) == (A1, {"TENT-12": 3}, FIELD)
        assert w.on_hand == {"TENT-12": 9}
        assert_stock_sane(w)

    @pytest.mark.parametrize("qty", BAD_QUANTITIES)
    def test_take_back_bad_quantity_is_a_validation_error(self, qty):
        w = given(stocked({"TENT-12": 10}))
        with raises("validation_error", w):
            w.take_back(A1, {"TENT-12": qty}, by=ACTOR)

    def test_take_back_unknown_material_is_refused(self):
        w = given(stocked({"TENT-12": 10}))
        with raises("unknown_material", w):
            w.take_back(A1, {"NOPE": 1}, by=ACTOR)

    def test_stock_never_negative_through_a_sequence(self):
        w = given(stocked({"TENT-12": 10, "QUILT": 20}))
        steps = [
            lambda: w.reserve(A1, {"TENT-12": 10, "QUILT": 5}, by=ACTOR),
            lambda: w.reserve(A2, {"QUILT": 15}, by=ACTOR),
            lambda: w.release(A2, by=ACTOR),
            lambda: w.issue(A1, by=ACTOR),
            lambda: w.reserve(A3, {"QUILT": 15}, by=ACTOR),
            lambda: w.issue(A3, by=ACTOR),
            lambda: w.take_back(A1, {"TENT-12": 2}, by=ACTOR),
            lambda: w.count("TENT-12", 0, "", by=ACTOR),
        ]
        for step in steps:
            step()
            assert_stock_sane(w)
        assert stock_of(w) == {"QUILT": (0, 0), "TENT-12": (0, 0)}
        for code, refused in (
            ("insufficient_stock", lambda: w.reserve(uid(9), {"QUILT": 1}, by=ACTOR)),
            ("invalid_transition", lambda: w.issue(A1, by=ACTOR)),
            ("invalid_transition", lambda: w.release(A3, by=ACTOR)),
            ("validation_error", lambda: w.count("QUILT", -1, "", by=ACTOR)),
        ):
            w.collect_events()
            with raises(code, w):
                refused()
            assert_stock_sane(w)


# -- property: random operations keep the invariants -------------------------
MATERIALS = ("TENT-12", "QUILT", "SANDBAG", "LIFE-JACKET")


def _random_lines(rng: random.Random) -> dict[str, int]:
    lines = {c: rng.randint(1, 12) for c in rng.sample(MATERIALS, rng.randint(1, 3))}
    roll = rng.random()
    if roll < 0.05:
        lines[rng.choice(MATERIALS)] = rng.choice([0, -3, True, 2.0])
    elif roll < 0.08:
        lines["MOON-ROCK"] = 1
    elif roll < 0.10:
        lines = {}
    return lines


def test_random_warehouse_operations_keep_stock_consistent():
    rng = random.Random(20260720)
    w = given(new_warehouse)
    model_on_hand = {c: 0 for c in MATERIALS}
    model_reservations: dict[str, dict[str, int]] = {}
    known_ids: list[UUID] = []
    accepted = refused = 0

    for step in range(500):
        op = rng.choice(["receive", "count", "minimum", "reserve", "reserve", "release", "issue", "take_back"])
        if op in ("release", "issue", "take_back") and known_ids and rng.random() < 0.85:
            aid = rng.choice(known_ids)
        else:
            aid = UUID(int=rng.getrandbits(128))
        code = rng.choice(MATERIALS)

        if op == "receive":
            lines = _random_lines(rng)
            call = lambda: w.receive(lines, "", by=ACTOR)  # noqa: E731
            expected_event = "Warehouse.StockReceived"
        elif op == "count":
            counted = rng.choice([rng.randint(0, 40), -1])
            call = lambda: w.count(code, counted, "", by=ACTOR)  # noqa: E731
            expected_event = "Warehouse.StockCounted"
        elif op == "minimum":
            minimum = rng.choice([rng.randint(0, 10), -2])
            call = lambda: w.set_minimum(code, minimum, by=ACTOR)  # noqa: E731
            expected_event = "Warehouse.MinimumSet"
        elif op == "reserve":
            lines = _random_lines(rng)
            known_ids.append(aid)  # a fresh id each time, as the service does
            call = lambda: w.reserve(aid, lines, by=ACTOR)  # noqa: E731
            expected_event = "Warehouse.StockReserved"
        elif op == "release":
            call = lambda: w.release(aid, by=ACTOR)  # noqa: E731
            expected_event = "Warehouse.StockReleased"
        elif op == "issue":
            call = lambda: w.issue(aid, by=ACTOR)  # noqa: E731
            expected_event = "Warehouse.StockIssued"
        else:
            lines = _random_lines(rng)
            call = lambda: w.take_back(aid, lines, by=ACTOR)  # noqa: E731
            expected_event = "Warehouse.StockReturned"

        before = state(w)
        try:
            call()
        except DomainError:
            refused += 1
            assert w.collect_events() == [], (step, op)
            assert state(w) == before, (step, op)
        else:
            accepted += 1
            events = then(w)
            assert [type(e).__qualname__ for e in events] == [expected_event], (step, op)
            # keep an independent model of what the stock should be
            e = events[0]
            if op in ("receive", "take_back"):
                for c, q in e.lines.items():
                    model_on_hand[c] += q
            elif op == "count":
                model_on_hand[e.code] = e.counted
            elif op == "reserve":
                model_reservations[aid.hex] = dict(e.lines)
            elif op == "release":
                model_reservations.pop(aid.hex)
            elif op == "issue":
                for c, q in model_reservations.pop(aid.hex).items():
                    model_on_hand[c] -= q

        for c in MATERIALS:
            on_hand, reserved = w.on_hand.get(c, 0), w.reserved.get(c, 0)
            assert on_hand >= reserved >= 0, (step, op, c, on_hand, reserved)
            assert on_hand == model_on_hand[c], (step, op, c)
            assert reserved == sum(r.get(c, 0) for r in model_reservations.values()), (step, op, c)
        assert w.reservations == model_reservations
        assert_stock_sane(w)

    # the walk exercised both outcomes of the commands, not just one
    assert accepted > 150 and refused > 50, (accepted, refused)
