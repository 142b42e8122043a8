"""`yingji project` as a process of its own answers /healthz, /readyz and /metrics on its metrics port.

(The relay's side is in test_relay.py, beside the stand-in of the city.)
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from gateway.entrypoints.ops import OpsServer, Probe
from gateway.settings import Settings
from tests.conftest import ROOT, Server, env_of, free_port


def gauge(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.M)
    assert found, f"{name} missing from:\n{text}"
    return float(found.group(1))


def wait_until(predicate, seconds: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def projector(demo_settings: Settings) -> Iterator[tuple[str, Server]]:
    port = free_port()
    log = Path(demo_settings.data_dir) / "projector.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.entrypoints.cli", "project", "--metrics-port", str(port)], cwd=ROOT,
        env=env_of(demo_settings) | {"YINGJI_CREATE_SCHEMA": "false"}, stdout=open(log, "ab"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )
    gateway = Server(demo_settings, {"YINGJI_RUN_PROJECTOR": "false"}).start()
    yield f"http://127.0.0.1:{port}", gateway
    gateway.stop()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_a_projector_process_reports_its_health_and_lag(projector: tuple[str, Server]) -> None:
    ops, gateway = projector
    health = wait_until(lambda: httpx.get(ops + "/healthz", timeout=2).json(), 30, "the projector's /healthz")
    assert health["status"] == "ok" and health["process"] == "projector"
    assert health["loop_age_seconds"] < 5
    assert httpx.get(ops + "/readyz", timeout=2).json() == {"status": "ready"}

    api = gateway.client("commander")
    written = api.ok("/incidents", {"category": "natural_disaster", "subtype": "rainstorm", "level": "IV", "title": "积水",
                                    "unit_code": "411099002003", "occurred_at": datetime.now(timezone.utc).isoformat()})
    text = wait_until(
        lambda: (t := httpx.get(ops + "/metrics", timeout=2).text) and gauge(t, "yingji_projector_position") >= written["position"] and t,
        30, "the projector to pass the command",
    )
    assert gauge(text, "yingji_projector_lag_events") == 0
    assert gauge(text, "yingji_log_position") >= written["position"]
    assert gauge(text, "yingji_projector_errors_total") == 0
    assert "# TYPE yingji_projector_loop_age_seconds gauge" in text
    # The gateway without a projector of its own reads what the projector process wrote.
    assert api.get(f"/incidents/{written['id']}", params={"min_position": written["position"]}).status_code == 200

    other = httpx.get(ops + "/nothing-here", timeout=2)
    assert other.status_code == 404 and other.headers["content-type"] == "application/problem+json"
    assert other.json()["code"] == "not_found"


def test_a_stalled_loop_fails_the_health_check_but_not_readiness() -> None:
    """An orchestrator restarts on /healthz; a loop that stopped turning must fail it."""
    age = [0.5]
    server = OpsServer(Probe("projector", loop_age=lambda: age[0], status=lambda: {"lag_events": 3}, stall_seconds=60), "127.0.0.1", 0).start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        ok = httpx.get(base + "/healthz", timeout=2)
        assert ok.status_code == 200 and ok.json()["lag_events"] == 3
        age[0] = 61.0
        stalled = httpx.get(base + "/healthz", timeout=2)
        assert stalled.status_code == 503 and stalled.json()["status"] == "stalled"
        assert "61" in stalled.json()["detail"]
        assert httpx.get(base + "/readyz", timeout=2).status_code == 200  # the stores still answer
        assert gauge(httpx.get(base + "/metrics", timeout=2).text, "yingji_projector_loop_age_seconds") == 61.0
    finally:
        server.close()
