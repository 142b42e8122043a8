"""Prometheus metrics in the text exposition format, without a client library.

Counters live in this process; gauges are read when scraped.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

# name -> (help text, read the value when scraped; None leaves it out)
Gauges = dict[str, tuple[str, Callable[[], float | None]]]

# Seconds. Commands answer in milliseconds when healthy; the top buckets catch a store under stress.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Histogram:
    """Cumulative buckets per label set, as Prometheus reads them."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], list[int]] = {}
        self.sums: Counter[tuple[str, str]] = Counter()

    def observe(self, labels: tuple[str, str], seconds: float) -> None:
        counts = self.counts.setdefault(labels, [0] * (len(BUCKETS) + 1))
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                counts[i] += 1
        counts[-1] += 1  # +Inf, which is also the count
        self.sums[labels] += seconds

    def render(self, name: str) -> list[str]:
        lines = []
        for (method, route), counts in sorted(self.counts.items()):
            labels = f'method="{method}",route="{route}"'
            bounds = [*(f"{b:g}" for b in BUCKETS), "+Inf"]
            lines += [f'{name}_bucket{{{labels},le="{le}"}} {n}' for le, n in zip(bounds, counts, strict=True)]
            lines += [f"{name}_sum{{{labels}}} {self.sums[(method, route)]:.6f}", f"{name}_count{{{labels}}} {counts[-1]}"]
        return lines


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str]] = Counter()  # (method, status class)
        self.problems: Counter[str] = Counter()  # problem code
        self.durations = Histogram()  # (method, route template) of the API's routes

    def count_request(self, method: str, status: int) -> None:
        with self._lock:
            self.requests[(method, f"{status // 100}xx")] += 1

    def observe_duration(self, method: str, route: str, seconds: float) -> None:
        with self._lock:
            self.durations.observe((method, route), seconds)

    def count_problem(self, code: str) -> None:
        with self._lock:
            self.problems[code] += 1

    def render(self, gauges: Gauges) -> str:
        lines: list[str] = []
        lines += ["# HELP yingji_http_requests_total HTTP requests by method and status class", "# TYPE yingji_http_requests_total counter"]
        with self._lock:
            for (method, status), n in sorted(self.requests.items()):
                lines.append(f'yingji_http_requests_total{{method="{method}",status="{status}"}} {n}')
            lines += ["# HELP yingji_problems_total Refused requests by problem code", "# TYPE yingji_problems_total counter"]
            for code, n in sorted(self.problems.items()):
                lines.append(f'yingji_problems_total{{code="{code}"}} {n}')
            lines += ["# HELP yingji_http_request_duration_seconds Time to answer an API request, by route",
                      "# TYPE yingji_http_request_duration_seconds histogram"]
            lines += self.durations.render("yingji_http_request_duration_seconds")
        for name, (help_text, read) in gauges.items():
            try:
                value = read()
            except Exception:  # noqa: BLE001 - a gauge that cannot be read is left out, not fatal
                continue
            if value is None:
                continue
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {float(value)}"]
        return "\n".join(lines) + "\n"
