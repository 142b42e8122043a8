"""Flame graphs of the gateway under load: where a request's time goes (issue #18's "profile first").

    python -m bench.flames [--root CHECKOUT] [--label after] [--seconds 8]

For `GET /auth/me` (the authenticated ceiling), `POST /api/v1/incidents` (a command) and
`GET /api/v1/board`, a fresh `yingji serve` on the demo district is driven with `wrk` while
`py-spy record --gil` samples the threads that hold the GIL (the Python work that serialises),
and writes `bench/results/flame-<label>-<what>.svg`. `--root` profiles another checkout (e.g. a
`git worktree` of an older commit: the "before" graphs). Needs `wrk` (Debian) and `py-spy` (PyPI).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.board_latency import ROOT, ServerProcess
from bench.http import COMMAND_LUA


def profile(server: ServerProcess, out: Path, seconds: int, wrk_args: list[str]) -> dict[str, object]:
    spy = subprocess.Popen(["py-spy", "record", "--gil", "-r", "97", "-d", str(seconds + 1), "-p", str(server.pid), "-o", str(out)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)
    text = subprocess.run(["wrk", "-t2", f"-d{seconds}s", "--latency", *wrk_args], capture_output=True, text=True).stdout
    spy.wait(timeout=seconds + 60)
    rps = next((float(line.split()[1]) for line in text.splitlines() if line.startswith("Requests/sec")), 0.0)
    return {"svg": str(out.relative_to(ROOT)) if out.is_relative_to(ROOT) else str(out), "rps_while_sampled": rps}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, default=ROOT)
    p.add_argument("--label", default="after")
    p.add_argument("--seconds", type=int, default=8)
    args = p.parse_args(argv)
    for tool in ("wrk", "py-spy"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed", file=sys.stderr)
            return 2
    results = ROOT / "bench" / "results"
    tmp = Path(tempfile.mkdtemp(prefix="yingji-flames-"))
    server = ServerProcess(tmp, args.root.resolve())
    server.seed()
    server.start()
    try:
        token = httpx.post(server.base_url + "/api/v1/auth/token", data={"username": "commander", "password": "yingji2026"}).json()["access_token"]
        auth = ["-H", f"Authorization: Bearer {token}"]
        script = tmp / "command.lua"
        script.write_text(COMMAND_LUA.replace("TOKEN", token).replace("RUN", f'"flames{int(time.time())}"'))
        doc = {
            "auth_me": profile(server, results / f"flame-{args.label}-auth_me.svg", args.seconds, ["-c32", *auth, server.base_url + "/api/v1/auth/me"]),
            "command": profile(server, results / f"flame-{args.label}-command.svg", args.seconds, ["-c32", "-s", str(script), server.base_url + "/api/v1/incidents"]),
            "board": profile(server, results / f"flame-{args.label}-board.svg", args.seconds, ["-c8", *auth, server.base_url + "/api/v1/board"]),
        }
        print(json.dumps({"benchmark": "flames", "label": args.label, "root": str(args.root), **doc}, ensure_ascii=False, indent=2))
        return 0
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
