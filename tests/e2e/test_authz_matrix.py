"""The role × route matrix (gateway/authz.py), checked over HTTP on every route the server publishes.

The routes come from the running server's own /openapi.json, not from the
matrix, so a route the matrix forgot, or a rule that does not hold, fails here.
Each probe names ids that do not exist, so an admitted call ends in 404 or 422
and nothing is written; the log head is checked at the end to prove it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway import authz
from gateway.entrypoints import authorization
from tests.conftest import DEMO_PASSWORD, Server, Settings, seed_demo

ROOT = Path(__file__).resolve().parents[2]
USERS = {"admin": "admin", "commander": "commander", "operator": "operator", "field": "field",
         "reporter": "reporter", "observer": "observer"}  # demo account of each role
SECRET = "test-secret-of-at-least-32-bytes!"


class Probe:
    def __init__(self, server: Server):
        self.server = server
        self.http = httpx.Client(base_url=server.base_url, timeout=30)
        self.tokens: dict[str, str] = {}
        for role in USERS:
            self.sign_in(role)
        spec = self.http.get("/openapi.json").json()
        self.routes = sorted((method.upper(), path) for path, item in spec["paths"].items() if path.startswith(authz.API + "/")
                             for method in item if method in ("get", "post", "put", "patch", "delete"))

    def sign_in(self, role: str) -> None:
        r = self.http.post("/api/v1/auth/token", data={"username": USERS[role], "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        assert r.json()["user"]["role"] == role
        self.tokens[role] = r.json()["access_token"]

    def head(self) -> int:
        return int(self.http.get("/healthz").json()["log_position"])

    def send(self, method: str, path: str, role: str | None) -> httpx.Response:
        # Ids that name nothing: an admitted command is refused by lookup or validation, never applied.
        url = re.sub(r"\{(\w+)\}", lambda m: {"code": "419999999999", "username": "nobody-" + uuid.uuid4().hex[:6]}.get(
            m.group(1), str(uuid.uuid4())), path)
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        if method == "GET":
            return self.http.get(url, headers=headers)
        r = self.http.request(method, url, headers=headers, json={"matrix_probe": True})
        if path == authz.API + "/auth/signout" and role and r.status_code == 204:
            self.sign_in(role)  # the probe signed its own token out
        return r


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Probe]:
    # Authorisation does not depend on the backend: SQLite only.
    settings = Settings(data_dir=tmp_path_factory.mktemp("authz"), secret_key=SECRET)
    seed_demo(settings)
    srv = Server(settings, extra_env={"YINGJI_WATCHDOG_SECONDS": "0", "YINGJI_RUN_NOTIFIER": "false"}).start()
    p = Probe(srv)
    yield p
    p.http.close()
    srv.stop()


def test_the_server_publishes_exactly_the_matrix_routes(probe: Probe) -> None:
    published = {authz.row_key(m, p) for m, p in probe.routes}
    assert published == set(authz.MATRIX), (sorted(published - set(authz.MATRIX)), sorted(set(authz.MATRIX) - published))


def test_every_route_for_every_role(probe: Probe) -> None:
    """One request per route and role: refused with 403 exactly where the matrix says no."""
    head = probe.head()
    wrong: list[str] = []
    checked = 0
    for method, path in probe.routes:
        rule = authz.rule_for(method, path)
        if isinstance(rule, authz.Public):
            continue
        assert rule is not None
        for role in authz.ROLES:
            r = probe.send(method, path, role)
            json_answer = r.headers.get("content-type", "").split(";")[0] in ("application/json", "application/problem+json")
            body: dict[str, Any] = r.json() if json_answer and r.content else {}
            refused_by_role = r.status_code == 403 and body.get("reason") == "role"
            checked += 1
            if r.status_code >= 500:
                wrong.append(f"{method} {path} as {role}: {r.status_code} {r.text[:200]}")
            elif role in rule and refused_by_role:
                wrong.append(f"{method} {path} as {role}: refused, the matrix admits it")
            elif role not in rule and not (refused_by_role and body.get("code") == "forbidden"
                                           and r.headers["content-type"].startswith("application/problem+json")):
                wrong.append(f"{method} {path} as {role}: {r.status_code} {r.text[:200]}, the matrix refuses it")
    assert not wrong, "\n".join(wrong)
    assert checked >= 50 * len(authz.ROLES)
    assert probe.head() == head, "a probe wrote to the log"


def test_every_route_that_needs_an_account_refuses_a_missing_token(probe: Probe) -> None:
    wrong = []
    for method, path in probe.routes:
        if isinstance(authz.rule_for(method, path), authz.Public):
            continue
        r = probe.send(method, path, None)
        if r.status_code != 401 or r.json().get("code") != "unauthenticated" or r.headers.get("www-authenticate") != "Bearer":
            wrong.append(f"{method} {path}: {r.status_code} {r.text[:120]}")
    assert not wrong, "\n".join(wrong)


def test_the_published_matrix_is_the_enforced_one() -> None:
    doc = (ROOT / "docs" / "authorization.md").read_text(encoding="utf-8")
    assert doc == authz.as_markdown(), "docs/authorization.md is stale: python -m gateway.authz > docs/authorization.md"


def test_a_route_without_a_row_stops_the_gateway_from_starting() -> None:
    app = FastAPI()
    from fastapi import APIRouter

    router = APIRouter()

    @router.get("/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    app.include_router(router, prefix=authz.API)
    with pytest.raises(RuntimeError, match="no row for .*GET /forgotten"):
        authorization.check_every_route_has_a_row(app, [router])
