"""One early warning to every unit of a large district, and every village signing for it at once.

Goal (issue #12): a district of 20 streets and 400 villages (generated), one warning to all of them,
400 concurrent acknowledgements (签收); every receipt is in the log exactly once and the board shows
all of them.

  1. a fresh embedded store (SQLite); the district (1 + 20 streets + 400 villages) registered through
     the command service, a commander and one reporter account per village (one shared password
     hash: scrypt of 400 accounts would only time the setup);
  2. `yingji serve` in its own process; the commander drafts and issues a red warning to the district
     over HTTP (one save: the warning, its number, 420 receipts);
  3. the board (GET /board as the commander) until it holds every receipt: the fan-out time;
  4. all villages sign at once, one HTTP request each on its own connection (asyncio, httpx), every
     request with its own Idempotency-Key; `--retries` of them (default 10%) also send the same request
     again at the same moment (a phone retrying), and `--doubles` (5%) a second 签收 with a new key
     (a second phone): answered from the first time, or refused (409), never applied twice;
  5. the log read back (GET /events as the commander): acknowledged events per receipt; the board until
     it shows every village signed.

    python -m bench.warnings_fanout              # 20 streets × 20 villages = 400
    python -m bench.warnings_fanout --quick      # 5 streets × 8 villages = 40 (smoke)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from unittest import mock

import httpx

from bench.history import emit, machine, say
from domain.warnings import receipt_id
from gateway.adapters import accounts as accounts_mod
from gateway.adapters.tokens import issue_token
from gateway.container import Container
from gateway.context import CommandContext, Principal
from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DISTRICT = "411099000000"
SECRET = "bench-warnings-secret-of-32-bytes!!"
PASSWORD = "Bench-Passw0rd!"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))] * 1000, 1) if xs else 0.0


def build(data_dir: Path, streets: int, villages: int) -> tuple[list[str], list[str]]:
    settings = Settings(data_dir=data_dir, secret_key=SECRET, watchdog_seconds=0)
    c = Container.build(settings)
    admin = CommandContext(Principal("bench", "admin", DISTRICT), request_id="bench")
    s = c.service
    s.register_unit(admin, code=DISTRICT, name="东城区", kind="district")
    street_codes, village_codes = [], []
    for i in range(1, streets + 1):
        code = f"{DISTRICT[:6]}{i:03d}000"
        s.register_unit(admin, code=code, name=f"第{i}街道", kind="street")
        street_codes.append(code)
        for v in range(1, villages + 1):
            vcode = f"{DISTRICT[:6]}{i:03d}{v:03d}"
            s.register_unit(admin, code=vcode, name=f"{i}街{v}村", kind="village" if v % 3 else "community")
            village_codes.append(vcode)
    shared = accounts_mod.hash_password(PASSWORD)
    with mock.patch.object(accounts_mod, "hash_password", lambda _: shared):
        c.accounts.add("commander", PASSWORD, "commander", DISTRICT, None, "指挥长")
        for vcode in village_codes:
            c.accounts.add(f"r{vcode}", PASSWORD, "reporter", vcode, None, f"灾害信息员 {vcode[-6:]}")
    c.projector.catch_up()
    c.close()
    return street_codes, village_codes


class Server:
    def __init__(self, data_dir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "server.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("YINGJI_")}
        env.update(YINGJI_DATA_DIR=str(data_dir), YINGJI_SECRET_KEY=SECRET, YINGJI_WATCHDOG_SECONDS="0", PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.entrypoints.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,  # noqa: SIM115
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start: " + self.log.read_text()[-2000:])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def token(username: str, role: str, unit: str) -> str:
    account = accounts_mod.Account(username=username, role=role, unit_code=unit, team_id=None, display_name="", active=True,
                                   token_version=1)
    return issue_token(account, SECRET, 60)


def board_counts(client: httpx.Client, headers: dict[str, str], warning_id: str) -> tuple[int, int]:
    board = client.get("/api/v1/board", headers=headers, timeout=60).json()
    mine = [r for r in board["warning_receipt"] if r["warning_id"] == warning_id]
    return len(mine), sum(1 for r in mine if r.get("signed_at"))


def wait_board(client: httpx.Client, headers: dict[str, str], warning_id: str, want: tuple[int, int] | int, timeout: float = 120) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        delivered, signed = board_counts(client, headers, warning_id)
        if (isinstance(want, int) and signed >= want) or (isinstance(want, tuple) and delivered >= want[0]):
            return time.perf_counter() - start
        time.sleep(0.05)
    raise RuntimeError(f"the board did not reach {want} in {timeout} s")


async def sign_all(url: str, warning_id: str, villages: list[str], retries: float, doubles: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=len(villages) * 2, max_keepalive_connections=0)
    results: list[tuple[str, str, int, float, bool]] = []  # (kind, unit, status, seconds, replayed)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        gate = asyncio.Event()

        async def one(kind: str, unit: str, key: str) -> None:
            headers = {"Authorization": f"Bearer {token(f'r{unit}', 'reporter', unit)}", "Idempotency-Key": key}
            await gate.wait()
            t0 = time.perf_counter()
            r = await client.post(f"/api/v1/warnings/{warning_id}/receipts/{unit}/acknowledge", json={}, headers=headers)
            results.append((kind, unit, r.status_code, time.perf_counter() - t0, r.headers.get("Idempotent-Replayed") == "true"))

        tasks = []
        for unit in villages:
            key = str(uuid.uuid4())
            tasks.append(asyncio.create_task(one("ack", unit, key)))
            if rng.random() < retries:
                tasks.append(asyncio.create_task(one("retry", unit, key)))  # the same request again
            if rng.random() < doubles:
                tasks.append(asyncio.create_task(one("double", unit, str(uuid.uuid4()))))  # a second phone, a new key
        await asyncio.sleep(0.2)  # every task is waiting at the gate
        start = time.perf_counter()
        gate.set()
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - start
    firsts = [r for r in results if r[0] == "ack"]
    statuses = Counter(f"{kind}:{status}{':replayed' if replayed else ''}" for kind, _, status, _, replayed in results)
    times = [r[3] for r in firsts]
    return {"requests": len(results), "villages": len(villages), "wall_seconds": round(wall, 3),
            "acks_per_second": round(len(villages) / wall, 1), "latency_ms": {"p50": pct(times, 0.5), "p95": pct(times, 0.95),
                                                                              "max": pct(times, 1.0), "mean": round(statistics.mean(times) * 1000, 1)},
            "statuses": dict(sorted(statuses.items()))}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="5 streets × 8 villages")
    p.add_argument("--streets", type=int, default=None)
    p.add_argument("--villages", type=int, default=None, help="villages per street")
    p.add_argument("--retries", type=float, default=0.10, help="share of villages whose request is sent twice with the same key")
    p.add_argument("--doubles", type=float, default=0.05, help="share of villages that sign twice with different keys")
    p.add_argument("--seed", type=int, default=411099)
    p.add_argument("--out", default=None, help="result name under bench/results/ (default warnings_fanout[-quick])")
    args = p.parse_args(argv)
    streets = args.streets or (5 if args.quick else 20)
    per_street = args.villages or (8 if args.quick else 20)
    data_dir = Path(tempfile.mkdtemp(prefix="yingji-bench-warnings-"))
    server = None
    try:
        t0 = time.perf_counter()
        street_codes, villages = build(data_dir, streets, per_street)
        setup = time.perf_counter() - t0
        say(f"district built: {len(street_codes)} streets, {len(villages)} villages in {setup:.1f} s")
        server = Server(data_dir)
        cmd = {"Authorization": f"Bearer {token('commander', 'commander', DISTRICT)}"}
        http = httpx.Client(base_url=server.url, timeout=120)
        now = datetime.now(timezone.utc)
        draft = http.post("/api/v1/warnings", headers=cmd | {"Idempotency-Key": "draft"}, json={
            "category": "natural_disaster", "subtype": "rainstorm", "level": "red", "headline": "东城区暴雨红色预警",
            "instruction": "立即转移低洼地带群众", "onset": now.isoformat(), "expires": (now + timedelta(hours=6)).isoformat(),
            "targets": [DISTRICT]})
        assert draft.status_code == 201, draft.text
        warning_id = draft.json()["id"]
        t_issue = time.perf_counter()
        issued = http.post(f"/api/v1/warnings/{warning_id}/issue", headers=cmd | {"Idempotency-Key": "issue"}, json={})
        issue_seconds = time.perf_counter() - t_issue
        assert issued.status_code == 200, issued.text
        receivers = len(street_codes) + len(villages)
        fanout = wait_board(http, cmd, warning_id, (receivers, 0)) + issue_seconds
        say(f"issued to {receivers} units in {issue_seconds * 1000:.0f} ms; on the board after {fanout * 1000:.0f} ms")
        acks = asyncio.run(sign_all(server.url, warning_id, villages, args.retries, args.doubles, args.seed))
        say(f"{len(villages)} villages signed in {acks['wall_seconds']} s: {acks['statuses']}")
        t_board = time.perf_counter()
        board_seconds = wait_board(http, cmd, warning_id, len(villages))
        delivered, signed = board_counts(http, cmd, warning_id)
        # The log: every acknowledged event, by receipt.
        per_receipt: Counter[str] = Counter()
        after = 0
        while True:
            page = http.get("/api/v1/events", headers=cmd, params={"after": after, "limit": 1000}).json()["items"]
            if not page:
                break
            for e in page:
                if e["type"] == "cn.gov.yingji.warningreceipt.acknowledged":
                    per_receipt[e["subject"]] += 1
            after = page[-1]["position"]
        expected = {str(receipt_id(warning_id, v)) for v in villages}
        once = sum(1 for rid in expected if per_receipt.get(rid) == 1)
        doc = {
            "benchmark": "warnings_fanout",
            "district": {"streets": len(street_codes), "villages": len(villages), "receivers": receivers, "setup_seconds": round(setup, 1)},
            "issue": {"seconds": round(issue_seconds, 3), "receipts_delivered_on_board": delivered, "board_after_seconds": round(fanout, 3)},
            "acknowledgements": acks,
            "log": {"acknowledged_events": sum(per_receipt.values()), "receipts_signed_exactly_once": once,
                    "receipts_signed_more_than_once": sum(1 for n in per_receipt.values() if n > 1),
                    "every_receipt_exactly_once": once == len(villages) and sum(per_receipt.values()) == len(villages)},
            "board": {"signed": signed, "delivered": delivered, "all_signed_shown": signed == len(villages),
                      "seconds_after_last_answer": round(board_seconds, 3), "checked_at": round(time.perf_counter() - t_board, 3)},
            "machine": machine(),
        }
        emit(args.out or ("warnings_fanout-quick" if args.quick else "warnings_fanout"), doc)
        if not doc["log"]["every_receipt_exactly_once"] or not doc["board"]["all_signed_shown"]:
            sys.exit(1)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
