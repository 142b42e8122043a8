"""The FastAPI application: routers, problem+json errors, body limits, request ids, the UI."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.common import DomainError
from gateway.entrypoints import openapi
from gateway.entrypoints.api import (
    afteraction,
    allocations,
    auth,
    board,
    board_live,
    disaster_reports,
    dispatches,
    duty,
    events,
    incidents,
    materials,
    people,
    plans,
    prevention,
    readiness,
    push,
    relay,
    replay,
    reports,
    teams,
    units,
    users,
    warehouses,
    warnings,
)
from gateway.entrypoints.authorization import authorize, check_every_route_has_a_row
from gateway.container import Container
from gateway.errors import STATUS_OF_CODE, problem
from gateway.entrypoints.headers import SecurityHeaders
from gateway.entrypoints.hub import ExposeWebSocketProtocol, Hub
from gateway.entrypoints.metrics import Metrics
from gateway.entrypoints.requestlog import RequestContext
from gateway.entrypoints.textguard import RefuseNul
from gateway.adapters.tokens import lapsed_grants
from gateway.settings import Settings

log = logging.getLogger("yingji.http")
PROBLEM = "application/problem+json"
UI_DIR = Path(__file__).resolve().parents[2] / "ui"


def problem_response(request: Request, code: str, detail: str, status: int | None = None, **extra: Any) -> JSONResponse:
    request.app.state.metrics.count_problem(code)
    body = problem(code, detail, instance=request.url.path, request_id=getattr(request.state, "request_id", None), **extra)
    if status is not None:
        body["status"] = status
    headers = {"WWW-Authenticate": "Bearer"} if code == "unauthenticated" else {}
    if isinstance(extra.get("retry_after"), int):
        headers["Retry-After"] = str(extra["retry_after"])
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM, headers=headers or None)


class BodyLimit:
    """Refuse bodies over the limit with 413 before the app reads them (pure ASGI: streams stay untouched).

    `larger`: paths that take bigger bodies (evidence uploads), with their own limit."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None):
        self.app = app
        self.default_bytes = max_bytes
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope.get("path", ""), self.default_bytes)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        seen = 0
        refused = False

        async def limited() -> Message:
            # Counted while streaming (no Content-Length, or a lying one): answer 413 ourselves
            # and tell the app the client went away, so it stops and its own answer is dropped.
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    if not refused:
                        refused = True
                        await self._refuse(scope, send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, limited, guarded_send)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        body = problem("payload_too_large", f"request bodies are limited to {limit} bytes", instance=scope.get("path", ""))
        response = JSONResponse(body, status_code=413, media_type=PROBLEM)
        await response(scope, lambda: None, send)  # type: ignore[arg-type]


READY_REUSE_SECONDS = 15.0


class StoreHealth:
    """Whether the read models read through: checked by /readyz, and marked bad by any read that
    found the store damaged (SQLite: "database disk image is malformed", "file is not a database")."""

    def __init__(self) -> None:
        self.checked_at = float("-inf")
        self.damage: str | None = None

    @staticmethod
    def is_damage(exc: BaseException) -> bool:
        from sqlalchemy.exc import DatabaseError

        text = str(exc).lower()
        return isinstance(exc, DatabaseError) and any(w in text for w in ("malformed", "not a database", "corrupt", "no such table"))

    def failed(self, exc: BaseException) -> None:
        self.damage = f"{type(exc).__name__}: {exc}"
        self.checked_at = float("-inf")

    def check(self, store: Any) -> None:
        now = time.monotonic()
        if self.damage is None and now - self.checked_at < READY_REUSE_SECONDS:
            return
        store.check()  # raises on a damaged store
        self.damage, self.checked_at = None, now


def tune_gc(young_threshold: int) -> None:
    """Shorter and rarer garbage-collector pauses for a long-running server (0 leaves Python's defaults).

    A full collection walks every tracked object: with a thousand board connections (~300 objects
    each) it stalled the process for 60-200 ms every few seconds under load, which was the tail of
    command-to-screen latency. What exists once the app has started (modules, the container) is
    frozen out of collections; a larger young generation lets short-lived objects (requests, batches
    held for a flush) die before they are promoted, so full collections come far less often.
    """
    if young_threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        c = container or Container.build(settings)
        c.bootstrap_admin()
        c.start()
        app.state.container = c
        hub = Hub(c.store, c.bus, c.relay_status, flush_seconds=c.settings.ws_flush_ms / 1000,
                  verified_days=c.settings.verified_report_days,
                  lapsed=lambda grants: lapsed_grants(grants, c.accounts))
        hub.signins = c.accounts.last_signins  # readiness: the platform item is judged from them at each snapshot
        await hub.start()
        app.state.hub = hub
        tune_gc(c.settings.gc_young_threshold)
        try:
            yield
        finally:
            await hub.stop()
            c.close()

    app = FastAPI(
        title="Yingji 应急 — command and dispatch API",
        version="1.0.0",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )

    metrics = Metrics()
    app.state.metrics = metrics
    app.state.store_health = StoreHealth()

    # Request id, metrics and the access log: a plain ASGI middleware (gateway/entrypoints/requestlog.py).
    app.add_middleware(RequestContext, metrics=metrics)  # type: ignore[arg-type]

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(request, exc.code, exc.detail, STATUS_OF_CODE.get(exc.code, 400), **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        malformed = any(e["type"] == "json_invalid" for e in errors)
        detail = "the body is not valid JSON" if malformed else "some fields are missing or not valid"
        return problem_response(request, "validation_error", detail, 422, errors=errors)

    @app.exception_handler(ValidationError)
    async def model_error(request: Request, exc: ValidationError) -> JSONResponse:
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
        return problem_response(request, "validation_error", "some fields are missing or not valid", 422, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 401: "unauthenticated", 403: "forbidden", 413: "payload_too_large", 415: "unsupported_media_type"}.get(exc.status_code, "http_error")
        return problem_response(request, code, str(exc.detail), exc.status_code)

    @app.exception_handler(ClientDisconnect)
    async def client_gone(request: Request, exc: ClientDisconnect) -> JSONResponse:
        # The client went away (or BodyLimit cut it off and already answered 413): nothing to report.
        return problem_response(request, "bad_request", "the request body was not received in full", 400)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if StoreHealth.is_damage(exc):
            request.app.state.store_health.failed(exc)
        return problem_response(request, "internal_error", "something went wrong on our side; the command was not applied", 500)

    # Every HTTP route is authorised by one table (gateway/authz.py) before its own dependencies run.
    routers = [m.router for m in (afteraction, auth, units, incidents, teams, dispatches, warehouses, materials, allocations, users, board, events,
                                  relay, replay, reports, warnings, disaster_reports, duty, prevention, push,
                                  readiness, plans, people)]
    for router in routers:
        app.include_router(router, prefix="/api/v1", dependencies=[Depends(authorize)])
    app.include_router(board_live.router, prefix="/api/v1")  # authenticates in its hello message
    openapi.install(app)  # which operations need a token: from the same table

    @app.get("/healthz", tags=["health"])
    def healthz(request: Request) -> dict[str, Any]:
        c: Container = request.app.state.container
        head = c.log.max_position()
        return {"status": "ok", "log_position": head, "projector_position": c.store.position()}

    @app.get("/readyz", tags=["health"])
    def readyz(request: Request) -> JSONResponse:
        """Ready when the event store, the accounts and the read models answer, read through.

        Reading every read-model row costs a scan, so a good result is reused for READY_REUSE_SECONDS;
        a read that failed on a damaged store anywhere in the app makes it unready at once."""
        c: Container = request.app.state.container
        health: StoreHealth = request.app.state.store_health
        try:
            c.log.max_position()
            c.accounts.count()
            health.check(c.store)
        except Exception as e:  # noqa: BLE001
            health.failed(e)
            return JSONResponse({"status": "unavailable", "detail": f"{type(e).__name__}: {str(e)[:200]}",
                                 "fix": "restart the server, or run `yingji projections rebuild`: the read models are rebuilt from the log"},
                                status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", tags=["health"], response_class=PlainTextResponse)
    def prometheus(request: Request) -> PlainTextResponse:
        c: Container = request.app.state.container
        hub: Hub = request.app.state.hub
        relay = c.relay_status
        gauges = {
            "yingji_log_position": ("Position of the last event in the log", c.log.max_position),
            "yingji_projector_position": ("Position the read models include", c.store.position),
            "yingji_hub_position": ("Position this gateway has fanned out", lambda: hub.position),
            "yingji_ws_clients": ("Board WebSocket clients connected to this gateway", lambda: len(hub.clients)),
            "yingji_ws_slow_closed_total": ("Board clients closed for falling behind", lambda: hub.slow_closed),
            "yingji_ws_auth_closed_total": ("Board clients closed because their token no longer held (4401)", lambda: hub.auth_closed),
            "yingji_ws_awaiting_hello": ("Board sockets accepted and not yet past their hello", lambda: hub.awaiting_hello),
            "yingji_signin_throttled_total": ("Sign-ins refused by the throttle (429)", lambda: c.signin_throttle.refused),
            "yingji_signin_busy_total": ("Sign-ins refused because the password-check pool was full (503)",
                                         lambda: c.hashing.refused if c.hashing else None),
            "yingji_hub_gap_fills_total": ("Bus gaps filled from the store", lambda: hub.gap_fills),
            "yingji_hub_batches_total": ("Projector batches the hub accepted", lambda: hub.accepted_batches),
            "yingji_hub_flushes_total": ("Fan-outs to the board clients (each covers one or more batches)", lambda: hub.delivered_batches),
            "yingji_hub_flush_seconds_total": ("Time spent fanning out", lambda: round(hub.flush_seconds_total, 6)),
            "yingji_ws_direct_frames_total": ("Delta frames written straight to a keeping-up client's socket", lambda: hub.direct_frames),
            "yingji_ws_queued_frames_total": ("Frames left to a client's sender (snapshot in progress, socket backed up)", lambda: hub.queued_frames),
            "yingji_board_snapshot_builds_total": ("Board snapshots built for WebSocket clients (shared per scope)", lambda: hub.snapshot_builds),
            "yingji_relay_lag_events": ("Events not yet acknowledged by the city platform", lambda: (relay() or {}).get("lag_events")),
            "yingji_relay_alarm": ("1 when the relay stopped on a refusal", lambda: None if relay() is None else float(relay()["alarm"])),
        }
        return PlainTextResponse(metrics.render(gauges), media_type="text/plain; version=0.0.4")

    @app.get("/api/v1/district", tags=["health"])
    def district(request: Request) -> dict[str, Any]:
        """Public: which district this is (the sign-in page shows it)."""
        s: Settings = request.app.state.container.settings
        return {"code": s.district_code, "name": s.district_name}

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/board.html")

    if UI_DIR.is_dir():
        app.mount("/ui", StaticFiles(directory=UI_DIR, html=True), name="ui")

    check_every_route_has_a_row(app, routers)
    wrapped = app
    app.add_middleware(RefuseNul)  # type: ignore[arg-type]  # NUL in a path, query or form: 422 (PostgreSQL cannot hold it)
    upload_bytes = settings.evidence_max_files * settings.evidence_max_bytes + 64 * 1024  # multipart framing
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, larger={"/api/v1/evidence": upload_bytes})  # type: ignore[arg-type]
    app.add_middleware(ExposeWebSocketProtocol)  # type: ignore[arg-type]  # the hub's direct path to board sockets
    app.add_middleware(SecurityHeaders)  # type: ignore[arg-type]  # outermost: every answer, refusals included
    return wrapped
