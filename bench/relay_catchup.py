"""Relay catch-up: a backlog of 100,000 events delivered to the city stand-in, events/s, against the raw rate.

Goal (issue): the relay catches up at >= 50% of the rate at which the same
signed batches can simply be POSTed to the same stand-in, measured in the
same run.

For each relay batch size:
  1. a fresh copy of a generated district store (bench/history.py, cached);
  2. the same batches the relay will send (same CloudEvents JSON bodies, same
     `webhook-id`, signed with gateway.webhooks.sign), precomputed from the log;
  3. raw: those batches POSTed back to back with one httpx.Client to a fresh
     stand-in (`python -m gateway.cli upstream`, its own process, new db);
  4. relay: `Relay.step()` in a loop until idle, to a second fresh stand-in
     (same process type, new db); the rate is taken when the relay's position
     reaches the backlog's head (the relay then also sends the
     `Incident.ReportedUpward` events it records on acknowledgement; counted
     apart);
  5. both stand-ins' stored events compared (the same batches did arrive).
The relay's time is split with timers around its parts (read, decode,
CloudEvent conversion, JSON encode, sign, POST, after-acknowledged commands,
relay state writes); the stand-in's CPU seconds come from /proc.

    python -m bench.relay_catchup                  # 100,000 events, batch sizes 200, 500, 1000
    python -m bench.relay_catchup --quick          # 10,000 events, batch size 200 (smoke, < 30 s)
    python -m bench.relay_catchup --profile        # also a cProfile'd relay run (top entries in the JSON)
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

import gateway.relay as relay_mod
from bench.history import DEFAULT_CACHE, emit, ensure_history, machine, say
from gateway.cloudevents import to_cloudevent
from gateway.container import Container
from gateway.settings import Settings
from gateway.upstream import new_secret
from gateway.webhooks import parse_secrets, sign

ROOT = Path(__file__).resolve().parent.parent
GOAL_RATIO = 0.5


# ---------------------------------------------------------------------------
# The stand-in, as its own process
# ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StandIn:
    def __init__(self, workdir: Path, name: str, secret: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = workdir / f"{name}.sqlite3"
        self.logfile = workdir / f"{name}.log"
        self.secret = secret
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> StandIn:
        with open(self.logfile, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gateway.cli", "upstream", "--host", "127.0.0.1", "--port", str(self.port),
                 "--db", str(self.db), "--secret", self.secret, "--log-level", "warning"],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if httpx.get(self.url + "/status", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("the stand-in did not start: " + self.logfile.read_text()[-2000:])

    def cpu_seconds(self) -> float:
        """utime + stime of the stand-in process."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def status(self) -> dict[str, Any]:
        return httpx.get(self.url + "/status", timeout=10).json()

    def events(self, after: int, limit: int) -> list[dict[str, Any]]:
        return httpx.get(self.url + "/events", params={"after": after, "limit": limit}, timeout=30).json()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------------------
# Timers around the relay's parts (instance and module attributes, this process only)
# ---------------------------------------------------------------------------


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


def instrument(relay: relay_mod.Relay, timers: Timers) -> Callable[[], None]:
    """Time the relay's parts; returns a function that takes the module-level timers off again."""
    log = relay.log
    log.read = timers.wrap("read", log.read)  # type: ignore[method-assign]
    log.decode = timers.wrap("decode", log.decode)  # type: ignore[method-assign]
    relay.http.post = timers.wrap("post", relay.http.post)  # type: ignore[method-assign]
    relay._after_acknowledged = timers.wrap("after_acknowledged", relay._after_acknowledged)  # type: ignore[method-assign]
    for name in ("read", "set", "advance"):
        setattr(relay.state, name, timers.wrap(f"state_{name}", getattr(relay.state, name)))
    saved = relay_mod.to_cloudevent, relay_mod.json, relay_mod.sign
    relay_mod.to_cloudevent = timers.wrap("to_cloudevent", relay_mod.to_cloudevent)
    relay_mod.json = types.SimpleNamespace(dumps=timers.wrap("json_encode", json.dumps), loads=json.loads)  # type: ignore[assignment]
    relay_mod.sign = timers.wrap("sign", relay_mod.sign)

    def undo() -> None:
        relay_mod.to_cloudevent, relay_mod.json, relay_mod.sign = saved

    return undo


def split(timers: Timers, total: float) -> dict[str, Any]:
    s = dict(timers.seconds)
    # decode runs inside to_cloudevent (and inside after_acknowledged's reloads, which read events, not notifications)
    conversion = s.get("to_cloudevent", 0.0) - s.get("decode", 0.0)
    parts = {
        "read_notifications": s.get("read", 0.0),
        "decode": s.get("decode", 0.0),
        "cloudevent_conversion": conversion,
        "json_encode": s.get("json_encode", 0.0),
        "sign": s.get("sign", 0.0),
        "post": s.get("post", 0.0),
        "after_acknowledged": s.get("after_acknowledged", 0.0),
        "relay_state_db": s.get("state_read", 0.0) + s.get("state_set", 0.0) + s.get("state_advance", 0.0),
    }
    parts["other"] = total - sum(parts.values())
    return {
        "seconds": {k: round(v, 3) for k, v in parts.items()},
        "share": {k: round(v / total, 3) for k, v in parts.items()},
        "calls": dict(timers.calls),
    }


# ---------------------------------------------------------------------------
# One batch size: raw, then relay
# ---------------------------------------------------------------------------


def make_settings(data_dir: Path, url: str, secret: str, batch_size: int) -> Settings:
    return Settings(data_dir=data_dir, upstream_url=url, upstream_secret=secret, relay_batch_size=batch_size,
                    run_projector=False, run_relay=False, watchdog_seconds=0)


def precompute(c: Container, relay: relay_mod.Relay, head: int) -> list[tuple[bytes, dict[str, str], int]]:
    """The batches the relay will send, body for body: the code of Relay.step() without the POST."""
    out = []
    position = 0
    while position < head:
        notifications = c.log.read(position, relay.batch_size)
        events, previous = [], position
        for n in notifications:
            events.append(to_cloudevent(c.log, n, relay.source) | {"prevposition": previous})
            previous = n.id
        body = json.dumps(events, ensure_ascii=False, separators=(",", ":")).encode()
        first, last = notifications[0].id, notifications[-1].id
        msg_id = f"{relay.source}:{first}-{last}"
        out.append((body, {"content-type": relay_mod.CONTENT_TYPE, "yingji-relay": relay.instance, "msg": msg_id}, len(events)))
        position = last
    return out


def run_raw(batches: list[tuple[bytes, dict[str, str], int]], secrets: list[bytes], up: StandIn, timeout: float) -> dict[str, Any]:
    signed = []
    for body, headers, n in batches:
        h = {k: v for k, v in headers.items() if k != "msg"}
        signed.append((body, {**h, **sign(secrets, headers["msg"], body)}, n))
    cpu0 = up.cpu_seconds()
    events = 0
    with httpx.Client(timeout=timeout) as http:
        t0 = time.perf_counter()
        for body, headers, n in signed:
            r = http.post(up.url + "/events", content=body, headers=headers)
            if r.status_code != 200:
                raise RuntimeError(f"raw POST answered {r.status_code}: {r.text[:300]}")
            events += n
        seconds = time.perf_counter() - t0
    return {"events": events, "batches": len(signed), "seconds": round(seconds, 3), "events_per_second": round(events / seconds),
            "ms_per_batch": round(1000 * seconds / len(signed), 2), "standin_cpu_seconds": round(up.cpu_seconds() - cpu0, 2)}


def run_relay(c: Container, relay: relay_mod.Relay, head: int, up: StandIn, profile: cProfile.Profile | None = None) -> dict[str, Any]:
    timers = Timers()
    undo = instrument(relay, timers)
    last_position = [0]
    advance = relay.state.advance

    def watch_advance(old: int, new: int) -> None:
        advance(old, new)
        last_position[0] = new

    relay.state.advance = watch_advance  # type: ignore[method-assign]
    cpu0, up_cpu0 = time.process_time(), up.cpu_seconds()
    retries = 0
    at_head: dict[str, Any] = {}
    t0 = time.perf_counter()
    try:
        if profile:
            profile.enable()
        while True:
            outcome = relay.step()
            if outcome == "sent":
                if not at_head and last_position[0] >= head:
                    t = time.perf_counter() - t0
                    # The last backlog batch may already carry some events the relay recorded itself: counted in.
                    at_head = {"seconds": t, "delivered": last_position[0], "batches": relay.sent_batches,
                               "cpu": time.process_time() - cpu0, "up_cpu": up.cpu_seconds() - up_cpu0,
                               "split": split(timers, t)}
                continue
            if outcome == "idle":
                break
            if outcome == "retry":
                retries += 1
                time.sleep(relay._delay)
                continue
            raise RuntimeError(f"relay stopped: {relay.state.read()}")
    finally:
        if profile:
            profile.disable()
        undo()
    total = time.perf_counter() - t0
    final = c.log.max_position()
    t_head = at_head["seconds"]
    return {
        "events": at_head["delivered"],
        "batches": at_head["batches"],
        "seconds": round(t_head, 3),
        "events_per_second": round(at_head["delivered"] / t_head),
        "ms_per_batch": round(1000 * t_head / at_head["batches"], 2),
        "relay_cpu_seconds": round(at_head["cpu"], 2),
        "standin_cpu_seconds": round(at_head["up_cpu"], 2),
        "split": at_head["split"],
        "retries": retries,
        "then": {  # the whole run: the backlog, then the Incident.ReportedUpward events the relay recorded, sent too
            "recorded_events": final - head,
            "delivered_total": last_position[0],
            "batches_total": relay.sent_batches,
            "seconds_total": round(total, 3),
            "events_per_second_total": round(last_position[0] / total),
        },
    }


def same_events(a: StandIn, b: StandIn, head: int) -> dict[str, Any]:
    """The stand-ins hold the same events for the backlog: compare pages spread over it."""
    checked = 0
    for after in sorted({0, head // 3, head // 2, max(head - 1000, 0)}):
        pa, pb = a.events(after, 1000), b.events(after, 1000)
        pa = [e for e in pa if e["position"] <= head]
        pb = [e for e in pb if e["position"] <= head]
        if pa != pb:
            raise RuntimeError(f"the stand-ins differ after position {after}")
        checked += len(pa)
    sa, sb = a.status(), b.status()
    return {"events_compared": checked, "raw_standin_count": sb["count"], "relay_standin_count": sa["count"]}


def one_size(workdir: Path, events: int, batch_size: int, secret: str, profile: bool, cache_dir: Path) -> dict[str, Any]:
    run_dir = workdir / f"b{batch_size}"
    district = run_dir / "district"
    meta = ensure_history(district, events, cache_dir=cache_dir)
    raw_up = StandIn(run_dir, "raw-standin", secret).start()
    relay_up = StandIn(run_dir, "relay-standin", secret).start()
    c = Container.build(make_settings(district, relay_up.url, secret, batch_size))
    try:
        relay = c.make_relay()
        head = c.log.max_position()
        t = time.perf_counter()
        batches = precompute(c, relay, head)
        precompute_s = time.perf_counter() - t
        say(f"  batch {batch_size}: {len(batches)} batches precomputed in {precompute_s:.1f}s; raw POSTing")
        raw = run_raw(batches, parse_secrets(secret), raw_up, c.settings.upstream_timeout)
        say(f"  raw: {raw['events_per_second']:,} events/s; relay catching up")
        prof = cProfile.Profile() if profile else None
        rel = run_relay(c, relay, head, relay_up, prof)
        say(f"  relay: {rel['events_per_second']:,} events/s ({rel['events_per_second'] / raw['events_per_second']:.0%} of raw)")
        check = same_events(relay_up, raw_up, head)
        out: dict[str, Any] = {
            "batch_size": batch_size,
            "raw": raw,
            "relay": rel,
            "ratio": round(rel["events_per_second"] / raw["events_per_second"], 3),
            "precompute": {"seconds": round(precompute_s, 3), "events_per_second": round(head / precompute_s),
                           "note": "read + decode + CloudEvent + JSON encode of the whole backlog, no HTTP"},
            "check": check,
            "history": {k: meta[k] for k in ("events", "seed", "generator_version") if k in meta},
        }
        if prof is not None:
            out["profile"] = top_entries(prof)
        relay.close()
        return out
    finally:
        raw_up.stop()
        relay_up.stop()
        c.close()
        shutil.rmtree(run_dir, ignore_errors=True)


def top_entries(prof: cProfile.Profile, n: int = 25) -> dict[str, list[str]]:
    out = {}
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(n)
        lines = [ln.rstrip() for ln in buf.getvalue().splitlines()]
        start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
        out[key] = [ln for ln in lines[start:] if ln.strip()][: n + 1]
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="10,000 events, batch size 200: a smoke run")
    p.add_argument("--events", type=int, default=None, help="backlog size (default 100,000; 10,000 with --quick)")
    p.add_argument("--batch-sizes", default=None, help="comma-separated relay batch sizes (default 200,500,1000; 200 with --quick)")
    p.add_argument("--profile", action="store_true", help="run the relay under cProfile (slower; rates then not comparable)")
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    args = p.parse_args(argv)
    events = args.events or (10_000 if args.quick else 100_000)
    sizes = [int(x) for x in (args.batch_sizes or ("200" if args.quick else "200,500,1000")).split(",")]
    secret = new_secret()
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="yingji-relay-bench-"))
    runs = []
    try:
        for size in sizes:
            runs.append(one_size(workdir, events, size, secret, args.profile, args.cache_dir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    default = next((r for r in runs if r["batch_size"] == Settings().relay_batch_size), runs[0])
    best = max(runs, key=lambda r: r["ratio"])
    doc = {
        "benchmark": "relay_catchup",
        "quick": args.quick,
        "profiled": args.profile,
        "events": events,
        "goal": {
            "statement": "relay catch-up of the backlog at >= 50% of the raw POST rate of the same signed batches, same stand-in, same run",
            "ratio_at_least": GOAL_RATIO,
            "default_batch_size": default["batch_size"],
            "ratio_at_default_batch_size": default["ratio"],
            "met_at_default_batch_size": default["ratio"] >= GOAL_RATIO,
            "best_batch_size": best["batch_size"],
            "best_ratio": best["ratio"],
        },
        "runs": runs,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
    }
    emit("relay_catchup" + ("-quick" if args.quick else "") + ("-profile" if args.profile else ""), doc)


if __name__ == "__main__":
    main()
