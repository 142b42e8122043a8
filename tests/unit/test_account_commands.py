"""The command tier for accounts: issued, added and revoked through the one pipeline, kept beside the log.

Given the small district of test_commands (its accounts in memory, the same adapter as the gateway's), when
an account command is handled as some principal, then the account is answered (a team phone's password once),
or the command is refused with a stable code and no account changed and nothing written to the log. The role
table and out-of-scope refusals of every account command run in test_commands with every other command; here,
what only accounts have: the answer, the shape rules, the commander's lane and the Idempotency-Key kept with the
account.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.adapters.accounts import dump_accounts
from gateway.context import CommandContext, Principal
from gateway.service_layer import commands as c
from gateway.service_layer.accounts import AccountAnswer
from tests.unit.test_commands import ADMIN, DISTRICT, GIVEN, PASSWORD, STREET_A, STREET_B, VILLAGE_A, World, memory_log, refused

COMMANDER = Principal("commander", "commander", DISTRICT)
STREET_B_COMMANDER = Principal("commander-b", "commander", STREET_B)


@pytest.fixture
def w() -> World:
    return GIVEN.copy()


def when(w: World, who: Principal, command: c.Command, key: str = "", request_hash: str = "h") -> AccountAnswer:
    answer = w.service.handle(CommandContext(who, request_id="r", idempotency_key=key, request_hash=request_hash), command)
    assert isinstance(answer, AccountAnswer)
    return answer


def user(username: str = "duty2", **kw: Any) -> c.AddUser:
    fields: dict[str, Any] = dict(username=username, password=PASSWORD, role="operator", unit_code=STREET_A)
    fields.update(kw)
    return c.AddUser(**fields)


# -- accepted: the account is the answer; the log is not written -----------------------------------------------
def test_an_admin_adds_an_account_and_is_answered_with_it(w: World) -> None:
    head = w.head()
    answer = when(w, ADMIN, user(display_name="李静"))
    assert answer.account == w.accounts.get("duty2").public()  # type: ignore[union-attr]
    assert answer.account["role"] == "operator" and answer.account["unit_code"] == STREET_A and answer.account["active"]
    assert answer.password is None and "password" not in answer.body() and not answer.replayed
    assert w.accounts.authenticate("duty2", PASSWORD) is not None
    assert w.head() == head, "accounts are kept beside the log, never in it"


@pytest.mark.parametrize("who", [ADMIN, COMMANDER, Principal("street-commander", "commander", STREET_A)], ids=lambda p: p.username)
def test_a_commander_in_scope_issues_a_team_phone_its_password_shown_once(w: World, who: Principal) -> None:
    team = w.ids["team_a2"]
    answer = when(w, who, c.IssueTeamAccount(team_id=team))
    account = answer.account
    assert account["role"] == "field" and account["team_id"] == str(team) and account["unit_code"] == STREET_A
    assert account["display_name"] == "新兴街道救援2队"  # the team's name when none is given
    assert account["username"].startswith(f"team-{str(team)[:8]}-")
    assert answer.password and len(answer.password) >= 12 and answer.body()["password"] == answer.password
    assert w.accounts.authenticate(account["username"], answer.password) is not None


def test_a_commander_revokes_a_team_phone_in_scope(w: World) -> None:
    answer = when(w, COMMANDER, c.RevokeAccount(username="phone-a0"))
    assert answer.account["active"] is False and w.accounts.authenticate("phone-a0", PASSWORD) is None


def test_the_first_admin_comes_before_the_district_is_registered() -> None:
    fresh = World(memory_log(), ids={})
    answer = when(fresh, Principal("cli", "system", ""), user("chief", role="admin", unit_code=DISTRICT))
    assert answer.account["role"] == "admin"


# -- refused: the shape rules, the commander's lane -----------------------------------------------------------
@pytest.mark.parametrize("command, code", [
    (user(role="admin", unit_code=STREET_A), "validation_error"),  # an admin sits at the district
    (user(role="reporter", unit_code=STREET_A), "validation_error"),  # a reporter at a village or community
    (user(role="field", unit_code=STREET_A), "validation_error"),  # a field account needs a team
    (user(role="operator", unit_code=STREET_A, team_id=GIVEN.ids["team_a0"]), "validation_error"),  # only field ones have one
    (user(role="field", unit_code=STREET_B, team_id=GIVEN.ids["team_a0"]), "validation_error"),  # a team of its unit or below
    (user(role="field", unit_code=STREET_A, team_id=GIVEN.ids["incident"]), "not_found"),  # not a team
    (user(unit_code="411099009000"), "not_found"),  # no such unit
    (user("phone-a0"), "conflict"),  # the name is taken
    (user(password="password123"), "validation_error"),  # a password the policy refuses (a common one)
], ids=["admin-in-street", "reporter-in-street", "field-no-team", "operator-with-team", "team-outside", "not-a-team",
        "unknown-unit", "taken", "weak-password"])
def test_an_account_that_does_not_fit_the_organisation_is_refused(w: World, command: c.AddUser, code: str) -> None:
    assert refused(w, ADMIN, command) == code


def test_a_reporter_sits_at_a_village(w: World) -> None:
    assert when(w, ADMIN, user("weizhuang", role="reporter", unit_code=VILLAGE_A)).account["unit_code"] == VILLAGE_A


def test_commanders_revoke_only_team_phones_within_their_units(w: World) -> None:
    when(w, ADMIN, user())
    assert refused(w, COMMANDER, c.RevokeAccount(username="duty2")) == "forbidden"  # staff: the admin's
    assert refused(w, STREET_B_COMMANDER, c.RevokeAccount(username="phone-a0")) == "forbidden"  # another street's phone
    assert refused(w, COMMANDER, c.RevokeAccount(username="nobody")) == "not_found"
    assert when(w, ADMIN, c.RevokeAccount(username="duty2")).account["active"] is False


def test_a_team_out_of_scope_or_unknown_reads_as_not_found(w: World) -> None:
    assert refused(w, STREET_B_COMMANDER, c.IssueTeamAccount(team_id=w.ids["team_a0"])) == "not_found"
    assert refused(w, COMMANDER, c.IssueTeamAccount(team_id=w.ids["warehouse"])) == "not_found"  # not a team


# -- the Idempotency-Key, kept with the account ---------------------------------------------------------------
def test_a_retried_key_answers_as_the_first_time_and_another_request_with_it_is_refused(w: World) -> None:
    first = when(w, ADMIN, user(), key="add-1")
    again = when(w, ADMIN, user(), key="add-1")
    assert again.replayed and again.account == first.account
    before = dump_accounts(w.accounts)
    with pytest.raises(Exception) as info:
        when(w, ADMIN, user("someone-else"), key="add-1", request_hash="other")
    assert getattr(info.value, "code", None) == "idempotency_mismatch"
    assert dump_accounts(w.accounts) == before and w.accounts.get("someone-else") is None
    # The key is per user: another admin's "add-1" is another request.
    assert refused(w, Principal("admin2", "admin", DISTRICT), user()) == "conflict"


def test_a_retried_team_phone_gets_the_same_account_and_a_fresh_password(w: World) -> None:
    command = c.IssueTeamAccount(team_id=w.ids["team_a3"], username="team-a3-phone")
    first = when(w, COMMANDER, command, key="issue-1")
    again = when(w, COMMANDER, command, key="issue-1")
    assert again.replayed and again.account["username"] == first.account["username"] == "team-a3-phone"
    assert again.password != first.password
    assert w.accounts.authenticate("team-a3-phone", first.password or "") is None  # the lost answer's stops working
    assert w.accounts.authenticate("team-a3-phone", again.password or "") is not None
    assert [a.username for a in w.accounts.list() if a.team_id == str(w.ids["team_a3"])] == ["team-a3-phone"]


def test_a_retried_revocation_revokes_once(w: World) -> None:
    first = when(w, COMMANDER, c.RevokeAccount(username="phone-a0"), key="rev-1")
    again = when(w, COMMANDER, c.RevokeAccount(username="phone-a0"), key="rev-1")
    assert again.replayed and again.account == first.account and first.account["active"] is False
