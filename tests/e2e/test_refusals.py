"""Bad input of every kind gets a 4xx problem+json with a stable code, and writes nothing.

One server per backend for the whole module; each case checks the status, the
problem document, and that the log head did not move.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from gateway.settings import Settings
from tests.conftest import DEMO_PASSWORD, PG_URL, Server, copy_demo, drop_schema, postgres_or_skip

VILLAGE = "411099001001"
OTHER_STREET_VILLAGE = "411099002001"
NOW = datetime.now(timezone.utc).isoformat()
INCIDENT = {"category": "accident", "subtype": "fire", "level": "IV", "title": "火情", "unit_code": VILLAGE, "occurred_at": NOW}


class World:
    def __init__(self, server: Server):
        self.server = server
        self.tokens = {u: self._token(u) for u in ("admin", "commander", "operator", "field", "reporter", "observer")}
        cmd = self.client("commander")
        self.incidents = cmd.get("/incidents").json()["items"]
        self.flood = next(i for i in self.incidents if i["subtype"] == "flood" and not i["exercise"])  # verified by the demo
        self.teams = cmd.get("/teams").json()["items"]
        self.busy_team = next(t for t in self.teams if t["status"] != "idle")
        self.dispatches = cmd.get("/dispatches").json()["items"]
        field_team = self.client("field").get("/auth/me").json()["team_id"]
        self.other_dispatch = next(d for d in self.dispatches if d["team_id"] != field_team)
        self.warehouse = cmd.get("/warehouses").json()["items"][0]
        self.allocation = cmd.get("/allocations").json()["items"][0]

    def _token(self, user: str) -> str:
        r = httpx.post(self.server.base_url + "/api/v1/auth/token", data={"username": user, "password": DEMO_PASSWORD})
        return str(r.json()["access_token"])

    def client(self, user: str) -> httpx.Client:
        return httpx.Client(base_url=self.server.base_url + "/api/v1", headers={"Authorization": f"Bearer {self.tokens[user]}"}, timeout=30)

    def head(self) -> int:
        return int(httpx.get(self.server.base_url + "/healthz").json()["log_position"])


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data = tmp_path_factory.mktemp("refusals")
    schema = ""
    if request.param == "postgres":
        postgres_or_skip()
        schema = "t_" + uuid.uuid4().hex[:12]
        settings = Settings(data_dir=data, database_url=PG_URL, database_schema=schema, secret_key="test-secret-of-at-least-32-bytes!")
    else:
        settings = Settings(data_dir=Path(data), secret_key="test-secret-of-at-least-32-bytes!")
    copy_demo(settings, tmp_path_factory)
    server = Server(settings, extra_env={"YINGJI_WATCHDOG_SECONDS": "0", "YINGJI_RUN_NOTIFIER": "false"}).start()  # only the requests move the log
    yield World(server)
    server.stop()
    if schema:
        drop_schema(schema)


def refused(world: World, response: httpx.Response, status: int, code: str, head: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers["content-type"]
    body = response.json()
    assert body["code"] == code and body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    assert "Traceback" not in response.text and "File \"" not in response.text
    assert world.head() == head, "a refused request wrote to the log"
    return body


def rid() -> str:
    return str(uuid.uuid4())


# (who, method, path template, json body, status, code). Templates use the World's attributes.
CASES: list[tuple[str, str, str, str, Any, int, str]] = [
    # -- shape of the body --------------------------------------------------------
    ("missing-fields", "commander", "POST", "/incidents", {}, 422, "validation_error"),
    ("unknown-enum", "commander", "POST", "/incidents", INCIDENT | {"category": "alien"}, 422, "validation_error"),
    ("unknown-level", "commander", "POST", "/incidents", INCIDENT | {"level": "V"}, 422, "validation_error"),
    ("subtype-of-other-category", "commander", "POST", "/incidents", INCIDENT | {"subtype": "flood"}, 422, "validation_error"),
    ("naive-time", "commander", "POST", "/incidents", INCIDENT | {"occurred_at": "2026-07-20T08:00:00"}, 422, "validation_error"),
    ("extra-field", "commander", "POST", "/incidents", INCIDENT | {"evil": 1}, 422, "validation_error"),
    ("fullwidth-unit-code", "commander", "POST", "/incidents", INCIDENT | {"unit_code": "４１１０９９００１００１"}, 422, "validation_error"),
    ("unknown-unit", "commander", "POST", "/incidents", INCIDENT | {"unit_code": "411099009009"}, 404, "not_found"),
    ("title-wrong-type", "commander", "POST", "/incidents", INCIDENT | {"title": 5}, 422, "validation_error"),
    ("members-as-string", "commander", "POST", "/teams", {"name": "队", "kind": "flood", "unit_code": VILLAGE, "members": "20"}, 422, "validation_error"),
    ("comprehensive-too-small", "commander", "POST", "/teams", {"name": "队", "kind": "comprehensive", "unit_code": VILLAGE, "members": 5}, 422, "validation_error"),
    ("unknown-team-kind", "commander", "POST", "/teams", {"name": "队", "kind": "ninja", "unit_code": VILLAGE, "members": 5}, 422, "validation_error"),
    ("duty-not-bool", "commander", "POST", "/teams/{busy_team_id}/duty", {"on_duty": "no"}, 422, "validation_error"),
    ("negative-situation", "commander", "POST", "/incidents/{flood_id}/situation", {"deaths": -1}, 422, "validation_error"),
    ("empty-situation", "commander", "POST", "/incidents/{flood_id}/situation", {}, 422, "validation_error"),
    ("empty-summary", "commander", "POST", "/incidents/{flood_id}/close", {"summary": ""}, 422, "validation_error"),
    ("decline-without-reason", "commander", "POST", "/dispatches/{other_dispatch_id}/decline", {}, 422, "validation_error"),
    # -- quantities -------------------------------------------------------------------
    *[
        (f"receipt-quantity-{name}", "commander", "POST", "/warehouses/{warehouse_id}/receipts", {"lines": {"QUILT": q}}, 422, "validation_error")
        for name, q in [("zero", 0), ("negative", -1), ("bool", True), ("float", 1.5), ("string", "5"), ("huge", 10**30)]
    ],
    ("receipt-no-lines", "commander", "POST", "/warehouses/{warehouse_id}/receipts", {"lines": {}}, 422, "validation_error"),
    ("unknown-material", "commander", "POST", "/warehouses/{warehouse_id}/receipts", {"lines": {"UNOBTAINIUM": 3}}, 422, "unknown_material"),
    ("count-negative", "commander", "POST", "/warehouses/{warehouse_id}/counts", {"code": "QUILT", "counted": -3}, 422, "validation_error"),
    ("allocation-zero", "commander", "POST", "/allocations", {"incident_id": "{flood_id}", "warehouse_id": "{warehouse_id}", "lines": {"QUILT": 0}}, 422, "validation_error"),
    ("allocation-too-much", "commander", "POST", "/allocations", {"incident_id": "{flood_id}", "warehouse_id": "{warehouse_id}", "lines": {"QUILT": 9_000_000}}, 409, "insufficient_stock"),
    ("return-before-delivery", "commander", "POST", "/allocations/{allocation_id}/return", {"lines": {"PUMP": 1}}, 409, "invalid_transition"),
    # -- ids ----------------------------------------------------------------------------
    ("path-not-a-uuid", "commander", "POST", "/incidents/not-a-uuid/verify", {}, 422, "validation_error"),
    ("unknown-incident", "commander", "POST", "/incidents/{random}/verify", {}, 404, "not_found"),
    ("unknown-dispatch", "commander", "POST", "/dispatches/{random}/acknowledge", None, 404, "not_found"),
    ("unknown-team-in-body", "commander", "POST", "/incidents/{flood_id}/dispatches", {"team_id": "{random}", "task": "救援"}, 404, "not_found"),
    ("team-id-not-uuid", "commander", "POST", "/incidents/{flood_id}/dispatches", {"team_id": "x", "task": "救援"}, 422, "validation_error"),
    ("id-of-another-kind", "commander", "POST", "/incidents/{warehouse_id}/verify", {}, 404, "not_found"),
    ("unknown-warehouse", "commander", "POST", "/warehouses/{random}/receipts", {"lines": {"QUILT": 1}}, 404, "not_found"),
    ("unknown-allocation", "commander", "POST", "/allocations/{random}/ship", None, 404, "not_found"),
    ("unknown-route", "commander", "GET", "/nowhere", None, 404, "not_found"),
    ("wrong-method", "commander", "DELETE", "/incidents", None, 405, "method_not_allowed"),
    # -- state transitions ----------------------------------------------------------------
    ("verify-twice", "commander", "POST", "/incidents/{flood_id}/verify", {}, 409, "invalid_transition"),
    ("busy-team", "commander", "POST", "/incidents/{flood_id}/dispatches", {"team_id": "{busy_team_id}", "task": "再派"}, 409, "team_unavailable"),
    ("depart-before-acknowledge", "commander", "POST", "/dispatches/{other_dispatch_id}/depart", None, 409, "invalid_transition"),
    ("busy-team-off-duty", "commander", "POST", "/teams/{busy_team_id}/duty", {"on_duty": False}, 409, "invalid_transition"),
    # -- who may do what ------------------------------------------------------------------
    ("observer-dispatches", "observer", "POST", "/incidents/{flood_id}/dispatches", {"team_id": "{busy_team_id}", "task": "x"}, 403, "forbidden"),
    ("reporter-verifies", "reporter", "POST", "/incidents/{flood_id}/verify", {}, 403, "forbidden"),
    ("reporter-outside-its-village", "reporter", "POST", "/incidents", INCIDENT | {"unit_code": OTHER_STREET_VILLAGE}, 403, "forbidden"),
    ("operator-creates-users", "operator", "POST", "/users", {"username": "x1", "password": "password1", "role": "admin", "unit_code": VILLAGE}, 403, "forbidden"),
    ("field-sees-other-team", "field", "GET", "/dispatches/{other_dispatch_id}", None, 404, "not_found"),
    ("field-acts-for-other-team", "field", "POST", "/dispatches/{other_dispatch_id}/acknowledge", None, 404, "not_found"),
    ("field-cancels", "field", "POST", "/dispatches/{other_dispatch_id}/cancel", {"reason": "x"}, 403, "forbidden"),
    ("field-reports", "field", "POST", "/incidents", INCIDENT, 403, "forbidden"),
    ("field-reads-the-log", "field", "GET", "/events", None, 403, "forbidden"),
]


def fill(value: Any, world: World) -> Any:
    names = {
        "flood_id": world.flood["id"], "busy_team_id": world.busy_team["id"], "other_dispatch_id": world.other_dispatch["id"],
        "warehouse_id": world.warehouse["id"], "allocation_id": world.allocation["id"], "random": rid(),
    }
    if isinstance(value, str):
        return value.format(**names) if "{" in value else value
    if isinstance(value, dict):
        return {k: fill(v, world) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("case", "who", "method", "path", "body", "status", "code"), CASES, ids=[c[0] for c in CASES])
def test_refused(world: World, case: str, who: str, method: str, path: str, body: Any, status: int, code: str) -> None:
    head = world.head()
    with world.client(who) as http:
        response = http.request(method, fill(path, world), json=fill(body, world), headers={"Idempotency-Key": rid()})
    refused(world, response, status, code, head)


def test_stock_is_untouched_by_a_refused_allocation(world: World) -> None:
    with world.client("commander") as http:
        before = http.get(f"/warehouses/{world.warehouse['id']}").json()["stock"]
        head = world.head()
        r = http.post("/allocations", json={"incident_id": world.flood["id"], "warehouse_id": world.warehouse["id"],
                                            "lines": {"QUILT": 1, "PUMP": 999_999}})
        body = refused(world, r, 409, "insufficient_stock", head)
        assert set(body["shortages"]) == {"PUMP"}  # says which line fell short
        assert http.get(f"/warehouses/{world.warehouse['id']}").json()["stock"] == before


@pytest.mark.parametrize("raw", [b"{bad json", b"[1, 2", b"\xff\xfe", b"null", b"[]", b'"text"'], ids=["truncated", "array", "bytes", "null", "list", "string"])
def test_malformed_json(world: World, raw: bytes) -> None:
    head = world.head()
    with world.client("commander") as http:
        r = http.post("/incidents", content=raw, headers={"Content-Type": "application/json"})
    refused(world, r, 422, "validation_error", head)


def test_oversized_bodies(world: World) -> None:
    big = b'{"title": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    head = world.head()
    with world.client("commander") as http:
        r = http.post("/incidents", content=big, headers={"Content-Type": "application/json"})
        refused(world, r, 413, "payload_too_large", head)

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
            for i in range(0, len(big), 64 * 1024):
                yield big[i : i + 64 * 1024]

        r = http.post("/incidents", content=chunks(), headers={"Content-Type": "application/json"})
        refused(world, r, 413, "payload_too_large", head)


def test_missing_and_bad_tokens(world: World) -> None:
    url = world.server.base_url + "/api/v1/incidents"
    now = datetime.now(timezone.utc)
    forged = jwt.encode({"sub": "admin", "role": "admin", "unit": "411099000000", "ver": 1, "exp": now + timedelta(hours=1)}, "another-key-of-at-least-32-bytes!", "HS256")
    expired = jwt.encode({"sub": "admin", "role": "admin", "unit": "411099000000", "ver": 1, "exp": now - timedelta(minutes=1)}, "test-secret-of-at-least-32-bytes!", "HS256")
    for headers in ({}, {"Authorization": "Bearer garbage"}, {"Authorization": "Basic YWRtaW46eA=="},
                    {"Authorization": f"Bearer {forged}"}, {"Authorization": f"Bearer {expired}"}):
        head = world.head()
        body = refused(world, httpx.post(url, json=INCIDENT, headers=headers), 401, "unauthenticated", head)
        assert body["detail"]
    r = httpx.post(world.server.base_url + "/api/v1/auth/token", data={"username": "commander", "password": "wrong"})
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"


def test_idempotency_key_reused_for_another_request(world: World) -> None:
    key = rid()
    with world.client("commander") as http:
        first = http.post("/incidents", json=INCIDENT | {"title": "第一次"}, headers={"Idempotency-Key": key})
        assert first.status_code == 201
        head = world.head()
        r = http.post("/incidents", json=INCIDENT | {"title": "第二次"}, headers={"Idempotency-Key": key})
        refused(world, r, 422, "idempotency_mismatch", head)
        r = http.post(f"/incidents/{first.json()['id']}/verify", json={}, headers={"Idempotency-Key": key})
        refused(world, r, 422, "idempotency_mismatch", head)
        r = http.post("/incidents", json=INCIDENT, headers={"Idempotency-Key": "k" * 201})
        refused(world, r, 422, "validation_error", head)
