"""The deadline watchdog with an injected clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from gateway.container import Container
from gateway.settings import Settings
from gateway.service_layer.watchdog import Watchdog
from projections.board import assemble
from tests.integration.test_store import DISTRICT, STREET, VILLAGE, ctx

T0 = datetime(2026, 7, 20, 2, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def world(settings: Settings) -> Iterator[tuple[Container, Clock]]:
    c = Container.build(settings.model_copy(update={"run_projector": False}))
    clock = Clock()
    c.service.clock = clock
    s = c.service
    s.register_unit(ctx(), code=DISTRICT, name="东城区", kind="district")
    s.register_unit(ctx(), code=STREET, name="新兴街道", kind="street")
    s.register_unit(ctx(), code=VILLAGE, name="魏庄村", kind="village")
    yield c, clock
    c.close()


def dispatch(c: Container, level: str = "II") -> str:
    incident = c.service.report_incident(
        ctx(), category="accident", subtype="fire", level=level, title="火情", unit_code=VILLAGE, occurred_at=T0  # no staged reports owed
    ).id
    team = c.service.register_team(ctx(), name="综合队", kind="comprehensive", unit_code=STREET, members=22).id
    return c.service.order_dispatch(ctx(), incident, team, "救援").id  # level II: 10 minutes to acknowledge


def escalations(c: Container) -> list[tuple[str, str]]:
    return [(str(n.originator_id), c.log.decode(n).reason) for n in c.log.read(0, 100_000) if n.topic.endswith("Dispatch.Escalated")]


def test_one_escalation_per_missed_acknowledgement_even_after_restart(world: tuple[Container, Clock]) -> None:
    c, clock = world
    d = dispatch(c)
    dog = Watchdog(c.service, c.store, clock)
    clock.advance(minutes=9, seconds=59)
    c.projector.catch_up()
    assert dog.run_once() == 0  # not yet due
    clock.advance(seconds=2)
    assert dog.run_once() == 1
    c.projector.catch_up()
    assert dog.run_once() == 0
    assert Watchdog(c.service, c.store, clock).run_once() == 0  # a restarted watchdog
    assert escalations(c) == [(d, "ack_overdue")]
    position, docs = c.store.snapshot(("dispatch",))
    board = assemble(docs, position, clock())
    assert [(a["kind"], a["dispatch_id"], a["escalated"]) for a in board["alerts"]] == [("ack_overdue", d, True)]


def test_stale_read_models_and_racing_watchdogs_still_escalate_once(world: tuple[Container, Clock]) -> None:
    c, clock = world
    d = dispatch(c)
    c.projector.catch_up()
    clock.advance(minutes=11)
    dogs = [Watchdog(c.service, c.store, clock) for _ in range(6)]
    barrier = threading.Barrier(len(dogs))

    def run(dog: Watchdog) -> None:
        barrier.wait()
        dog.run_once()

    threads = [threading.Thread(target=run, args=(dog,)) for dog in dogs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The read models were never updated, so every later pass still sees a candidate: refused each time.
    assert sum(dog.run_once() for dog in dogs) == 0
    assert escalations(c) == [(d, "ack_overdue")]


def test_acknowledged_in_time_is_not_escalated_but_a_late_arrival_is(world: tuple[Container, Clock]) -> None:
    c, clock = world
    d = dispatch(c)
    clock.advance(minutes=5)
    c.service.acknowledge_dispatch(ctx(), d)  # arrival expected within 45 minutes (level II)
    c.projector.catch_up()
    dog = Watchdog(c.service, c.store, clock)
    clock.advance(minutes=30)
    assert dog.run_once() == 0
    c.service.depart_dispatch(ctx(), d)
    clock.advance(minutes=16)
    c.projector.catch_up()
    assert dog.run_once() == 1
    c.projector.catch_up()
    assert dog.run_once() == 0
    assert escalations(c) == [(d, "arrival_overdue")]
    c.service.arrive_dispatch(ctx(), d)
    c.projector.catch_up()
    clock.advance(hours=5)
    assert dog.run_once() == 0


def test_arrival_on_time_is_never_escalated(world: tuple[Container, Clock]) -> None:
    c, clock = world
    d = dispatch(c)
    c.service.acknowledge_dispatch(ctx(), d)
    c.service.depart_dispatch(ctx(), d)
    clock.advance(minutes=40)
    c.service.arrive_dispatch(ctx(), d)
    c.projector.catch_up()
    clock.advance(hours=2)
    assert Watchdog(c.service, c.store, clock).run_once() == 0
    assert escalations(c) == []
