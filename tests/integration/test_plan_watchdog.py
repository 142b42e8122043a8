"""预案与演练 deadlines: a plan not drilled within 2 years or not revised within its cycle, and a unit not drilled
within 2 years, escalate exactly once per due day, with an injected clock, across a restart and racing watchdogs,
on SQLite and PostgreSQL; a drill moves the due day (which can lapse again later)."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from domain.policy import drill_due, local_day, years_after
from gateway.container import Container
from gateway.service_layer.watchdog import Watchdog
from gateway.settings import Settings
from projections.board import assemble
from tests.integration.test_store import VILLAGE, ctx
from tests.integration.test_watchdog import T0, Clock
from tests.integration.test_watchdog import world as world  # noqa: F401  (the fixture: a district with one village)


def plan(c: Container) -> str:
    sha = c.evidence.put(b"%PDF-1.4 plan", unit_code=VILLAGE, name="预案.pdf", uploaded_by="x")["sha256"]
    return c.service.register_plan(ctx(), unit_code=VILLAGE, kind="special", hazard="防汛", title="魏庄村防汛应急预案",
                                   version="2026版", revised_on=local_day(T0), document=sha).id


def escalations(c: Container) -> list[tuple[str, str]]:
    out = []
    for n in c.log.read(0, 100_000):
        if n.topic.endswith(("Plan.Escalated", "UnitDrills.Escalated")):
            e = c.log.decode(n)
            out.append((getattr(e, "reason", "unit"), e.due_on))
    return out


def test_the_two_year_rule_is_one_function() -> None:
    assert drill_due(None, date(2024, 2, 29), date(2026, 2, 28)) == (date(2026, 2, 28), False)
    assert drill_due(None, date(2024, 2, 29), date(2026, 3, 1)) == (date(2026, 2, 28), True)
    assert drill_due(date(2025, 6, 1), date(2020, 1, 1), date(2027, 6, 1)) == (date(2027, 6, 1), False)
    assert drill_due(date(2025, 6, 1), date(2020, 1, 1), date(2027, 6, 2)) == (date(2027, 6, 1), True)
    assert years_after(date(2024, 2, 29), 1) == date(2025, 2, 28)


def test_one_escalation_per_lapsed_due_day_across_a_restart(world: tuple[Container, Clock], settings: Settings) -> None:  # noqa: F811
    c, clock = world
    p = plan(c)
    c.projector.catch_up()
    dog = Watchdog(c.service, c.store, clock)
    due = years_after(local_day(T0), 2)
    clock.now = T0 + (due - local_day(T0))  # the due day itself: not lapsed
    assert dog.run_once() == 0
    clock.advance(days=1)  # the day after: the plan and its unit are lapsed
    assert dog.run_once() == 2
    c.projector.catch_up()
    assert dog.run_once() == 0
    again = Container.build(settings.model_copy(update={"run_projector": False, "create_schema": False}))
    again.service.clock = clock
    try:
        assert Watchdog(again.service, again.store, clock).run_once() == 0
        position, docs = again.store.snapshot(("plan", "unit_drills"))
        board = assemble(docs, position, clock())
        assert sorted((a["kind"], a["escalated"]) for a in board["alerts"]) == [("plan_drill_lapsed", True), ("unit_drill_lapsed", True)]
        # A drill held today moves both due days two years on; they lapse again then, and escalate once more.
        again.service.record_drill(ctx(), p, kind="tabletop", held_on=local_day(clock()), scenario="村东低洼处积水转移", participants=15)
        again.projector.catch_up()
        position, docs = again.store.snapshot(("plan", "unit_drills"))
        assert assemble(docs, position, clock())["alerts"] == []
        clock.advance(days=366 * 2 + 1)
        assert Watchdog(again.service, again.store, clock).run_once() == 3  # drill again, and now the revision (3 years) too
        again.projector.catch_up()
        assert Watchdog(again.service, again.store, clock).run_once() == 0
        second = years_after(due + timedelta(days=1), 2).isoformat()
        assert sorted(escalations(again)) == sorted([("drill_lapsed", due.isoformat()), ("unit", due.isoformat()),
                                                     ("drill_lapsed", second), ("unit", second),
                                                     ("revision_lapsed", years_after(local_day(T0), 3).isoformat())])
    finally:
        again.close()


def test_racing_watchdogs_on_stale_read_models_escalate_once(world: tuple[Container, Clock]) -> None:  # noqa: F811
    c, clock = world
    plan(c)
    c.projector.catch_up()
    clock.advance(days=800)
    dogs = [Watchdog(c.service, c.store, clock) for _ in range(3)]
    barrier = threading.Barrier(len(dogs))

    def run(dog: Watchdog) -> None:
        barrier.wait()
        dog.run_once()

    threads = [threading.Thread(target=run, args=(dog,)) for dog in dogs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(dog.run_once() for dog in dogs) == 0  # stale read models: candidates, refused by the aggregates
    assert sorted(r for r, _ in escalations(c)) == ["drill_lapsed", "unit"]


def test_a_retired_plan_never_lapses(world: tuple[Container, Clock]) -> None:  # noqa: F811
    c, clock = world
    p = plan(c)
    c.service.retire_plan(ctx(), p, "并入街道总体预案")
    c.projector.catch_up()
    clock.advance(days=2000)
    assert Watchdog(c.service, c.store, clock).run_once() == 1  # the unit's record still runs (it has no drill)
    assert [r for r, _ in escalations(c)] == ["unit"]
