"""Account commands through the one pipeline: authorise, scope, load, decide, save with the key.

Accounts are kept beside the log, not in it (credentials are revocable and erasable, and never mirrored to
the city), so their commands answer with the account, not a log position, and their Idempotency-Key is
kept with the account (`Accounts`' request table, written in the same transaction as the change). The
request is remembered by an HMAC of its hash: the body may carry a password.

What makes an account consistent with the organisation, one rule for the API and the CLI alike:
- the account's unit exists (an admin at the district's own code may come before the district is
  registered: the first admin is made on a fresh store);
- an admin sits at the district; a reporter (灾害信息员) at a village or community, for it files;
- only a field account has a team, and it must have one: a team of the account's unit or below it,
  so a team's phone is never scoped to another street than the team's.
Units and teams are read from the log, like every command's records (never a read model that may lag).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.common import InvalidValue
from domain.teams import Team
from domain.units import Unit, unit_id, within
from gateway.adapters.accounts import Account, Accounts, Once
from gateway.context import CommandContext
from gateway.errors import Forbidden, NotFound

if TYPE_CHECKING:
    from gateway.service_layer.service import CommandService

REPORTER_UNITS = ("village", "community")


@dataclass(frozen=True)
class AccountAnswer:
    """An account command's answer: the account as the API shows it, and a password made for it (shown once)."""

    account: dict[str, Any]
    replayed: bool = False
    password: str | None = field(default=None, repr=False)

    def body(self) -> dict[str, Any]:
        return {**self.account, "password": self.password} if self.password is not None else dict(self.account)


def check_account_shape(unit_kind: Callable[[str], str | None], team_unit: Callable[[str], str | None],
                        role: str, unit_code: str, team_id: str | None, district_code: str) -> None:
    """Refuse (validation_error / not_found) an account whose role, unit and team do not fit together.

    `unit_kind(code)` is a unit's kind (None: no such unit); `team_unit(id)` a team's unit (None: no such team)."""
    kind = unit_kind(unit_code)
    if kind is None and not (role == "admin" and unit_code == district_code):
        raise NotFound(f"unit {unit_code} not found")
    kind = kind or "district"
    if role == "admin" and kind != "district":
        raise InvalidValue("an admin account belongs to the district, not to one of its units", field="unit_code")
    if role == "reporter" and kind not in REPORTER_UNITS:
        raise InvalidValue("a reporter account belongs to a village or community", field="unit_code")
    if role != "field":
        if team_id:
            raise InvalidValue(f"only field accounts have a team; a {role} account has none", field="team_id")
        return
    if not team_id:
        raise InvalidValue("a field account needs a team_id", field="team_id")
    unit_of_team = team_unit(team_id)
    if unit_of_team is None:
        raise NotFound(f"team {team_id} not found")
    if not within(unit_code, unit_of_team):
        raise InvalidValue(f"team {team_id} belongs to unit {unit_of_team}, outside the account's unit {unit_code}",
                           field="team_id")


# -- the pipeline's steps for accounts ------------------------------------------------------------
def _accounts(service: CommandService) -> Accounts:
    if service.accounts is None:
        raise RuntimeError("the command service has no accounts adapter (the composition root wires it)")
    return service.accounts


def _once(service: CommandService, ctx: CommandContext) -> Once | None:
    """The request's Idempotency-Key, per user, with a keyed fingerprint of the request."""
    if not ctx.idempotency_key:
        return None
    fingerprint = hmac.new(service.account_secret(), ctx.request_hash.encode(), hashlib.sha256).hexdigest()
    return Once(ctx.scope_key, fingerprint)


def _execute(service: CommandService, ctx: CommandContext, decide: Callable[[Once | None], AccountAnswer],
             replay: Callable[[str], AccountAnswer] | None = None) -> AccountAnswer:
    """Answer a retried key as the first time did (a key reused for another request is refused), else decide and save."""
    accounts = _accounts(service)
    once = _once(service, ctx)
    if once is not None and (done := accounts.done_before(once)) is not None:
        if replay is not None:
            return replay(done)
        return AccountAnswer(_public(accounts.get(done)), replayed=True)
    return decide(once)


def _public(account: Account | None) -> dict[str, Any]:
    assert account is not None  # a remembered request names an account that exists (accounts are never deleted)
    return account.public()


def _unit_kind(service: CommandService) -> Callable[[str], str | None]:
    def kind(code: str) -> str | None:
        try:
            return str(service._load(Unit, unit_id(code), "unit").kind)
        except NotFound:
            return None
        except ValueError:  # not a division code
            return None

    return kind


def _team_unit(service: CommandService) -> Callable[[str], str | None]:
    def unit(team_id: str) -> str | None:
        try:
            return str(service._load(Team, team_id, "team").unit_code)
        except NotFound:
            return None

    return unit


# -- the handlers -----------------------------------------------------------------------------------
def add_user(service: CommandService, ctx: CommandContext, *, username: str, password: str, role: str, unit_code: str,
             team_id: UUID | None = None, display_name: str = "") -> AccountAnswer:
    ctx.principal.check_unit(unit_code, "the account's unit")
    accounts = _accounts(service)

    def decide(once: Once | None) -> AccountAnswer:
        team = str(team_id) if team_id else None
        check_account_shape(_unit_kind(service), _team_unit(service), role, unit_code, team, service.district_code)
        return AccountAnswer(accounts.add(username, password, role, unit_code, team, display_name, once).public())

    return _execute(service, ctx, decide)


def issue_team_account(service: CommandService, ctx: CommandContext, *, team_id: UUID, username: str | None = None,
                       display_name: str = "") -> AccountAnswer:
    """A field account for the team's phone, with a password made here and shown once.

    Passwords are never stored, so a retried Idempotency-Key answers with the same account and a fresh
    password (the one the lost answer carried stops working)."""
    team = service._load_readable(ctx, Team, team_id, "team", "team")  # out of scope reads as unknown (404)
    accounts = _accounts(service)
    password = secrets.token_urlsafe(9)

    def replay(done: str) -> AccountAnswer:
        return AccountAnswer(accounts.set_password(done, password).public(), replayed=True, password=password)

    def decide(once: Once | None) -> AccountAnswer:
        name = username or f"team-{str(team_id)[:8]}-{secrets.token_hex(2)}"
        account = accounts.add(name, password, "field", team.unit_code, str(team_id), display_name or team.name, once)
        return AccountAnswer(account.public(), password=password)

    return _execute(service, ctx, decide, replay)


def revoke_account(service: CommandService, ctx: CommandContext, *, username: str) -> AccountAnswer:
    """Admins revoke any account; commanders revoke team (field) accounts within their units."""
    accounts = _accounts(service)
    account = accounts.get(username)
    if account is None:
        raise NotFound(f"user {username} not found")
    principal = ctx.principal
    if not principal.is_admin and (account.role != "field" or not principal.can_see_unit(account.unit_code)):
        raise Forbidden("commanders revoke only team accounts within their units")
    return _execute(service, ctx, lambda once: AccountAnswer(accounts.revoke(username, once).public()))
