"""Deadlines of the staged disaster reports (初报, 续报, 核报) and of the shift handover, with an injected clock,
on SQLite and PostgreSQL: each missed deadline is one durable escalation, whatever restarts or races."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from gateway.container import Container
from gateway.context import CommandContext, Principal
from gateway.service_layer import commands as c
from gateway.service_layer.watchdog import Watchdog
from projections.board import assemble
from tests.integration.test_store import DISTRICT, STREET, VILLAGE, ctx
from tests.integration.test_watchdog import T0, Clock, world  # noqa: F401  (the fixture: a district and a clock)

INCOMING = Principal("incoming", "operator", DISTRICT, name="值班员 周明")


def flood(cont: Container, level: str = "II") -> str:
    return cont.service.handle(ctx(), c.ReportIncident(category="natural_disaster", subtype="flood", level=level, title="内涝",
                                                       unit_code=VILLAGE, occurred_at=T0)).id  # 10:00 in Shanghai


def misses(cont: Container) -> list[tuple[str, str, str]]:
    found = [cont.log.decode(n) for n in cont.log.read(0, 100_000) if n.topic.endswith("ReportDeadline.Missed")]
    return [(str(e.incident_id), e.stage, e.key) for e in found]


def submit(cont: Container, incident: str, stage: str) -> str:
    rid = cont.service.handle(ctx(), c.DraftDisasterReport(incident, stage, {"affected_population": 100})).id
    cont.service.handle(ctx(), c.SignOffDisasterReport(rid))
    cont.service.handle(ctx(), c.SubmitDisasterReport(rid))
    return rid


def alerts(cont: Container, clock: Clock) -> list[tuple[str, str | None, bool]]:
    cont.projector.catch_up()
    position, docs = cont.store.snapshot(("report_schedule", "handover"))
    board = assemble(docs, position, clock(), verified_days=cont.service.verified_days)
    return [(a["kind"], a.get("key"), a["escalated"]) for a in board["alerts"]]


def test_a_missed_initial_report_is_escalated_once_even_after_restart(world: tuple[Container, Clock]) -> None:  # noqa: F811
    cont, clock = world
    i = flood(cont)
    cont.projector.catch_up()
    dog = Watchdog(cont.service, cont.store, clock)
    clock.advance(hours=1, minutes=59, seconds=59)
    assert dog.run_once() == 0 and alerts(cont, clock) == []
    clock.advance(seconds=2)
    assert alerts(cont, clock) == [("disaster_report_overdue", "initial", False)]  # shows at once, before the watchdog
    assert dog.run_once() == 1
    cont.projector.catch_up()
    assert dog.run_once() == 0
    assert Watchdog(cont.service, cont.store, clock).run_once() == 0  # a restarted watchdog
    assert misses(cont) == [(i, "initial", "initial")]
    assert alerts(cont, clock) == [("disaster_report_overdue", "initial", True)]
    rid = submit(cont, i, "initial")  # late, and says so
    cont.projector.catch_up()
    assert cont.store.get("disaster_report", rid)["in_time"] is False
    assert alerts(cont, clock) == []


def test_a_report_submitted_in_time_is_never_escalated(world: tuple[Container, Clock]) -> None:  # noqa: F811
    cont, clock = world
    i = flood(cont, level="IV")
    clock.advance(hours=1)
    rid = submit(cont, i, "initial")
    cont.projector.catch_up()
    clock.advance(days=3)
    assert Watchdog(cont.service, cont.store, clock).run_once() == 0
    assert cont.store.get("disaster_report", rid)["in_time"] is True and misses(cont) == []


def test_the_daily_continuing_report_is_escalated_once_a_day_by_racing_watchdogs(world: tuple[Container, Clock]) -> None:  # noqa: F811
    cont, clock = world
    i = flood(cont, level="II")
    clock.advance(hours=1)
    submit(cont, i, "initial")
    cont.projector.catch_up()
    clock.advance(hours=22, seconds=1)  # the next day, 09:00:01 in Shanghai
    dogs = [Watchdog(cont.service, cont.store, clock) for _ in range(6)]
    barrier = threading.Barrier(len(dogs))

    def run(dog: Watchdog) -> None:
        barrier.wait()
        dog.run_once()

    threads = [threading.Thread(target=run, args=(dog,)) for dog in dogs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(dog.run_once() for dog in dogs) == 0  # read models never caught up: every pass is refused by the log
    assert misses(cont) == [(i, "continuing", "2026-07-21")]
    # The day after, its 续报 goes in at 08:30: nothing to escalate that day.
    clock.advance(days=1, minutes=-31)
    submit(cont, i, "continuing")
    cont.projector.catch_up()
    clock.advance(hours=3)
    assert dogs[0].run_once() == 0
    assert misses(cont) == [(i, "continuing", "2026-07-21")]
    # No 续报 on the 23rd nor the 24th, and the watchdog down until the 25th: both days are recorded, once each.
    clock.advance(days=3)
    assert dogs[0].run_once() == 3  # the 23rd, 24th and 25th (past 09:00)
    cont.projector.catch_up()
    assert Watchdog(cont.service, cont.store, clock).run_once() == 0
    assert [k for _, s, k in misses(cont) if s == "continuing"] == ["2026-07-21", "2026-07-23", "2026-07-24", "2026-07-25"]


def test_the_verified_report_is_due_the_configured_days_after_control(world: tuple[Container, Clock]) -> None:  # noqa: F811
    cont, clock = world
    cont.service.verified_days = 2  # settings: YINGJI_VERIFIED_REPORT_DAYS
    i = flood(cont, level="IV")
    clock.advance(minutes=30)
    submit(cont, i, "initial")
    cont.service.handle(ctx(), c.VerifyIncident(i))
    cont.service.handle(ctx(), c.ControlIncident(i))
    cont.service.handle(ctx(), c.CloseIncident(i, "积水排除"))  # closed, the 核报 is still owed
    cont.projector.catch_up()
    controlled = datetime.fromisoformat(cont.store.get("report_schedule", i)["controlled_at"])  # the event's own time
    dog = Watchdog(cont.service, cont.store, clock)
    clock.now = controlled + timedelta(days=2) - timedelta(seconds=1)
    assert dog.run_once() == 0
    clock.now = controlled + timedelta(days=2)
    assert dog.run_once() == 1
    cont.projector.catch_up()
    assert dog.run_once() == 0 and misses(cont) == [(i, "verified", "verified")]
    submit(cont, i, "verified")
    cont.projector.catch_up()
    assert cont.store.get("report_schedule", i)["status"] == "done"  # off the board


def test_an_unconfirmed_handover_is_one_alarm_that_confirming_clears(world: tuple[Container, Clock]) -> None:  # noqa: F811
    cont, clock = world
    h = cont.service.handle(ctx(), c.SignHandover(STREET, [], "夜班平稳")).id  # grace: 30 minutes
    cont.projector.catch_up()
    dog = Watchdog(cont.service, cont.store, clock)
    clock.advance(minutes=29)
    assert dog.run_once() == 0 and alerts(cont, clock) == []
    clock.advance(minutes=2)
    assert dog.run_once() == 1
    cont.projector.catch_up()
    assert dog.run_once() == 0 and Watchdog(cont.service, cont.store, clock).run_once() == 0
    escalated = [n for n in cont.log.read(0, 100_000) if n.topic.endswith("Handover.Escalated")]
    assert [str(n.originator_id) for n in escalated] == [h]
    assert alerts(cont, clock) == [("handover_unconfirmed", None, True)]
    cont.service.handle(CommandContext(INCOMING, request_id="r"), c.ConfirmHandover(h, "已接班"))
    assert alerts(cont, clock) == []
