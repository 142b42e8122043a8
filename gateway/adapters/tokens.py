"""Bearer tokens: short JWTs (HS256) naming the account, its token version and the token's own id (jti).

A token stops working when it expires, when its account is revoked or changes password (the
account's token version moves on), when the account's role, unit or team changes, and when it is
signed out (its jti is kept in the accounts store's revoked-tokens table until it would have
expired anyway). REST checks this on every request; a live board socket at every heartbeat.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt

from gateway.adapters.accounts import Account, Accounts
from gateway.errors import Unauthenticated

ALGORITHM = "HS256"


class TokenRevoked(Unauthenticated):
    """A token that was good and no longer is (revoked, signed out, its account changed): REST still
    answers 401; a board socket's new hello with it is refused with 4403."""


@dataclass(frozen=True)
class Grant:
    """What a token said and the account it stood for when it was checked: enough to check it again."""

    username: str
    version: int
    jti: str
    expires_at: datetime
    role: str
    unit_code: str
    team_id: str | None

    def lapsed(self, account: Account | None, revoked: bool, now: datetime) -> str | None:
        """Why this grant no longer holds (or None): expiry, revocation, or a change of role or scope."""
        if now >= self.expires_at:
            return "the token has expired; sign in again"
        if revoked:
            return "signed out; sign in again"
        if account is None or not account.active or account.token_version != self.version:
            return "the token has been revoked"
        if (account.role, account.unit_code, account.team_id) != (self.role, self.unit_code, self.team_id):
            return "the account's role or scope has changed; sign in again"
        return None


def issue_token(account: Account, secret: str, minutes: int) -> str:
    now = datetime.now(timezone.utc)
    claims: dict[str, Any] = {
        "sub": account.username,
        "role": account.role,
        "unit": account.unit_code,
        "ver": account.token_version,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    if account.team_id:
        claims["team"] = account.team_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(token: str, secret: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "ver", "jti"]})
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the token has expired; sign in again") from None
    except jwt.PyJWTError:
        raise Unauthenticated("the token is not valid") from None
    if not isinstance(claims["ver"], int) or isinstance(claims["ver"], bool):  # we issue an integer; "1" is not ours
        raise Unauthenticated("the token is not valid")
    return claims


VERIFIED_ENTRIES = 10_000
_verified: dict[tuple[str, str], tuple[dict[str, Any], Grant]] = {}  # (secret, token) -> its claims and grant


def verified_claims(token: str, secret: str) -> tuple[dict[str, Any], Grant]:
    """`decode_token` and the grant it makes, its signature checked once per token: a desk sends
    the same token with every request. Expiry is not cached: `Grant.lapsed` checks it on every use."""
    key = (secret, token)
    hit = _verified.get(key)
    if hit is None:
        claims = decode_token(token, secret)
        ver, jti, sub = claims["ver"], claims["jti"], claims["sub"]
        if not isinstance(ver, int) or isinstance(ver, bool) or not isinstance(jti, str) or not isinstance(sub, str):
            raise Unauthenticated("the token is not valid")
        if not isinstance(claims.get("role"), str) or not isinstance(claims.get("unit"), str):
            raise Unauthenticated("the token is not valid")  # every token we issue names its role and unit
        grant = Grant(sub, ver, jti, datetime.fromtimestamp(claims["exp"], timezone.utc), claims["role"], claims["unit"], claims.get("team"))
        if len(_verified) >= VERIFIED_ENTRIES:
            _verified.clear()
        hit = _verified[key] = (claims, grant)
    return hit


def _grant(grant: Grant, state: tuple[Account | None, bool]) -> tuple[Account, Grant]:
    account, revoked = state
    now = datetime.now(timezone.utc)
    if now >= grant.expires_at:  # as `decode_token` says it: expiry is not a revocation (sockets tell them apart)
        raise Unauthenticated("the token has expired; sign in again")
    if account is None:
        raise Unauthenticated("the token has been revoked") from None
    if (why := grant.lapsed(account, revoked, now)) is not None:
        raise TokenRevoked(why)
    return account, grant


def grant_for_token(token: str, secret: str, accounts: Accounts) -> tuple[Account, Grant]:
    """The account behind a token and what to check it against later; refuses a token that does not hold."""
    _, grant = verified_claims(token, secret)
    return _grant(grant, accounts.token_state(grant.username, grant.jti))


def cached_grant(token: str, secret: str, accounts: Accounts) -> tuple[Account, Grant] | None:
    """`grant_for_token` without I/O when the token's state is still kept (the event loop's fast
    path); None when it would have to ask the store (then ask `grant_for_token` off the loop)."""
    _, grant = verified_claims(token, secret)
    state = accounts.cached_token_state(grant.username, grant.jti)
    return None if state is None else _grant(grant, state)


def account_for_token(token: str, secret: str, accounts: Accounts) -> Account:
    return grant_for_token(token, secret, accounts)[0]


def lapsed_grants(grants: list[Grant], accounts: Accounts) -> dict[int, str]:
    """Of these grants (a gateway's live sockets), which no longer hold and why: two queries for all."""
    if not grants:
        return {}
    now = datetime.now(timezone.utc)
    current = accounts.get_many({g.username for g in grants})
    revoked = accounts.revoked_among({g.jti for g in grants})
    return {i: why for i, g in enumerate(grants) if (why := g.lapsed(current.get(g.username), g.jti in revoked, now)) is not None}
