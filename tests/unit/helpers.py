"""Given-events / when-command / then-events helpers for the domain unit tests.

    agg = given(new_incident, verify)            # build, apply earlier commands, clear pending events
    agg.close("done", by=ACTOR)                  # when
    assert then_events(agg) == ["Incident.Closed"]   # then

    with raises("invalid_transition", agg):      # a refused command changes nothing
        agg.verify(by=ACTOR)
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.allocations import Allocation
from domain.common import Actor, DomainError
from domain.dispatches import Dispatch
from domain.incidents import Incident
from domain.teams import Team
from domain.units import Unit
from domain.warehouses import Warehouse

DISTRICT = "411099000000"
STREET = "411099001000"
VILLAGE = "411099001001"
OTHER_STREET = "411099002000"

ACTOR = Actor(user="u", role="commander", unit=DISTRICT)
FIELD = Actor(user="f", role="field", unit=STREET, request_id="r-1", idempotency_key="k-1")

T0 = datetime(2026, 7, 20, 8, 30, tzinfo=timezone.utc)

Command = Callable[[Any], Any]


# -- the three steps ---------------------------------------------------------
def given(factory: Callable[[], Any], *commands: Command) -> Any:
    """Build an aggregate, apply earlier commands to it, and clear its pending events."""
    agg = factory()
    for command in commands:
        command(agg)
    agg.collect_events()
    return agg


def then(agg: Any) -> list[Any]:
    """The events the aggregate has pending (and clears them)."""
    return list(agg.collect_events())


def then_events(agg: Any) -> list[str]:
    """Qualified names of the pending events, e.g. ["Incident.Verified"] (clears them)."""
    return [type(e).__qualname__ for e in agg.collect_events()]


def then_one(agg: Any, name: str) -> Any:
    """Exactly one pending event, of the given qualified name; returned for attribute checks."""
    events = then(agg)
    assert [type(e).__qualname__ for e in events] == [name]
    return events[0]


def state(agg: Any) -> dict[str, Any]:
    """A deep copy of the aggregate's state, without its pending events."""
    return copy.deepcopy({k: v for k, v in vars(agg).items() if k != "_pending_events"})


@contextmanager
def raises(code: str, *aggs: Any) -> Iterator[pytest.ExceptionInfo[DomainError]]:
    """Expect a DomainError with this `code`; the given aggregates must be left untouched.

    A refused command must not half-apply: no event pending afterwards and no
    change to the aggregate's state.
    """
    before = [state(a) for a in aggs]
    with pytest.raises(DomainError) as info:
        yield info
    assert info.value.code == code, f"expected {code}, got {info.value.code}: {info.value.detail}"
    for agg, snapshot in zip(aggs, before):
        assert agg.collect_events() == []
        assert state(agg) == snapshot


# -- factories ---------------------------------------------------------------
def new_unit(code: str = STREET, kind: str = "street", **kw: Any) -> Unit:
    kw.setdefault("name", "城关街道")
    return Unit.register(code=code, kind=kind, by=ACTOR, **kw)


def new_incident(**kw: Any) -> Incident:
    fields: dict[str, Any] = dict(
        category="natural_disaster",
        subtype="flood",
        level="IV",
        title="河道漫堤",
        unit_code=VILLAGE,
        occurred_at=T0,
        by=ACTOR,
    )
    fields.update(kw)
    return Incident.report(**fields)


def new_team(**kw: Any) -> Team:
    fields: dict[str, Any] = dict(name="城关综合救援队", kind="comprehensive", unit_code=STREET, members=24, by=ACTOR)
    fields.update(kw)
    return Team.register(**fields)


def new_dispatch(**kw: Any) -> Dispatch:
    fields: dict[str, Any] = dict(
        incident_id=uuid4(),
        team_id=uuid4(),
        unit_code=VILLAGE,
        task="加固堤坝",
        ack_deadline=T0 + timedelta(minutes=30),
        by=ACTOR,
    )
    fields.update(kw)
    return Dispatch.order(**fields)


def new_warehouse(**kw: Any) -> Warehouse:
    fields: dict[str, Any] = dict(name="城关物资仓库", unit_code=STREET, by=ACTOR)
    fields.update(kw)
    return Warehouse.register(**fields)


def new_allocation(lines: dict[str, int] | None = None, **kw: Any) -> Allocation:
    fields: dict[str, Any] = dict(
        incident_id=uuid4(),
        warehouse_id=uuid4(),
        unit_code=VILLAGE,
        lines=lines if lines is not None else {"TENT-12": 5, "QUILT": 10},
        by=ACTOR,
    )
    fields.update(kw)
    return Allocation.request(**fields)


def stocked(lines: dict[str, int]) -> Callable[[], Warehouse]:
    """A factory for a warehouse that has received `lines`."""

    def make() -> Warehouse:
        w = new_warehouse()
        w.receive(lines, "initial", by=ACTOR)
        return w

    return make


def stock_of(w: Warehouse) -> dict[str, tuple[int, int]]:
    """{material: (on_hand, reserved)} for every material the warehouse has seen."""
    codes = set(w.on_hand) | set(w.reserved)
    return {c: (w.on_hand.get(c, 0), w.reserved.get(c, 0)) for c in sorted(codes)}


def assert_stock_sane(w: Warehouse) -> None:
    """on_hand >= reserved >= 0 for every material, and reserved is backed by reservations."""
    for code, (on_hand, reserved) in stock_of(w).items():
        assert on_hand >= reserved >= 0, (code, on_hand, reserved)
        held = sum(lines.get(code, 0) for lines in w.reservations.values())
        assert reserved == held, (code, reserved, held)


def uid(n: int) -> UUID:
    return UUID(int=n)
