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

    # The phone sees its own team's dispatches only; another team's reads as not found (404), like an unknown id.
    other = next(d for d in cmd.get("/dispatches").json()["items"] if d["team_id"] != team["id"])
    r = phone.get(f"/dispatches/{other['id']}")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "not_found"
    r = phone.post(f"/dispatches/{other['id']}/acknowledge")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
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


def test_account_commands_honour_idempotency_keys(server: Server) -> None:
    """Accounts are kept beside the log, but a retried Idempotency-Key still acts once."""
    admin, cmd = server.client("admin"), server.client("commander")
    body = {"username": "duty-officer", "password": "long-password-1", "role": "operator", "unit_code": "411099000000"}
    first = admin.post("/users", body, headers={"Idempotency-Key": "add-officer"})
    again = admin.post("/users", body, headers={"Idempotency-Key": "add-officer"})
    assert first.status_code == again.status_code == 201, again.text
    assert again.headers.get("idempotent-replayed") == "true" and "idempotent-replayed" not in first.headers
    assert again.json() == first.json()
    assert [u["username"] for u in admin.get("/users").json()["items"]].count("duty-officer") == 1
    # The same key for another request is refused, and that request does nothing.
    other = admin.post("/users", body | {"username": "someone-else"}, headers={"Idempotency-Key": "add-officer"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_mismatch"
    assert "someone-else" not in [u["username"] for u in admin.get("/users").json()["items"]]
    # Without a key a repeat is a conflict, as before.
    r = admin.post("/users", body)
    assert r.status_code == 409 and r.json()["code"] == "conflict"

    # Revoke, retried: one revocation, the same answer.
    r1 = admin.post("/users/duty-officer/revoke", headers={"Idempotency-Key": "revoke-officer"})
    r2 = admin.post("/users/duty-officer/revoke", headers={"Idempotency-Key": "revoke-officer"})
    assert r1.status_code == r2.status_code == 200 and r2.headers.get("idempotent-replayed") == "true"
    assert r1.json()["active"] is False and r2.json() == r1.json()

    # A team account, retried: the same account; the password is never stored, so the
    # retry shows a fresh one and the one the lost answer carried stops working.
    team = next(t for t in cmd.get("/teams").json()["items"] if t["kind"] == "medical")
    lost = cmd.post(f"/teams/{team['id']}/accounts", {"display_name": "医疗队手机"}, headers={"Idempotency-Key": "phone-1"})
    retry = cmd.post(f"/teams/{team['id']}/accounts", {"display_name": "医疗队手机"}, headers={"Idempotency-Key": "phone-1"})
    assert lost.status_code == retry.status_code == 201, retry.text
    assert retry.json()["username"] == lost.json()["username"] and retry.json()["password"] != lost.json()["password"]
    assert [a["username"] for a in cmd.get(f"/teams/{team['id']}/accounts").json()["items"]] == [lost.json()["username"]]
    token = httpx.post(server.base_url + "/api/v1/auth/token", data={"username": lost.json()["username"], "password": lost.json()["password"]})
    assert token.status_code == 401
    phone = Api(server.base_url, retry.json()["username"], retry.json()["password"])
    assert phone.get("/auth/me").json()["team_id"] == team["id"]
