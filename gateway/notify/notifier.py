"""The notifier: follows the district log like the relay and turns events into messages that reach people.

Two steps, one thread, one notifier per district at a time (the relay's lease: a PostgreSQL advisory lock,
or a file lock on the embedded default):

- plan: read the events after its durable position (never past what the read models hold, since recipients
  and texts are looked up there), ask the planner which messages each calls for, and write them into the
  outbox *in the same transaction* that moves the position. A `kill -9` anywhere loses no message and plans
  none twice (the outbox key is source event | recipient | channel).
- deliver: for each message due, record `Notification.Queued` in the log (once), then try the channel; each
  outcome is recorded in the log as well (`AttemptFailed` with when it is retried, `Delivered`, `Failed`),
  so the record the message concerns shows it on the board and in replay, and the relay carries it.
  The attempt number is written to the outbox before sending: after a crash the message is sent again with
  the next number, and the provider, given the same message id, sends it once.

Why outcomes are events and the outbox a side table: people must see in replay who was told what and when
(a failed SMS to a team leader is part of what happened); the outbox is the work queue, which a rebuild of
the read models must never drop and which holds the phone numbers the log keeps masked.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from domain.common import DomainError
from domain.glossary import term
from domain.notifications import Purpose, quiet_until
from domain.policy import DAILY_REPORT_DUE, SHANGHAI, local_day
from domain.reports import REPORTING_KINDS
from gateway.adapters.eventstore import DistrictLog
from gateway.citylink.relay import Lease, RelayState
from gateway.context import CommandContext, Principal
from gateway.notify.outbox import Outbox
from gateway.notify.planner import Intent, Planner
from gateway.service_layer.commands import QueueNotification, RecordNotificationAttempt
from gateway.service_layer.service import CommandService
from projections.store import DocStore

log = logging.getLogger("yingji.notifier")
NOTIFIER_PRINCIPAL = Principal("notifier", "system", "")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Notifier:
    def __init__(self, log_: DistrictLog, store: DocStore, outbox: Outbox, state: RelayState, service: CommandService,
                 planner: Planner, channels: dict[str, Any], lease: Lease, *, quiet: Any = None, batch_size: int = 200,
                 backoff_base: float = 2.0, backoff_max: float = 300.0, give_up: timedelta = timedelta(hours=24),
                 max_age: timedelta | None = timedelta(hours=6), clock: Any = None):
        self.log = log_
        self.store = store
        self.outbox = outbox
        self.state = state
        self.service = service
        self.planner = planner
        self.channels = channels
        self.lease = lease
        self.quiet = quiet
        self.batch_size = batch_size
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.give_up = give_up
        self.max_age = max_age
        self.clock = clock or utc_now
        self._wake = threading.Event()
        self.waiting_for_projection = False  # the last plan stopped short of the log: the read models lag it
        self._daily_done: str | None = None
        self.active = False
        self.loop_at = time.monotonic()
        self.delivered = 0

    def wake(self, _position: int | None = None) -> None:
        self._wake.set()

    def _ctx(self, request_id: str) -> CommandContext:
        return CommandContext(NOTIFIER_PRINCIPAL, request_id=request_id)

    # -- plan -------------------------------------------------------------------------
    def _row(self, i: Intent, position: int, now: datetime) -> dict[str, Any]:
        not_before = None if i.urgent else quiet_until(now, self.quiet)
        return dict(key=i.key, notification_id=i.notification_id, purpose=i.purpose, record_kind=i.record_kind,
                    record_id=i.record_id, unit_code=i.unit_code, recipient_name=i.recipient_name[:100],
                    recipient_post=i.recipient_post, channel=i.channel, address=i.address, text=i.text, urgent=i.urgent,
                    source_position=position, created_at=now, recorded=False, status="pending", attempts=0,
                    next_at=not_before or now, not_before=not_before, last_error=None, updated_at=now)

    def plan_step(self) -> int:
        """Plan the messages of the next batch of events; returns how many events it read (0: caught up)."""
        position = self.state.read()["position"]
        upto = self.store.position()  # recipients and texts come from the read models: never plan past them
        self.waiting_for_projection = False
        if upto <= position:
            self.waiting_for_projection = self.log.max_position() > position
            return 0
        read = self.log.read(position, self.batch_size)
        notes = [n for n in read if n.id <= upto]
        self.waiting_for_projection = len(notes) < len(read)
        if not notes:
            return 0
        now = self.clock()
        rows = []
        for n in notes:
            if self.planner.handles(n.topic):
                event = self.log.decode(n)
                if self.max_age is not None and event.timestamp < now - self.max_age:
                    continue  # news too old to send (see Settings.notify_max_age_minutes)
                rows += [self._row(i, n.id, now) for i in self.planner.plan(f"{n.originator_id}:{n.originator_version}", event)]
        self.outbox.plan(position, notes[-1].id, rows)
        return len(notes)

    def daily_step(self) -> int:
        """At the cut-off (16:00), each village or community without today's zero report: its reporter, once."""
        now = self.clock()
        day = local_day(now)
        if now.astimezone(SHANGHAI).time() < DAILY_REPORT_DUE or self._daily_done == day.isoformat():
            return 0
        units, _ = self.store.list("unit", limit=100_000)
        rows = []
        for unit in units:
            if unit.get("kind") not in REPORTING_KINDS:
                continue
            status = self.store.get("daily_status", unit["code"])
            if status is None or status.get("day") != day.isoformat():
                rows += [self._row(i, 0, now) for i in self.planner.daily_missing(unit, day.isoformat())]
        self.outbox.add(rows)
        self._daily_done = day.isoformat()
        return len(rows)

    # -- deliver ------------------------------------------------------------------------
    def _record_queued(self, row: dict[str, Any]) -> None:
        self.service.handle(self._ctx(f"notify:{row['notification_id']}"), QueueNotification(
            key=row["key"], purpose=row["purpose"], record_kind=row["record_kind"], record_id=row["record_id"],
            unit_code=row["unit_code"], recipient={"name": row["recipient_name"], "post": row["recipient_post"]},
            channel=row["channel"], address=row["address"], text=row["text"], urgent=row["urgent"], not_before=row["not_before"]))
        self.outbox.set(row["key"], recorded=True)

    def _record(self, row: dict[str, Any], attempt: int, outcome: str, detail: str, retry_at: datetime | None = None) -> None:
        from uuid import UUID

        self.service.handle(self._ctx(f"notify:{row['notification_id']}:{attempt}"), RecordNotificationAttempt(
            UUID(row["notification_id"]), attempt, outcome, detail, retry_at))

    def backoff(self, attempt: int) -> float:
        base = min(self.backoff_base * 2 ** (attempt - 1), self.backoff_max)
        return random.uniform(base * 0.75, base)

    def deliver_one(self, row: dict[str, Any]) -> str:
        if not row["recorded"]:
            self._record_queued(row)
        now = self.clock()
        if row["next_at"] > now:
            return "waiting"  # deferred by quiet hours, or not yet due again
        channel = self.channels.get(row["channel"])
        attempt = row["attempts"] + 1
        self.outbox.set(row["key"], attempts=attempt)  # before sending: a resend after a crash is the next attempt
        if channel is None:
            outcome_ok, detail, permanent = False, f"channel {row['channel']} is not configured", True
        else:
            out = channel.send(row["notification_id"], row["address"], row["text"], term("notifyPurpose", row["purpose"]))
            outcome_ok, detail, permanent = out.ok, out.detail, out.permanent
        created = row["created_at"]
        if outcome_ok:
            self._record(row, attempt, "delivered", detail)
            self.outbox.set(row["key"], status="delivered", last_error=None)
            self.delivered += 1
            return "delivered"
        if permanent or now - created > self.give_up:
            self._record(row, attempt, "failed", detail if permanent else f"gave up after {attempt} attempts: {detail}")
            self.outbox.set(row["key"], status="failed", last_error=detail)
            return "failed"
        retry_at = now + timedelta(seconds=self.backoff(attempt))
        self._record(row, attempt, "retry", detail, retry_at)
        self.outbox.set(row["key"], next_at=retry_at, last_error=detail)
        log.info("notification %s attempt %d failed: %s", row["notification_id"], attempt, detail)
        return "retry"

    def deliver_step(self) -> int:
        """Try every message due now; returns how many were tried."""
        tried = 0
        for row in self.outbox.due(self.clock()):
            try:
                if self.deliver_one(row) != "waiting":
                    tried += 1
            except DomainError:
                log.exception("could not record notification %s", row["notification_id"])
        return tried

    # -- the loop ---------------------------------------------------------------------------
    def step(self) -> bool:
        """One turn: plan, then deliver. True when there may be more to do at once: a full batch of events was
        read (more may follow), or messages were tried (planning may have made more due). A turn that read
        the few events of the last save is not busy: the next save wakes the loop, which settles first (under
        a steady stream of commands, turning again at once read one or two events a turn, four queries each,
        and took a sixth of the gateway's CPU at 100 commands/s). Events the read models do not hold yet are
        busy too: the projector is about to, and no save would wake us for them."""
        planned = self.plan_step()
        self.daily_step()
        tried = self.deliver_step()
        return planned >= self.batch_size or tried > 0 or self.waiting_for_projection

    def run_forever(self, stop: threading.Event, poll_seconds: float = 0.5, settle_seconds: float = 0.1) -> None:
        """Step until stopped. Woken by a save, it first lets `settle_seconds` pass: during a flood's burst of
        commands every save wakes it, and turning once per save (three queries each, mostly finding nothing
        to send) took a fifth of the gateway's Python time; one turn per burst plans the same messages, at
        most a tenth of a second later."""
        while not stop.is_set():
            self.loop_at = time.monotonic()
            if not self.lease.held():
                self.active = False
                if not self.lease.acquire():
                    stop.wait(1.0)  # another notifier is active
                    continue
                log.info("notifier lease acquired")
            self.active = True
            try:
                busy = self.step()
                if busy and self.waiting_for_projection:
                    stop.wait(0.02)  # the projector is a few milliseconds behind: let it commit
            except Exception:
                log.exception("notifier step failed")
                busy = False
                stop.wait(1.0)
            if not busy:
                woken = self._wake.wait(poll_seconds)
                self._wake.clear()
                if woken and settle_seconds:
                    stop.wait(settle_seconds)
        self.lease.release()

    def close(self) -> None:
        for ch in self.channels.values():
            ch.close()
        self.lease.release()
        self.active = False


__all__ = ["Notifier", "NOTIFIER_PRINCIPAL", "Purpose"]
