"""Group commit on PostgreSQL against the library's default write path, in the same run.

Goal (the plan for the scaled layout): about 10x the library's default rate of
saves on PostgreSQL. Two stores in fresh schemas of the same server, one with
`YINGJI_GROUP_COMMIT=true` (gateway.adapters.groupcommit) and one without; rounds
alternate between them so that a machine busy with other work slows both alike.

  1. write path: T threads each saving one event per save straight through the
     recorder (as the library's own figures are measured), T in --threads;
  2. command path: 16 threads sending `report_incident` through CommandService
     (load, decide, save with its idempotency record), which adds the Python
     work of a command to each save.

    python -m bench.group_commit            # 4,000 saves per round, 3 rounds (~1 min)
    python -m bench.group_commit --quick    # 1,000 saves per round, 1 round
    YINGJI_BENCH_DATABASE_URL=postgresql://... python -m bench.group_commit
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.persistence import StoredEvent

from bench.history import emit, machine, say
from gateway.container import Container
from gateway.context import CommandContext, Principal
from gateway.settings import Settings

DATABASE_URL = os.environ.get("YINGJI_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN = Principal("admin", "admin", "411099000000")
VILLAGE = "411099001001"
GOAL_RATIO = 10.0


def store(group_commit: bool, schema: str) -> Container:
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="yingji-gc-bench-")), database_url=DATABASE_URL,
                        database_schema=schema, secret_key="bench-secret-of-at-least-32-bytes!", run_projector=False,
                        run_relay=False, watchdog_seconds=0, group_commit=group_commit)
    return Container.build(settings)


def in_threads(threads: int, total: int, one: Callable[[], None]) -> float:
    """Saves per second with `threads` threads doing `total` calls of `one` between them."""
    each = total // threads
    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            for _ in range(each):
                one()
        except BaseException as e:  # noqa: BLE001 - reported below, a benchmark must not hide failures
            errors.append(e)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    started = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return each * threads / elapsed


def write_path(c: Container) -> Callable[[], None]:
    recorder = c.log.recorder
    return lambda: recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "bench:Saved", b'{"n":1}')])


def command_path(c: Container) -> Callable[[], None]:
    service = c.service
    ctx = CommandContext(ADMIN, request_id="bench", idempotency_key="", request_hash="")
    for code, name, kind in [("411099000000", "东城区", "district"), ("411099001000", "新兴街道", "street"), (VILLAGE, "魏庄村", "village")]:
        service.register_unit(ctx, code=code, name=name, kind=kind)

    def report() -> None:
        keyed = CommandContext(ADMIN, request_id="bench", idempotency_key=uuid.uuid4().hex, request_hash="h")
        service.report_incident(keyed, category="natural_disaster", subtype="flood", level="IV", title="积水",
                                unit_code=VILLAGE, occurred_at=datetime.now(timezone.utc))

    return report


def measure(label: str, rounds: int, threads: int, total: int, default: Callable[[], None], grouped: Callable[[], None],
            grouped_store: Container) -> dict[str, Any]:
    rates: dict[str, list[float]] = {"library_default": [], "group_commit": []}
    committer = grouped_store.log.recorder.group_commit
    saves0, batches0 = committer.saves, committer.batches
    for _ in range(rounds):
        rates["library_default"].append(in_threads(threads, total, default))
        rates["group_commit"].append(in_threads(threads, total, grouped))
    base, gc = statistics.median(rates["library_default"]), statistics.median(rates["group_commit"])
    saves, batches = committer.saves - saves0, committer.batches - batches0
    result = {"threads": threads, "library_default_per_second": round(base), "group_commit_per_second": round(gc),
              "ratio": round(gc / base, 2), "saves_per_transaction": round(saves / max(batches, 1), 1),
              "rounds": {k: [round(r) for r in v] for k, v in rates.items()}}
    say(f"{label} x{threads}: library {base:,.0f}/s, group commit {gc:,.0f}/s = {gc / base:.1f}x"
        f" ({result['saves_per_transaction']} saves per transaction)")
    return result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="1,000 saves per round, one round")
    p.add_argument("--saves", type=int, default=None, help="saves per round and mode (default 4,000)")
    p.add_argument("--rounds", type=int, default=None, help="alternating rounds per figure (default 3)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 8, 32, 64, 128])
    p.add_argument("--command-threads", type=int, default=16)
    args = p.parse_args(argv)
    total = args.saves or (1000 if args.quick else 4000)
    rounds = args.rounds or (1 if args.quick else 3)
    schemas = {mode: f"bench_gc_{mode}_{uuid.uuid4().hex[:8]}" for mode in ("on", "off")}
    stores = {mode: store(mode == "on", schema) for mode, schema in schemas.items()}
    try:
        writes = [measure("write path", rounds, t, total, write_path(stores["off"]), write_path(stores["on"]), stores["on"])
                  for t in args.threads]
        commands = measure("command path", rounds, args.command_threads, total // 2, command_path(stores["off"]),
                           command_path(stores["on"]), stores["on"])
    finally:
        for c in stores.values():
            c.close()
        with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
            for schema in schemas.values():
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    best = max(writes, key=lambda w: w["ratio"])
    with psycopg.connect(DATABASE_URL) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    emit("group_commit" + ("-quick" if args.quick else ""), {
        "benchmark": "group_commit", "goal_ratio": GOAL_RATIO, "saves_per_round": total, "rounds": rounds,
        "write_path": writes, "command_path": commands,
        "best_write_ratio": best["ratio"], "best_write_threads": best["threads"],
        "machine": machine() | {"postgresql": server},
    })


if __name__ == "__main__":
    main()
