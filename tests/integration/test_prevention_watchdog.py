"""Missed rectification deadlines of hidden dangers: exactly one escalation each, with an injected clock,
across a restart and racing watchdogs, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

from gateway.container import Container
from gateway.service_layer.watchdog import Watchdog
from gateway.settings import Settings
from projections.board import assemble
from tests.integration.test_store import VILLAGE, ctx
from tests.integration.test_watchdog import T0, Clock
from tests.integration.test_watchdog import world as world  # noqa: F401  (the fixture: a district with one village)


def danger(c: Container, days: int = 3) -> str:
    d = c.service.report_hidden_danger(ctx(), unit_code=VILLAGE, grade="general", title="消防通道堵塞", site="纬三路仓库").id
    c.service.assign_hidden_danger(ctx(), d, rectifier="仓储公司", responsible="王经理", deadline=T0 + timedelta(days=days),
                                   measures="清理通道")
    return d


def escalations(c: Container) -> list[tuple[str, str]]:
    return [(str(n.originator_id), c.log.decode(n).deadline.isoformat()) for n in c.log.read(0, 100_000)
            if n.topic.endswith("HiddenDanger.Escalated")]


def test_one_escalation_per_missed_deadline_across_a_restart(world: tuple[Container, Clock], settings: Settings) -> None:  # noqa: F811
    c, clock = world
    d = danger(c)
    c.projector.catch_up()
    dog = Watchdog(c.service, c.store, clock)
    clock.advance(days=3)
    assert dog.run_once() == 0  # at the deadline: not yet missed
    clock.advance(seconds=1)
    assert dog.run_once() == 1
    c.projector.catch_up()
    assert dog.run_once() == 0
    # A restart: a new process over the same store, its own watchdog.
    again = Container.build(settings.model_copy(update={"run_projector": False, "create_schema": False}))
    again.service.clock = clock
    try:
        assert Watchdog(again.service, again.store, clock).run_once() == 0
        # The deadline moved (with a reason) and missed again: one more escalation, for the new deadline.
        again.service.move_danger_deadline(ctx(), d, T0 + timedelta(days=5), "设备到货延迟")
        again.projector.catch_up()
        clock.advance(days=2)
        assert Watchdog(again.service, again.store, clock).run_once() == 1
        again.projector.catch_up()
        assert Watchdog(again.service, again.store, clock).run_once() == 0
        assert escalations(again) == [(d, (T0 + timedelta(days=3)).isoformat()), (d, (T0 + timedelta(days=5)).isoformat())]
        position, docs = again.store.snapshot(("hidden_danger",))
        board = assemble(docs, position, clock())
        assert [(a["kind"], a["danger_id"], a["escalated"]) for a in board["alerts"]] == [("danger_overdue", d, True)]
        assert board["dangers_by_street"] == {VILLAGE[:9] + "000": {"open": 1, "overdue": 1, "major_open": 0}}
    finally:
        again.close()


def test_racing_watchdogs_on_stale_read_models_escalate_once(world: tuple[Container, Clock]) -> None:  # noqa: F811
    c, clock = world
    d = danger(c, days=1)
    c.projector.catch_up()
    clock.advance(days=2)
    dogs = [Watchdog(c.service, c.store, clock) for _ in range(2)]
    barrier = threading.Barrier(len(dogs))

    def run(dog: Watchdog) -> None:
        barrier.wait()
        dog.run_once()

    threads = [threading.Thread(target=run, args=(dog,)) for dog in dogs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(dog.run_once() for dog in dogs) == 0  # the read models are stale: candidates, refused by the aggregate
    assert escalations(c) == [(d, (T0 + timedelta(days=1)).isoformat())]


def test_reported_in_time_is_never_escalated(world: tuple[Container, Clock]) -> None:  # noqa: F811
    c, clock = world
    d = danger(c, days=1)
    sha = c.evidence.put(b"%PDF-1.4 rectified", unit_code=VILLAGE, name="r.pdf", uploaded_by="x")["sha256"]
    c.service.report_danger_rectified(ctx(), d, [sha])
    c.projector.catch_up()
    clock.advance(days=5)
    assert Watchdog(c.service, c.store, clock).run_once() == 0
    assert escalations(c) == []


def test_the_demo_leaves_the_watchdog_nothing_to_escalate(settings: Settings) -> None:
    """The seeded overdue rectifications were escalated when they were missed: a demo server's first watchdog
    pass writes nothing (tests that count the log against a seeded server rely on it)."""
    from datetime import datetime, timezone

    from gateway.tools.seed import seed_demo

    c = Container.build(settings.model_copy(update={"run_projector": False}))
    try:
        seed_demo(c)
        c.projector.catch_up()
        dog = Watchdog(c.service, c.store)
        assert dog.overdue_dangers(datetime.now(timezone.utc)) == []
        docs, _ = c.store.list("hidden_danger", statuses=["rectifying"], limit=100)
        assert sum(1 for d in docs if d["escalations"]) == 2
    finally:
        c.close()
