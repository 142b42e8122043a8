"""Settings from the environment (YINGJI_*), one object for the whole process."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote, urlparse

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.policy import (
    DEFAULT_ACK_MINUTES,
    DEFAULT_ARRIVE_MINUTES,
    DEFAULT_PLAN_REVISION_YEARS,
    DEFAULT_RECEIPT_MINUTES,
    DEFAULT_RISK_REVIEW_DAYS,
    HANDOVER_GRACE,
    VERIFIED_REPORT_DAYS,
)



class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YINGJI_", extra="ignore")

    data_dir: Path = Path("data")
    # Empty: embedded SQLite files under data_dir. postgresql://user:pw@host:port/db otherwise.
    database_url: str = ""
    database_schema: str = "public"  # PostgreSQL schema for every table (tests use one each)
    redis_url: str = ""
    secret_key: str = ""
    bootstrap_admin: str = ""  # "name:password", applied on first start with no accounts
    district_code: str = "411099000000"
    upstream_url: str = ""  # the city platform; when set, `serve` runs the relay in-process
    upstream_secret: str = ""  # whsec_...; two comma-separated during a rotation
    upstream_timeout: float = 5.0  # seconds per batch POST
    relay_batch_size: int = 200
    run_relay: bool = True
    district_name: str = "东城区"
    token_minutes: int = 12 * 60
    ack_minutes: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_ACK_MINUTES))
    arrive_minutes: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_ARRIVE_MINUTES))
    # 核报 (verified disaster report) due this many days after an incident is controlled (domain.policy)
    verified_report_days: int = Field(default=VERIFIED_REPORT_DAYS, ge=1, le=60)
    # a signed shift handover not confirmed within this many minutes is an alarm (domain.policy.HANDOVER_GRACE)
    handover_grace_minutes: float = Field(default=HANDOVER_GRACE.total_seconds() / 60, ge=0, le=24 * 60)
    # Minutes a target unit has to sign for an early warning, by level (domain.policy.DEFAULT_RECEIPT_MINUTES)
    receipt_minutes: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_RECEIPT_MINUTES))
    # CAP 1.2 out: the GB/T 35965.1 identifier's 3-digit sector code and 2-digit extension (the codes the
    # bureau was assigned; the defaults are placeholders), and the `sender` of the district's messages.
    cap_sector: str = "000"
    cap_extension: str = "00"
    cap_sender: str = ""  # empty: "yingji-<district code>"
    watchdog_seconds: float = 5.0  # how often deadlines are checked; 0 turns the watchdog off
    max_body_bytes: int = 1024 * 1024
    # Password checks (scrypt) run on this many threads of their own; this many more sign-ins may wait, then 503 busy.
    hash_workers: int = 1
    hash_queue: int = 16
    # Whether this process creates the schema (embedded default) or expects `yingji db init` ran.
    create_schema: bool = True
    run_projector: bool = True
    # Aggregates kept decoded in each process (the library's cache, fast-forwarded on each load). Off by
    # default: it saves a third of a command's CPU on one aggregate's updates, but the library takes a
    # per-aggregate lock around each fast-forward, so concurrent commands loading one hot aggregate (every
    # report loads its village) queue there: 260-285 → 200-220 reports/s over HTTP (2026-12-03).
    aggregate_cache: int = 0
    read_wait_seconds: float = 3.0
    # Events between replay checkpoints: the board at a moment folds at most this many from the one before.
    # 1000: p95 0.51 s at 5000 over a 1M-event history (9,255 events/s folded), ~21 KB a checkpoint.
    checkpoint_every: int = 1000
    # The largest WebSocket message a client may send (uvicorn's ws_max_size, which cuts a bigger frame at its
    # header, before any of it is buffered); the hub allows a hello only this big and far less after it.
    ws_max_bytes: int = 4096
    log_format: str = "json"  # "json": one JSON object a line with request id, actor, route; "text": plain lines
    ws_queue_frames: int = 1000  # frames a board client may fall behind before it is closed (4008)
    gc_young_threshold: int = 20_000  # the server's GC tuning (gateway.entrypoints.app.tune_gc); 0 keeps Python's defaults
    ws_flush_ms: float = 40.0  # board changes are fanned out at most this often (at once after a quiet spell)
    # `yingji project` and `yingji relay` serve /healthz, /readyz and /metrics here (0 = off; gateway.entrypoints.ops)
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    # Concurrent commands share one transaction and one commit (gateway.adapters.groupcommit), on PostgreSQL and SQLite; off = the library's path
    group_commit: bool = True
    # 双重预防: days between reviews of a risk point by level; evidence uploads' limits (per file, per request)
    risk_review_days: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_RISK_REVIEW_DAYS))
    evidence_max_bytes: int = 8 * 1024 * 1024
    evidence_max_files: int = 6
    # 预案: years between revisions of a plan (a plan not revised by then is an alarm)
    plan_revision_years: int = Field(default=DEFAULT_PLAN_REVISION_YEARS, ge=1, le=10)
    # Notifications (gateway/notify): the notifier runs in `serve` unless turned off (`yingji notify` runs it alone).
    run_notifier: bool = True
    # SMS provider: its HTTP API (POST <url>/messages, HMAC-SHA256 over timestamp + body); empty: no SMS.
    sms_url: str = ""
    sms_key_id: str = "yingji"
    sms_secret: str = ""
    sms_timeout: float = 5.0
    sms_sign_name: str = ""  # the registered sender signature (短信签名), sent with each message
    # Web Push: VAPID private key (PEM, or base64url raw); empty: one is generated and kept in the data dir.
    webpush: bool = True
    vapid_private_key: str = ""
    vapid_subject: str = "mailto:duty@example.invalid"
    push_timeout: float = 10.0
    push_allow_http: bool = False  # subscriptions to plain-http push endpoints on any host (tests, local demos only)
    # The push services a subscription may name (the browsers' own; ".x" is x's subdomains): the server POSTs to it.
    push_hosts: str = "fcm.googleapis.com,updates.push.services.mozilla.com,.push.apple.com,.notify.windows.com"
    # Quiet hours (Asia/Shanghai, "22:00-07:00"; empty: none): defer messages that are not urgent (never a
    # dispatch, an escalation, a missed report deadline or a red warning: domain.notifications.is_urgent).
    quiet_hours: str = ""
    notify_backoff_max: float = 300.0  # seconds between attempts at most (exponential from 2 s, jittered)
    notify_give_up_hours: float = 24.0  # a message still failing after this long is recorded as failed
    # Events older than this when the notifier reaches them call for no message (a first start on an old log,
    # a notifier that was down for long): a dispatch of yesterday is not texted today. 0: no limit.
    notify_max_age_minutes: float = 360.0

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, key: str) -> str:
        # Tokens are HS256: a short key can be guessed, and whoever guesses it signs an admin's token.
        if key and len(key.encode()) < 32:
            raise ValueError("YINGJI_SECRET_KEY must be at least 32 bytes (e.g. `openssl rand -base64 48`), or unset to use a generated one")
        return key

    @property
    def resolved_cap_sender(self) -> str:
        return self.cap_sender or f"yingji-{self.district_code}"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://"))

    @cached_property
    def resolved_secret_key(self) -> str:
        """The token signing key: configured, or made once and kept in the data dir."""
        if self.secret_key:
            return self.secret_key
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "secret.key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def eventstore_env(self) -> dict[str, str]:
        """Environment for the `eventsourcing` library's infrastructure factory."""
        env = {"CREATE_TABLE": "y" if self.create_schema else "n"}
        if self.aggregate_cache > 0:
            # The library's aggregate cache, fast-forwarded from the log on every load (another
            # process may have written): a load reads only the events it has not seen.
            env |= {"AGGREGATE_CACHE_MAXSIZE": str(self.aggregate_cache), "AGGREGATE_CACHE_FASTFORWARD": "y"}
        if self.is_postgres:
            u = urlparse(self.database_url)
            env.update(
                PERSISTENCE_MODULE="eventsourcing.postgres",
                APPLICATION_RECORDER_TOPIC="gateway.adapters.eventstore:PostgresRecorder",
                POSTGRES_DBNAME=(u.path or "/").lstrip("/") or "postgres",
                POSTGRES_HOST=u.hostname or "127.0.0.1",
                POSTGRES_PORT=str(u.port or 5432),
                POSTGRES_USER=unquote(u.username or "postgres"),
                POSTGRES_PASSWORD=unquote(u.password or ""),
                POSTGRES_POOL_SIZE="8",
                POSTGRES_MAX_OVERFLOW="16",
                POSTGRES_LOCK_TIMEOUT="10",
                POSTGRES_ENABLE_DB_FUNCTIONS="n",  # known to let a tailing reader skip events
                POSTGRES_SCHEMA=self.database_schema,
                GROUP_COMMIT="y" if self.group_commit else "n",
            )
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            env.update(
                PERSISTENCE_MODULE="eventsourcing.sqlite",
                APPLICATION_RECORDER_TOPIC="gateway.adapters.eventstore:SQLiteRecorder",
                SQLITE_DBNAME=str(self.data_dir / "events.sqlite3"),
                SQLITE_LOCK_TIMEOUT="30",
                GROUP_COMMIT="y" if self.group_commit else "n",
            )
        return env

    @property
    def read_model_path(self) -> Path:
        """The embedded default's read-model file: rebuildable from the log, so it may be dropped."""
        return self.data_dir / "state.sqlite3"

    @property
    def accounts_path(self) -> Path:
        """The embedded default's accounts file (accounts, revoked tokens, the relay's position,
        account-request records): not derived from the log, so nothing ever drops it."""
        return self.data_dir / "accounts.sqlite3"

    def sqlalchemy_url(self) -> str:
        """Read models (rebuildable from the log)."""
        if self.is_postgres:
            return "postgresql+psycopg://" + self.database_url.split("://", 1)[1]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.read_model_path.resolve()}"

    def accounts_sqlalchemy_url(self) -> str:
        """Accounts and the relay's position: on PostgreSQL the same database (tables a rebuild never
        touches), on the embedded default a file of their own beside the read models."""
        if self.is_postgres:
            return self.sqlalchemy_url()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.accounts_path.resolve()}"
