"""The same bodies on a real SQLite file and a real PostgreSQL: commands, races, idempotency, projection."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from domain.common import DomainError
from gateway.container import Container
from gateway.context import CommandContext, Principal
from gateway.errors import IdempotencyMismatch
from gateway.settings import Settings
from projections.fold import MemoryDocs

DISTRICT, STREET, VILLAGE = "411099000000", "411099001000", "411099001001"
ADMIN = Principal("admin", "admin", DISTRICT)


def ctx(key: str = "", body: str = "b", principal: Principal = ADMIN) -> CommandContext:
    return CommandContext(principal, request_id="r", idempotency_key=key, request_hash=body)


@pytest.fixture
def c(settings: Settings) -> Iterator[Container]:
    container = Container.build(settings.model_copy(update={"run_projector": False}))
    s = container.service
    s.register_unit(ctx(), code=DISTRICT, name="东城区", kind="district")
    s.register_unit(ctx(), code=STREET, name="新兴街道", kind="street")
    s.register_unit(ctx(), code=VILLAGE, name="魏庄村", kind="village")
    yield container
    container.close()


def report(c: Container, key: str = "") -> str:
    return c.service.report_incident(
        ctx(key), category="natural_disaster", subtype="flood", level="III", title="积水", unit_code=VILLAGE,
        occurred_at=datetime.now(timezone.utc),
    ).id


def test_positions_are_dense_and_commands_answer_their_last_position(c: Container) -> None:
    incident = report(c)
    before = c.log.max_position()
    answer = c.service.verify_incident(ctx(), incident)
    assert answer.position == before + 1 == c.log.max_position()
    assert [n.id for n in c.log.read(0, 1000)] == list(range(1, answer.position + 1))


def test_twenty_racing_dispatches_of_one_team_exactly_one_wins(c: Container) -> None:
    incident = report(c)
    team = c.service.register_team(ctx(), name="综合队", kind="comprehensive", unit_code=STREET, members=24).id
    results: list[object] = []
    barrier = threading.Barrier(20)

    def go() -> None:
        barrier.wait()
        try:
            results.append(c.service.order_dispatch(ctx(), incident, team, "救援"))
        except DomainError as e:
            results.append(e.code)

    threads = [threading.Thread(target=go) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wins = [r for r in results if not isinstance(r, str)]
    assert len(wins) == 1
    assert sorted(set(r for r in results if isinstance(r, str))) == ["team_unavailable"]
    ordered = [n for n in c.log.read(0, 10_000) if n.topic.endswith("Dispatch.Ordered")]
    assert len(ordered) == 1


def test_racing_allocations_for_the_last_units_only_those_that_fit_win(c: Container) -> None:
    incident = report(c)
    w = c.service.register_warehouse(ctx(), name="仓库", unit_code=STREET).id
    c.service.receive_stock(ctx(), w, {"TENT-12": 10})
    results: list[object] = []
    barrier = threading.Barrier(12)

    def go() -> None:
        barrier.wait()
        try:
            results.append(c.service.request_allocation(ctx(), incident, w, {"TENT-12": 3}))
        except DomainError as e:
            results.append(e.code)

    threads = [threading.Thread(target=go) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wins = [r for r in results if not isinstance(r, str)]
    assert len(wins) == 3  # 3 x 3 = 9 <= 10; a fourth would need 12
    assert [r for r in results if isinstance(r, str)] == ["insufficient_stock"] * 9
    c.projector.catch_up()
    stock = c.store.get("warehouse", w)["stock"]["TENT-12"]
    assert stock == {"on_hand": 10, "reserved": 9, "minimum": 0}


def test_a_retried_key_answers_the_first_result_and_writes_nothing(c: Container) -> None:
    first = c.service.report_incident(
        ctx("k1", "same"), category="accident", subtype="fire", level="IV", title="火情", unit_code=VILLAGE,
        occurred_at=datetime.now(timezone.utc),
    )
    head = c.log.max_position()
    again = c.service.report_incident(
        ctx("k1", "same"), category="accident", subtype="fire", level="IV", title="火情", unit_code=VILLAGE,
        occurred_at=datetime.now(timezone.utc),
    )
    assert (again.id, again.position, again.replayed) == (first.id, first.position, True)
    assert c.log.max_position() == head
    with pytest.raises(IdempotencyMismatch):
        c.service.verify_incident(ctx("k1", "different"), first.id)
    assert c.log.max_position() == head


def test_racing_retries_of_one_key_write_once(c: Container) -> None:
    incident = report(c)
    barrier = threading.Barrier(10)
    answers: list[tuple[str, int]] = []

    def go() -> None:
        barrier.wait()
        a = c.service.update_situation(ctx("same-key", "h"), incident, {"evacuated": 5}, "")
        answers.append((a.id, a.position))

    threads = [threading.Thread(target=go) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(answers)) == 1
    updates = [n for n in c.log.read(0, 10_000) if n.topic.endswith("Incident.SituationUpdated")]
    assert len(updates) == 1


def test_projector_matches_an_in_memory_fold_and_resumes_after_restart(c: Container, settings: Settings) -> None:
    incident = report(c)
    team = c.service.register_team(ctx(), name="综合队", kind="comprehensive", unit_code=STREET, members=24).id
    d = c.service.order_dispatch(ctx(), incident, team, "救援").id
    c.projector.catch_up()
    c.service.acknowledge_dispatch(ctx(), d)
    # A second projector over the same store (as after a restart) continues from the durable position.
    again = Container.build(settings.model_copy(update={"run_projector": False, "create_schema": False}))
    try:
        assert again.projector.position == c.projector.position
        again.projector.catch_up()
        memory = MemoryDocs().fold(c.log.decode(n) for n in c.log.read(0, 10_000))
        for (kind, doc_id), doc in memory.docs.items():
            assert again.store.get(kind, doc_id) == doc, (kind, doc_id)
        assert again.store.get("team", team)["status"] == "acknowledged"
    finally:
        again.close()


def test_out_of_scope_principal_is_refused(c: Container) -> None:
    incident = report(c)
    other_street = Principal("op", "operator", "411099002000")
    # Out of scope reads like unknown: the refusal does not confirm the id exists.
    with pytest.raises(DomainError) as e:
        c.service.verify_incident(ctx(principal=other_street), incident)
    assert e.value.code == "not_found"


def test_two_caching_processes_racing_for_the_last_units_end_as_without_the_cache(settings: Settings) -> None:
    """Each gateway process keeps aggregates decoded (the library's cache, fast-forwarded from the log
    on every load): two of them, their caches warm and one of them stale, deciding on the same
    warehouse at once, end exactly as the race above does without a cache."""
    cached = settings.model_copy(update={"run_projector": False, "aggregate_cache": 1000})
    a, b = Container.build(cached), Container.build(cached)
    try:
        for code, name, kind in ((DISTRICT, "东城区", "district"), (STREET, "新兴街道", "street"), (VILLAGE, "魏庄村", "village")):
            a.service.register_unit(ctx(), code=code, name=name, kind=kind)
        incident = report(a)
        w = a.service.register_warehouse(ctx(), name="仓库", unit_code=STREET).id
        a.service.receive_stock(ctx(), w, {"TENT-12": 11})
        b.service.request_allocation(ctx(), incident, w, {"TENT-12": 1})  # b's cache holds the warehouse ...
        a.service.request_allocation(ctx(), incident, w, {"TENT-12": 1})  # ... and a moves it on: b's copy is stale
        a.service.receive_stock(ctx(), w, {"TENT-12": 1})  # 12 on hand, 2 reserved: 10 left, as in the race above
        results: list[object] = []
        barrier = threading.Barrier(12)

        def go(c: Container) -> None:
            barrier.wait()
            try:
                results.append(c.service.request_allocation(ctx(), incident, w, {"TENT-12": 3}))
            except DomainError as e:
                results.append(e.code)

        threads = [threading.Thread(target=go, args=(a if i % 2 else b,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len([r for r in results if not isinstance(r, str)]) == 3
        assert [r for r in results if isinstance(r, str)] == ["insufficient_stock"] * 9
        a.projector.catch_up()
        assert a.store.get("warehouse", w)["stock"]["TENT-12"] == {"on_hand": 12, "reserved": 11, "minimum": 0}
        assert a.log.repository.cache is not None and b.log.repository.cache is not None  # the cache was on
    finally:
        a.close()
        b.close()


def test_snapshots_taken_from_the_saved_aggregate_load_as_its_whole_history_does(c: Container) -> None:
    """DistrictLog snapshots the aggregate it just saved (not a reload), every 20 events, and loads with its own
    projector: an incident past several snapshots loads exactly as folding every one of its events does."""
    from uuid import UUID

    from gateway.adapters.eventstore import project_events

    incident = report(c)
    for n in range(47):
        c.service.update_situation(ctx(), incident, {"evacuated": n + 1, "injured": n % 3})
    snapshots = list(c.log.snapshots.get(UUID(incident)))  # type: ignore[union-attr]
    assert [s.originator_version for s in snapshots] == [20, 40]
    loaded = c.log.repository.get(UUID(incident))
    folded = project_events(None, c.log.events.get(UUID(incident)))
    assert loaded.version == folded.version == 48
    assert {k: v for k, v in vars(loaded).items() if k != "_pending_events"} == {k: v for k, v in vars(folded).items()
                                                                                 if k != "_pending_events"}
