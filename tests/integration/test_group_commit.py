"""Group commit (gateway.adapters.groupcommit) on a real PostgreSQL and a real SQLite file, and its hand-over of the lead between threads."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from gateway.container import Container
from gateway.adapters.groupcommit import GroupCommitter, PendingSave
from gateway.settings import Settings
from tests.conftest import PG_URL, drop_schema, postgres_or_skip

# -- the committer alone: batches, isolation of errors, every caller answered once ---------------


def test_concurrent_saves_are_batched_and_each_gets_its_own_answer() -> None:
    batches: list[list[Any]] = []
    gate = threading.Event()

    def write(batch: list[PendingSave]) -> None:
        if not batches:
            gate.wait(5)  # hold the first transaction so that the others queue behind it
        batches.append([p.stored_events[0] for p in batch])
        for p in batch:
            if p.stored_events[0] % 7 == 0:
                p.error = IntegrityError(f"clash {p.stored_events[0]}")
            else:
                p.ids = [p.stored_events[0] * 10]

    committer = GroupCommitter(write, max_batch=16)
    answers: dict[int, Any] = {}

    def save(n: int) -> None:
        try:
            answers[n] = committer.save([n])
        except IntegrityError as e:
            answers[n] = e

    first = threading.Thread(target=save, args=(1,))
    first.start()
    others = [threading.Thread(target=save, args=(n,)) for n in range(2, 41)]
    for t in others:
        t.start()
    while len(committer._queue) < 39:  # everyone queued behind the held transaction
        threading.Event().wait(0.01)
    gate.set()
    for t in [first, *others]:
        t.join(10)
    assert sorted(n for b in batches for n in b) == list(range(1, 41))  # each save written once
    assert batches[0] == [1] and all(len(b) <= 16 for b in batches) and len(batches) == 4  # 1 + 16 + 16 + 7
    for n in range(1, 41):
        assert (isinstance(answers[n], IntegrityError) if n % 7 == 0 else answers[n] == [n * 10]), (n, answers[n])
    assert committer.saves == 40 and committer.batches == 4 and not committer._leading


def test_a_failed_transaction_fails_each_save_in_it_and_the_next_batch_still_runs() -> None:
    calls = 0

    def write(batch: list[PendingSave]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("lost the connection")
        for p in batch:
            p.ids = [1]

    committer = GroupCommitter(write)
    with pytest.raises(ConnectionError):
        committer.save([1])
    assert committer.save([2]) == [1]


# -- on PostgreSQL: the same outcomes as one transaction per save ------------------------------


@pytest.fixture(params=[("postgres", True), ("postgres", False), ("sqlite", True), ("sqlite", False)],
                ids=["pg-group-commit", "pg-library-default", "sqlite-group-commit", "sqlite-library-default"])
def pg(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Container]:
    """The event store on either database, with group commit on or off (the name stays: it began as PostgreSQL's)."""
    store, grouped = request.param
    if store == "sqlite":
        container = Container.build(Settings(data_dir=tmp_path, secret_key="test-secret-of-at-least-32-bytes!",
                                             run_projector=False, group_commit=grouped))
        yield container
        container.close()
        return
    postgres_or_skip()
    schema = "t_" + uuid.uuid4().hex[:12]
    settings = Settings(data_dir=tmp_path, database_url=PG_URL, database_schema=schema,
                        secret_key="test-secret-of-at-least-32-bytes!", run_projector=False, group_commit=grouped)
    container = Container.build(settings)
    yield container
    container.close()
    drop_schema(schema)


def test_racing_saves_commit_exactly_the_ones_that_do_not_clash(pg: Container) -> None:
    """32 threads: each saves 20 events of its own, and 10 of its saves race another thread's for
    the same originator version. Exactly one of each racing pair is stored; nothing else is lost."""
    recorder = pg.log.recorder
    shared = [uuid.uuid4() for _ in range(160)]  # 16 pairs of threads race for 10 of these each
    stored: list[tuple[uuid.UUID, int, Any]] = []
    refused: list[uuid.UUID] = []
    lock = threading.Lock()
    barrier = threading.Barrier(32)

    def writer(k: int) -> None:
        own = [uuid.uuid4() for _ in range(20)]
        racing = shared[(k // 2) * 10:(k // 2) * 10 + 10]
        barrier.wait()
        for i in range(20):
            for originator in [own[i]] + ([racing[i]] if i < 10 else []):
                try:
                    ids = recorder.insert_events([StoredEvent(originator, 1, "t:T", f'{{"k":{k}}}'.encode()),
                                                  StoredEvent(originator, 2, "t:T", b"{}")])
                    with lock:
                        stored.append((originator, k, ids))
                except IntegrityError:
                    with lock:
                        refused.append(originator)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    winners = {o for o, _, _ in stored}
    assert len(stored) == len(winners) == 32 * 20 + 160  # every own save, one of each racing pair
    assert sorted(refused) == sorted(shared)  # the other of each pair, and nothing else
    log = pg.log.read(0, 10_000)
    assert len(log) == 2 * len(stored) and {n.originator_id for n in log} == winners
    by_position = {n.id: n for n in log}
    for originator, _, ids in stored:  # each save's answer names its own events, in order, adjacent
        assert ids is not None and len(ids) == 2 and ids[1] == ids[0] + 1
        assert [(by_position[i].originator_id, by_position[i].originator_version) for i in ids] == [(originator, 1), (originator, 2)]
    assert [n.id for n in log] == sorted(n.id for n in log)
    if recorder.group_commit is not None:
        assert recorder.group_commit.batches < recorder.group_commit.saves  # saves did share transactions


def test_a_writer_interrupted_while_holding_the_lead_passes_it_on() -> None:
    """A waiting writer handed the lead that never takes it (its thread interrupted) must not stall the rest."""
    committer = GroupCommitter(lambda batch: [setattr(p, "ids", [7]) for p in batch])
    gone, waiting = PendingSave([1], {}), PendingSave([2], {})
    committer._leading = True
    committer._queue = [gone, waiting]
    gone.lead = True  # as _hand_on would have set it
    committer._abandon(gone)
    assert waiting.lead and waiting.wake.is_set() and committer._queue == [waiting]
    committer._lead()  # what the woken writer does
    assert waiting.done and waiting.ids == [7] and not committer._leading


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError):
        GroupCommitter(lambda batch: None, max_batch=0)


def idem(key: str, originator: uuid.UUID) -> Any:
    from gateway.adapters.eventstore import IdempotencyRecord

    return IdempotencyRecord(scope_key=key, request_hash="h", result_id="r", last_originator_id=originator, last_version=1)


def test_a_reused_key_or_a_refused_value_fails_only_its_own_save(pg: Container) -> None:
    """One batch: good saves with keys, one reusing a stored key, one whose key the driver refuses (NUL).
    The good ones commit with their keys; the refused ones leave neither events nor keys behind."""
    recorder = pg.log.recorder
    first = uuid.uuid4()
    recorder.insert_events([StoredEvent(first, 1, "t:T", b"{}")], idempotency=idem("u:taken", first))
    plan = [("u:a", None), ("u:b", None), ("u:taken", IntegrityError), ("u:bad\x00", Exception), ("u:c", None)]
    if not pg.settings.is_postgres:  # SQLite stores a NUL; the gateway refuses it before (gateway/entrypoints/textguard.py)
        plan = [entry for entry in plan if entry[1] is not Exception]
    outcomes: dict[str, Any] = {}
    originators = {key: uuid.uuid4() for key, _ in plan}
    barrier = threading.Barrier(len(plan))

    def save(key: str) -> None:
        barrier.wait()
        try:
            outcomes[key] = recorder.insert_events([StoredEvent(originators[key], 1, "t:T", b"{}")], idempotency=idem(key, originators[key]))
        except Exception as e:  # noqa: BLE001 - the test looks at which error
            outcomes[key] = e

    threads = [threading.Thread(target=save, args=(key,)) for key, _ in plan]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    stored = {n.originator_id for n in pg.log.read(0, 100)}
    for key, refused in plan:
        if refused is None:
            assert isinstance(outcomes[key], list) and len(outcomes[key]) == 1, (key, outcomes[key])
            assert originators[key] in stored and recorder.find_answer(key) is not None
        else:
            assert isinstance(outcomes[key], refused), (key, outcomes[key])
            assert originators[key] not in stored
    assert recorder.find_answer("u:taken").position == 1  # type: ignore[union-attr]  # still the first save's
    if pg.settings.is_postgres:
        with pg.log.recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(f'SELECT scope_key FROM "{pg.settings.database_schema}".idempotency ORDER BY 1')
            keys = [r["scope_key"] for r in curs.fetchall()]
    else:
        with pg.log.recorder.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT scope_key FROM idempotency ORDER BY 1")
            keys = [r["scope_key"] for r in curs.fetchall()]
    assert keys == ["u:a", "u:b", "u:c", "u:taken"]
