"""The composition root: builds every long-lived part of a process from Settings, once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, create_engine, event

from gateway.adapters.accounts import Accounts
from gateway.service_layer.readiness import ReadinessFacts
from gateway.adapters.bus import Bus, make_bus
from gateway.adapters.evidence import EvidenceStore
from gateway.errors import Conflict
from gateway.adapters.eventstore import DistrictLog
from gateway.adapters.throttle import HashingPool, SignInThrottle
from gateway.adapters.filestore import adopt_legacy_accounts, check_accounts_file, recover_read_model_file
from gateway.citylink.relay import Relay, RelayState, make_lease, relay_status
from gateway.service_layer.service import CommandService
from gateway.settings import Settings
from projections.checkpoints import Checkpoints
from projections.jsoncodec import ENGINE_CODEC
from projections.projector import Projector
from projections.rebuild import rebuild
from projections.store import DELTA_RETENTION, DocStore

log = logging.getLogger("yingji")


def make_engine(settings: Settings, url: str | None = None) -> Engine:
    url = url or settings.sqlalchemy_url()
    if settings.is_postgres:
        return create_engine(
            url,
            **ENGINE_CODEC,
            pool_size=8,
            max_overflow=16,
            pool_pre_ping=True,
            connect_args={"options": f"-csearch_path={settings.database_schema}"},
        )
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **ENGINE_CODEC)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(conn, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the driver, delimit transactions, so a read
        # of several tables is one consistent snapshot (WAL mode).
        conn.isolation_level = None
        cur = conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN")

    return engine


def init_schema(settings: Settings) -> None:
    """`yingji db init`: create every table once, before any worker starts."""
    if settings.is_postgres and settings.database_schema != "public":
        import psycopg

        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{settings.database_schema}"')
    DistrictLog(settings.model_copy(update={"create_schema": True}).eventstore_env()).close()
    if not settings.is_postgres:
        prepare_files(settings)
    engine = make_engine(settings)
    store = DocStore(engine)
    if store.create_schema():
        # Read models of an older shape: build the new shape beside them and switch it in.
        # (An older version's gateways keep reading the old tables until then.)
        log_ = DistrictLog(settings.model_copy(update={"create_schema": False}).eventstore_env())
        try:
            head = log_.max_position()
            shadow, name = store.shadow()
            rebuild(log_, shadow, head, keep_deltas_after=head - DELTA_RETENTION, name=name)
            store.switch_in(shadow, name)
        finally:
            log_.close()
    Checkpoints(engine, None).create_schema()  # type: ignore[arg-type]
    engine.dispose()
    accounts_engine = make_accounts_engine(settings)
    Accounts(accounts_engine).create_schema()
    RelayState(accounts_engine, settings.district_code).create_schema()
    EvidenceStore(accounts_engine, None).create_schema()  # evidence records: kept, never rebuilt
    from gateway.notify.outbox import Outbox

    Outbox(accounts_engine, notifier_state_name(settings)).create_schema()  # the notifier's outbox and push subscriptions
    RelayState(accounts_engine, notifier_state_name(settings)).create_schema()
    accounts_engine.dispose()


def notifier_state_name(settings: Settings) -> str:
    """The notifier's row in relay_state (its position): beside the relay's, named apart."""
    return f"notifier:{settings.district_code}"


def make_accounts_engine(settings: Settings) -> Engine:
    return make_engine(settings, settings.accounts_sqlalchemy_url())


def prepare_files(settings: Settings) -> None:
    """The embedded default: accounts moved out of an older read-model file, then a damaged
    read-model file set aside so that a new one is made and folded from the log."""
    adopt_legacy_accounts(settings.read_model_path, settings.accounts_path)
    check_accounts_file(settings.accounts_path)
    recover_read_model_file(settings.read_model_path)


def make_evidence(settings: Settings, engine: Engine) -> EvidenceStore:
    """Evidence files (双重预防): their records beside the accounts (not derived from the log, so never dropped);
    the bytes on disk under the data directory (embedded), in PostgreSQL on the scaled layout."""
    return EvidenceStore(engine, None if settings.is_postgres else settings.data_dir / "evidence")


@dataclass
class Container:
    settings: Settings
    log: DistrictLog
    engine: Engine
    store: DocStore
    accounts: Accounts
    service: CommandService
    projector: Projector
    bus: Bus
    accounts_engine: Engine | None = None  # None: the read models' engine (PostgreSQL)
    signin_throttle: SignInThrottle = field(default_factory=SignInThrottle)
    hashing: HashingPool | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _waker: object | None = None

    @classmethod
    def build(cls, settings: Settings) -> Container:
        if settings.create_schema:
            init_schema(settings)
        elif not settings.is_postgres:
            prepare_files(settings)
        event_log = DistrictLog(settings.model_copy(update={"create_schema": False}).eventstore_env())
        engine = make_engine(settings)
        store = DocStore(engine)
        accounts_engine = None if settings.is_postgres else make_accounts_engine(settings)
        accounts = Accounts(accounts_engine or engine)
        evidence = make_evidence(settings, accounts_engine or engine)
        service = CommandService(event_log, settings.ack_minutes, arrive_minutes=settings.arrive_minutes,
                                 verified_days=settings.verified_report_days,
                                 handover_grace=timedelta(minutes=settings.handover_grace_minutes),
                                 evidence=evidence, risk_review_days=settings.risk_review_days)
        service.receipt_minutes = dict(settings.receipt_minutes)
        service.plan_revision_years = settings.plan_revision_years
        service.cap_codes = (settings.cap_sector, settings.cap_extension)
        service.district_code = settings.district_code
        service.unit_codes = lambda: [u["code"] for u in store.list("unit", limit=10_000_000)[0]]
        service.accounts = accounts
        service.account_secret = lambda: settings.resolved_secret_key.encode()  # read when first needed
        service.readiness_facts = ReadinessFacts(store, accounts.last_signins)
        # A gateway whose projector runs elsewhere, with no Redis, learns of changes from the store.
        bus = make_bus(settings.redis_url, settings.district_code, None if settings.run_projector else store.position)
        projector = Projector(event_log, store, publish=bus.publish)
        event_log.on_saved(projector.wake)
        return cls(settings, event_log, engine, store, accounts, service, projector, bus, accounts_engine,
                   hashing=HashingPool(settings.hash_workers, settings.hash_queue))

    def bootstrap_admin(self) -> None:
        spec = self.settings.bootstrap_admin
        if spec and ":" in spec and self.accounts.count() == 0:
            name, password = spec.split(":", 1)
            try:
                self.accounts.add(name, password, "admin", self.settings.district_code, display_name="管理员")
                log.info("created bootstrap admin %s", name)
            except Conflict:  # another gateway starting at the same time got there first
                pass

    def start_listening(self) -> None:
        """On PostgreSQL, wake the projector on NOTIFY from any process's writes."""
        if self.settings.is_postgres:
            from gateway.adapters.pgwake import PgWaker

            self._waker = PgWaker(self.settings.database_url, "stored_events", self.projector.wake).start()

    @property
    def evidence(self) -> EvidenceStore:
        return self.service.evidence  # type: ignore[return-value]

    @property
    def checkpoints(self) -> Checkpoints:
        return Checkpoints(self.engine, self.log, every=self.settings.checkpoint_every)

    def start_checkpointer(self) -> None:
        t = threading.Thread(target=self.checkpoints.run_forever, args=(self._stop,), name="checkpoints", daemon=True)
        t.start()
        self._threads.append(t)

    def start_watchdog(self) -> None:
        if self.settings.watchdog_seconds > 0:
            from gateway.service_layer.watchdog import Watchdog

            dog = Watchdog(self.service, self.store)
            t = threading.Thread(target=dog.run_forever, args=(self._stop, self.settings.watchdog_seconds), name="watchdog", daemon=True)
            t.start()
            self._threads.append(t)

    @property
    def relay_state(self) -> RelayState:
        return RelayState(self.accounts.engine, self.settings.district_code)

    def relay_status(self) -> dict | None:  # type: ignore[type-arg]
        """The relay's health for the board and /relay; None when no city platform is configured."""
        if not self.settings.upstream_url:
            return None
        return relay_status(self.relay_state, self.log)

    def make_relay(self) -> Relay:
        relay = Relay(self.log, self.relay_state, self.service, self.settings, make_lease(self.settings))
        self.log.on_saved(relay.wake)
        return relay

    def start_relay(self) -> None:
        relay = self.make_relay()
        t = threading.Thread(target=relay.run_forever, args=(self._stop,), name="relay", daemon=True)
        t.start()
        self._threads.append(t)

    # -- notifications ---------------------------------------------------------------
    @property
    def outbox(self):  # type: ignore[no-untyped-def]
        from gateway.notify.outbox import Outbox

        return Outbox(self.accounts.engine, notifier_state_name(self.settings))

    @property
    def subscriptions(self):  # type: ignore[no-untyped-def]
        from gateway.notify.outbox import Subscriptions

        return Subscriptions(self.accounts.engine)

    def vapid(self):  # type: ignore[no-untyped-def]
        """The VAPID key pushes are signed with (settings, or generated once and kept beside the accounts); None without Web Push."""
        if not self.settings.webpush:
            return None
        if getattr(self, "_vapid", None) is None:
            from gateway.notify.channels import load_vapid, new_vapid_pem
            from gateway.notify.outbox import shared_value

            self._vapid = load_vapid(self.settings.vapid_private_key,
                                     lambda: shared_value(self.accounts.engine, "vapid_private_pem", new_vapid_pem))
        return self._vapid

    def make_notifier(self, clock: Callable[[], Any] | None = None):  # type: ignore[no-untyped-def]
        from gateway.notify.channels import SmsChannel, WebPushChannel
        from gateway.notify.directory import ReadModelDirectory
        from gateway.notify.notifier import Notifier
        from gateway.notify.planner import Planner
        from domain.notifications import parse_quiet_hours

        s = self.settings
        channels: dict[str, Any] = {}
        if s.sms_url:
            channels["sms"] = SmsChannel(s.sms_url, s.sms_key_id, s.sms_secret, s.sms_timeout, s.sms_sign_name)
        vapid = self.vapid()
        if vapid is not None:
            channels["webpush"] = WebPushChannel(vapid, s.vapid_subject, s.push_timeout, self.subscriptions)
        planner = Planner(self.store, ReadModelDirectory(self.store, self.subscriptions), sms="sms" in channels,
                          push="webpush" in channels)
        lease = make_lease(s, "notifier")
        notifier = Notifier(self.log, self.store, self.outbox, RelayState(self.accounts.engine, notifier_state_name(s)),
                            self.service, planner, channels, lease, quiet=parse_quiet_hours(s.quiet_hours),
                            backoff_max=s.notify_backoff_max, give_up=timedelta(hours=s.notify_give_up_hours),
                            max_age=timedelta(minutes=s.notify_max_age_minutes) if s.notify_max_age_minutes else None, clock=clock)
        self.log.on_saved(notifier.wake)
        return notifier

    def start_notifier(self) -> None:
        notifier = self.make_notifier()
        self.notifier = notifier
        t = threading.Thread(target=notifier.run_forever, args=(self._stop,), name="notifier", daemon=True)
        t.start()
        self._threads.append(t)

    def start(self) -> None:
        if self.settings.run_notifier and (self.settings.sms_url or self.settings.webpush):
            self.start_notifier()
        if self.settings.upstream_url and self.settings.run_relay:
            self.start_relay()
        if self.settings.run_projector:
            self.start_checkpointer()
            self.start_watchdog()
            self.start_listening()
            t = threading.Thread(target=self.projector.run_forever, args=(self._stop,), name="projector", daemon=True)
            t.start()
            self._threads.append(t)

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Fold the whole log again into new read models and switch them in (`yingji projections rebuild`, restore, benchmarks).

        Returns how many events it folded; `progress(position, head)` follows each committed chunk."""
        head = self.log.max_position()
        # Folded into tables beside the live ones, which keep serving (and a running projector
        # keeps projecting into them) until the switch; then both move on from the new ones.
        shadow, name = self.store.shadow()
        try:
            # Older board deltas would be pruned at once: no client could resume from them.
            events, position = rebuild(self.log, shadow, head, keep_deltas_after=head - DELTA_RETENTION, progress=progress, name=name)
            self.store.switch_in(shadow, name)
        except BaseException:
            shadow.drop(name)
            raise
        self.projector.restart_at(position)
        return events

    def wait_for(self, position: int, timeout: float) -> bool:
        """Read-your-writes: wait until the read models include `position`."""
        if self.settings.run_projector:
            return self.projector.wait_for(position, timeout)
        import time

        deadline = time.monotonic() + timeout
        while self.store.position() < position:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self) -> None:
        if self._waker is not None:
            self._waker.close()
        self._stop.set()
        self.projector.wake()
        for t in self._threads:
            t.join(timeout=5)
        self.log.close()
        if self.hashing is not None:
            self.hashing.close()
        self.engine.dispose()
        if self.accounts_engine is not None:
            self.accounts_engine.dispose()
