"""Command handlers of 预案与演练 (domain.plans), mixed into `CommandService`.

Kept apart from service.py only for size; they run through the same pipeline (`_execute`: idempotency,
optimistic concurrency) and the same scope rule: a plan belongs to its unit, and a caller acts on the
plans of its unit's subtree (one out of scope is not found). A drill saves the drill, the plan's count
and the unit's drill record in one transaction; so does an exercise incident linked to a plan
(`count_exercise`, called from `report_incident`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.common import Actor, InvalidValue
from domain.people import Person
from domain.plans import Drill, Plan, UnitDrills, unit_drills_id
from domain.policy import DEFAULT_PLAN_REVISION_YEARS, local_day
from domain.units import within
from gateway.context import CommandContext

if TYPE_CHECKING:
    from gateway.service_layer.service import Accepted, Decision


class PlanCommands:
    """The handlers; `self` is the CommandService (its log, clock, evidence store and pipeline)."""

    plan_revision_years: int = DEFAULT_PLAN_REVISION_YEARS  # settings: YINGJI_PLAN_REVISION_YEARS

    # provided by CommandService
    clock: Callable[[], datetime]
    log: Any
    _execute: Callable[..., Accepted]
    _load: Callable[..., Any]
    _load_readable: Callable[..., Any]
    _unit: Callable[[str], Any]
    _require_unit: Callable[[str], None]
    _files: Callable[[list[str], str], list[dict[str, Any]]]

    def _today(self) -> date:
        return local_day(self.clock())

    def _unit_drills(self, unit_code: str, by: Actor) -> UnitDrills:
        """The unit's drill record, opened today if it has none yet (two racing openings: one wins, the other decides again)."""
        record_id = unit_drills_id(unit_code)
        if record_id in self.log.repository:
            return self._load(UnitDrills, record_id, "unit drill record")  # type: ignore[no-any-return]
        return UnitDrills.open(unit_code=unit_code, today=self._today(), by=by)

    def count_exercise(self, plan: Plan | None, unit_code: str, source_id: UUID, held_on: date, by: Actor) -> list[Aggregate]:
        """An exercise (演练) counted as a drill: of its plan when linked (and the plan's unit), else of its unit."""
        changed: list[Aggregate] = []
        if plan is not None:
            plan.count_drill(source_id=source_id, held_on=held_on, by=by)
            changed.append(plan)
        record = self._unit_drills(plan.unit_code if plan is not None else unit_code, by)
        record.count(source_id=source_id, held_on=held_on, plan_id=plan.id if plan is not None else None, by=by)
        return [*changed, record]

    def _exercised_plan(self, ctx: CommandContext, plan_id: UUID, unit_code: str) -> Plan:
        """The plan an exercise incident drills: readable by the caller, and one whose unit covers the incident's place."""
        plan = self._readable_plan(ctx, plan_id)
        if not within(plan.unit_code, unit_code):
            raise InvalidValue("the plan belongs to a unit that does not cover the incident's place", field="plan_id")
        return plan

    def _readable_plan(self, ctx: CommandContext, plan_id: UUID) -> Plan:
        return self._load_readable(ctx, Plan, plan_id, "plan", "plan")  # type: ignore[no-any-return]

    def register_plan(self, ctx: CommandContext, *, unit_code: str, kind: str, title: str, version: str, revised_on: date,
                      document: str, mechanism: str | None = None, hazard: str = "") -> Accepted:
        def decide() -> Decision:
            self._require_unit(unit_code)
            ctx.principal.check_unit(unit_code, "the plan's unit")
            plan = Plan.register(unit_code=unit_code, kind=kind, title=title, version=version, revised_on=revised_on,
                                 document=self._files([document], unit_code)[0], today=self._today(),
                                 revision_years=self.plan_revision_years, mechanism=mechanism, hazard=hazard, by=ctx.actor)
            record = self._unit_drills(unit_code, ctx.actor)
            return plan.id, [plan, *([record] if record.pending_events else [])]

        return self._execute(ctx, decide)

    def _plan_command(self, ctx: CommandContext, plan_id: UUID, act: Callable[[Plan], None]) -> Accepted:
        def decide() -> Decision:
            plan = self._readable_plan(ctx, plan_id)
            act(plan)
            return plan.id, [plan]

        return self._execute(ctx, decide)

    def revise_plan(self, ctx: CommandContext, plan_id: UUID, version: str, revised_on: date, document: str, note: str = "",
                    title: str = "") -> Accepted:
        return self._plan_command(ctx, plan_id, lambda p: p.revise(
            version=version, revised_on=revised_on, document=self._files([document], p.unit_code)[0], today=self._today(),
            revision_years=self.plan_revision_years, note=note, title=title, by=ctx.actor))

    def file_plan(self, ctx: CommandContext, plan_id: UUID, filed_with: str, filed_on: date, reference: str = "") -> Accepted:
        return self._plan_command(ctx, plan_id, lambda p: p.file(filed_with=filed_with, filed_on=filed_on, reference=reference,
                                                                 today=self._today(), by=ctx.actor))

    def retire_plan(self, ctx: CommandContext, plan_id: UUID, reason: str) -> Accepted:
        return self._plan_command(ctx, plan_id, lambda p: p.retire(reason, by=ctx.actor))

    def record_drill(self, ctx: CommandContext, plan_id: UUID, kind: str, held_on: date, scenario: str, participants: int,
                     participant_units: list[str] | None = None, people: list[str] | None = None,
                     findings: list[dict[str, Any]] | None = None) -> Accepted:
        """The drill, the plan's count and the unit's drill record, saved together."""

        def decide() -> Decision:
            plan = self._readable_plan(ctx, plan_id)
            for code in participant_units or []:
                if not within(code, code):
                    raise InvalidValue("participant_units are 12-digit unit codes", field="participant_units")
            for person in people or []:  # people of the register, each one the caller may read
                try:
                    person_id = UUID(str(person))
                except ValueError:
                    raise InvalidValue("people are ids of the people register", field="people") from None
                self._load_readable(ctx, Person, person_id, "person", "person")
            drill = Drill.record(plan_id=plan.id, unit_code=plan.unit_code, kind=kind, held_on=held_on, scenario=scenario,
                                 participants=participants, participant_units=participant_units, people=people, findings=findings,
                                 today=self._today(), by=ctx.actor)
            return drill.id, [drill, *self.count_exercise(plan, plan.unit_code, drill.id, date.fromisoformat(drill.held_on), ctx.actor)]

        return self._execute(ctx, decide)

    def resolve_drill_finding(self, ctx: CommandContext, drill_id: UUID, n: int, note: str) -> Accepted:
        def decide() -> Decision:
            drill = self._load_readable(ctx, Drill, drill_id, "drill", "drill")
            drill.resolve_finding(n, note, by=ctx.actor)
            return drill.id, [drill]

        return self._execute(ctx, decide)

    def escalate_plan(self, ctx: CommandContext, plan_id: UUID, reason: str) -> Accepted:
        """The watchdog's command: one durable escalation per lapsed due day (the aggregate refuses a second)."""
        return self._plan_command(ctx, plan_id, lambda p: p.escalate(reason, self._today(), by=ctx.actor))

    def escalate_unit_drills(self, ctx: CommandContext, unit_code: str) -> Accepted:
        def decide() -> Decision:
            record = self._load(UnitDrills, unit_drills_id(unit_code), "unit drill record")
            record.escalate(self._today(), by=ctx.actor)
            return record.id, [record]

        return self._execute(ctx, decide)
