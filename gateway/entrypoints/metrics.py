"""Prometheus metrics by `prometheus-client`: the request counters and latency histogram, and values read when scraped.

- Requests, problems and latency are the library's Counter and Histogram (typed as such).
- What another part of the process already counts or knows (log positions, hub and relay figures)
  is read at scrape time by a collector: a name ending in `_total` is exposed as a counter, any
  other as a gauge.
- Several gateway workers behind one port: set PROMETHEUS_MULTIPROC_DIR (an empty directory, the
  same for every worker, emptied before they start) and the library keeps the counters and the
  histogram in files there; any worker's /metrics then answers with the sum over all workers. The
  scrape-time values are the answering worker's own (positions come from the shared stores, so they
  agree; connected board clients are per worker).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)
disable_created_metrics()  # no *_created series: a scrape shows what was there before the library

# name -> (help text, read the value when scraped; None leaves it out)
Gauges = dict[str, tuple[str, Callable[[], float | None]]]

# Seconds. Commands answer in milliseconds when healthy; the top buckets catch a store under stress.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _Instruments:
    def __init__(self, registry: CollectorRegistry | None):
        self.requests = Counter("yingji_http_requests", "HTTP requests by method and status class", ["method", "status"], registry=registry)
        self.problems = Counter("yingji_problems", "Refused requests by problem code", ["code"], registry=registry)
        self.durations = Histogram("yingji_http_request_duration_seconds", "Time to answer an API request, by route",
                                   ["method", "route"], buckets=BUCKETS, registry=registry)


_shared: _Instruments | None = None


def _instruments() -> tuple[_Instruments, CollectorRegistry | None]:
    """Per Metrics object in one process; in multi-process mode one set per process (their values live in files)."""
    global _shared
    if multiprocess_dir():
        if _shared is None:
            _shared = _Instruments(None)  # registered nowhere: MultiProcessCollector reads the files
        return _shared, None
    registry = CollectorRegistry(auto_describe=True)
    return _Instruments(registry), registry


class ScrapedValues(Collector):
    """Values read when scraped: `..._total` as counters, the rest as gauges; one that fails or is None is left out."""

    def __init__(self, gauges: Gauges):
        self.gauges = gauges

    def collect(self) -> Iterator[Metric]:
        for name, (help_text, read) in self.gauges.items():
            try:
                value = read()
            except Exception:  # noqa: BLE001 - a value that cannot be read is left out, not fatal
                continue
            if value is None:
                continue
            if name.endswith("_total"):
                yield CounterMetricFamily(name.removesuffix("_total"), help_text, value=float(value))
            else:
                yield GaugeMetricFamily(name, help_text, value=float(value))


class Metrics:
    def __init__(self) -> None:
        self._m, self.registry = _instruments()
        self._request_children: dict[tuple[str, int], Any] = {}
        self._duration_children: dict[tuple[str, str], Any] = {}

    def count_request(self, method: str, status: int) -> None:
        # Every request: the labelled child is looked up once per (method, class), not per request.
        key = (method, status // 100)
        child = self._request_children.get(key)
        if child is None:
            child = self._request_children[key] = self._m.requests.labels(method, f"{status // 100}xx")
        child.inc()

    def observe_duration(self, method: str, route: str, seconds: float) -> None:
        key = (method, route)
        child = self._duration_children.get(key)
        if child is None:
            child = self._duration_children[key] = self._m.durations.labels(method, route)
        child.observe(seconds)

    def count_problem(self, code: str) -> None:
        self._m.problems.labels(code).inc()

    def render(self, gauges: Gauges) -> str:
        """The text exposition format: the counters (summed over workers in multi-process mode), then the scraped values."""
        if self.registry is None:
            registry: Any = CollectorRegistry()
            MultiProcessCollector(registry)
        else:
            registry = self.registry
        scraped = CollectorRegistry(auto_describe=False)
        scraped.register(ScrapedValues(gauges))
        return generate_latest(registry).decode() + generate_latest(scraped).decode()
