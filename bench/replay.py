"""Replay and rebuild on a long log: the board at random positions, and a full rebuild of the read models.

Goals (issue): on a 1,000,000-event log, the board at 20 random positions
with p95 <= 1 s; a full rebuild at >= 50% of the raw rate of reading and
decoding the same log, measured in the same run.

  1. a generated district history (bench/history.py; cached by size, copied
     into a fresh embedded store);
  2. raw and rebuild in alternating segments of the log (raw 1, rebuild 1,
     raw 2, ...), so a machine busy with other work slows both alike (no new
     segment after --rebuild-budget seconds, 150 by default, so that a full run
     stays near 5 minutes; --full-rebuild covers the whole log):
     raw: `log.read(after, 5000)` and `log.decode(n)` for every notification;
     rebuild: as `yingji projections rebuild` does (DocStore.reset, then
     `Projector.run_once()` until the segment is done), its time split with
     timers (read, decode, reducers, DocStore.get, DocStore.commit, publish);
  3. checkpoints: `Checkpoints(...).fold(latest, save=True)` over the whole
     log (one every `checkpoint_every` = 5000 events);
  4. `board_at(position=p)` at 20 random positions: p50, p95, max; and the
     board at the head compared with the rebuilt live read models.

    python -m bench.replay                     # 1,000,000 events (rebuild: as much as 150 s allow)
    python -m bench.replay --full-rebuild      # 1,000,000 events, the whole log rebuilt
    python -m bench.replay --quick             # 50,000 events (smoke, < 30 s once cached)
    python -m bench.replay --events 200000     # any size (generated once, then cached)
    python -m bench.replay --profile           # also cProfile the rebuild of the first 100,000 events
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import pstats
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import projections.projector as projector_mod
from bench.history import DEFAULT_CACHE, cached_history, emit, machine, say
from gateway.container import Container
from gateway.settings import Settings
from projections.board import BOARD_KINDS, on_board
from projections.checkpoints import Checkpoints, checkpoints_table

GOAL_P95_SECONDS = 1.0
GOAL_RATIO = 0.5
READ_LIMIT = 5000


class Timers:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        perf = time.perf_counter

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = perf()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + perf() - t
                self.calls[name] = self.calls.get(name, 0) + 1

        return timed


def instrument(c: Container, timers: Timers) -> Callable[[], None]:
    """Timers around the projector's parts (instance attributes and the projector module's apply_event)."""
    originals = {"read": c.log.read, "decode": c.log.decode, "get": c.store.get, "commit": c.store.commit}
    c.log.read = timers.wrap("read", originals["read"])  # type: ignore[method-assign]
    c.log.decode = timers.wrap("decode", originals["decode"])  # type: ignore[method-assign]
    c.store.get = timers.wrap("store_get", originals["get"])  # type: ignore[method-assign]
    c.store.commit = timers.wrap("store_commit", originals["commit"])  # type: ignore[method-assign]
    publish = c.projector.publish
    if publish is not None:
        c.projector.publish = timers.wrap("publish", publish)
    apply_event = projector_mod.apply_event
    projector_mod.apply_event = timers.wrap("apply_event", apply_event)

    def undo() -> None:
        c.log.read, c.log.decode = originals["read"], originals["decode"]  # type: ignore[method-assign]
        c.store.get, c.store.commit = originals["get"], originals["commit"]  # type: ignore[method-assign]
        c.projector.publish = publish
        projector_mod.apply_event = apply_event

    return undo


def rebuild_split(timers: Timers, total: float) -> dict[str, Any]:
    s = timers.seconds
    parts = {
        "read_notifications": s.get("read", 0.0),
        "decode": s.get("decode", 0.0),
        "reducers": s.get("apply_event", 0.0) - s.get("store_get", 0.0),  # apply_event calls get() for misses
        "store_get": s.get("store_get", 0.0),
        "store_commit": s.get("store_commit", 0.0),
        "publish": s.get("publish", 0.0),
    }
    parts["other"] = total - sum(parts.values())
    return {"seconds": {k: round(v, 3) for k, v in parts.items()}, "share": {k: round(v / total, 3) for k, v in parts.items()},
            "calls": dict(timers.calls)}


def raw_and_rebuild(c: Container, head: int, segments: int, budget: float | None) -> dict[str, Any]:
    """Alternating segments: read+decode (raw) of positions (a, b], then the projector over the same positions.

    With a `budget` (seconds), no new segment starts once raw + rebuild have taken that long: the rates then
    cover the first segments of the log only (`complete` false), the same positions for both."""
    c.store.reset()
    c.projector.position = 0
    timers = Timers()
    raw_s = rebuild_s = 0.0
    raw_events = rebuild_events = 0
    per_segment = []
    step = c.projector.batch_size  # segments end on projector batch boundaries
    size = -(-head // segments // step) * step
    read, decode = c.log.read, c.log.decode
    for a in range(0, head, size):
        if budget is not None and raw_s + rebuild_s >= budget:
            break
        b = min(a + size, head)
        t = time.perf_counter()
        after, n_raw = a, 0
        while after < b:
            notifications = read(after, min(READ_LIMIT, b - after))
            if not notifications:
                break
            for n in notifications:
                decode(n)
            n_raw += len(notifications)
            after = notifications[-1].id
        seg_raw = time.perf_counter() - t
        undo = instrument(c, timers)
        try:
            t = time.perf_counter()
            start, n_rebuilt = c.projector.position, 0
            while c.projector.position < b:
                done = c.projector.run_once()
                if not done:
                    break
                n_rebuilt += done
            seg_rebuild = time.perf_counter() - t
        finally:
            undo()
        raw_s += seg_raw
        rebuild_s += seg_rebuild
        raw_events += n_raw
        rebuild_events += n_rebuilt
        per_segment.append({"upto": b, "raw_eps": round(n_raw / seg_raw), "rebuild_eps": round(n_rebuilt / seg_rebuild),
                            "ratio": round((n_rebuilt / seg_rebuild) / (n_raw / seg_raw), 3)})
        say(f"  up to {b:,}: raw {n_raw / seg_raw:,.0f} events/s, rebuild {n_rebuilt / seg_rebuild:,.0f} events/s"
            f" (started at {start:,})")
    raw_eps, rebuild_eps = raw_events / raw_s, rebuild_events / rebuild_s
    ratios = sorted(s["ratio"] for s in per_segment)
    return {
        "ratio": round(rebuild_eps / raw_eps, 3),
        "complete": c.projector.position >= head,
        "covered_events": c.projector.position,
        "budget_seconds": budget,
        "raw": {"events": raw_events, "seconds": round(raw_s, 3), "events_per_second": round(raw_eps),
                "how": f"log.read(after, {READ_LIMIT}) and log.decode(n) for each"},
        "rebuild": {"events": rebuild_events, "seconds": round(rebuild_s, 3), "events_per_second": round(rebuild_eps),
                    "how": "DocStore.reset(), then Projector.run_once() (batch 500) until done, as `yingji projections rebuild`",
                    "projector_batch_size": c.projector.batch_size, "split": rebuild_split(timers, rebuild_s)},
        "segments": per_segment,
        "median_segment_ratio": ratios[len(ratios) // 2],
    }


def build_checkpoints(c: Container) -> dict[str, Any]:
    cps = Checkpoints(c.engine, c.log, every=c.settings.checkpoint_every)
    t = time.perf_counter()
    state = cps.fold(cps.latest(), save=True)
    seconds = time.perf_counter() - t
    with c.engine.connect() as conn:
        rows = conn.execute(checkpoints_table.select()).fetchall()
    sizes = [len(r.state) for r in rows]
    return {"events": state.position, "seconds": round(seconds, 3), "events_per_second": round(state.position / seconds),
            "every": cps.every, "checkpoints": len(rows), "mean_checkpoint_bytes": round(sum(sizes) / max(len(sizes), 1)),
            "max_checkpoint_bytes": max(sizes, default=0), "docs_in_state_at_head": len(state.docs)}


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest rank."""
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


def boards_at(c: Container, head: int, n: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    positions = sorted(rng.sample(range(1, head + 1), n))
    cps = Checkpoints(c.engine, c.log, every=c.settings.checkpoint_every)
    samples = []
    for p in rng.sample(positions, len(positions)):  # in random order: no walking forward through the cache
        t = time.perf_counter()
        board = cps.board_at(position=p)
        seconds = time.perf_counter() - t
        base = cps.latest(position=p).position
        samples.append({"position": p, "seconds": round(seconds, 4), "folded_from_checkpoint": p - base,
                        "on_board": sum(len(board[k]) for k in BOARD_KINDS), "alerts": len(board["alerts"])})
    times = sorted(s["seconds"] for s in samples)
    return {"positions": n, "p50_seconds": percentile(times, 50), "p95_seconds": percentile(times, 95), "max_seconds": times[-1],
            "mean_seconds": round(sum(times) / len(times), 4), "seed": seed,
            "samples": sorted(samples, key=lambda s: s["position"])}


def board_matches_live(c: Container, position: int) -> dict[str, Any]:
    """The replayed board at the rebuilt position equals the rebuilt live read models (on-board documents)."""
    board = Checkpoints(c.engine, c.log, every=c.settings.checkpoint_every).board_at(position=position)
    position, docs = c.store.snapshot(BOARD_KINDS)
    live: dict[str, list[Any]] = {k: [] for k in BOARD_KINDS}
    for kind, doc in docs:
        if on_board(kind, doc):
            live[kind].append(doc)
    replayed = {k: sorted(board[k], key=lambda d: d["id"]) for k in BOARD_KINDS}
    live = {k: sorted(v, key=lambda d: d["id"]) for k, v in live.items()}
    differing = [k for k in BOARD_KINDS if replayed[k] != live[k]]
    return {"position": position, "equal": not differing, "differing_kinds": differing,
            "on_board": {k: len(v) for k, v in live.items()}}


def profile_rebuild(c: Container, events: int) -> dict[str, Any]:
    c.store.reset()
    c.projector.position = 0
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    while c.projector.position < events and c.projector.run_once():
        pass
    prof.disable()
    seconds = time.perf_counter() - t
    out: dict[str, Any] = {"events": c.projector.position, "seconds_under_profiler": round(seconds, 3)}
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(30)
        lines = [ln.rstrip() for ln in buf.getvalue().splitlines()]
        start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
        out[key] = [ln for ln in lines[start:] if ln.strip()][:31]
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="50,000 events: a smoke run")
    p.add_argument("--events", type=int, default=None, help="log size (default 1,000,000; 50,000 with --quick)")
    p.add_argument("--positions", type=int, default=20, help="random positions for board_at")
    p.add_argument("--segments", type=int, default=None, help="alternating raw/rebuild segments (default 20; 4 with --quick)")
    p.add_argument("--rebuild-budget", type=float, default=150.0,
                   help="seconds for raw + rebuild: no new segment starts after that (default 150, to keep a full run"
                        " near 5 minutes; the JSON says how much of the log was covered)")
    p.add_argument("--full-rebuild", action="store_true", help="rebuild the whole log, however long it takes")
    p.add_argument("--seed", type=int, default=411099)
    p.add_argument("--profile", action="store_true", help="also cProfile a rebuild of the first 100,000 events (top entries)")
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    args = p.parse_args(argv)
    events = args.events or (50_000 if args.quick else 1_000_000)
    segments = args.segments or (4 if args.quick else 20)
    budget = None if args.full_rebuild or args.quick else args.rebuild_budget
    started = time.perf_counter()
    history, meta = cached_history(events, cache_dir=args.cache_dir)
    workdir = Path(tempfile.mkdtemp(prefix="yingji-replay-bench-"))
    try:
        t = time.perf_counter()
        shutil.copyfile(history, workdir / "events.sqlite3")
        copy_s = time.perf_counter() - t
        settings = Settings(data_dir=workdir, run_projector=False, run_relay=False, watchdog_seconds=0)
        c = Container.build(settings)
        try:
            head = c.log.max_position()
            say(f"log of {head:,} events ({history.stat().st_size / 1e6:,.0f} MB) copied in {copy_s:.1f}s;"
                f" raw read+decode and rebuild in {segments} alternating segments")
            rebuild = raw_and_rebuild(c, head, segments, budget)
            say(f"rebuild {rebuild['rebuild']['events_per_second']:,} events/s, raw {rebuild['raw']['events_per_second']:,}"
                f" events/s: {rebuild['ratio']:.0%}; building checkpoints")
            checkpoints = build_checkpoints(c)
            say(f"checkpoints: {checkpoints['checkpoints']} in {checkpoints['seconds']:.1f}s; board at {args.positions} positions")
            boards = boards_at(c, head, args.positions, args.seed)
            say(f"board_at p50 {boards['p50_seconds']:.3f}s p95 {boards['p95_seconds']:.3f}s max {boards['max_seconds']:.3f}s")
            check = board_matches_live(c, c.projector.position)
            prof = profile_rebuild(c, min(100_000, head)) if args.profile else None
        finally:
            c.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    doc: dict[str, Any] = {
        "benchmark": "replay",
        "quick": args.quick,
        "events": head,
        "goal": {
            "board_at_p95_seconds_at_most": GOAL_P95_SECONDS,
            "board_at_p95_seconds": boards["p95_seconds"],
            "board_at_met": boards["p95_seconds"] <= GOAL_P95_SECONDS,
            "rebuild_ratio_at_least": GOAL_RATIO,
            "rebuild_ratio": rebuild["ratio"],
            "rebuild_met": rebuild["ratio"] >= GOAL_RATIO,
            "rebuild_complete": rebuild["complete"],
        },
        "board_at": boards,
        "rebuild": rebuild,
        "checkpoints": checkpoints,
        "board_at_head_matches_live": check,
        "history": {k: meta[k] for k in ("events", "seed", "generator_version", "fingerprint", "simulated_from", "simulated_to",
                                         "incidents", "dispatches", "allocations") if k in meta},
        "store_copy_seconds": round(copy_s, 2),
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
    }
    if prof is not None:
        doc["rebuild_profile"] = prof
    emit("replay" + ("-quick" if args.quick else ""), doc)


if __name__ == "__main__":
    main()
