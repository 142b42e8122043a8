"""Team accounts: a commander issues and revokes per-team credentials; field accounts stay in their lane."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Api, Server


@pytest.fixture
def backend() -> str:
    return "sqlite"


def test_issue_use_and_revoke_a_team_account(server: Server) -> None:
    cmd = server.client("commander")
    team = next(t for t in cmd.get("/teams").json()["items"] if t["kind"] == "militia")
    r = cmd.post(f"/teams/{team['id']}/accounts", {"display_name": "民兵连手机"})
    assert r.status_code == 201, r.text
    issued = r.json()
    assert issued["role"] == "field" and issued["team_id"] == team["id"] and len(issued["password"]) >= 12
    phone = Api(server.base_url, issued["username"], issued["password"])
    assert phone.get("/auth/me").json()["team_id"] == team["id"]
    listed = cmd.get(f"/teams/{team['id']}/accounts").json()["items"]
    assert [a["username"] for a in listed] == [issued["username"]]

    # The phone sees its own team's dispatches only; another team's is 403.
    other = next(d for d in cmd.get("/dispatches").json()["items"] if d["team_id"] != team["id"])
    r = phone.get(f"/dispatches/{other['id']}")
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "forbidden"
    r = phone.post(f"/dispatches/{other['id']}/acknowledge")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert phone.get("/dispatches").json()["items"] == []

    # Revoked: the token stops working at once, and signing in fails.
    assert cmd.post(f"/users/{issued['username']}/revoke").status_code == 200
    r = phone.get("/auth/me")
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"
    r = httpx.post(server.base_url + "/api/v1/auth/token", data={"username": issued["username"], "password": issued["password"]})
    assert r.status_code == 401


def test_operators_cannot_issue_and_commanders_cannot_revoke_staff(server: Server) -> None:
    op, cmd = server.client("operator"), server.client("commander")
    team = cmd.get("/teams").json()["items"][0]
    r = op.post(f"/teams/{team['id']}/accounts", {})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = cmd.post("/users/operator/revoke")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
