"""JSON structured logs (issue #16): each request's line carries its request id, actor and route, and
any line logged while a request is served carries its request id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from gateway.entrypoints.logs import JsonFormatter, request_id_var
from tests.integration.scoped_district import District


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("yingji.access")
    access.addHandler(handler)
    old = access.level
    access.setLevel(logging.INFO)
    yield out
    access.removeHandler(handler)
    access.setLevel(old)


def _records(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_each_request_logs_one_json_line_with_request_id_actor_and_route(district: District, lines: io.StringIO) -> None:
    r = district.client.get("/api/v1/incidents", headers=district.headers("A") | {"X-Request-ID": "trace-me-1"})
    assert r.status_code == 200 and r.headers["X-Request-ID"] == "trace-me-1"
    (line,) = [x for x in _records(lines) if x.get("request_id") == "trace-me-1"]
    assert line["actor"] == "op_a" and line["route"] == "/api/v1/incidents" and line["status"] == 200
    assert line["method"] == "GET" and line["level"] == "info" and isinstance(line["duration_ms"], float)
    # The route is the template, not the path: ids stay out of it.
    r = district.client.get(f"/api/v1/incidents/{district.ids['IA1']}", headers=district.headers("A") | {"X-Request-ID": "trace-me-2"})
    (line,) = [x for x in _records(lines) if x.get("request_id") == "trace-me-2"]
    assert line["route"] == "/api/v1/incidents/{incident_id}"


def test_a_refused_request_is_logged_without_an_actor(district: District, lines: io.StringIO) -> None:
    r = district.client.get("/api/v1/incidents")
    rid = r.headers["X-Request-ID"]
    (line,) = [x for x in _records(lines) if x.get("request_id") == rid]
    assert line["status"] == 401 and "actor" not in line


def test_lines_logged_while_serving_a_request_carry_its_request_id() -> None:
    token = request_id_var.set("rid-42")
    try:
        record = logging.LogRecord("yingji.relay", logging.WARNING, __file__, 1, "something %s", ("odd",), None)
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line == line | {"request_id": "rid-42", "msg": "something odd", "level": "warning", "logger": "yingji.relay"}
