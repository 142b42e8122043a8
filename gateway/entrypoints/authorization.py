"""The role × route table (gateway/authz.py) enforced on HTTP: one dependency before every route.

The table is the rule; this module is where HTTP asks it. The gateway refuses to
start when a route has no row, or a row no route (`check_every_route_has_a_row`).
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute, APIRouter

from gateway.authz import API, MATRIX, Public, row_key, rule_for
from gateway.errors import Forbidden


async def authorize(request: Request) -> None:
    """The gateway's one authorisation step, run before a route's own dependencies and body.

    Unknown routes fail closed. Public rows need no account; the others need a
    valid token (401 otherwise) of a role in the row (403 otherwise).
    """
    route = request.scope.get("route")
    path = getattr(route, "path", "")
    request.state.route = API + path.removeprefix(API)  # the template, for the metrics' per-route latency
    rule = rule_for(request.method, path)
    if isinstance(rule, Public):
        return
    from gateway.entrypoints.deps import account_for_request  # deps imports the container: imported when first asked

    account = await account_for_request(request)
    if rule is None or account.role not in rule:
        raise Forbidden(f"role {account.role} may not {request.method} {getattr(route, 'path', request.url.path)}", reason="role")


def api_routes(app: FastAPI, routers: Iterable[APIRouter]) -> Iterable[tuple[str, str]]:
    """(method, path) of every HTTP route below /api/v1: the included routers' and the app's own."""
    routes = [r for router in routers for r in router.routes] + [r for r in app.routes if getattr(r, "path", "").startswith(API + "/")]
    for route in routes:
        if isinstance(route, APIRoute):
            for method in sorted(route.methods):
                yield method, route.path


def check_every_route_has_a_row(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """At start: a route without a rule, or a rule without a route, is a mistake to fix before serving."""
    routes = {row_key(m, p) for m, p in api_routes(app, routers)}
    missing, stale = routes - set(MATRIX), set(MATRIX) - routes
    if missing or stale:
        raise RuntimeError(f"authorisation matrix out of step with the routes: no row for {sorted(missing)}, no route for {sorted(stale)}")
