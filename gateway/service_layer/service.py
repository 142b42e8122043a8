"""Command handlers: load aggregates, let them decide, save their events atomically.

Each handler is a `decide()` closure run by `_execute`, which adds what every
command needs: idempotency (answer a retried key from the log, refuse a key
reused for another request), optimistic concurrency (reload and decide again
when another writer got there first), and the command's answer
`Accepted(id, position)`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, TypeVar, overload
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.allocations import Allocation
from domain.common import DomainError, InvalidTransition, InvalidValue
from domain.directives import Directive
from domain.disaster_reports import (
    CONTINUING_LOOKBACK_DAYS,
    DisasterReport,
    ReportDeadline,
    ReportStatus,
    Stage,
    disaster_report_id,
    report_deadline_id,
    reports_due,
)
from domain.dispatches import Dispatch
from domain.duty import DutyDay, Handover, duty_day_id, handover_id
from domain.incidents import Incident
from domain.notifications import Notification, notification_id
from domain.policy import (
    DEFAULT_RECEIPT_MINUTES,
    DEFAULT_RISK_REVIEW_DAYS,
    HANDOVER_GRACE,
    VERIFIED_REPORT_DAYS,
    continuing_report_due_at,
    duty_day,
    initial_report_due_at,
    local_day,
    receipt_due_at,
    shift_starts_at,
    verified_report_due_at,
)
from domain.prevention import DangerGrade, HiddenDanger, Inspection, RiskPoint
from domain.reports import REPORTING_KINDS, DailyReport, daily_report_id
from domain.teams import Team
from domain.units import Unit, parent_code, unit_id
from domain.warehouses import Warehouse
from domain.warnings import (
    Warning,
    WarningCounter,
    WarningReceipt,
    cap_identifier,
    city_warning_id,
    counter_id,
    raises_level,
    receipt_id,
)
from domain.units import code_level, within
from gateway.authz import MATRIX, Public
from gateway.context import CommandContext, Principal, Role, not_found
from gateway.service_layer import commands as c
from gateway.errors import Conflict, Forbidden, IdempotencyMismatch, NotFound, VersionConflict
from gateway.adapters.eventstore import DistrictLog, IdempotencyRecord, StoredAnswer
from gateway.adapters.evidence import EvidenceStore
from gateway.service_layer.plans import PlanCommands
from gateway.adapters.accounts import Accounts
from gateway.service_layer import accounts as account_commands
from gateway.service_layer.accounts import AccountAnswer

A = TypeVar("A", bound=Aggregate)
Decision = tuple[UUID, list[Aggregate]]
MAX_ATTEMPTS = 12


@dataclass(frozen=True)
class Accepted:
    id: str
    position: int
    replayed: bool = False


class CommandService(PlanCommands):
    def __init__(self, log: DistrictLog, ack_minutes: dict[str, int], clock: Callable[[], datetime] | None = None,
                 arrive_minutes: dict[str, int] | None = None, verified_days: int = VERIFIED_REPORT_DAYS,
                 handover_grace: timedelta = HANDOVER_GRACE, evidence: EvidenceStore | None = None,
                 risk_review_days: dict[str, int] | None = None):
        self.log = log
        self.evidence = evidence
        self.risk_review_days = risk_review_days or dict(DEFAULT_RISK_REVIEW_DAYS)
        self.ack_minutes = ack_minutes
        self.arrive_minutes = arrive_minutes or {}
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.verified_days = verified_days  # 核报 period (settings)
        self.handover_grace = handover_grace  # how long a signed handover waits for the incoming officer (settings)
        # Early warnings: receipt deadlines by level, the GB/T 35965.1 sector and extension codes, the
        # district (issuer of the city's forwarded warnings) and where the unit tree is read from (the
        # composition root points it at the unit read model; by default the log itself is read).
        self.receipt_minutes: dict[str, int] = dict(DEFAULT_RECEIPT_MINUTES)
        self.cap_codes: tuple[str, str] = ("000", "00")
        self.district_code = "411099000000"
        self.unit_codes: Callable[[], list[str]] | None = None
        # Accounts are kept beside the log (gateway.adapters.accounts); their commands' keys are remembered by an
        # HMAC of the request under this secret (the composition root sets both).
        self.accounts: Accounts | None = None
        self.account_secret: Callable[[], bytes] = lambda: b""
        # Readiness (campaigns, 销号): each unit's facts from the read side, wired by the composition root.
        self.readiness_facts: Callable[[list[str] | None], dict[str, Any]] = _no_readiness_facts
        self._known_units: set[str] = set()  # see _require_unit

    # -- the command pipeline ---------------------------------------------
    @overload
    def handle(self, ctx: CommandContext, command: c.AccountCommand) -> AccountAnswer: ...
    @overload
    def handle(self, ctx: CommandContext, command: c.Command) -> Accepted: ...

    def handle(self, ctx: CommandContext, command: c.Command) -> Accepted | AccountAnswer:
        """Every command's one way in: authorised by the role × route table, then its handler's pipeline.

        Account commands (`c.AccountCommand`) answer with the account (`AccountAnswer`), not a log position."""
        authorise(ctx.principal, command)
        return HANDLERS[type(command)](self, ctx, **command.values())  # type: ignore[no-any-return]

    def _execute(self, ctx: CommandContext, decide: Callable[[], Decision]) -> Accepted:
        # The Idempotency-Key is not looked up first: a fresh command (nearly all of them) would pay a round
        # trip for nothing. A repeat decides again and its save fails on the key, written in the events' own
        # transaction; then, as when deciding refuses or finds nothing left to do, the first answer is given.
        key = ctx.scope_key
        for attempt in range(MAX_ATTEMPTS):
            try:
                result_id, aggregates = decide()
            except DomainError:
                # The same request, sent twice at once, may have been applied between our first look for its
                # key and this decision (which it changed: "already signed"): answer as the first time did.
                if key and (answer := self.log.find_answer(key)):
                    return self._replayed(ctx, answer)
                raise
            pending = [e for agg in aggregates for e in agg.pending_events]
            if not pending:  # nothing left to do (e.g. someone else recorded it meanwhile, or this is a repeat)
                if key and (answer := self.log.find_answer(key)):
                    return self._replayed(ctx, answer)
                return Accepted(str(result_id), self.log.max_position())
            record = None
            if key:
                last = pending[-1]
                record = IdempotencyRecord(key, ctx.request_hash, str(result_id), last.originator_id, last.originator_version)
            try:
                # Aggregates, not just their events: the application snapshots long histories.
                recordings = self.log.save(*aggregates, idempotency=record)
            except IntegrityError:
                # Either the same key was answered meanwhile, or another
                # writer changed one of our aggregates: decide again.
                if key and (answer := self.log.find_answer(key)):
                    return self._replayed(ctx, answer)
                time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))
                continue
            return Accepted(str(result_id), recordings[-1].notification.id)
        raise VersionConflict("the records changed too often while deciding; try again")

    @staticmethod
    def _replayed(ctx: CommandContext, answer: StoredAnswer) -> Accepted:
        if answer.request_hash != ctx.request_hash:
            raise IdempotencyMismatch("this Idempotency-Key was already used for a different request")
        return Accepted(answer.result_id, answer.position, replayed=True)

    def _load(self, cls: type[A], aggregate_id: UUID | str, what: str) -> A:
        try:
            agg = self.log.repository.get(UUID(str(aggregate_id)))
        except (AggregateNotFoundError, ValueError):
            raise not_found(what, aggregate_id) from None
        if not isinstance(agg, cls):
            raise not_found(what, aggregate_id)
        return agg

    def _load_readable(self, ctx: CommandContext, cls: type[A], aggregate_id: UUID | str, kind: str, what: str) -> A:
        """Load a record the caller may read; one out of scope answers exactly as an unknown one (404)."""
        agg = self._load(cls, aggregate_id, what)
        ctx.principal.check_readable(kind, aggregate_id, getattr(agg, "unit_code", None), getattr(agg, "team_id", None), what)
        return agg

    def _unit(self, code: str) -> Unit:
        return self._load(Unit, unit_id(code), "unit")

    def _require_unit(self, code: str) -> None:
        """That the unit exists (else 404). Units are never removed, so one found once is known for good: a
        report, a team, a plan or a warning target then costs no read of the unit's history (two queries, a
        snapshot and the events after it, on every such command before)."""
        if code in self._known_units:
            return
        self._unit(code)
        self._known_units.add(code)

    # -- units -----------------------------------------------------------
    def register_unit(self, ctx: CommandContext, *, code: str, name: str, kind: str, lat: float | None = None,
                      lon: float | None = None, parts: dict[str, int] | None = None) -> Accepted:
        def decide() -> Decision:
            parent = parent_code(code) if len(code) == 12 and code.isdigit() else None
            if parent is not None:
                self._require_unit(parent)
            ctx.principal.check_unit(code, "the unit")
            unit = Unit.register(code=code, name=name, kind=kind, lat=lat, lon=lon, parts=parts, by=ctx.actor)
            if unit.id in self.log.repository:
                raise Conflict(f"unit {code} already exists", field="code")
            return unit.id, [unit]

        return self._execute(ctx, decide)

    # -- incidents -------------------------------------------------------
    def report_incident(self, ctx: CommandContext, **fields: Any) -> Accepted:
        def decide() -> Decision:
            self._require_unit(fields["unit_code"])
            ctx.principal.check_unit(fields["unit_code"], "the incident's place")
            plan_id = fields.get("plan_id")
            plan = self._exercised_plan(ctx, plan_id, fields["unit_code"]) if plan_id is not None else None
            incident = Incident.report(by=ctx.actor, **fields)
            if not incident.exercise:
                return incident.id, [incident]
            # An exercise (演练) counts as a drill: of its plan when linked, else of its place's unit.
            held_on = local_day(incident.occurred_at)
            return incident.id, [incident, *self.count_exercise(plan, incident.unit_code, incident.id, held_on, ctx.actor)]

        return self._execute(ctx, decide)

    def _incident_command(self, ctx: CommandContext, incident_id: UUID, act: Callable[[Incident], None]) -> Accepted:
        def decide() -> Decision:
            incident = self._load_readable(ctx, Incident, incident_id, "incident", "incident")
            act(incident)
            return incident.id, [incident]

        return self._execute(ctx, decide)

    def verify_incident(self, ctx: CommandContext, incident_id: UUID, note: str = "") -> Accepted:
        return self._incident_command(ctx, incident_id, lambda i: i.verify(by=ctx.actor, note=note))

    def change_incident_level(self, ctx: CommandContext, incident_id: UUID, level: str, reason: str = "") -> Accepted:
        return self._incident_command(ctx, incident_id, lambda i: i.change_level(level, reason, by=ctx.actor))

    def update_situation(self, ctx: CommandContext, incident_id: UUID, figures: dict[str, int], notes: str = "") -> Accepted:
        return self._incident_command(ctx, incident_id, lambda i: i.update_situation(figures, notes, by=ctx.actor))

    def control_incident(self, ctx: CommandContext, incident_id: UUID, note: str = "") -> Accepted:
        return self._incident_command(ctx, incident_id, lambda i: i.control(by=ctx.actor, note=note))

    def close_incident(self, ctx: CommandContext, incident_id: UUID, summary: str) -> Accepted:
        return self._incident_command(ctx, incident_id, lambda i: i.close(summary, by=ctx.actor))

    def dismiss_incident(self, ctx: CommandContext, incident_id: UUID, reason: str) -> Accepted:
        return self._incident_command(ctx, incident_id, lambda i: i.dismiss(reason, by=ctx.actor))

    def record_reported_upward(self, ctx: CommandContext, incident_ids: list[UUID], acknowledged_at: datetime,
                               batch_id: str) -> Accepted:
        """The city acknowledged a batch holding these incidents' reports: one save for all of them.
        Incidents already recorded are skipped, so a resent batch records nothing twice."""

        def decide() -> Decision:
            changed: list[Aggregate] = []
            for incident_id in incident_ids:
                incident = self._load(Incident, incident_id, "incident")
                if incident.reported_upward_at is None:
                    incident.record_reported_upward(acknowledged_at, batch_id, by=ctx.actor)
                    changed.append(incident)
            return (changed[0].id if changed else incident_ids[0]), changed

        return self._execute(ctx, decide)

    # -- directives from the city ----------------------------------------
    def receive_directive(self, ctx: CommandContext, **fields: Any) -> Accepted:
        def decide() -> Decision:
            directive = Directive.receive(by=ctx.actor, **fields)
            if directive.id in self.log.repository:
                raise Conflict("directive already received", directive_id=str(directive.id))
            return directive.id, [directive]

        return self._execute(ctx, decide)

    def acknowledge_directive(self, ctx: CommandContext, directive_id: UUID, note: str = "") -> Accepted:
        def decide() -> Decision:
            directive = self._load_readable(ctx, Directive, directive_id, "directive", "directive")
            directive.acknowledge(note, by=ctx.actor)
            return directive.id, [directive]

        return self._execute(ctx, decide)

    # -- teams -----------------------------------------------------------
    def register_team(self, ctx: CommandContext, **fields: Any) -> Accepted:
        def decide() -> Decision:
            self._require_unit(fields["unit_code"])
            ctx.principal.check_unit(fields["unit_code"], "the team's unit")
            team = Team.register(by=ctx.actor, **fields)
            return team.id, [team]

        return self._execute(ctx, decide)

    def set_team_duty(self, ctx: CommandContext, team_id: UUID, on_duty: bool) -> Accepted:
        def decide() -> Decision:
            team = self._load_readable(ctx, Team, team_id, "team", "team")
            ctx.principal.check_team(str(team.id))
            team.set_duty(on_duty, by=ctx.actor)
            return team.id, [team]

        return self._execute(ctx, decide)

    # -- dispatches ------------------------------------------------------
    def order_dispatch(self, ctx: CommandContext, incident_id: UUID, team_id: UUID, task: str,
                       ack_minutes: int | None = None) -> Accepted:
        def decide() -> Decision:
            incident = self._load_readable(ctx, Incident, incident_id, "incident", "incident")
            if not incident.is_open:
                raise InvalidValue(f"the incident is {incident.status}; it takes no more dispatches", field="incident_id")
            team = self._load_readable(ctx, Team, team_id, "team", "team")
            minutes = ack_minutes or self.ack_minutes.get(incident.level, 30)
            dispatch = Dispatch.order(
                incident_id=incident.id,
                team_id=team.id,
                unit_code=incident.unit_code,
                task=task,
                ack_deadline=self.clock() + timedelta(minutes=minutes),
                by=ctx.actor,
                exercise=incident.exercise,  # a dispatch of an exercise is an exercise
            )
            team.assign(dispatch.id, by=ctx.actor)
            return dispatch.id, [dispatch, team]

        return self._execute(ctx, decide)

    def _dispatch_command(self, ctx: CommandContext, dispatch_id: UUID, act: Callable[[Dispatch], None],
                          releases_team: bool = False, field_may: bool = True) -> Accepted:
        def decide() -> Decision:
            # Scope first: a dispatch the caller may not read is "not found", whatever the command.
            dispatch = self._load_readable(ctx, Dispatch, dispatch_id, "dispatch", "dispatch")
            if ctx.principal.role == Role.FIELD and not field_may:
                raise Forbidden("field accounts cannot do this")
            act(dispatch)
            changed: list[Aggregate] = [dispatch]
            if releases_team:
                team = self._load(Team, dispatch.team_id, "team")
                team.release(dispatch.id, by=ctx.actor)
                changed.append(team)
            return dispatch.id, changed

        return self._execute(ctx, decide)

    def acknowledge_dispatch(self, ctx: CommandContext, dispatch_id: UUID) -> Accepted:
        def act(d: Dispatch) -> None:
            level = self._load(Incident, d.incident_id, "incident").level
            d.acknowledge(by=ctx.actor, arrive_deadline=self.clock() + timedelta(minutes=self.arrive_minutes.get(level, 60)))

        return self._dispatch_command(ctx, dispatch_id, act)

    def escalate_dispatch(self, ctx: CommandContext, dispatch_id: UUID, reason: str) -> Accepted:
        """The watchdog's command: one durable escalation per missed deadline (the aggregate refuses a second)."""
        return self._dispatch_command(ctx, dispatch_id, lambda d: d.escalate(reason, self.clock(), by=ctx.actor))

    def depart_dispatch(self, ctx: CommandContext, dispatch_id: UUID) -> Accepted:
        return self._dispatch_command(ctx, dispatch_id, lambda d: d.depart(by=ctx.actor))

    def arrive_dispatch(self, ctx: CommandContext, dispatch_id: UUID) -> Accepted:
        return self._dispatch_command(ctx, dispatch_id, lambda d: d.arrive(by=ctx.actor))

    def complete_dispatch(self, ctx: CommandContext, dispatch_id: UUID, note: str = "") -> Accepted:
        return self._dispatch_command(ctx, dispatch_id, lambda d: d.complete(by=ctx.actor, note=note), releases_team=True)

    def decline_dispatch(self, ctx: CommandContext, dispatch_id: UUID, reason: str) -> Accepted:
        return self._dispatch_command(ctx, dispatch_id, lambda d: d.decline(reason, by=ctx.actor), releases_team=True)

    def cancel_dispatch(self, ctx: CommandContext, dispatch_id: UUID, reason: str) -> Accepted:
        return self._dispatch_command(
            ctx, dispatch_id, lambda d: d.cancel(reason, by=ctx.actor), releases_team=True, field_may=False
        )

    # -- warehouses ------------------------------------------------------
    def register_warehouse(self, ctx: CommandContext, **fields: Any) -> Accepted:
        def decide() -> Decision:
            self._require_unit(fields["unit_code"])
            ctx.principal.check_unit(fields["unit_code"], "the warehouse's unit")
            warehouse = Warehouse.register(by=ctx.actor, **fields)
            return warehouse.id, [warehouse]

        return self._execute(ctx, decide)

    def _warehouse_command(self, ctx: CommandContext, warehouse_id: UUID, act: Callable[[Warehouse], None]) -> Accepted:
        def decide() -> Decision:
            warehouse = self._load_readable(ctx, Warehouse, warehouse_id, "warehouse", "warehouse")
            act(warehouse)
            return warehouse.id, [warehouse]

        return self._execute(ctx, decide)

    def receive_stock(self, ctx: CommandContext, warehouse_id: UUID, lines: dict[str, int], note: str = "") -> Accepted:
        return self._warehouse_command(ctx, warehouse_id, lambda w: w.receive(lines, note, by=ctx.actor))

    def count_stock(self, ctx: CommandContext, warehouse_id: UUID, code: str, counted: int, note: str = "") -> Accepted:
        return self._warehouse_command(ctx, warehouse_id, lambda w: w.count(code, counted, note, by=ctx.actor))

    def set_minimum(self, ctx: CommandContext, warehouse_id: UUID, code: str, minimum: int) -> Accepted:
        return self._warehouse_command(ctx, warehouse_id, lambda w: w.set_minimum(code, minimum, by=ctx.actor))

    # -- allocations -----------------------------------------------------
    def request_allocation(self, ctx: CommandContext, incident_id: UUID, warehouse_id: UUID, lines: dict[str, int],
                           destination: str = "", team_id: UUID | None = None) -> Accepted:
        def decide() -> Decision:
            incident = self._load_readable(ctx, Incident, incident_id, "incident", "incident")
            if not incident.is_open:
                raise InvalidValue(f"the incident is {incident.status}; it takes no more materials", field="incident_id")
            warehouse = self._load_readable(ctx, Warehouse, warehouse_id, "warehouse", "warehouse")
            if team_id is not None:
                self._load_readable(ctx, Team, team_id, "team", "team")
            allocation = Allocation.request(
                incident_id=incident.id,
                warehouse_id=warehouse.id,
                unit_code=incident.unit_code,
                lines=lines,
                destination=destination,
                team_id=team_id,
                by=ctx.actor,
            )
            warehouse.reserve(allocation.id, allocation.lines, by=ctx.actor)
            return allocation.id, [allocation, warehouse]

        return self._execute(ctx, decide)

    def _allocation_command(self, ctx: CommandContext, allocation_id: UUID,
                            act: Callable[[Allocation, Warehouse], bool], field_may: bool = False) -> Accepted:
        """`act` returns whether it changed the warehouse too."""

        def decide() -> Decision:
            allocation = self._load_readable(ctx, Allocation, allocation_id, "allocation", "allocation")
            if ctx.principal.role == Role.FIELD and not field_may:
                raise Forbidden("field accounts confirm only materials sent to their team")
            warehouse = self._load(Warehouse, allocation.warehouse_id, "warehouse")
            changed: list[Aggregate] = [allocation]
            if act(allocation, warehouse):
                changed.append(warehouse)
            return allocation.id, changed

        return self._execute(ctx, decide)

    def ship_allocation(self, ctx: CommandContext, allocation_id: UUID, vehicle: str = "") -> Accepted:
        def act(a: Allocation, w: Warehouse) -> bool:
            a.ship(by=ctx.actor, vehicle=vehicle)
            w.issue(a.id, by=ctx.actor)
            return True

        return self._allocation_command(ctx, allocation_id, act)

    def deliver_allocation(self, ctx: CommandContext, allocation_id: UUID, received_by: str = "") -> Accepted:
        def act(a: Allocation, w: Warehouse) -> bool:
            a.deliver(received_by, by=ctx.actor)
            return False

        return self._allocation_command(ctx, allocation_id, act, field_may=True)

    def return_allocation(self, ctx: CommandContext, allocation_id: UUID, lines: dict[str, int], note: str = "") -> Accepted:
        def act(a: Allocation, w: Warehouse) -> bool:
            a.give_back(lines, by=ctx.actor, note=note)
            w.take_back(a.id, lines, by=ctx.actor)
            return True

        return self._allocation_command(ctx, allocation_id, act, field_may=True)

    def cancel_allocation(self, ctx: CommandContext, allocation_id: UUID, reason: str) -> Accepted:
        def act(a: Allocation, w: Warehouse) -> bool:
            a.cancel(reason, by=ctx.actor)
            w.release(a.id, by=ctx.actor)
            return True

        return self._allocation_command(ctx, allocation_id, act)

    # -- daily reports (零报告) --------------------------------------------
    def file_daily_report(self, ctx: CommandContext, unit_code: str, day: date, zero: bool, summary: str = "") -> Accepted:
        def decide() -> Decision:
            unit = self._unit(unit_code)
            if unit.kind not in REPORTING_KINDS:
                raise InvalidValue("daily reports are filed by villages and communities", field="unit_code")
            ctx.principal.check_unit(unit_code, "the reporting unit")
            try:
                report = self._load(DailyReport, daily_report_id(unit_code, day.isoformat()), "daily report")
            except NotFound:
                today = local_day(self.clock())
                report = DailyReport.file(unit_code=unit_code, day=day, today=today, zero=zero, summary=summary, by=ctx.actor)
            else:
                report.correct(zero, summary, by=ctx.actor)
            return report.id, [report]

        return self._execute(ctx, decide)

    # -- early warnings (预警) ---------------------------------------------
    def _all_unit_codes(self) -> list[str]:
        if self.unit_codes is not None:
            return self.unit_codes()
        codes: list[str] = []
        after = 0
        while batch := self.log.read(after, 5000):
            for n in batch:
                if n.topic.endswith(":Unit.Registered"):
                    codes.append(self.log.decode(n).code)
            after = batch[-1].id
        return codes

    def _receivers(self, targets: list[str]) -> list[str]:
        """Every street and village a warning reaches: the targets and each unit under them (never the district itself)."""
        return sorted(code for code in set(self._all_unit_codes()) if code_level(code) > 0 and any(within(t, code) for t in targets))

    def _load_warning(self, ctx: CommandContext, warning_id: UUID | str) -> Warning:
        w = self._load(Warning, warning_id, "warning")
        if not ctx.principal.can_read_warning(w.issuer_unit, w.targets, w.status):
            raise not_found("warning", warning_id)
        return w

    def _numbered(self, ctx: CommandContext, unit_code: str, sent: datetime) -> tuple[str, WarningCounter]:
        """The next GB/T 35965.1 identifier of the issuing unit, and its counter to save with the message."""
        try:
            counter = self._load(WarningCounter, counter_id(unit_code), "warning counter")
        except NotFound:
            counter = WarningCounter(unit_code=unit_code, by=ctx.actor)
        sector, extension = self.cap_codes
        return cap_identifier(unit_code, sector, extension, sent, counter.next(ctx.actor)), counter

    def _issue(self, ctx: CommandContext, w: Warning, forwarded_from: str = "") -> list[Aggregate]:
        now = self.clock()
        identifier, counter = self._numbered(ctx, w.issuer_unit, now)
        receivers = self._receivers(w.targets)
        deadline = receipt_due_at(now, w.level, self.receipt_minutes)
        w.issue(identifier, now, deadline, receivers, by=ctx.actor, forwarded_from=forwarded_from)
        receipts = [WarningReceipt(warning_id=w.id, unit_code=u, level=w.level, exercise=w.exercise, deadline=deadline, by=ctx.actor)
                    for u in receivers]
        return [w, counter, *receipts]

    def draft_warning(self, ctx: CommandContext, **fields: Any) -> Accepted:
        def decide() -> Decision:
            p = ctx.principal
            issuer = p.unit_code or self.district_code
            self._require_unit(issuer)
            for code in fields["targets"]:
                if isinstance(code, str) and len(code) == 12:
                    p.check_unit(code, "the warning's target")
                    self._require_unit(code)  # a target is a unit of the tree: an unknown code is not found
            w = Warning.draft(issuer_unit=issuer, issuer_name=ctx.actor.name or ctx.actor.user, by=ctx.actor, **fields)
            return w.id, [w]

        return self._execute(ctx, decide)

    def issue_warning(self, ctx: CommandContext, warning_id: UUID) -> Accepted:
        def decide() -> Decision:
            w = self._load_warning(ctx, warning_id)
            ctx.principal.check_unit(w.issuer_unit, "the warning")
            return w.id, self._issue(ctx, w)

        return self._execute(ctx, decide)

    def update_warning(self, ctx: CommandContext, warning_id: UUID, changes: dict[str, Any], reason: str = "") -> Accepted:
        def decide() -> Decision:
            w = self._load_warning(ctx, warning_id)
            ctx.principal.check_unit(w.issuer_unit, "the warning")
            now = self.clock()
            identifier, counter = self._numbered(ctx, w.issuer_unit, now)
            old_level = w.level
            w.update(changes, reason, identifier, now, by=ctx.actor)
            return w.id, [w, counter, *self._redelivered(ctx, w, old_level, now)]

        return self._execute(ctx, decide)

    def _redelivered(self, ctx: CommandContext, w: Warning, old_level: str, now: datetime) -> list[Aggregate]:
        """An update that raises the level (e.g. 黄→红) is delivered again: every target signs for the new version."""
        if not raises_level(old_level, w.level):
            return []
        deadline = receipt_due_at(now, w.level, self.receipt_minutes)
        receipts: list[Aggregate] = []
        for code in self._receipt_units(w):
            r = self._load(WarningReceipt, receipt_id(w.id, code), "warning receipt")
            r.redeliver(w.revision, w.level, deadline, by=ctx.actor)
            receipts.append(r)
        return receipts

    def _receipt_units(self, w: Warning) -> list[str]:
        """The units the warning was delivered to (its Issued event names them)."""
        return list(w.receivers)

    def lift_warning(self, ctx: CommandContext, warning_id: UUID, reason: str) -> Accepted:
        def decide() -> Decision:
            w = self._load_warning(ctx, warning_id)
            ctx.principal.check_unit(w.issuer_unit, "the warning")
            now = self.clock()
            identifier, counter = self._numbered(ctx, w.issuer_unit, now)
            w.lift(reason, identifier, now, by=ctx.actor)
            return w.id, [w, counter]

        return self._execute(ctx, decide)

    def _receipt(self, ctx: CommandContext, warning_id: UUID, unit_code: str) -> WarningReceipt:
        """A target's own copy: out of scope reads as not found; in scope but another unit's is forbidden."""
        r = self._load_readable(ctx, WarningReceipt, receipt_id(warning_id, str(unit_code)), "warning_receipt", "warning receipt")
        p = ctx.principal
        if not p.is_admin and p.unit_code != r.unit_code:
            raise Forbidden("a warning is signed for, and its response reported, by the target unit's own account", reason="scope")
        return r

    def acknowledge_warning(self, ctx: CommandContext, warning_id: UUID, unit_code: str, note: str = "") -> Accepted:
        def decide() -> Decision:
            r = self._receipt(ctx, warning_id, unit_code)
            r.acknowledge(self.clock(), by=ctx.actor, note=note)
            return r.id, [r]

        return self._execute(ctx, decide)

    def report_warning_response(self, ctx: CommandContext, warning_id: UUID, unit_code: str, measures: dict[str, int],
                                note: str = "") -> Accepted:
        def decide() -> Decision:
            r = self._receipt(ctx, warning_id, unit_code)
            r.report_response(measures, note, by=ctx.actor)
            return r.id, [r]

        return self._execute(ctx, decide)

    def escalate_warning_receipt(self, ctx: CommandContext, receipt_id: UUID) -> Accepted:
        """The watchdog's command: one durable escalation per receipt missed while its warning is in force."""

        def decide() -> Decision:
            r = self._load(WarningReceipt, receipt_id, "warning receipt")
            w = self._load(Warning, r.warning_id, "warning")
            now = self.clock()
            if not w.in_force(now):
                raise InvalidTransition(f"the warning is no longer in force ({w.status})")
            r.escalate(now, by=ctx.actor)
            return r.id, [r]

        return self._execute(ctx, decide)

    def receive_city_warning(self, ctx: CommandContext, alert: c.CityAlert) -> Accepted:
        """A CAP alert from the city: an Alert becomes a district warning forwarded to the targets it names (or the
        whole district); an Update or Cancel changes or lifts the copy of the alert it references. A message already
        applied, or older than one applied (it does not reference it), is refused; so is one whose alert has not come."""

        def decide() -> Decision:
            district = self.district_code
            if alert.msg_type == "Alert":
                if city_warning_id(alert.sender, alert.identifier) in self.log.repository:
                    raise Conflict("this alert was already received", identifier=alert.identifier)
                known = set(self._all_unit_codes())
                targets = [code for code in alert.area_codes if code in known and within(district, code)] or [district]
                w = Warning.draft(
                    category=alert.category, subtype=alert.subtype, level=alert.level, headline=alert.headline,
                    description=alert.description, instruction=alert.instruction, onset=alert.onset, expires=alert.expires,
                    targets=targets, issuer_unit=district, issuer_name=alert.sender_name or alert.sender, exercise=alert.exercise,
                    source="city", upstream={"sender": alert.sender, "identifier": alert.identifier, "sent": alert.sent.isoformat()},
                    by=ctx.actor,
                )
                return w.id, self._issue(ctx, w, forwarded_from=alert.identifier)
            w = None
            for ref in alert.references:
                wid = city_warning_id(alert.sender, ref)
                if wid in self.log.repository:
                    w = self._load(Warning, wid, "warning")
                    break
            if w is None:
                raise Conflict("the alert this message references has not been received (out of order); send it first",
                               references=list(alert.references))
            if alert.identifier in w.upstream_messages:
                raise Conflict("this message was already applied", identifier=alert.identifier)
            missing = [m for m in w.upstream_messages if m not in alert.references]
            if missing:
                raise Conflict("this message is older than one already applied (it does not reference it)", identifier=alert.identifier,
                               not_referenced=missing)
            if bool(alert.exercise) != w.exercise:
                raise InvalidValue("an update cannot change whether the warning is an exercise", field="status")
            now = self.clock()
            identifier, counter = self._numbered(ctx, w.issuer_unit, now)
            if alert.msg_type == "Cancel":
                w.lift(f"市级解除：{alert.headline}", identifier, now, by=ctx.actor, upstream_message=alert.identifier)
            else:
                changes = {k: getattr(alert, k) for k in ("level", "headline", "description", "instruction", "onset", "expires")}
                changes = {k: v for k, v in changes.items() if getattr(w, k) != v}
                old_level = w.level
                w.update(changes, "市级更新", identifier, now, by=ctx.actor, upstream_message=alert.identifier)
                return w.id, [w, counter, *self._redelivered(ctx, w, old_level, now)]
            return w.id, [w, counter]

        return self._execute(ctx, decide)

    # -- staged disaster reports (灾情报告) --------------------------------
    def _controlled_at(self, incident: Incident) -> datetime | None:
        """When the incident was controlled (its Controlled event; the aggregate keeps no such field)."""
        found = [e.timestamp for e in self.log.events.get(incident.id) if type(e).__qualname__ == "Incident.Controlled"]
        return found[-1] if found else None

    def _owed(self, incident: Incident, stage: str, key: str) -> datetime:
        """The deadline of the report of `stage` (and key) the incident owes now, or refused when it owes none."""
        now = self.clock()
        for due in reports_due(category=incident.category, level=incident.level, status=incident.status,
                               occurred_at=incident.occurred_at, controlled_at=self._controlled_at(incident), now=now,
                               verified_days=self.verified_days, lookback_days=CONTINUING_LOOKBACK_DAYS):
            if (due.stage, due.key) == (stage, key):
                return due.due_at
        raise InvalidTransition(f"the incident owes no {stage} report {key}")

    def draft_disaster_report(self, ctx: CommandContext, incident_id: UUID, stage: str, figures: dict[str, Any],
                              sectors: dict[str, Any] | None = None, notes: str = "") -> Accepted:
        def decide() -> Decision:
            incident = self._load_readable(ctx, Incident, incident_id, "incident", "incident")
            today = local_day(self.clock())
            report_id = disaster_report_id(incident.id, stage, today.isoformat())
            if report_id in self.log.repository:
                raise Conflict("this report is drafted already; revise it", report_id=str(report_id))
            report = DisasterReport.draft(
                incident_id=incident.id, unit_code=incident.unit_code, category=incident.category, incident_status=incident.status,
                stage=stage, day=today, figures=figures, sectors=sectors, notes=notes, by=ctx.actor,
                controlled=incident.status in ("controlled", "closed"),
            )
            return report.id, [report]

        return self._execute(ctx, decide)

    def _report_command(self, ctx: CommandContext, report_id: UUID, act: Callable[[DisasterReport], None]) -> Accepted:
        def decide() -> Decision:
            report = self._load_readable(ctx, DisasterReport, report_id, "disaster_report", "disaster report")
            act(report)
            return report.id, [report]

        return self._execute(ctx, decide)

    def revise_disaster_report(self, ctx: CommandContext, report_id: UUID, figures: dict[str, Any],
                               sectors: dict[str, Any] | None = None, notes: str = "") -> Accepted:
        return self._report_command(ctx, report_id, lambda r: r.revise(figures, sectors, notes, by=ctx.actor))

    def sign_off_disaster_report(self, ctx: CommandContext, report_id: UUID, note: str = "") -> Accepted:
        return self._report_command(ctx, report_id, lambda r: r.sign_off(note, by=ctx.actor))

    def submit_disaster_report(self, ctx: CommandContext, report_id: UUID) -> Accepted:
        def act(report: DisasterReport) -> None:
            incident = self._load(Incident, report.incident_id, "incident")
            if report.stage == Stage.INITIAL:
                due_at = initial_report_due_at(incident.occurred_at)
            elif report.stage == Stage.CONTINUING:
                due_at = continuing_report_due_at(date.fromisoformat(report.day))
            else:
                controlled = self._controlled_at(incident)
                due_at = verified_report_due_at(controlled, self.verified_days) if controlled else self.clock()
            report.submit(due_at, self.clock(), by=ctx.actor)

        return self._report_command(ctx, report_id, act)

    def record_reports_acknowledged(self, ctx: CommandContext, report_ids: list[UUID], acknowledged_at: datetime,
                                    batch_id: str) -> Accepted:
        """The city acknowledged a batch holding these submissions: recorded once (a resent batch records nothing)."""

        def decide() -> Decision:
            changed: list[Aggregate] = []
            for report_id in report_ids:
                report = self._load(DisasterReport, report_id, "disaster report")
                if report.status == ReportStatus.SUBMITTED:
                    report.record_acknowledged(acknowledged_at, batch_id, by=ctx.actor)
                    changed.append(report)
            return (changed[0].id if changed else report_ids[0]), changed

        return self._execute(ctx, decide)

    def escalate_report_deadline(self, ctx: CommandContext, incident_id: UUID, stage: str, key: str) -> Accepted:
        """The watchdog's command: one durable record per missed report deadline (the same miss is the same aggregate)."""

        def decide() -> Decision:
            incident = self._load(Incident, incident_id, "incident")
            if incident.exercise:
                raise InvalidTransition("an exercise (演练) owes no staged report")
            deadline = self._owed(incident, stage, key)
            report_id = disaster_report_id(incident.id, stage, key if stage == Stage.CONTINUING else "")
            if report_id in self.log.repository:
                report = self._load(DisasterReport, report_id, "disaster report")
                if report.status in (ReportStatus.SUBMITTED, ReportStatus.ACKNOWLEDGED):
                    raise InvalidTransition("the report was submitted")
            if report_deadline_id(incident.id, stage, key) in self.log.repository:
                raise InvalidTransition(f"already escalated: {stage} {key}")
            missed = ReportDeadline.miss(incident_id=incident.id, unit_code=incident.unit_code, stage=stage, key=key,
                                         deadline=deadline, now=self.clock(), by=ctx.actor)
            return missed.id, [missed]

        return self._execute(ctx, decide)

    # -- the duty desk (值班表, 交接班) ------------------------------------
    def _duty_unit(self, ctx: CommandContext, unit_code: str) -> Unit:
        unit = self._unit(unit_code)
        ctx.principal.check_unit(unit_code, "the duty desk")
        return unit

    def schedule_duty(self, ctx: CommandContext, unit_code: str, day: date, leader: dict[str, str],
                      officers: list[dict[str, str]]) -> Accepted:
        def decide() -> Decision:
            unit = self._duty_unit(ctx, unit_code)
            today = duty_day(self.clock())
            try:
                roster = self._load(DutyDay, duty_day_id(unit_code, day.isoformat()), "duty day")
            except NotFound:
                roster = DutyDay.schedule(unit_code=unit_code, unit_kind=unit.kind, day=day, today=today, leader=leader,
                                          officers=officers, by=ctx.actor)
            else:
                roster.change(leader, officers, today, by=ctx.actor)
            return roster.id, [roster]

        return self._execute(ctx, decide)

    def sign_handover(self, ctx: CommandContext, unit_code: str, open_items: list[dict[str, Any]], notes: str = "",
                      day: date | None = None) -> Accepted:
        def decide() -> Decision:
            unit = self._duty_unit(ctx, unit_code)
            now = self.clock()
            current = duty_day(now)
            shift = day or current
            if shift not in (current, current - timedelta(days=1)):
                raise InvalidValue("a handover is signed for the shift ending now, or the one before", field="day")
            if handover_id(unit_code, shift.isoformat()) in self.log.repository:
                raise Conflict("this shift is handed over already", handover_id=str(handover_id(unit_code, shift.isoformat())))
            handover = Handover.sign(unit_code=unit_code, unit_kind=unit.kind, day=shift, shift_from=shift_starts_at(shift),
                                     to_position=self.log.max_position(), open_items=open_items, notes=notes, now=now,
                                     grace=self.handover_grace, by=ctx.actor)
            return handover.id, [handover]

        return self._execute(ctx, decide)

    def confirm_handover(self, ctx: CommandContext, handover_id: UUID, note: str = "") -> Accepted:
        def decide() -> Decision:
            handover = self._load_readable(ctx, Handover, handover_id, "handover", "handover")
            handover.confirm(note, by=ctx.actor)
            return handover.id, [handover]

        return self._execute(ctx, decide)

    def escalate_handover(self, ctx: CommandContext, handover_id: UUID) -> Accepted:
        def decide() -> Decision:
            handover = self._load(Handover, handover_id, "handover")
            handover.escalate(self.clock(), by=ctx.actor)
            return handover.id, [handover]

        return self._execute(ctx, decide)

    # -- notifications (通知) ---------------------------------------------------
    def queue_notification(self, ctx: CommandContext, *, key: str, **fields: Any) -> Accepted:
        """The notifier's record that a message is due to someone: once per key (planning again records nothing)."""

        def decide() -> Decision:
            nid = notification_id(key)
            if nid in self.log.repository:
                return nid, []
            return nid, [Notification.queue(key=key, by=ctx.actor, **fields)]

        return self._execute(ctx, decide)

    def record_notification_attempt(self, ctx: CommandContext, notification_id: UUID, attempt: int, outcome: str,
                                    detail: str = "", retry_at: datetime | None = None) -> Accepted:
        """One attempt's outcome, recorded once: an attempt already recorded (a restart resending) records nothing."""

        def decide() -> Decision:
            note = self._load(Notification, notification_id, "notification")
            try:
                if outcome == "delivered":
                    note.deliver(attempt, detail, by=ctx.actor)
                elif outcome == "retry":
                    note.attempt_failed(attempt, detail, retry_at or self.clock(), by=ctx.actor)
                elif outcome == "failed":
                    note.fail(attempt, detail, by=ctx.actor)
                else:
                    raise InvalidValue("outcome is delivered, retry or failed", field="outcome")
            except InvalidTransition:
                return note.id, []
            return note.id, [note]

        return self._execute(ctx, decide)

    # -- 双重预防: risk points, inspections, hidden dangers ----------------------
    def _files(self, shas: list[str], unit_code: str) -> list[dict[str, Any]]:
        """The records of uploaded files named in a command; each must have been uploaded for the record's unit."""
        files = []
        for sha in shas:
            meta = self.evidence.meta(sha, unit_code) if self.evidence is not None else None
            if meta is None:
                raise InvalidValue(f"no file {sha} was uploaded for unit {unit_code}", field="evidence")
            files.append({k: meta[k] for k in ("sha256", "media_type", "size", "name")})
        return files

    def register_risk_point(self, ctx: CommandContext, *, unit_code: str, method: str, l: float | None = None,  # noqa: E741
                            e: float | None = None, c: float | None = None, level: str | None = None, basis: str = "",
                            **fields: Any) -> Accepted:
        def decide() -> Decision:
            self._require_unit(unit_code)
            ctx.principal.check_unit(unit_code, "the risk point's unit")
            point = RiskPoint.register(unit_code=unit_code, by=ctx.actor, **fields)
            point.assess(method=method, now=self.clock(), review_days=self.risk_review_days, l=l, e=e, c=c, level=level,
                         basis=basis, by=ctx.actor)
            return point.id, [point]

        return self._execute(ctx, decide)

    def _risk_point_command(self, ctx: CommandContext, risk_point_id: UUID, act: Callable[[RiskPoint], None]) -> Accepted:
        def decide() -> Decision:
            point = self._load_readable(ctx, RiskPoint, risk_point_id, "risk_point", "risk point")
            act(point)
            return point.id, [point]

        return self._execute(ctx, decide)

    def assess_risk_point(self, ctx: CommandContext, risk_point_id: UUID, method: str, l: float | None = None,  # noqa: E741
                          e: float | None = None, c: float | None = None, level: str | None = None, basis: str = "") -> Accepted:
        return self._risk_point_command(ctx, risk_point_id, lambda p: p.assess(
            method=method, now=self.clock(), review_days=self.risk_review_days, l=l, e=e, c=c, level=level, basis=basis, by=ctx.actor))

    def set_risk_controls(self, ctx: CommandContext, risk_point_id: UUID, controls: list[dict[str, str]]) -> Accepted:
        return self._risk_point_command(ctx, risk_point_id, lambda p: p.set_controls(controls, by=ctx.actor))

    def record_inspection(self, ctx: CommandContext, *, unit_code: str, kind: str, inspected_at: datetime,
                          checklist: list[dict[str, str]], risk_point_ids: list[UUID] | None = None, site: str = "",
                          inspectors: str = "", findings: list[dict[str, Any]] | None = None) -> Accepted:
        """One inspection, and a hidden danger for each finding, saved together."""

        def decide() -> Decision:
            self._require_unit(unit_code)
            ctx.principal.check_unit(unit_code, "the inspection's unit")
            points = [self._load_readable(ctx, RiskPoint, p, "risk_point", "risk point") for p in risk_point_ids or []]
            inspection = Inspection.record(unit_code=unit_code, kind=kind, inspected_at=inspected_at, checklist=checklist,
                                           risk_point_ids=[p.id for p in points], site=site, inspectors=inspectors, by=ctx.actor)
            dangers: list[Aggregate] = []
            for f in findings or []:
                # a finding is at the risk point it names, or at the inspection's only one, or at its site
                rp = f.get("risk_point_id") or (points[0].id if len(points) == 1 else None)
                if rp is not None and UUID(str(rp)) not in {p.id for p in points}:
                    raise InvalidValue("a finding's risk point is one the inspection covers", field="findings")
                dangers.append(HiddenDanger.find(
                    unit_code=unit_code, grade=str(f.get("grade", "")), title=str(f.get("title", "")),
                    description=str(f.get("description", "")), risk_point_id=UUID(str(rp)) if rp else None,
                    site=str(f.get("site", "") or site), inspection_id=inspection.id,
                    evidence=self._files(list(f.get("evidence", [])), unit_code), by=ctx.actor))
            return inspection.id, [inspection, *dangers]

        return self._execute(ctx, decide)

    def report_hidden_danger(self, ctx: CommandContext, *, unit_code: str, grade: str, title: str, description: str = "",
                             risk_point_id: UUID | None = None, site: str = "", evidence: list[str] | None = None) -> Accepted:
        def decide() -> Decision:
            self._require_unit(unit_code)
            ctx.principal.check_unit(unit_code, "the hidden danger's unit")
            if risk_point_id is not None:
                point = self._load_readable(ctx, RiskPoint, risk_point_id, "risk_point", "risk point")
                if point.unit_code != unit_code:
                    raise InvalidValue("the risk point belongs to another unit", field="risk_point_id")
            danger = HiddenDanger.find(unit_code=unit_code, grade=grade, title=title, description=description,
                                       risk_point_id=risk_point_id, site=site, evidence=self._files(evidence or [], unit_code),
                                       by=ctx.actor)
            return danger.id, [danger]

        return self._execute(ctx, decide)

    def _danger_command(self, ctx: CommandContext, danger_id: UUID, act: Callable[[HiddenDanger], None]) -> Accepted:
        def decide() -> Decision:
            danger = self._load_readable(ctx, HiddenDanger, danger_id, "hidden_danger", "hidden danger")
            act(danger)
            return danger.id, [danger]

        return self._execute(ctx, decide)

    def assign_hidden_danger(self, ctx: CommandContext, danger_id: UUID, rectifier: str, responsible: str, deadline: datetime,
                             measures: str, five: dict[str, str] | None = None, supervision: str = "") -> Accepted:
        def act(d: HiddenDanger) -> None:
            if d.grade == DangerGrade.MAJOR and not (ctx.principal.is_admin or code_level(ctx.principal.unit_code) == 0):
                raise Forbidden("a major hidden danger is assigned and supervised (挂牌督办) by the district")
            d.assign(rectifier=rectifier, responsible=responsible, deadline=deadline, measures=measures, five=five,
                     supervision=supervision, now=self.clock(), by=ctx.actor)

        return self._danger_command(ctx, danger_id, act)

    def note_danger_progress(self, ctx: CommandContext, danger_id: UUID, note: str, evidence: list[str] | None = None) -> Accepted:
        return self._danger_command(ctx, danger_id, lambda d: d.note_progress(note, ctx.actor, self._files(evidence or [], d.unit_code)))

    def move_danger_deadline(self, ctx: CommandContext, danger_id: UUID, deadline: datetime, reason: str) -> Accepted:
        return self._danger_command(ctx, danger_id, lambda d: d.move_deadline(deadline, reason, self.clock(), by=ctx.actor))

    def report_danger_rectified(self, ctx: CommandContext, danger_id: UUID, evidence: list[str], note: str = "") -> Accepted:
        return self._danger_command(ctx, danger_id, lambda d: d.report_rectified(note, self._files(evidence, d.unit_code), by=ctx.actor))

    def verify_hidden_danger(self, ctx: CommandContext, danger_id: UUID, note: str = "") -> Accepted:
        return self._danger_command(ctx, danger_id, lambda d: d.verify(note, by=ctx.actor))

    def reject_hidden_danger(self, ctx: CommandContext, danger_id: UUID, reason: str, deadline: datetime) -> Accepted:
        return self._danger_command(ctx, danger_id, lambda d: d.reject(reason, deadline, self.clock(), by=ctx.actor))

    def close_hidden_danger(self, ctx: CommandContext, danger_id: UUID, note: str = "") -> Accepted:
        return self._danger_command(ctx, danger_id, lambda d: d.close(note, by=ctx.actor))

    def escalate_hidden_danger(self, ctx: CommandContext, danger_id: UUID) -> Accepted:
        """The watchdog's command: one durable escalation per missed deadline (the aggregate refuses a second)."""
        return self._danger_command(ctx, danger_id, lambda d: d.escalate(self.clock(), by=ctx.actor))


def _no_readiness_facts(codes: list[str] | None) -> dict[str, Any]:
    raise RuntimeError("readiness facts are not wired (gateway.container sets service.readiness_facts)")


def authorise(principal: Principal, command: c.Command) -> None:
    """Whether `principal` may send `command` at all, by the same table the HTTP routes obey (scope comes later)."""
    if principal.role == Role.SYSTEM:  # the platform's own processes: watchdog, relay, the city's signed route
        return
    route = c.ROUTE_OF[type(command)]
    rule = MATRIX.get(route) if route else None
    if rule is None or isinstance(rule, Public) or principal.role not in rule:
        raise Forbidden(f"role {principal.role} may not {type(command).__name__}", reason="role")


# One table routes each command to its handler.
HANDLERS: dict[type[c.Command], Callable[..., Accepted | AccountAnswer]] = {
    c.AddUser: account_commands.add_user,
    c.IssueTeamAccount: account_commands.issue_team_account,
    c.RevokeAccount: account_commands.revoke_account,
    c.RegisterUnit: CommandService.register_unit,
    c.ReportIncident: CommandService.report_incident,
    c.VerifyIncident: CommandService.verify_incident,
    c.ChangeIncidentLevel: CommandService.change_incident_level,
    c.UpdateSituation: CommandService.update_situation,
    c.ControlIncident: CommandService.control_incident,
    c.CloseIncident: CommandService.close_incident,
    c.DismissIncident: CommandService.dismiss_incident,
    c.RecordReportedUpward: CommandService.record_reported_upward,
    c.ReceiveDirective: CommandService.receive_directive,
    c.AcknowledgeDirective: CommandService.acknowledge_directive,
    c.RegisterTeam: CommandService.register_team,
    c.SetTeamDuty: CommandService.set_team_duty,
    c.OrderDispatch: CommandService.order_dispatch,
    c.AcknowledgeDispatch: CommandService.acknowledge_dispatch,
    c.DepartDispatch: CommandService.depart_dispatch,
    c.ArriveDispatch: CommandService.arrive_dispatch,
    c.CompleteDispatch: CommandService.complete_dispatch,
    c.DeclineDispatch: CommandService.decline_dispatch,
    c.CancelDispatch: CommandService.cancel_dispatch,
    c.EscalateDispatch: CommandService.escalate_dispatch,
    c.RegisterWarehouse: CommandService.register_warehouse,
    c.ReceiveStock: CommandService.receive_stock,
    c.CountStock: CommandService.count_stock,
    c.SetMinimum: CommandService.set_minimum,
    c.RequestAllocation: CommandService.request_allocation,
    c.ShipAllocation: CommandService.ship_allocation,
    c.DeliverAllocation: CommandService.deliver_allocation,
    c.ReturnAllocation: CommandService.return_allocation,
    c.CancelAllocation: CommandService.cancel_allocation,
    c.FileDailyReport: CommandService.file_daily_report,
    c.DraftDisasterReport: CommandService.draft_disaster_report,
    c.ReviseDisasterReport: CommandService.revise_disaster_report,
    c.SignOffDisasterReport: CommandService.sign_off_disaster_report,
    c.SubmitDisasterReport: CommandService.submit_disaster_report,
    c.RecordReportsAcknowledged: CommandService.record_reports_acknowledged,
    c.EscalateReportDeadline: CommandService.escalate_report_deadline,
    c.ScheduleDuty: CommandService.schedule_duty,
    c.SignHandover: CommandService.sign_handover,
    c.ConfirmHandover: CommandService.confirm_handover,
    c.EscalateHandover: CommandService.escalate_handover,
    c.DraftWarning: CommandService.draft_warning,
    c.IssueWarning: CommandService.issue_warning,
    c.UpdateWarning: CommandService.update_warning,
    c.LiftWarning: CommandService.lift_warning,
    c.AcknowledgeWarning: CommandService.acknowledge_warning,
    c.ReportWarningResponse: CommandService.report_warning_response,
    c.EscalateWarningReceipt: CommandService.escalate_warning_receipt,
    c.QueueNotification: CommandService.queue_notification,
    c.RecordNotificationAttempt: CommandService.record_notification_attempt,
    c.ReceiveCityWarning: CommandService.receive_city_warning,
    c.RegisterRiskPoint: CommandService.register_risk_point,
    c.AssessRiskPoint: CommandService.assess_risk_point,
    c.SetRiskControls: CommandService.set_risk_controls,
    c.RecordInspection: CommandService.record_inspection,
    c.ReportHiddenDanger: CommandService.report_hidden_danger,
    c.AssignHiddenDanger: CommandService.assign_hidden_danger,
    c.NoteDangerProgress: CommandService.note_danger_progress,
    c.MoveDangerDeadline: CommandService.move_danger_deadline,
    c.ReportDangerRectified: CommandService.report_danger_rectified,
    c.VerifyHiddenDanger: CommandService.verify_hidden_danger,
    c.RejectHiddenDanger: CommandService.reject_hidden_danger,
    c.CloseHiddenDanger: CommandService.close_hidden_danger,
    c.EscalateHiddenDanger: CommandService.escalate_hidden_danger,
    c.RegisterPlan: CommandService.register_plan,
    c.RevisePlan: CommandService.revise_plan,
    c.FilePlan: CommandService.file_plan,
    c.RetirePlan: CommandService.retire_plan,
    c.RecordDrill: CommandService.record_drill,
    c.ResolveDrillFinding: CommandService.resolve_drill_finding,
    c.EscalatePlan: CommandService.escalate_plan,
    c.EscalateUnitDrills: CommandService.escalate_unit_drills,
}

# Readiness commands live in their own module (team strength, campaigns, 销号); they join the one table.
from gateway.service_layer import readiness as _readiness  # noqa: E402

HANDLERS.update(_readiness.HANDLERS)
# The people register and training (人员 / 通讯录 / 培训), likewise.
from gateway.service_layer import people as _people  # noqa: E402

HANDLERS.update(_people.HANDLERS)
