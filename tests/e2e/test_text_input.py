"""Issue 16, items 10 and 11, over a real server on PostgreSQL.

10: a NUL in any text (a body field, a path segment, a query value, the sign-in form) answers
    422 validation_error, never 500, and the keep-alive connection carries the next request.
11: deceiving text is refused naming the field and the reason; text is stored in NFC; situation
    figures are bounded.
"""

from __future__ import annotations

import http.client
import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import ADMIN, PG_URL, Server, Settings, drop_schema, postgres_or_skip

DISTRICT, VILLAGE = "411099000000", "411099001001"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    postgres_or_skip()
    schema = "t_" + uuid.uuid4().hex[:12]
    settings = Settings(data_dir=tmp_path_factory.mktemp("text"), database_url=PG_URL, database_schema=schema,
                        secret_key="test-secret-of-at-least-32-bytes!")
    srv = Server(settings, {"YINGJI_WATCHDOG_SECONDS": "0", "YINGJI_RUN_NOTIFIER": "false"}).start()
    try:
        yield srv
    finally:
        srv.stop()
        drop_schema(schema)


@pytest.fixture(scope="module")
def token(server: Server) -> str:
    r = httpx.post(server.base_url + "/api/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]})
    token = r.json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    for code, name, kind in ((DISTRICT, "东城区", "district"), ("411099001000", "新兴街道", "street"), (VILLAGE, "魏庄村", "village")):
        r = httpx.post(server.base_url + "/api/v1/units", json={"code": code, "name": name, "kind": kind}, headers=auth)
        assert r.status_code == 201, r.text
    return str(token)


def incident(**override: Any) -> dict[str, Any]:
    return {"category": "natural_disaster", "subtype": "flood", "level": "IV", "title": "村东积水", "unit_code": VILLAGE,
            "occurred_at": (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()} | override


NUL_CASES = [
    pytest.param("POST", "/api/v1/users", {"username": "nul_user", "password": "A-long-Passw0rd!", "role": "observer",
                                           "unit_code": DISTRICT, "display_name": "值班\x00员"}, id="display-name"),
    pytest.param("POST", "/api/v1/incidents", incident(title="积水\x00"), id="incident-title"),
    pytest.param("POST", "/api/v1/incidents", incident(description="第一行\n\x00"), id="incident-description"),
    pytest.param("POST", "/api/v1/units", {"code": "411099001009", "name": "a\x00", "kind": "village"}, id="unit-name"),
    pytest.param("GET", "/api/v1/units/4110990010%00", None, id="path-segment"),
    pytest.param("POST", "/api/v1/users/ab%00c/revoke", None, id="username-in-path"),
    pytest.param("GET", "/api/v1/incidents?" + urlencode({"status": "reported\x00"}), None, id="query-value"),
    pytest.param("POST", "/api/v1/auth/token", "form:" + urlencode({"username": "ro\x00ot", "password": "x"}), id="sign-in-form"),
]


@pytest.mark.parametrize("method,path,body", NUL_CASES)
def test_a_nul_in_any_text_is_422_and_the_connection_stays_usable(server: Server, token: str, method: str, path: str, body: Any) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
        if isinstance(body, str) and body.startswith("form:"):
            data, headers["Content-Type"] = body[5:].encode(), "application/x-www-form-urlencoded"
        else:
            data, headers["Content-Type"] = (json.dumps(body).encode() if body is not None else None), "application/json"
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        answer = json.loads(r.read())
        assert r.status == 422 and answer["code"] == "validation_error", answer
        assert r.getheader("content-type", "").startswith("application/problem+json")
        assert not r.will_close, "the server closed the keep-alive connection"
        sock = conn.sock
        conn.request("GET", "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        after = conn.getresponse()
        assert after.status == 200 and json.loads(after.read())["username"] == ADMIN[0]
        assert conn.sock is sock, "the next request needed a new connection"
    finally:
        conn.close()


def post(server: Server, token: str, path: str, body: Any) -> httpx.Response:
    return httpx.post(server.base_url + "/api/v1" + path, json=body,
                      headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})


@pytest.mark.parametrize("field,value,reason", [
    ("title", "RTL \u202eexe.txt", "bidirectional override"),
    ("title", "报告\u2067人\u2069", "bidirectional isolate"),
    ("address", "魏庄村\u200b东组", "zero-width"),
    ("description", "\ufeff积水", "zero-width"),
    ("title", "积水\n二行", "line break"),
    ("source", "电话\x1b[2J", "control character"),
])
def test_deceiving_text_is_refused_naming_the_field_and_the_reason(server: Server, token: str, field: str, value: str, reason: str) -> None:
    r = post(server, token, "/incidents", incident(**{field: value}))
    assert r.status_code == 422 and r.json()["code"] == "validation_error", r.text
    [error] = r.json()["errors"]
    assert error["loc"] == ["body", field] and reason in error["msg"], error


def test_text_is_stored_in_nfc(server: Server, token: str) -> None:
    r = post(server, token, "/incidents", incident(title="Cafe\u0301 村东积水", description="第一行\r\n第二行"))
    assert r.status_code == 201, r.text
    doc = httpx.get(f"{server.base_url}/api/v1/incidents/{r.json()['id']}", params={"min_position": r.json()["position"]},
                    headers={"Authorization": f"Bearer {token}"}).json()
    assert doc["title"] == "Café 村东积水" and doc["description"] == "第一行\n第二行"


def test_casualty_figures_beyond_a_million_are_refused(server: Server, token: str) -> None:
    created = post(server, token, "/incidents", incident())
    assert created.status_code == 201
    r = post(server, token, f"/incidents/{created.json()['id']}/situation", {"deaths": 10_000_000})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "deaths"], r.text
    assert post(server, token, f"/incidents/{created.json()['id']}/situation", {"affected": 1_000_000}).status_code == 200
