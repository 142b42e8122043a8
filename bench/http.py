"""The gateway over HTTP with `wrk`, against a bare FastAPI no-op measured in the same run.

    python -m bench.http [--seconds 10] [--out bench/results/http.json]
    python -m bench.http --quick        # 3 s per measurement: a smoke run
    python -m bench.http --workers 1    # without the `yingji serve --workers 2` measurement

One run, one machine, one JSON document (stdout and --out). For each store (the embedded default,
and PostgreSQL when YINGJI_BENCH_DATABASE_URL or a local server at 127.0.0.1:5432 is there):

1. `noop`: a bare FastAPI + uvicorn app with one async no-op route, one process (the baseline);
2. `auth_me`: `GET /api/v1/auth/me` with a bearer token: the gateway's authenticated ceiling;
3. `commands`: `POST /api/v1/incidents`, each with its own Idempotency-Key (a wrk Lua script);
4. `board`: `GET /api/v1/board` with 8 connections after those commands;
5. `list`: `GET /api/v1/incidents?limit=50` after them.

`wrk -t2 -c32` (the board: -c8), `--latency`; requests/s and p50/p99 in ms. `ratios` relates each
to its baseline of the same run (auth_me / noop, commands / auth_me): absolute numbers move from
machine to machine, the ratios much less. Needs `wrk` (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from bench.board_latency import ROOT, ServerProcess, free_port

NOOP_APP = '''
from fastapi import FastAPI
app = FastAPI()

@app.get("/noop")
async def noop() -> dict:
    return {"ok": True}
'''

# Each request a new incident with its own Idempotency-Key (thread id + counter: unique per run).
COMMAND_LUA = r'''
local counter = 0
local thread_id = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  thread_id = id
end
request = function()
  counter = counter + 1
  local body = '{"category":"natural_disaster","subtype":"flood","level":"IV","title":"压测事件 ' .. thread_id .. '-' .. counter ..
    '","unit_code":"411099001001","address":"压测","occurred_at":"' .. os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - 60) .. '"}'
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer TOKEN"
  headers["Idempotency-Key"] = "bench-" .. RUN .. "-" .. thread_id .. "-" .. counter
  return wrk.format("POST", "/api/v1/incidents", headers, body)
end
'''


def wrk(url: str, seconds: float, connections: int = 32, headers: dict[str, str] | None = None, script: Path | None = None) -> dict[str, Any]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, int(seconds))}s", "--latency", "--timeout", "10s"]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 60).stdout
    return parse_wrk(out)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def parse_wrk(out: str) -> dict[str, Any]:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)

    def ms(text: str | None) -> float | None:
        if not text:
            return None
        m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
        return round(_ms(m.group(1), m.group(2)), 2) if m else None

    return {"rps": float(rps.group(1)) if rps else 0.0, "p50_ms": ms(lat.get("50")), "p99_ms": ms(lat.get("99")),
            "non_2xx": int(errors.group(1)) if errors else 0, "socket_errors": socket_errors.group(1) if socket_errors else None}


def noop_server(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    (tmp / "noop_app.py").write_text(NOOP_APP)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "noop_app:app", "--host", "127.0.0.1", "--port", str(port),
                             "--log-level", "warning", "--no-access-log"], cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/noop"
    for _ in range(100):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the no-op app did not start")


def postgres_url() -> str | None:
    url = os.environ.get("YINGJI_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return url
    except Exception:  # noqa: BLE001
        return None


def measure_store(name: str, tmp: Path, seconds: float, extra_env: dict[str, str], serve_args: list[str] | None = None) -> dict[str, Any]:
    data = tmp / name
    data.mkdir()
    server = ServerProcess(data, ROOT, extra_env, serve_args)
    server.seed()
    server.start()
    try:
        token = httpx.post(server.base_url + "/api/v1/auth/token", data={"username": "commander", "password": "yingji2026"}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        script = tmp / f"command-{name}.lua"
        script.write_text(COMMAND_LUA.replace("TOKEN", token).replace("RUN", f'"{name}{int(time.time())}"'))
        result = {
            "auth_me": wrk(server.base_url + "/api/v1/auth/me", seconds, headers=auth),
            "commands": wrk(server.base_url + "/api/v1/incidents", seconds, script=script),
        }
        incidents = httpx.get(server.base_url + "/api/v1/incidents", params={"limit": 1}, headers=auth).json()["total"]
        result["board"] = wrk(server.base_url + "/api/v1/board", seconds, connections=8, headers=auth)
        result["list"] = wrk(server.base_url + "/api/v1/incidents?limit=50", seconds, headers=auth)
        result["incidents_after"] = incidents
        result["server_cpu_seconds"] = round(server.cpu_seconds(), 2)
        return result
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", type=Path)
    p.add_argument("--workers", type=int, default=2, help="also measure the embedded default with this many gateway processes (1: skip)")
    args = p.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    seconds = 3.0 if args.quick else args.seconds
    out_path = args.out or ROOT / "bench" / "results" / ("http-quick.json" if args.quick else "http.json")
    tmp = Path(tempfile.mkdtemp(prefix="yingji-bench-http-"))
    try:
        proc, url = noop_server(tmp)
        try:
            noop = wrk(url, seconds)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        stores = {"sqlite": measure_store("sqlite", tmp, seconds, {})}
        if args.workers > 1:  # the same store served by N gateway processes, the projector in its own
            stores[f"sqlite_{args.workers}_workers"] = measure_store(f"sqlite_{args.workers}_workers", tmp, seconds, {}, ["--workers", str(args.workers)])
        pg = postgres_url()
        if pg:
            schema = f"bench_http_{int(time.time())}"
            stores["postgres"] = measure_store("postgres", tmp, seconds, {"YINGJI_DATABASE_URL": pg, "YINGJI_DATABASE_SCHEMA": schema})
            import psycopg

            with psycopg.connect(pg, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        ratios = {
            store: {
                "auth_me_over_noop": round(r["auth_me"]["rps"] / noop["rps"], 3) if noop["rps"] else None,
                "commands_over_auth_me": round(r["commands"]["rps"] / r["auth_me"]["rps"], 3) if r["auth_me"]["rps"] else None,
            }
            for store, r in stores.items()
        }
        doc = {
            "benchmark": "http", "at": datetime.now(timezone.utc).isoformat(), "seconds_each": seconds,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
            "noop": noop, "stores": stores, "ratios": ratios,
            "goals": {"auth_me_over_noop": 0.60, "commands_over_auth_me": 0.70, "board_p99_ms": 50.0},
        }
        text = json.dumps(doc, ensure_ascii=False, indent=2)
        out_path.write_text(text + "\n")
        print(text)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
