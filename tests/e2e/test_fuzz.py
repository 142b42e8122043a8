"""Fuzzing every published route with schemathesis (generated from the server's own /openapi.json).

What must hold for any input at all, over real HTTP: no 5xx, every refusal is
problem+json with a stable code, and a refused request writes nothing to the
log. Signed in as admin, so that generated requests get past authorisation to
the handlers' own validation (the role matrix has its own test).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from gateway import authz
from gateway.errors import STATUS_OF_CODE
from tests.conftest import DEMO_PASSWORD, Server, Settings, seed_demo

EXAMPLES = 12  # per route and mode: ~60 routes, both modes, about 1,500 requests in all


class Target:
    def __init__(self, server: Server):
        self.server = server
        self.http = httpx.Client(base_url=server.base_url, timeout=30)
        self.sign_in()
        # Real ids too, so that generated commands reach the aggregates and not only the 404 of a lookup.
        first = {name: self.http.get(f"/api/v1/{resource}", headers=self.auth).json()["items"][0]
                 for name, resource in [("incident", "incidents"), ("team", "teams"), ("dispatch", "dispatches"),
                                        ("warehouse", "warehouses"), ("allocation", "allocations"), ("unit", "units")]}
        self.real_ids = {f"{name}_id": doc["id"] for name, doc in first.items() if name != "unit"}
        self.real_ids |= {"code": first["unit"]["code"], "username": "field"}
        danger = self.http.get("/api/v1/hidden-dangers", headers=self.auth).json()["items"][0]  # 双重预防
        self.real_ids |= {"danger_id": danger["id"], "sha256": danger["evidence"][0]["sha256"],
                          "risk_point_id": self.http.get("/api/v1/risk-points", headers=self.auth).json()["items"][0]["id"]}

    def sign_in(self) -> None:
        r = self.http.post("/api/v1/auth/token", data={"username": "admin", "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        self.auth = {"Authorization": "Bearer " + r.json()["access_token"]}

    def head(self) -> int:
        return int(self.http.get("/healthz").json()["log_position"])


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    settings_ = Settings(data_dir=tmp_path_factory.mktemp("fuzz"), secret_key="test-secret-of-at-least-32-bytes!")
    seed_demo(settings_)
    srv = Server(settings_, extra_env={"YINGJI_WATCHDOG_SECONDS": "0", "YINGJI_RUN_NOTIFIER": "false"}).start()  # only the fuzzer moves the log (no watchdog, no notifier)
    target = Target(srv)
    yield target
    target.http.close()
    srv.stop()


@pytest.fixture(scope="module")
def api_schema(fuzz_target: Target) -> Any:
    return schemathesis.openapi.from_url(fuzz_target.server.base_url + "/openapi.json")


@pytest.mark.slow
@pytest.mark.parametrize("route", list(authz.MATRIX))
def test_any_input_is_answered_without_a_5xx_and_a_refusal_writes_nothing(
        route: str, api_schema: Any, fuzz_target: Target) -> None:
    """Inputs that fit the published schema, then (where the route takes any) inputs that break it."""
    method, path = route.split(" ", 1)
    operation = api_schema[authz.API + path][method]
    takes_input = bool(operation.definition.raw.get("parameters")) or "requestBody" in operation.definition.raw
    for mode in [GenerationMode.POSITIVE] + [GenerationMode.NEGATIVE] * takes_input:
        fuzz(operation, mode, fuzz_target)
    if route == "POST /auth/signout":
        fuzz_target.sign_in()  # the fuzzer signed its own token out


def fuzz(operation: Any, mode: GenerationMode, fuzz_target: Target) -> None:
    names = {p["name"] for p in operation.definition.raw.get("parameters", []) if p.get("in") == "path"}
    strategy = operation.as_strategy(generation_mode=mode)
    if names and names <= set(fuzz_target.real_ids):
        real = {name: fuzz_target.real_ids[name] for name in names}
        strategy = strategy | operation.as_strategy(generation_mode=mode, path_parameters=real)

    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        before = fuzz_target.head()
        response = case.call(headers=fuzz_target.auth, timeout=30)
        status = response.status_code
        assert status < 500, f"{case.method} {case.formatted_path}: {status} {response.text[:500]}"
        if status >= 400:
            content_type = response.headers.get("content-type") or [""]  # schemathesis keeps every value of a header
            assert content_type[0].startswith("application/problem+json"), response.text[:300]
            body = response.json()
            assert body["code"] in STATUS_OF_CODE and body["status"] == status and body["detail"], body
            assert fuzz_target.head() == before, f"{case.method} {case.formatted_path} was refused ({status}) but wrote to the log"

    check()
