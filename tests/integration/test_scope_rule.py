"""Issue 16, item 4: one scope rule for every read of a dispatch, and out of scope answers exactly as unknown.

In-process (TestClient) on the marked district of tests/integration/scoped_district.py.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from gateway.settings import Settings
from tests.integration.scoped_district import District, serve


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One district for the module: every case here is refused, so none changes what the next one sees."""
    with serve(Settings(data_dir=tmp_path_factory.mktemp("scope"), secret_key="test-secret-of-at-least-32-bytes!")) as d:
        yield d


def test_a_field_account_lists_only_its_own_teams_dispatches_of_an_incident(district: District) -> None:
    ids = district.ids
    listed = district.get("F", f"/incidents/{ids['IA1']}/dispatches").json()
    assert [d["id"] for d in listed["items"]] == [ids["DTA"]] and listed["total"] == 1  # not street B's team's DXB
    assert [d["id"] for d in district.get("F", "/dispatches").json()["items"]] == [ids["DTA"]]
    assert district.get("F", f"/dispatches/{ids['DXB']}").status_code == 404
    # The desk of the incident's street sees both.
    assert {d["id"] for d in district.get("A", f"/incidents/{ids['IA1']}/dispatches").json()["items"]} == {ids["DTA"], ids["DXB"]}


def test_a_teams_own_street_does_not_read_its_dispatch_into_another_street(district: District) -> None:
    """Street B's team sent to village A1: the dispatch is A1's record (its title, address and task are street A's)."""
    ids = district.ids
    assert district.get("B", f"/dispatches/{ids['DXB']}").status_code == 404
    assert ids["DXB"] not in {d["id"] for d in district.get("B", "/dispatches", params={"team_id": ids["TB"]}).json()["items"]}
    assert ids["DXB"] not in {d["id"] for d in district.get("B", "/dispatches").json()["items"]}
    assert district.get("A", f"/dispatches/{ids['DXB']}").status_code == 200
    assert district.get("V", f"/dispatches/{ids['DXB']}").status_code == 200  # the village the team was sent to


def same_answer(district: District, viewer: str, method: str, template: str, real: str, body: Any = None) -> None:
    """The answer for a real id out of the viewer's scope is the answer for an unknown id, but for the id itself."""
    unknown = str(uuid.uuid4())
    answers = []
    for record_id in (real, unknown):
        path = template.format(id=record_id)
        r = district.get(viewer, path) if method == "GET" else district.post(viewer, path, body)
        problem = json.loads(r.text.replace(record_id, "<id>"))
        problem.pop("request_id", None)  # each request's own
        answers.append((r.status_code, r.headers["content-type"], problem))
    assert answers[0] == answers[1], f"{viewer} {method} {template}: {answers[0]} != {answers[1]}"
    assert answers[0][0] == 404 and answers[0][2]["code"] == "not_found"


@pytest.mark.parametrize("viewer,method,template,key,body", [
    ("F", "GET", "/dispatches/{id}", "DTA2", None),  # another team's, in its own street
    ("F", "POST", "/dispatches/{id}/acknowledge", "DTA2", None),
    ("F", "POST", "/dispatches/{id}/decline", "DXB", {"reason": "x"}),
    ("F", "POST", "/allocations/{id}/deliver", "ALA2", None),
    ("F", "GET", "/allocations/{id}", "ALA2", None),
    ("B", "GET", "/dispatches/{id}", "DXB", None),  # its own team's, sent into street A
    ("B", "POST", "/dispatches/{id}/acknowledge", "DXB", None),
    ("B", "POST", "/dispatches/{id}/cancel", "DTA", {"reason": "x"}),
    ("B", "POST", "/incidents/{id}/verify", "IA1", None),
    ("B", "POST", "/incidents/{id}/close", "IA1", {"summary": "x"}),
    ("B", "GET", "/incidents/{id}/dispatches", "IA1", None),
    ("B", "POST", "/warehouses/{id}/receipts", "WA", {"lines": {"QUILT": 1}}),
    ("B", "POST", "/allocations/{id}/ship", "ALA", None),
    ("B", "POST", "/teams/{id}/duty", "TA", {"on_duty": False}),
    ("B", "GET", "/teams/{id}/accounts", "TA", None),
    ("A", "POST", "/dispatches/{id}/acknowledge", "DTB2", None),
    ("V", "POST", "/incidents/{id}/situation", "IA2", {"notes": "x"}),
])
def test_out_of_scope_ids_answer_exactly_as_unknown_ones(district: District, viewer: str, method: str, template: str,
                                                         key: str, body: Any) -> None:
    same_answer(district, viewer, method, template, district.ids[key], body)


def test_commands_naming_an_out_of_scope_record_inside_the_body_answer_not_found(district: District) -> None:
    ids = district.ids
    r = district.post("B", f"/incidents/{ids['IB1']}/dispatches", {"team_id": ids["TA"], "task": "x"})
    assert r.status_code == 404 and r.json()["detail"] == f"team {ids['TA']} not found"
    r = district.post("B", "/allocations", {"incident_id": ids["IB1"], "warehouse_id": ids["WA"], "lines": {"QUILT": 1}})
    assert r.status_code == 404 and r.json()["detail"] == f"warehouse {ids['WA']} not found"
    r = district.post("B", "/allocations", {"incident_id": ids["IB1"], "warehouse_id": ids["WB"], "lines": {"QUILT": 1},
                                            "team_id": ids["TA"]})
    assert r.status_code == 404 and r.json()["detail"] == f"team {ids['TA']} not found"
