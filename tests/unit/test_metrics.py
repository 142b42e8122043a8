"""Metrics by prometheus-client: counters typed as counters, and several workers counted as one (PROMETHEUS_MULTIPROC_DIR)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from gateway.entrypoints.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]


def families(text: str) -> dict[str, tuple[str, list[tuple[str, dict[str, str], float]]]]:
    return {f.name: (f.type, [(s.name, s.labels, s.value) for s in f.samples]) for f in text_string_to_metric_families(text)}


def test_totals_are_exposed_as_counters_and_levels_as_gauges() -> None:
    m = Metrics()
    m.count_request("GET", 204)
    m.count_problem("not_found")
    m.observe_duration("GET", "/api/v1/incidents", 0.02)
    text = m.render({"yingji_ws_slow_closed_total": ("Board clients closed for falling behind", lambda: 3),
                     "yingji_log_position": ("Position of the last event in the log", lambda: 42),
                     "yingji_unreadable": ("left out", lambda: 1 / 0), "yingji_absent": ("left out", lambda: None)})
    got = families(text)
    assert got["yingji_ws_slow_closed"] == ("counter", [("yingji_ws_slow_closed_total", {}, 3.0)])
    assert got["yingji_log_position"] == ("gauge", [("yingji_log_position", {}, 42.0)])
    assert got["yingji_http_requests"] == ("counter", [("yingji_http_requests_total", {"method": "GET", "status": "2xx"}, 1.0)])
    assert got["yingji_problems"][0] == "counter"
    kind, samples = got["yingji_http_request_duration_seconds"]
    assert kind == "histogram"
    buckets = {s[1]["le"]: s[2] for s in samples if s[0].endswith("_bucket")}
    assert buckets["0.01"] == 0.0 and buckets["0.025"] == 1.0 and buckets["+Inf"] == 1.0 and len(buckets) == 11
    assert "yingji_unreadable" not in text and "yingji_absent" not in text


WORKER = textwrap.dedent("""
    import sys
    from gateway.entrypoints.metrics import Metrics
    m = Metrics()
    for _ in range(int(sys.argv[1])):
        m.count_request("POST", 201)
    m.observe_duration("POST", "/api/v1/incidents", 0.004)
    if sys.argv[2] == "scrape":
        print(m.render({}))
""")


def test_several_workers_count_as_one_with_a_multiprocess_directory(tmp_path: Path) -> None:
    """Two worker processes count; a third answers the scrape with the sum (what one port behind several workers shows)."""
    env = os.environ | {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for n in (3, 4):
        subprocess.run([sys.executable, "-c", WORKER, str(n), "quiet"], cwd=ROOT, env=env, check=True, timeout=60)
    out = subprocess.run([sys.executable, "-c", WORKER, "0", "scrape"], cwd=ROOT, env=env, check=True, timeout=60,
                         capture_output=True, text=True).stdout
    got = families(out)
    assert ("yingji_http_requests_total", {"method": "POST", "status": "2xx"}, 7.0) in got["yingji_http_requests"][1]
    counts = [s for s in got["yingji_http_request_duration_seconds"][1] if s[0].endswith("_count")]
    assert [s[2] for s in counts] == [3.0]  # one observation per process, the scraping one included
