"""Replay and rebuild on a long log: the board at random positions, and a full rebuild of the read models.

Goals (issue): on a 1,000,000-event log, the board at 20 random positions
with p95 <= 1 s; a full rebuild at >= 50% of the raw rate of reading and
decoding the same log, measured in the same run.

  1. a generated district history (bench/history.py; cached by size, copied
     into a fresh embedded store);
  2. rebuild and raw in alternating segments of the log (rebuild 1, raw 1,
     rebuild 2, ...), so a machine busy with other work slows both alike (no new
     segment after --rebuild-budget seconds, 150 by default, so that a full run
     stays near 5 minutes; --full-rebuild covers the whole log):
     raw: `log.read(after, 5000)` and `log.decode(n)` for every notification;
     rebuild: what `yingji projections rebuild` runs (Container.rebuild), the
     raw segments run from its progress callback and timed apart; its time
     split with timers (read, DocStore.commit; with --split also decode and
     reducers);
  3. checkpoints: `Checkpoints(...).fold(latest, save=True)` over the whole
     log (one every `checkpoint_every` = 1000 events);
  4. `board_at(position=p)` at 20 random positions: p50, p95, max; and the
     board at the head compared with the rebuilt live read models.

    python -m bench.replay                     # 1,000,000 events (rebuild: as much as 150 s allow)
    python -m bench.replay --full-rebuild      # 1,000,000 events, the whole log rebuilt
    python -m bench.replay --quick             # 50,000 events (smoke, < 30 s once cached)
    python -m bench.replay --events 200000     # any size (generated once, then cached)
    python -m bench.replay --split             # also time decode and reducers inside the rebuild (slows it ~5%)
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
import projections.rebuild as rebuild_mod
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


def instrument(c: Container, timers: Timers, per_event: bool) -> Callable[[], None]:
    """Timers around the rebuild's parts: the log's read, the store's get and commit (instance attributes: every
    projector on this container's log and store goes through them) and, when `per_event`, the log's decode and
    apply_event (the reducers). Per-event timers cost ~1 us a call, which the raw read+decode does not pay, so
    they are off unless asked for (--split). Returns the function that takes them off again."""
    wrapped = [(c.log, "read", "read"), (c.store, "get", "store_get"), (c.store, "commit", "store_commit")]
    if per_event:
        wrapped.append((c.log, "decode", "decode"))
    before = [(obj, attr, obj.__dict__.get(attr)) for obj, attr, _ in wrapped]
    for obj, attr, label in wrapped:
        setattr(obj, attr, timers.wrap(label, getattr(obj, attr)))
    apply_event = projector_mod.apply_event
    if per_event:
        projector_mod.apply_event = rebuild_mod.apply_event = timers.wrap("apply_event", apply_event)

    def undo() -> None:
        for obj, attr, value in before:
            if value is None:
                obj.__dict__.pop(attr, None)
            else:
                setattr(obj, attr, value)
        projector_mod.apply_event = rebuild_mod.apply_event = apply_event

    return undo


def rebuild_split(timers: Timers, total: float) -> dict[str, Any]:
    s = timers.seconds
    parts = {"read_notifications": s.get("read", 0.0)}
    if "decode" in s:
        parts["decode"] = s["decode"]
        parts["reducers"] = s.get("apply_event", 0.0) - s.get("store_get", 0.0)  # apply_event calls get() for misses
    parts["store_get"] = s.get("store_get", 0.0)
    parts["store_commit"] = s.get("store_commit", 0.0)
    parts["other" if "decode" in s else "decode_and_reducers"] = total - sum(parts.values())
    return {"seconds": {k: round(v, 3) for k, v in parts.items()}, "share": {k: round(v / total, 3) for k, v in parts.items()},
            "calls": dict(timers.calls)}


class Stop(Exception):
    """Raised from the progress callback to end a rebuild early (time budget spent, or enough profiled)."""


def run_rebuild(c: Container, progress: Callable[[int, int], None]) -> str:
    """The product's rebuild, what `yingji projections rebuild` runs, calling `progress(position, head)` after each
    batch it commits. Returns how it was run."""
    if hasattr(c, "rebuild"):
        c.rebuild(progress)
        return "Container.rebuild(progress), as `yingji projections rebuild`"
    c.store.reset()  # before Container.rebuild existed, the CLI did this
    c.projector.position = 0
    head = c.log.max_position()
    while c.projector.run_once():
        progress(c.projector.position, head)
    return "DocStore.reset(), then Projector.run_once() until done, as `yingji projections rebuild`"


def raw_and_rebuild(c: Container, head: int, segments: int, budget: float | None, split: bool = False) -> dict[str, Any]:
    """The product's rebuild, with read+decode (raw) of the same positions run from its progress callback each time
    it passes the end of a segment: raw and rebuild alternate over the log, and each is timed without the other.

    With a `budget` (seconds), the rebuild is stopped at the first segment end after raw + rebuild have taken that
    long: the rates then cover the first segments of the log only (`complete` false), the same positions for both."""
    timers = Timers()
    read, decode = c.log.read, c.log.decode  # raw: the plain methods, before the timers go on
    ends = sorted({min(head, -(-head * (k + 1) // segments)) for k in range(segments)})
    per_segment: list[dict[str, Any]] = []
    st = {"raw_s": 0.0, "raw_events": 0, "covered": 0, "callbacks": 0.0, "seg_rebuild_clock": 0.0}
    t0 = time.perf_counter()

    def rebuild_clock(now: float) -> float:
        return now - t0 - st["callbacks"]

    def raw(a: int, b: int) -> tuple[int, float]:
        t, after, count = time.perf_counter(), a, 0
        while after < b:
            notifications = read(after, min(READ_LIMIT, b - after))
            if not notifications:
                break
            for n in notifications:
                decode(n)
            count += len(notifications)
            after = notifications[-1].id
        return count, time.perf_counter() - t

    def progress(position: int, _head: int) -> None:
        entered = time.perf_counter()
        try:
            if not ends or position < ends[0] and position < head:
                return
            while ends and ends[0] <= position:
                ends.pop(0)
            seg_rebuild = rebuild_clock(entered) - st["seg_rebuild_clock"]
            st["seg_rebuild_clock"] = rebuild_clock(entered)
            n_raw, seg_raw = raw(st["covered"], position)
            n_rebuilt = position - st["covered"]
            st["raw_s"] += seg_raw
            st["raw_events"] += n_raw
            per_segment.append({"upto": position, "raw_eps": round(n_raw / seg_raw), "rebuild_eps": round(n_rebuilt / seg_rebuild),
                                "ratio": round((n_rebuilt / seg_rebuild) / (n_raw / seg_raw), 3)})
            say(f"  up to {position:,}: raw {n_raw / seg_raw:,.0f} events/s, rebuild {n_rebuilt / seg_rebuild:,.0f} events/s")
            st["covered"] = position
            if budget is not None and position < head and st["raw_s"] + st["seg_rebuild_clock"] >= budget:
                raise Stop()
        finally:
            st["callbacks"] += time.perf_counter() - entered

    undo = instrument(c, timers, per_event=split)
    try:
        how = run_rebuild(c, progress)
    except Stop:
        how = "the product's rebuild, stopped at the time budget"
    finally:
        undo()
    rebuild_s = st["seg_rebuild_clock"]
    covered = st["covered"]
    raw_eps, rebuild_eps = st["raw_events"] / st["raw_s"], covered / rebuild_s
    ratios = sorted(s["ratio"] for s in per_segment)
    commits = timers.calls.get("store_commit", 0)
    return {
        "ratio": round(rebuild_eps / raw_eps, 3),
        "complete": covered >= head,
        "covered_events": covered,
        "budget_seconds": budget,
        "raw": {"events": st["raw_events"], "seconds": round(st["raw_s"], 3), "events_per_second": round(raw_eps),
                "how": f"log.read(after, {READ_LIMIT}) and log.decode(n) for each"},
        "rebuild": {"events": covered, "seconds": round(rebuild_s, 3), "events_per_second": round(rebuild_eps), "how": how,
                    "commits": commits, "events_per_commit": round(covered / max(commits, 1)),
                    "split": rebuild_split(timers, rebuild_s)},
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
    prof = cProfile.Profile()
    reached = [0]

    def progress(position: int, _head: int) -> None:
        reached[0] = position
        if position >= events:
            raise Stop()

    t = time.perf_counter()
    prof.enable()
    try:
        run_rebuild(c, progress)
    except Stop:
        pass
    finally:
        prof.disable()
    seconds = time.perf_counter() - t
    out: dict[str, Any] = {"events": reached[0], "seconds_under_profiler": round(seconds, 3)}
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
    p.add_argument("--split", action="store_true", help="time decode and reducers per event in the rebuild (costs it ~5%%)")
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
            rebuild = raw_and_rebuild(c, head, segments, budget, split=args.split)
            say(f"rebuild {rebuild['rebuild']['events_per_second']:,} events/s, raw {rebuild['raw']['events_per_second']:,}"
                f" events/s: {rebuild['ratio']:.0%}; building checkpoints")
            checkpoints = build_checkpoints(c)
            say(f"checkpoints: {checkpoints['checkpoints']} in {checkpoints['seconds']:.1f}s; board at {args.positions} positions")
            boards = boards_at(c, head, args.positions, args.seed)
            say(f"board_at p50 {boards['p50_seconds']:.3f}s p95 {boards['p95_seconds']:.3f}s max {boards['max_seconds']:.3f}s")
            check = board_matches_live(c, rebuild["covered_events"])
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
