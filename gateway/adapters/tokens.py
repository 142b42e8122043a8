"""Bearer tokens: short JWTs (HS256) naming the account and its token version."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import jwt

from gateway.adapters.accounts import Account, Accounts
from gateway.errors import Unauthenticated

ALGORITHM = "HS256"


def issue_token(account: Account, secret: str, minutes: int) -> str:
    now = datetime.now(timezone.utc)
    claims: dict[str, Any] = {
        "sub": account.username,
        "role": account.role,
        "unit": account.unit_code,
        "ver": account.token_version,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    if account.team_id:
        claims["team"] = account.team_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def account_for_token(token: str, secret: str, accounts: Accounts) -> Account:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "ver"]})
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the token has expired; sign in again") from None
    except jwt.PyJWTError:
        raise Unauthenticated("the token is not valid") from None
    account = accounts.get(str(claims["sub"]))
    if account is None or not account.active or account.token_version != claims["ver"]:
        raise Unauthenticated("the token has been revoked") from None
    return account
