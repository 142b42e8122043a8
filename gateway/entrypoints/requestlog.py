"""Every HTTP request's id, duration metric and access log line, as a plain ASGI middleware.

(Starlette's `@app.middleware("http")` wraps each response in a streaming proxy and a task group;
on a request that costs a fraction of a millisecond that wrapper was the largest cost of all.)
"""

from __future__ import annotations

import logging
import time
import os
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.entrypoints.logs import request_id_var

access_log = logging.getLogger("yingji.access")
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            given = value[:64].decode("latin-1")
            return "".join(ch for ch in given if ch.isprintable()) or os.urandom(16).hex()
    return os.urandom(16).hex()  # as random as uuid4().hex, and cheaper on every request


class RequestContext:
    """Gives the request its id (the client's X-Request-ID, or a new one) for the state, the logs and
    the answer; then counts it, times its route and writes one JSON access log line."""

    def __init__(self, app: ASGIApp, metrics: Any):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _request_id(scope)
        state = scope.setdefault("state", {})  # what `request.state` reads and writes
        state["request_id"] = rid
        request_id_var.set(rid)
        started = time.perf_counter()
        status = 500
        header = (b"x-request-id", rid.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            method = scope["method"]
            self.metrics.count_request(method, status)
            route = state.get("route", "")  # set by the authorisation step of every API route
            if route:  # route templates only: ids would make a label per incident
                self.metrics.observe_duration(method, route, elapsed)
            account = state.get("account")
            path = scope.get("path", "")
            client = scope.get("client")
            level = logging.DEBUG if path in QUIET_PATHS else logging.INFO
            if access_log.isEnabledFor(level):
                # `handle(makeRecord(...))` is `log()` without looking up the caller's frame, which
                # the JSON line does not carry and which cost a third of the line on every request.
                access_log.handle(access_log.makeRecord(access_log.name, level, __file__, 0, "request", (), None, extra={
                    "request_id": rid, "actor": account.username if account else "", "route": route or path,
                    "method": method, "status": status, "duration_ms": round(elapsed * 1000, 1),
                    "client": client[0] if client else ""}))
