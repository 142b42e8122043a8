"""Prometheus metrics in the text exposition format, without a client library.

Counters live in this process; gauges are read when scraped.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

# name -> (help text, read the value when scraped; None leaves it out)
Gauges = dict[str, tuple[str, Callable[[], float | None]]]


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str]] = Counter()  # (method, status class)
        self.problems: Counter[str] = Counter()  # problem code

    def count_request(self, method: str, status: int) -> None:
        with self._lock:
            self.requests[(method, f"{status // 100}xx")] += 1

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
        for name, (help_text, read) in gauges.items():
            try:
                value = read()
            except Exception:  # noqa: BLE001 - a gauge that cannot be read is left out, not fatal
                continue
            if value is None:
                continue
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {float(value)}"]
        return "\n".join(lines) + "\n"
