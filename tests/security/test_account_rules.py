"""Items 8 and 9 of issue #16: the password policy and consistent accounts, in the API and the CLI alike."""

from __future__ import annotations

import pytest

from gateway.adapters.passwords import common_passwords, password_problem
from gateway.entrypoints import cli
from gateway.settings import Settings
from tests.integration.scoped_district import A, A1, B, D, District
from tests.security.conftest import CHIEF

WEAK = {
    "eight-spaces": " " * 8,
    "common": "password",
    "digits": "12345678",
    "common-chinese": "woaini1314",
    "common-with-digits": "qwertyuiop123",
    "the-username": "newcomer",
    "username-and-digits": "Newcomer2026",
    "one-character": "zzzzzzzzzzzz",
}


def test_the_vendored_common_password_list_is_loaded() -> None:
    assert {"password", "12345678", "woaini1314", "1qaz2wsx"} <= common_passwords()
    assert password_problem("newcomer", "Flood-season-2026!") is None


@pytest.mark.parametrize("password", WEAK.values(), ids=list(WEAK))
def test_password_policy_refuses_weak_passwords_in_the_api(district: District, password: str) -> None:
    r = district.post(CHIEF, "/users", {"username": "newcomer", "password": password, "role": "observer", "unit_code": D})
    assert r.status_code == 422 and r.json()["code"] == "validation_error", r.text
    assert district.container.accounts.get("newcomer") is None


@pytest.mark.parametrize("password", ["password", "12345678", "newcomer"])
def test_password_policy_refuses_weak_passwords_in_the_cli(settings: Settings, district: District, password: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YINGJI_SECRET_KEY", settings.secret_key)
    with pytest.raises(SystemExit) as refused:
        cli.main(["--data-dir", str(settings.data_dir), "users", "add", "newcomer", "--role", "observer", "--unit", D, "--password", password])
    assert "password" in str(refused.value)
    assert district.container.accounts.get("newcomer") is None


def _user(role: str, unit: str, team: str | None = None) -> dict[str, object]:
    return {"username": "newcomer", "password": "Flood-season-2026!", "role": role, "unit_code": unit, "team_id": team}


INCONSISTENT = {
    "field-team-of-another-street": ("field", A, "TB", "team_id"),
    "field-team-above-its-unit": ("field", A1, "TA", "team_id"),
    "field-without-team": ("field", A, None, "team_id"),
    "observer-with-a-team": ("observer", A, "TA", "team_id"),
    "operator-with-a-team": ("operator", B, "TB", "team_id"),
    "admin-in-a-street": ("admin", A, None, "unit_code"),
    "reporter-of-a-street": ("reporter", B, None, "unit_code"),
}


@pytest.mark.parametrize("case", INCONSISTENT, ids=list(INCONSISTENT))
def test_inconsistent_accounts_are_refused(district: District, case: str) -> None:
    role, unit, team_key, field = INCONSISTENT[case]
    r = district.post(CHIEF, "/users", _user(role, unit, district.ids[team_key] if team_key else None))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == "validation_error" and problem.get("field") == field, problem
    assert r.headers["content-type"].startswith("application/problem+json")
    assert district.container.accounts.get("newcomer") is None


def test_consistent_accounts_are_accepted(district: District) -> None:
    # A street's account for a village team of that street; a reporter of a village.
    assert district.post(CHIEF, "/users", _user("field", A, district.ids["TA2"])).status_code == 201
    r = district.post(CHIEF, "/users", _user("reporter", A1) | {"username": "newcomer2"})
    assert r.status_code == 201, r.text


def test_the_cli_refuses_an_inconsistent_account(settings: Settings, district: District, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YINGJI_SECRET_KEY", settings.secret_key)
    with pytest.raises(SystemExit) as refused:
        cli.main(["--data-dir", str(settings.data_dir), "users", "add", "newcomer", "--role", "observer", "--unit", A,
                  "--team", district.ids["TA"], "--password", "Flood-season-2026!"])
    assert "team" in str(refused.value)
    assert district.container.accounts.get("newcomer") is None
