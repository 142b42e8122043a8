"""User accounts: kept beside the log, not in it.

Credentials must be revocable and erasable, and must never be mirrored to the
city platform, so accounts live in their own table rather than as events.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Boolean, Column, Connection, DateTime, Engine, Integer, MetaData, String, Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from domain.units import scope_prefix
from gateway.context import Principal, Role
from gateway.adapters.passwords import check_password
from gateway.errors import Conflict, IdempotencyMismatch, NotFound

metadata = MetaData()

accounts_table = Table(
    "accounts",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("unit_code", String(12), nullable=False),
    Column("team_id", String(36), nullable=True),
    Column("display_name", String(128), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    # Bumped on revoke or password change: tokens carrying an older value stop working.
    Column("token_version", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Idempotency-Key for account commands, which are not events: the key, a keyed fingerprint of
# the request (an HMAC, because the body may carry a password) and the account it acted on,
# written in the same transaction as the change.
account_requests_table = Table(
    "account_requests",
    metadata,
    Column("scope_key", String(300), primary_key=True),  # "<user>:<Idempotency-Key>"
    Column("fingerprint", String(64), nullable=False),
    Column("username", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Tokens signed out before they expire (POST /auth/signout), by their id; a row goes once the
# token would have expired anyway.
revoked_tokens_table = Table(
    "revoked_tokens",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

# When each account last signed in: the readiness standard's "connected to the platform" (an account of the
# unit signed in within 30 days). A table of its own (created beside the others), so older stores gain it
# without altering `accounts`; like the accounts it is not in the log, so replay cannot know it.
signins_table = Table(
    "account_signins",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
)

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@dataclass(frozen=True)
class Once:
    """An account command's Idempotency-Key: `scope_key` is per user, `fingerprint` per request."""

    scope_key: str
    fingerprint: str


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)


# A real hash to compare against when the user does not exist, so timing does not reveal it.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(12))


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    unit_code: str
    team_id: str | None
    display_name: str
    active: bool
    token_version: int

    @property
    def principal(self) -> Principal:
        return Principal(self.username, self.role, self.unit_code, self.team_id, self.display_name)

    def public(self) -> dict[str, object]:
        return {
            "username": self.username,
            "role": self.role,
            "unit_code": self.unit_code,
            "team_id": self.team_id,
            "display_name": self.display_name,
            "active": self.active,
            # The codes this account reads and acts in start with this (the one scope rule,
            # `Principal.can_see_unit`): pages filter their unit pickers by it instead of
            # working out the division code's levels themselves. Empty: the whole district.
            "scope_prefix": "" if self.principal.is_admin else scope_prefix(self.unit_code),
        }


def _row(r: object) -> Account:
    m = r._mapping  # type: ignore[attr-defined]
    return Account(m["username"], m["role"], m["unit_code"], m["team_id"], m["display_name"], m["active"], m["token_version"])


TOKEN_STATE_SECONDS = 1.0  # how long a token's account and sign-out state are reused (see token_state)
TOKEN_STATE_ENTRIES = 10_000


class Accounts:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._token_states: dict[tuple[str, str], tuple[float, tuple[Account | None, bool]]] = {}

    def create_schema(self) -> None:
        metadata.create_all(self.engine)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(accounts_table)).scalar() or 0)

    def add(self, username: str, password: str, role: str, unit_code: str, team_id: str | None = None,
            display_name: str = "", once: Once | None = None) -> Account:
        Role(role)
        check_password(username, password)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    accounts_table.insert().values(
                        username=username,
                        password_hash=hash_password(password),
                        role=role,
                        unit_code=unit_code,
                        team_id=team_id,
                        display_name=display_name,
                        active=True,
                        token_version=1,
                        created_at=datetime.now(timezone.utc),
                    )
                )
                self._remember(conn, once, username)
        except IntegrityError:
            # A concurrent retry of the same request may have won: answer as it did.
            if once is not None and (done := self.done_before(once)) is not None:
                return self.get(done)  # type: ignore[return-value]
            raise Conflict(f"user {username} already exists", field="username") from None
        return self.get(username)  # type: ignore[return-value]

    def done_before(self, once: Once) -> str | None:
        """The account a request with this key acted on, or None; the same key for another request is refused."""
        with self.engine.connect() as conn:
            row = conn.execute(select(account_requests_table).where(account_requests_table.c.scope_key == once.scope_key)).first()
        if row is None:
            return None
        if not hmac.compare_digest(row._mapping["fingerprint"], once.fingerprint):
            raise IdempotencyMismatch("this Idempotency-Key was already used for a different request")
        return str(row._mapping["username"])

    @staticmethod
    def _remember(conn: Connection, once: Once | None, username: str) -> None:
        if once is not None:
            conn.execute(account_requests_table.insert().values(
                scope_key=once.scope_key, fingerprint=once.fingerprint, username=username, created_at=datetime.now(timezone.utc)))

    def get(self, username: str) -> Account | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(accounts_table).where(accounts_table.c.username == username)).first()
        return _row(r) if r else None

    def get_many(self, usernames: set[str]) -> dict[str, Account]:
        names = sorted(usernames)
        found: dict[str, Account] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(names), 500):
                for r in conn.execute(select(accounts_table).where(accounts_table.c.username.in_(names[i : i + 500]))):
                    found[r._mapping["username"]] = _row(r)
        return found

    def token_state(self, username: str, jti: str) -> tuple[Account | None, bool]:
        """The account and whether this token was signed out, read together.

        Every authenticated request asks this, so answers are kept for TOKEN_STATE_SECONDS: this
        process forgets them at once when it revokes, signs out or changes a password; another
        gateway's change reaches this one within that time (and its live sockets at their next
        heartbeat, which reads the store).
        """
        hit = self.cached_token_state(username, jti)
        if hit is not None:
            return hit
        key = (username, jti)
        now = time.monotonic()
        with self.engine.connect() as conn:
            r = conn.execute(select(accounts_table).where(accounts_table.c.username == username)).first()
            revoked = conn.execute(select(revoked_tokens_table.c.jti).where(revoked_tokens_table.c.jti == jti)).first() is not None
        state = (_row(r) if r else None), revoked
        if state[0] is not None:
            if len(self._token_states) >= TOKEN_STATE_ENTRIES:
                self._token_states.clear()
            self._token_states[key] = (now + TOKEN_STATE_SECONDS, state)
        return state

    def cached_token_state(self, username: str, jti: str) -> tuple[Account | None, bool] | None:
        """`token_state` if it is still kept (no I/O: safe on the event loop), else None."""
        hit = self._token_states.get((username, jti))
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def _forget(self, username: str | None = None, jti: str | None = None) -> None:
        for key in [k for k in self._token_states if k[0] == username or k[1] == jti]:
            self._token_states.pop(key, None)

    def revoked_among(self, jtis: set[str]) -> set[str]:
        ids = sorted(jtis)
        found: set[str] = set()
        with self.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                found.update(conn.execute(select(revoked_tokens_table.c.jti).where(revoked_tokens_table.c.jti.in_(ids[i : i + 500]))).scalars())
        return found

    def revoke_token(self, jti: str, username: str, expires_at: datetime) -> None:
        """Sign a token out: it stops working at once; rows of tokens past their expiry are pruned."""
        self._forget(jti=jti)
        now = datetime.now(timezone.utc)
        ins = (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(revoked_tokens_table)
        with self.engine.begin() as conn:
            conn.execute(delete(revoked_tokens_table).where(revoked_tokens_table.c.expires_at < now))
            if expires_at > now:
                conn.execute(ins.values(jti=jti, username=username, expires_at=expires_at).on_conflict_do_nothing())

    def list(self, unit_prefix: str | None = None) -> list[Account]:
        q = select(accounts_table).order_by(accounts_table.c.username)
        if unit_prefix:
            q = q.where(accounts_table.c.unit_code.like(unit_prefix + "%"))
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(q)]

    def authenticate(self, username: str, password: str) -> Account | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(accounts_table).where(accounts_table.c.username == username)).first()
        if r is None:
            verify_password(password, _DUMMY_HASH)
            return None
        if not verify_password(password, r._mapping["password_hash"]) or not r._mapping["active"]:
            return None
        self.record_signin(username, datetime.now(timezone.utc))
        return _row(r)

    def record_signin(self, username: str, at: datetime) -> None:
        dialect = self.engine.dialect.name
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(signins_table).values(username=username, at=at)
        with self.engine.begin() as conn:
            conn.execute(ins.on_conflict_do_update(index_elements=["username"], set_={"at": ins.excluded.at}))

    def last_signins(self) -> dict[str, datetime]:
        """Per unit, the latest sign-in of any of its active accounts."""
        q = (select(accounts_table.c.unit_code, func.max(signins_table.c.at))
             .join(signins_table, signins_table.c.username == accounts_table.c.username)
             .where(accounts_table.c.active.is_(True)).group_by(accounts_table.c.unit_code))
        with self.engine.connect() as conn:
            out = {}
            for unit, at in conn.execute(q):
                out[unit] = at if at.tzinfo else at.replace(tzinfo=timezone.utc)  # SQLite keeps no zone
            return out

    def revoke(self, username: str, once: Once | None = None) -> Account:
        try:
            with self.engine.begin() as conn:
                n = conn.execute(
                    update(accounts_table)
                    .where(accounts_table.c.username == username)
                    .values(active=False, token_version=accounts_table.c.token_version + 1)
                ).rowcount
                if n != 1:
                    raise NotFound(f"user {username} not found")
                self._remember(conn, once, username)
        except IntegrityError:
            if once is None or self.done_before(once) is None:
                raise
        finally:
            self._forget(username=username)
        return self.get(username)  # type: ignore[return-value]

    def set_password(self, username: str, password: str) -> Account:
        """A new password; tokens issued before stop working."""
        check_password(username, password)
        with self.engine.begin() as conn:
            n = conn.execute(
                update(accounts_table)
                .where(accounts_table.c.username == username)
                .values(password_hash=hash_password(password), token_version=accounts_table.c.token_version + 1)
            ).rowcount
        self._forget(username=username)
        if n != 1:
            raise NotFound(f"user {username} not found")
        return self.get(username)  # type: ignore[return-value]


# -- backups: accounts as stored (password hashes, never passwords) ------------------------------
ACCOUNT_FIELDS = ("username", "password_hash", "role", "unit_code", "team_id", "display_name", "active", "token_version")


def dump_accounts(accounts: Accounts) -> list[dict[str, object]]:
    """Every account with its password hash, for `yingji export`; tokens are not kept."""
    with accounts.engine.connect() as conn:
        rows = conn.execute(select(*[accounts_table.c[f] for f in ACCOUNT_FIELDS]).order_by(accounts_table.c.username))
        return [dict(r._mapping) for r in rows]


def restore_accounts(accounts: Accounts, rows: list[dict[str, object]]) -> tuple[int, list[str]]:
    """Insert exported accounts as they were (hash and all); a username already here is kept and named."""
    existing = {a.username for a in accounts.list()}
    fresh = [r for r in rows if r["username"] not in existing]
    if fresh:
        now = datetime.now(timezone.utc)
        with accounts.engine.begin() as conn:
            conn.execute(accounts_table.insert(), [{f: r[f] for f in ACCOUNT_FIELDS} | {"created_at": now} for r in fresh])
    return len(fresh), sorted(str(r["username"]) for r in rows if r["username"] in existing)
