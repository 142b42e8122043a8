"""The replay board, which keeps only what is on the board, equals the board of every read model folded in full,
at every position of the golden log (every event type, staged reports through to the city's acknowledgement).

`projections.replay.BoardState` drops a document once it leaves the board; a reducer that reads a dropped
document (a report's schedule reading the report) would fold differently there than live. This caught the
staged reports' schedules staying "owed" in replay after their reports were submitted."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

from gateway.container import Container
from gateway.settings import Settings
from gateway.tools.backup import import_log
from projections.board import BOARD_KINDS, on_board
from projections.fold import MemoryDocs
from projections.replay import BoardState
from tests.golden.views import FIXTURE


def on_board_docs(docs: dict[tuple[str, str], Any]) -> dict[tuple[str, str], Any]:
    return {key: doc for key, doc in docs.items() if key[0] in BOARD_KINDS and on_board(key[0], doc)}


def test_the_replay_fold_equals_the_full_fold_at_every_position(tmp_path: Path) -> None:
    c = Container.build(Settings(data_dir=tmp_path, create_schema=True, run_projector=False))
    try:
        with gzip.open(FIXTURE, "rt", encoding="utf-8") as lines:
            head = import_log(c.log, lines)
        full, replay = MemoryDocs(), BoardState()
        differing: dict[str, int] = {}
        for n in c.log.read(0, head):
            event = c.log.decode(n)
            # A document differs only once an event touched it (in either fold): comparing what this event touched,
            # at every event, is comparing everything at every position (and costs the event, not the board).
            touched = {(kind, doc_id) for kind, doc_id, _ in [*full.apply(event, n.id), *replay.apply(event, n.id)]}
            for kind, doc_id in touched:
                want = full.get(kind, doc_id) if kind in BOARD_KINDS else None
                want = want if want is not None and on_board(kind, want) else None
                got = replay.get(kind, doc_id) if kind in BOARD_KINDS else None
                if want != got:
                    differing.setdefault(kind, n.id)
            if n.id % 97 == 0:  # dropping what no later event reads, often, changes nothing
                replay.sweep()
        assert not differing, f"replay differs from the full fold (kind: first position): {differing}"
        assert on_board_docs(full.docs) == on_board_docs(replay.docs)
        assert len(replay.docs) < len(full.docs)  # and it keeps less than everything
    finally:
        c.close()
