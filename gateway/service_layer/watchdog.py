"""The deadline watchdog: turns a missed acknowledgement, arrival, warning receipt or rectification deadline of a
hidden danger into one durable escalation event.

It finds candidates in the read models (cheap, possibly stale) and asks the
Dispatch (or WarningReceipt, or HiddenDanger) aggregate to escalate; the aggregate refuses a second
escalation for the same reason and anything no longer overdue. So several watchdogs, or
one restarted, still record each missed deadline exactly once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from domain.common import DomainError
from domain.dispatches import RUNNING_DEADLINE, running_deadline
from domain.prevention import DANGER_RUNNING, danger_overdue
from domain.warnings import ReceiptStatus
from gateway.context import CommandContext, Principal
from gateway.service_layer.service import CommandService
from projections.store import DocStore

log = logging.getLogger("yingji.watchdog")

WATCHDOG = Principal("watchdog", "system", "")


class Watchdog:
    def __init__(self, service: CommandService, store: DocStore, clock: Callable[[], datetime] | None = None):
        self.service = service
        self.store = store
        self.clock = clock or service.clock
        self.escalated = 0

    def candidates(self, now: datetime) -> list[tuple[str, str]]:
        docs, _ = self.store.list("dispatch", statuses=list(RUNNING_DEADLINE), limit=100_000)
        due: list[tuple[str, str]] = []
        for d in docs:
            rule = running_deadline(d["status"])
            if rule is None:
                continue
            reason, field = rule
            deadline = d.get(field)
            if deadline and reason not in {x["reason"] for x in d.get("escalations", [])} and datetime.fromisoformat(deadline) <= now:
                due.append((d["id"], reason))
        return due

    def receipt_candidates(self, now: datetime) -> list[str]:
        """Unsigned warning receipts past their deadline, not yet escalated, whose warning is in force."""
        receipts, _ = self.store.list("warning_receipt", statuses=[ReceiptStatus.PENDING], limit=10_000_000)
        due = [r for r in receipts if not r.get("escalated_at") and datetime.fromisoformat(r["deadline"]) <= now]
        if not due:
            return []
        warnings = self.store.get_many({("warning", r["warning_id"]) for r in due})
        in_force = {k[1] for k, w in warnings.items() if w["status"] == "issued" and datetime.fromisoformat(w["expires"]) > now}
        return [r["id"] for r in due if r["warning_id"] in in_force]

    def overdue_dangers(self, now: datetime) -> list[str]:
        """Hidden dangers past their rectification deadline whose current deadline is not yet escalated."""
        docs, _ = self.store.list("hidden_danger", statuses=[str(s) for s in DANGER_RUNNING], limit=100_000)
        return [d["id"] for d in docs
                if d.get("deadline") and danger_overdue(d["status"], datetime.fromisoformat(d["deadline"]), now)
                and d["deadline"] not in {x["deadline"] for x in d.get("escalations", [])}]

    def run_once(self) -> int:
        count = 0
        for danger_id in self.overdue_dangers(self.clock()):
            try:
                self.service.escalate_hidden_danger(CommandContext(WATCHDOG, request_id="watchdog"), UUID(danger_id))
                count += 1
            except DomainError as e:  # reported or moved meanwhile, or another watchdog was first
                log.debug("not escalating hidden danger %s: %s", danger_id, e.detail)
        for receipt_id in self.receipt_candidates(self.clock()):
            try:
                self.service.escalate_warning_receipt(CommandContext(WATCHDOG, request_id="watchdog"), UUID(receipt_id))
                count += 1
            except DomainError as e:  # signed meanwhile, lifted, or another watchdog was first
                log.debug("not escalating receipt %s: %s", receipt_id, e.detail)
        for dispatch_id, reason in self.candidates(self.clock()):
            try:
                self.service.escalate_dispatch(CommandContext(WATCHDOG, request_id="watchdog"), UUID(dispatch_id), reason)
                count += 1
            except DomainError as e:  # acknowledged meanwhile, or another watchdog was first
                log.debug("not escalating %s (%s): %s", dispatch_id, reason, e.detail)
        self.escalated += count
        return count

    def run_forever(self, stop: threading.Event, every_seconds: float) -> None:
        while not stop.wait(every_seconds):
            try:
                self.run_once()
            except Exception:
                log.exception("watchdog pass failed")
