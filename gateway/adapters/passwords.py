"""The password policy, one rule for every way an account gets a password (the API, `yingji users add`,
a password change, the bootstrap admin): long enough, not a common password, not the username.

The list of common passwords is vendored in data/common-passwords.txt (its source is named there).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from domain.common import InvalidValue

MIN_LENGTH = 8
MAX_LENGTH = 200
MIN_DISTINCT = 4  # "aaaaaaaa", "12121212": too few different characters
_TAIL = "0123456789!.@#"  # what people add to a weak password to pass a rule
COMMON = Path(__file__).resolve().parent / "data" / "common-passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().lower() for w in lines if w.strip() and not w.startswith("#"))


def password_problem(username: str, password: str) -> str | None:
    """Why a password is refused, or None when it may be used."""
    if len(password) < MIN_LENGTH or len(password.strip()) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters other than leading or trailing spaces"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    folded = password.strip().lower()
    name = username.strip().lower()
    if name and (folded == name[::-1] or (folded.startswith(name) and not folded[len(name):].strip(_TAIL))):
        return "a password must not be the username (nor the username and a few digits)"
    if len(set(folded)) < MIN_DISTINCT:
        return f"a password needs at least {MIN_DISTINCT} different characters"
    if folded in common_passwords() or folded.rstrip(_TAIL) in common_passwords():
        return "this password is on the list of common passwords; choose another"
    return None


def check_password(username: str, password: str) -> None:
    """Refuse a password the policy does not allow (validation_error on the `password` field)."""
    if (why := password_problem(username, password)) is not None:
        raise InvalidValue(why, field="password")
