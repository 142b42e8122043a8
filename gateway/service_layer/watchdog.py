"""The deadline watchdog: turns a missed deadline into one durable escalation event.

Missed deadlines: a dispatch's acknowledgement or arrival; a warning receipt; a staged disaster
report's (初报, each day's 续报, 核报: `projections.disaster_reports.owing`); a shift handover the
incoming officer has not confirmed in time; a hidden danger's rectification deadline; a readiness
campaign's rectification item (整改事项) still open at its deadline; a plan not drilled within 2 years or not
revised within its cycle, and a unit not drilled within 2 years (预案与演练). It finds
candidates in the read models (cheap, possibly stale) and sends the escalation commands through
the command pipeline; the aggregates refuse a second escalation of the same miss and anything no
longer overdue (a report's miss is an aggregate named by incident, stage and day, so a second
record of it is the same aggregate). So several watchdogs, or one restarted, still record each
missed deadline exactly once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from domain.common import DomainError
from domain.disaster_reports import CONTINUING_LOOKBACK_DAYS
from domain.dispatches import RUNNING_DEADLINE, running_deadline
from domain.prevention import DANGER_RUNNING, danger_overdue
from domain.plans import Lapse
from domain.policy import local_day
from domain.warnings import ReceiptStatus
from gateway.context import CommandContext, Principal
from gateway.service_layer import commands as c
from gateway.service_layer.service import CommandService
from projections.campaigns import is_overdue as rectification_is_overdue
from projections.disaster_reports import owing
from projections.plans import PLAN, UNIT_DRILLS
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

    def report_candidates(self, now: datetime) -> list[c.Command]:
        docs, _ = self.store.list("report_schedule", statuses=["open"], limit=100_000)
        return [c.EscalateReportDeadline(UUID(d["id"]), o["stage"], o["key"])
                for d in docs for o in owing(d, now, self.service.verified_days, CONTINUING_LOOKBACK_DAYS)
                if not o["escalated"] and datetime.fromisoformat(o["due_at"]) <= now]

    def handover_candidates(self, now: datetime) -> list[c.Command]:
        docs, _ = self.store.list("handover", statuses=["signed"], limit=100_000)
        return [c.EscalateHandover(UUID(d["id"])) for d in docs
                if not d.get("escalated_at") and datetime.fromisoformat(d["confirm_by"]) <= now]

    def overdue_dangers(self, now: datetime) -> list[str]:
        """Hidden dangers past their rectification deadline whose current deadline is not yet escalated."""
        docs, _ = self.store.list("hidden_danger", statuses=[str(s) for s in DANGER_RUNNING], limit=100_000)
        return [d["id"] for d in docs
                if d.get("deadline") and danger_overdue(d["status"], datetime.fromisoformat(d["deadline"]), now)
                and d["deadline"] not in {x["deadline"] for x in d.get("escalations", [])}]

    def plan_candidates(self, now: datetime) -> list[c.Command]:
        """Active plans past their drill or revision due day, and units past their drill due day, not yet escalated
        for that due day (the due days in the documents come from domain.policy.drill_due and the revision cycle)."""
        today = local_day(now).isoformat()
        plans, _ = self.store.list(PLAN, statuses=["active"], limit=10_000_000)
        out: list[c.Command] = []
        for p in plans:
            for reason, due in ((Lapse.DRILL, p["drill_due_on"]), (Lapse.REVISION, p["revision_due_on"])):
                if due and today > due and not any(x["reason"] == reason and x["due_on"] == due for x in p["escalations"]):
                    out.append(c.EscalatePlan(UUID(p["id"]), reason.value))
        records, _ = self.store.list(UNIT_DRILLS, limit=10_000_000)
        out += [c.EscalateUnitDrills(u["unit_code"]) for u in records
                if today > u["drill_due_on"] and u["drill_due_on"] not in {x["due_on"] for x in u["escalations"]}]
        return out

    def overdue_rectifications(self, now: datetime) -> list[str]:
        """Rectification items (整改事项) still open past their deadline and not yet escalated."""
        docs, _ = self.store.list("rectification", statuses=["open"], limit=100_000)
        return [d["id"] for d in docs if not d.get("escalated_at") and rectification_is_overdue(d, now)]

    def run_once(self) -> int:
        count = 0
        now = self.clock()
        commands: list[c.Command] = [c.EscalateHiddenDanger(UUID(d)) for d in self.overdue_dangers(now)]
        commands += [c.EscalateWarningReceipt(UUID(r)) for r in self.receipt_candidates(now)]
        commands += [c.EscalateDispatch(UUID(d), reason) for d, reason in self.candidates(now)]
        commands += self.report_candidates(now) + self.handover_candidates(now) + self.plan_candidates(now)
        commands += [c.EscalateRectification(UUID(r)) for r in self.overdue_rectifications(now)]
        for command in commands:
            try:
                self.service.handle(CommandContext(WATCHDOG, request_id="watchdog"), command)
                count += 1
            except DomainError as e:  # settled meanwhile, or another watchdog was first
                log.debug("not escalating %s: %s", command, e.detail)
        self.escalated += count
        return count

    def run_forever(self, stop: threading.Event, every_seconds: float) -> None:
        while not stop.wait(every_seconds):
            try:
                self.run_once()
            except Exception:
                log.exception("watchdog pass failed")
