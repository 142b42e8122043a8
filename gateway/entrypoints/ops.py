"""Health and metrics for the processes that serve no API: `yingji project` and `yingji relay`.

The gateway answers /healthz, /readyz and /metrics itself; a projector or a relay
running as a process of its own gets the same three on a small HTTP server of its
own (`--metrics-port`, `YINGJI_METRICS_PORT`), so an orchestrator can restart a
stuck one and Prometheus can scrape it.

- /healthz: the process's main loop is turning (200), or has not turned for
  `stall_seconds` (503): a restart is the cure.
- /readyz: the event store and the process's own state answer (200) or not (503).
- /metrics: the Prometheus text format (`gateway.entrypoints.metrics.Metrics.render`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from gateway.entrypoints.metrics import Gauges, Metrics

if TYPE_CHECKING:
    from gateway.container import Container
    from gateway.citylink.relay import Relay

log = logging.getLogger(__name__)


@dataclass
class Probe:
    """What one process reports about itself."""

    name: str  # "projector" or "relay"
    loop_age: Callable[[], float]  # seconds since the main loop last turned
    status: Callable[[], dict[str, Any]]  # for /healthz; may touch the stores
    gauges: Gauges = field(default_factory=dict)
    stall_seconds: float = 120.0


class OpsServer:
    def __init__(self, probe: Probe, host: str, port: int):
        self.probe = probe
        self.metrics = Metrics()
        handler = _handler_for(self)
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name=f"{probe.name}-ops", daemon=True)

    def start(self) -> OpsServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- the three answers ---------------------------------------------------
    def healthz(self) -> tuple[int, dict[str, Any]]:
        age = self.probe.loop_age()
        body: dict[str, Any] = {"process": self.probe.name, "loop_age_seconds": round(age, 3)}
        if age > self.probe.stall_seconds:
            return 503, body | {"status": "stalled", "detail": f"the {self.probe.name} loop has not turned for {age:.0f} s"}
        try:
            body |= self.probe.status()
        except Exception as e:  # noqa: BLE001 - a store that does not answer is reported, the loop may still recover
            body |= {"store_error": type(e).__name__}
        return 200, {"status": "ok"} | body

    def readyz(self) -> tuple[int, dict[str, Any]]:
        try:
            self.probe.status()
        except Exception as e:  # noqa: BLE001
            return 503, {"status": "unavailable", "detail": type(e).__name__}
        return 200, {"status": "ready"}

    def render_metrics(self) -> str:
        gauges: Gauges = {
            f"yingji_{self.probe.name}_loop_age_seconds": (f"Seconds since the {self.probe.name} loop last turned", self.probe.loop_age),
            **self.probe.gauges,
        }
        return self.metrics.render(gauges)


def _handler_for(server: OpsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, server.render_metrics().encode(), "text/plain; version=0.0.4")
            elif path in ("/healthz", "/readyz"):
                status, body = server.healthz() if path == "/healthz" else server.readyz()
                self._send(status, json.dumps(body, ensure_ascii=False).encode(), "application/json")
            else:
                problem = {"type": "about:blank", "title": "Not Found", "status": 404, "code": "not_found",
                           "detail": "this port serves /healthz, /readyz and /metrics"}
                self._send(404, json.dumps(problem).encode(), "application/problem+json")
            server.metrics.count_request("GET", self._status)

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self._status = status
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - scrapes every few seconds: not worth a log line
            pass

    return Handler


def serve_ops(probe: Probe, host: str, port: int) -> OpsServer | None:
    """Start the ops server when a port is configured (0 = off)."""
    if not port:
        return None
    server = OpsServer(probe, host, port).start()
    log.info("%s: /healthz, /readyz and /metrics on http://%s:%d", probe.name, host, server.port)
    print(f"{probe.name} health and metrics on http://{host}:{server.port}/metrics", flush=True)
    return server


def _since(read: Callable[[], float]) -> Callable[[], float]:
    return lambda: max(time.monotonic() - read(), 0.0)


def _per_scrape(read: Callable[[], dict[str, Any]], ttl: float = 1.0) -> Callable[[], dict[str, Any]]:
    """One read of the stores per scrape, however many gauges come from it."""
    cached: list[Any] = [0.0, None]

    def get() -> dict[str, Any]:
        if cached[1] is None or time.monotonic() - cached[0] > ttl:
            cached[:] = [time.monotonic(), read()]
        return cached[1]

    return get


def projector_probe(c: Container) -> Probe:
    def status() -> dict[str, Any]:
        head, position = c.log.max_position(), c.store.position()
        return {"log_position": head, "projector_position": position, "lag_events": max(head - position, 0), "errors": c.projector.errors}

    now = _per_scrape(status)
    return Probe(
        name="projector",
        loop_age=_since(lambda: c.projector.loop_at),
        status=status,
        gauges={
            "yingji_log_position": ("Position of the last event in the log", lambda: now()["log_position"]),
            "yingji_projector_position": ("Position the read models include", lambda: now()["projector_position"]),
            "yingji_projector_lag_events": ("Events in the log not yet in the read models", lambda: now()["lag_events"]),
            "yingji_projector_errors_total": ("Projection attempts that failed and were retried", lambda: c.projector.errors),
        },
    )


def relay_probe(relay: Relay) -> Probe:
    def status() -> dict[str, Any]:
        return relay.status() | {"active": relay.active, "sent_batches": relay.sent_batches}

    now = _per_scrape(status)
    return Probe(
        name="relay",
        loop_age=_since(lambda: relay.loop_at),
        status=status,
        gauges={
            "yingji_relay_active": ("1 when this relay holds the district's lease and sends; 0 while it waits", lambda: float(relay.active)),
            "yingji_relay_position": ("Last position the city platform acknowledged", lambda: now()["position"]),
            "yingji_relay_lag_events": ("Events not yet acknowledged by the city platform", lambda: now()["lag_events"]),
            "yingji_relay_lag_seconds": ("Age of the oldest event not yet acknowledged", lambda: now()["lag_seconds"]),
            "yingji_relay_alarm": ("1 when the relay stopped on a refusal", lambda: float(now()["alarm"])),
            "yingji_relay_sent_batches_total": ("Batches this relay delivered", lambda: relay.sent_batches),
        },
    )


def notifier_probe(notifier: Any) -> Probe:
    """`yingji notify --metrics-port`: whether it holds the lease, its position, the outbox by state."""

    def status() -> dict[str, Any]:
        return {"active": notifier.active, "position": notifier.state.read()["position"], "delivered": notifier.delivered,
                "outbox": notifier.outbox.counts()}

    now = _per_scrape(status)
    return Probe(
        name="notifier",
        loop_age=_since(lambda: notifier.loop_at),
        status=status,
        gauges={
            "yingji_notifier_active": ("1 when this notifier holds the district's lease; 0 while it waits", lambda: float(notifier.active)),
            "yingji_notifier_position": ("Last log position planned into the outbox", lambda: now()["position"]),
            "yingji_notifier_pending": ("Messages not yet delivered or given up", lambda: now()["outbox"].get("pending", 0)),
            "yingji_notifier_failed": ("Messages given up", lambda: now()["outbox"].get("failed", 0)),
            "yingji_notifier_delivered_total": ("Messages this notifier delivered", lambda: notifier.delivered),
        },
    )
