"""Replay: at random positions of a generated history, the replayed board equals the live snapshot taken then."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from domain.common import DomainError
from gateway.container import Container
from gateway.settings import Settings
from projections.board import BOARD_KINDS
from tests.integration.test_store import DISTRICT, STREET, VILLAGE, ctx

OTHER_STREET, OTHER_VILLAGE = "411099002000", "411099002001"


@pytest.fixture
def c(settings: Settings) -> Iterator[Container]:
    container = Container.build(settings.model_copy(update={"run_projector": False, "checkpoint_every": 37}))
    yield container
    container.close()


def board_docs(board: dict) -> dict:
    return {k: sorted(board[k], key=lambda d: d["id"]) for k in BOARD_KINDS}


def generate(c: Container, rng: random.Random, steps: int, recorded: dict[int, dict]) -> None:
    s = c.service
    for code, name, kind in [(DISTRICT, "东城区", "district"), (STREET, "新兴街道", "street"), (VILLAGE, "魏庄村", "village"),
                             (OTHER_STREET, "东城街道", "street"), (OTHER_VILLAGE, "许田村", "village")]:
        s.register_unit(ctx(), code=code, name=name, kind=kind, lat=34.0, lon=113.8)
    teams = [s.register_team(ctx(), name=f"队{i}", kind="flood", unit_code=rng.choice([STREET, OTHER_STREET]), members=8).id for i in range(5)]
    w = s.register_warehouse(ctx(), name="仓库", unit_code=STREET).id
    s.receive_stock(ctx(), w, {"TENT-12": 500, "QUILT": 500})
    incidents: list[str] = []
    dispatches: list[str] = []
    allocations: list[str] = []
    now = datetime.now(timezone.utc)
    for _ in range(steps):
        action = rng.random()
        try:
            if action < 0.2 or not incidents:
                incidents.append(s.report_incident(ctx(), category="accident", subtype="fire", level=rng.choice("I II III IV".split()),
                                                   title="火情", unit_code=rng.choice([VILLAGE, OTHER_VILLAGE]),
                                                   occurred_at=now - timedelta(minutes=rng.randint(0, 300))).id)
            elif action < 0.35:
                s.verify_incident(ctx(), rng.choice(incidents))
            elif action < 0.45:
                s.update_situation(ctx(), rng.choice(incidents), {"injured": rng.randint(0, 9)})
            elif action < 0.55:
                dispatches.append(s.order_dispatch(ctx(), rng.choice(incidents), rng.choice(teams), "救援").id)
            elif action < 0.75 and dispatches:
                d = rng.choice(dispatches)
                step = rng.choice(["acknowledge", "depart", "arrive", "complete", "decline", "cancel"])
                fn = getattr(s, f"{step}_dispatch")
                fn(ctx(), d, "原因") if step in ("decline", "cancel") else fn(ctx(), d)
            elif action < 0.85:
                allocations.append(s.request_allocation(ctx(), rng.choice(incidents), w, {"QUILT": rng.randint(1, 5)}).id)
            elif allocations:
                a = rng.choice(allocations)
                rng.choice([lambda: s.ship_allocation(ctx(), a), lambda: s.deliver_allocation(ctx(), a),
                            lambda: s.cancel_allocation(ctx(), a, "取消"), lambda: s.control_incident(ctx(), rng.choice(incidents)),
                            lambda: s.close_incident(ctx(), rng.choice(incidents), "结束")])()
        except DomainError:
            continue
        c.projector.catch_up()
        position, docs = c.store.snapshot(BOARD_KINDS)
        grouped = {k: [] for k in BOARD_KINDS}
        from projections.board import on_board

        for kind, doc in docs:
            if on_board(kind, doc):
                grouped[kind].append(doc)
        recorded[position] = board_docs(grouped)


def test_replayed_board_equals_the_live_board_recorded_at_that_position(c: Container) -> None:
    rng = random.Random(11)
    recorded: dict[int, dict] = {}
    generate(c, rng, 250, recorded)
    cps = c.checkpoints
    cps.fold(cps.latest(), save=True)  # what the checkpointer thread does
    positions = sorted(recorded)
    assert len(positions) > 100
    for position in rng.sample(positions, 20) + [positions[0], positions[-1]]:
        replayed = cps.board_at(position=position)
        assert replayed["position"] == position
        assert board_docs(replayed) == recorded[position], position
    # and by time: the moment of an event gives the board at that event
    position = rng.choice(positions)
    at = c.log.decode(c.log.read(position - 1, 1)[0]).timestamp
    assert board_docs(cps.board_at(at=at)) == recorded[position]


def test_a_checkpoint_folded_for_other_read_models_is_not_resumed_from(c: Container) -> None:
    """An older version's checkpoint (without a kind this version keeps, e.g. readiness) would leave that kind
    missing for everything before it: replay folds from the start instead, and the checkpointer replaces it."""
    import json
    import zlib

    from projections.checkpoints import checkpoints_table

    generate(c, random.Random(5), 120, {})
    cps = c.checkpoints
    cps.fold(cps.latest(), save=True)
    honest = cps.board_at(position=c.log.max_position())
    assert honest["readiness"]
    old = [[k, i, d] for (k, i), d in cps.latest().docs.items() if k != "readiness"]  # an older version's list format
    with c.engine.begin() as conn:
        conn.execute(checkpoints_table.update().values(state=zlib.compress(json.dumps(old).encode())))
    assert cps.latest().position == 0  # not resumed from
    assert board_docs(cps.board_at(position=c.log.max_position())) == board_docs(honest)
    cps.fold(cps.latest(), save=True)  # the checkpointer rewrites them
    assert cps.latest().position > 0
