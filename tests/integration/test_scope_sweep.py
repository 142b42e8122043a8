"""No answer and no board frame carries another scope's data: every GET route and the board socket, swept.

As an operator of street A, a commander of street B, the reporter of village A1 and the phone of
street A's team, every GET route listed in /openapi.json is called with every id of every kind in
its path (so out-of-scope ids are probed too) and the query values that select data (`team_id`,
`format`); then the board socket is opened, every record is changed, and each frame up to the last
change is read. No text read by a viewer may hold a marker (tests/integration/scoped_district.py)
that viewer may not read. A route the sweep cannot fill (a new required parameter) fails the test,
so a new route is swept as soon as it exists.
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from gateway.context import Principal
from domain.policy import SHANGHAI
from tests.integration.scoped_district import A, ADMIN, B, D, VIEWERS, District, leaks, m, serve

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the scope rule is the same on both stores; one is enough for the sweep


@pytest.fixture
def district(settings: Any) -> Any:
    with serve(settings) as d:
        yield d


def path_values(d: District) -> dict[str, list[str]]:
    ids = d.ids
    return {
        "incident_id": [ids[k] for k in ("IA1", "IA2", "IB1")],
        "team_id": [ids[k] for k in ("TA", "TA2", "TB", "TB2")],
        "dispatch_id": [ids[k] for k in ("DTA", "DTA2", "DXB", "DTB2")],
        "warehouse_id": [ids[k] for k in ("WA", "WB")],
        "allocation_id": [ids[k] for k in ("ALA", "ALA2", "ALB")],
        "directive_id": [ids["DIR"]],
        "report_id": [ids["RA1"], ids["RB1"]],
        "handover_id": [ids["HA"], ids["HB"]],
        "warning_id": [ids[f"warning-{k}"] for k in ("WA", "WB1", "WD", "WDRAFT")],
        "risk_point_id": [ids["RPA1"], ids["RPB1"]],
        "danger_id": [ids["HDA1"], ids["HDB1"]],
        "campaign_id": [ids["CA"], ids["CB"]],
        "person_id": [ids["PA1"], ids["PB1"]],
        "training_id": [ids["TRA"], ids["TRB"]],
        "sha256": [ids["FIA1"], ids["FIB1"]],
        "plan_id": [ids["PLA1"], ids["PLB1"]],
        "drill_id": [ids["DRA1"], ids["DRB1"]],
        "code": [D, A, B, "411099001001", "411099001002", "411099002001"],
        "username": [u for u, *_ in VIEWERS.values()],
    }


def query_values(d: District, head: int) -> dict[str, list[Any]]:
    now = datetime.now(timezone.utc)
    return {
        "team_id": path_values(d)["team_id"],
        "format": ["json", "html", "csv"],
        "unit_code": [D, A, B],
        "start": [(now - timedelta(days=1)).isoformat()],
        "end": [(now + timedelta(days=1)).isoformat()],
        "position": [head],
        "day": [now.astimezone(SHANGHAI).date().isoformat()],
        # list filters: another scope's unit, text that only another scope's records hold, a record of another scope
        "unit": [A, B, "411099001001", "411099002001"],
        "q": ["QZ-", "B1-INC", "TB2-TASK", "A2-INC"],
        "incident_id": path_values(d)["incident_id"],
        "limit": [1],
    }


def requests_of(d: District) -> list[tuple[str, dict[str, Any]]]:
    """(path, params) for every GET route of /openapi.json, every id in its path, each selecting query value."""
    spec = d.client.get("/openapi.json").json()
    paths, queries = path_values(d), query_values(d, d.container.log.max_position())
    out: list[tuple[str, dict[str, Any]]] = []
    for template, item in spec["paths"].items():
        op = item.get("get")
        if op is None:
            continue
        params = op.get("parameters", [])
        in_path = [p["name"] for p in params if p["in"] == "path"]
        required = {p["name"] for p in params if p["in"] == "query" and p.get("required")}
        unfillable = [n for n in [*in_path, *required] if n not in paths and n not in queries]
        assert not unfillable, f"the sweep cannot fill {unfillable} of GET {template}: add values for them"
        if "position" in required and "at" in {p["name"] for p in params}:
            pass  # replay: position is given, `at` left out (exactly one of the two)
        optional = [p["name"] for p in params if p["in"] == "query" and not p.get("required") and p["name"] in ("team_id", "format", "unit", "q", "incident_id", "limit", "unit_code")]
        for combo in itertools.product(*(paths[n] for n in in_path)):
            path = template
            for name, value in zip(in_path, combo, strict=True):
                path = path.replace("{" + name + "}", value)
            base = {n: queries[n][0] for n in required}
            out.append((path, base))
            for name in optional:
                out += [(path, base | {name: v}) for v in queries[name]]
    return out


def test_no_get_route_answers_with_another_scopes_data(district: District) -> None:
    requests = requests_of(district)
    assert len(requests) > 60
    seen: dict[str, set[str]] = {v: set() for v in VIEWERS}
    for viewer in VIEWERS:
        for path, params in requests:
            r = district.client.get(path, params=params, headers=district.headers(viewer))
            assert r.status_code < 500, f"{viewer} GET {path} {params}: {r.status_code} {r.text[:300]}"
            text = r.text
            assert not leaks(viewer, text), f"{viewer} GET {path} {params} shows {leaks(viewer, text)}"
            seen[viewer] |= {x for x in text.split("QZ-")}
    # The sweep saw what it should: each viewer read markers of its own scope somewhere.
    own = {"A": "TA2-TASK", "B": "TB2-TASK", "V": "A1-DAILY", "F": "TA-TASK"}
    for viewer, name in own.items():
        assert name + "-QZ" in "|".join(seen[viewer]) + "|", f"{viewer} never saw {name}: the sweep is not reaching data"


def test_board_counts_and_alerts_name_only_units_in_scope(district: District) -> None:
    """Item 5 through the API: a street's board counts its own villages' daily reports only."""
    board = district.get("A", "/board").json()
    assert set(board["counts_by_street"]) == {A}
    assert board["counts_by_street"][A]["daily_due"] == 2 and board["counts_by_street"][A]["daily_filed"] == 2
    assert board["reporting_units"] == ["411099001001", "411099001002"]
    assert all(a["unit_code"].startswith("411099001") or a["unit_code"] == "" for a in board["alerts"]), board["alerts"]
    village = district.get("V", "/board").json()
    assert village["reporting_units"] == ["411099001001"]
    assert {k: (v["daily_due"], v["daily_filed"]) for k, v in village["counts_by_street"].items()} == {A: (1, 1)}


def read_until(ws: Any, position: int, viewer: str) -> list[str]:
    """Frames up to the first one at or past `position` (the last change, which every viewer sees)."""
    texts = []
    while True:
        text = ws.receive_text()
        texts.append(text)
        frame = json.loads(text)
        assert frame["type"] != "error", f"{viewer}: {text}"
        if frame["type"] in ("delta", "heartbeat") and frame["position"] >= position:
            return texts


def change_everything(d: District) -> int:
    """Touch every marked record (as the district would), then register a unit: a change every viewer sees."""
    s, ids = d.container.service, d.ids
    for key, tag in (("IA1", "A1"), ("IA2", "A2"), ("IB1", "B1")):
        s.update_situation(ADMIN, ids[key], {"evacuated": 3}, m(f"{tag}-SIT"))
    for key in ("WA", "WB"):
        s.receive_stock(ADMIN, ids[key], {"QUILT": 5}, note=m(f"{key}-NOTE"))
    for key in ("DTA", "DTA2", "DXB", "DTB2"):
        s.acknowledge_dispatch(ADMIN, ids[key])
    for key, tag in (("DTA2", "TA2"), ("DTB2", "TB2")):
        s.depart_dispatch(ADMIN, ids[key])
        s.arrive_dispatch(ADMIN, ids[key])
        s.complete_dispatch(ADMIN, ids[key], m(f"{tag}-DONE"))
    for key in ("ALA", "ALA2", "ALB"):
        s.ship_allocation(ADMIN, ids[key], vehicle="豫K00001")
    today = datetime.now(timezone.utc).astimezone(SHANGHAI).date()
    for unit, tag in (("411099001001", "A1"), ("411099001002", "A2"), ("411099002001", "B1")):
        s.file_daily_report(ADMIN, unit, today, zero=False, summary=m(f"{tag}-DAILY2"))
    return int(s.register_unit(ADMIN, code="411099002009", name="新建社区", kind="community").position)


def test_no_board_frame_carries_another_scopes_data(district: District) -> None:
    sockets = {}
    try:
        for viewer in VIEWERS:
            ws = district.client.websocket_connect("/api/v1/board/live").__enter__()
            sockets[viewer] = ws
            ws.send_json({"type": "hello", "token": district.tokens[viewer], "after": None})
            snapshot = ws.receive_text()
            assert json.loads(snapshot)["type"] == "snapshot", snapshot[:300]
            assert not leaks(viewer, snapshot), f"{viewer}'s snapshot shows {leaks(viewer, snapshot)}"
        last = change_everything(district)
        for viewer, ws in sockets.items():
            frames = read_until(ws, last, viewer)
            for text in frames:
                assert not leaks(viewer, text), f"{viewer}'s frame shows {leaks(viewer, text)}: {text[:300]}"
            assert any("QZ-" in t for t in frames) or viewer == "V", f"{viewer} saw no change of its own scope"
        # A snapshot after the changes, and a reconnect with `after` (the missed deltas), are clean too.
        for viewer in VIEWERS:
            with district.client.websocket_connect("/api/v1/board/live") as ws:
                ws.send_json({"type": "hello", "token": district.tokens[viewer], "after": 0})
                frames = read_until(ws, last, viewer)
                for text in frames:
                    assert not leaks(viewer, text), f"{viewer}'s catch-up shows {leaks(viewer, text)}"
    finally:
        for ws in sockets.values():
            ws.__exit__(None, None, None)


def test_the_principal_rule_is_the_one_the_sweep_expects() -> None:
    """The markers' allowed sets follow Principal.can_read; a change of rule shows here first."""
    field = Principal("f", "field", A, team_id="t-a")
    assert field.can_read("dispatch", "411099002001", "t-a")  # its own team's work anywhere
    assert not field.can_read("dispatch", "411099001001", "t-other")  # not another team's, even in its street
    assert field.can_read("incident", "411099001002")
    street_b = Principal("b", "commander", B)
    assert not street_b.can_read("dispatch", "411099001001", "t-of-street-b")  # its team sent elsewhere: not its record
    assert street_b.can_read("unit", D)  # the organisation tree is everyone's
