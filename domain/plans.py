"""预案与演练: plans (overall, special, and the six mechanism documents), their drills, and the 2-year rule.

- A plan (预案) belongs to a unit (the district, a street, a village): an overall plan (总体预案), a special
  plan (专项预案, for a hazard: 防汛, 地质灾害, 森林防火...) or a mechanism document (机制文件, one of the six
  mechanisms of the district plan's 有机制: warning, consultation, linkage, coordination, support,
  investigation). Each version has a title, a version label, the day it was revised (issued) and its
  document, a file of the evidence store named by SHA-256. Revising records a new version and document;
  filing (备案) records with whom and when; a retired plan leaves the register's rules.
- A plan is due for revision `revision_years` after its revision day (domain.policy, settings): the due
  day is recorded in the event, so a later change of the setting does not rewrite history.
- A drill (演练) of a plan: kind (桌面 tabletop / 专项 special / 综合 comprehensive), day, participants
  (a count, the units taking part, optionally people of the register), scenario and findings. Each finding
  is a rectification item with an owner and a deadline, resolved later with a note.
- The 2-year rule (domain.policy.drill_due): every overall and special plan (mechanism documents are not
  drilled), and every unit with plans, is drilled at least every
  two years. The plan counts its own drills and the exercise incidents (演练) linked to it (`DrillCounted`);
  a unit's drill record (`UnitDrills`, one per unit, named by its code) counts every drill of its plans and
  every exercise incident in it. A lapse (drill or revision) is escalated once per due day by the watchdog:
  the aggregate refuses a second escalation of the same due day and one not (or no longer) lapsed.

Days are ISO dates (YYYY-MM-DD, Asia/Shanghai) in the events.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidTransition, InvalidValue, event_versions, natural_id, parse_enum, require_state
from domain.policy import drill_due, revision_lapsed, years_after


class PlanKind(StrEnum):
    OVERALL = "overall"  # 总体预案
    SPECIAL = "special"  # 专项预案
    MECHANISM = "mechanism"  # 机制文件


class Mechanism(StrEnum):
    """The six mechanisms of 有机制 (the district plan), each recorded as a document."""

    WARNING = "warning"  # 预警
    CONSULTATION = "consultation"  # 会商
    LINKAGE = "linkage"  # 联动
    COORDINATION = "coordination"  # 协调
    SUPPORT = "support"  # 保障
    INVESTIGATION = "investigation"  # 调查


MECHANISMS = tuple(m.value for m in Mechanism)


class PlanStatus(StrEnum):
    ACTIVE = "active"  # 有效
    RETIRED = "retired"  # 已废止


class DrillKind(StrEnum):
    TABLETOP = "tabletop"  # 桌面推演
    SPECIAL = "special"  # 专项演练
    COMPREHENSIVE = "comprehensive"  # 综合演练


class Lapse(StrEnum):
    """What an alarm of the register says lapsed (the escalation's reason)."""

    DRILL = "drill_lapsed"  # 演练到期: not drilled within 2 years
    REVISION = "revision_lapsed"  # 修订到期: not revised within its cycle


MAX_FINDINGS = 30
MAX_PARTICIPANTS = 100_000


def _text(value: str, field: str, required: bool = True, limit: int = 200) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidValue(f"{field} is required", field=field)
    if len(value) > limit:
        raise InvalidValue(f"{field} is at most {limit} characters", field=field)
    return value


def _day(value: date | str, field: str, today: date | None = None) -> str:
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise InvalidValue(f"{field} must be a day (YYYY-MM-DD)", field=field) from None
    if today is not None and day > today:
        raise InvalidValue(f"{field} cannot be in the future", field=field)
    return day.isoformat()


def _document(doc: dict[str, Any] | None) -> dict[str, Any]:
    """The plan's document: a file of the evidence store, named by SHA-256 (the service checks it was uploaded)."""
    doc = doc or {}
    sha = str(doc.get("sha256", ""))
    if len(sha) != 64 or any(ch not in "0123456789abcdef" for ch in sha):
        raise InvalidValue("the plan's document is named by its SHA-256 (64 hex digits)", field="document")
    return {"sha256": sha, "media_type": str(doc.get("media_type", "")), "size": int(doc.get("size", 0)), "name": str(doc.get("name", ""))}


def plan_drill_state(last_drill_on: str | None, registered_on: str, today: date) -> tuple[date, bool]:
    """The 2-year rule for a plan: (due day, lapsed?), from its last drill or, before any, its registration."""
    return drill_due(date.fromisoformat(last_drill_on) if last_drill_on else None, date.fromisoformat(registered_on), today)


class Plan(Aggregate):
    class_version = 1

    @event("Registered")
    def __init__(self, unit_code: str, kind: str, mechanism: str | None, hazard: str, title: str, version: str,
                 revised_on: str, document: dict[str, Any], revision_due_on: str, registered_on: str, by: Actor) -> None:
        self.unit_code = unit_code
        self.kind = kind
        self.mechanism = mechanism
        self.title = title
        self.edition = version  # the plan's version label (the aggregate's own `version` counts its events)
        self.revised_on = revised_on
        self.revision_due_on = revision_due_on
        self.registered_on = registered_on
        self.status = PlanStatus.ACTIVE.value
        self.last_drill_on: str | None = None
        self.escalated: list[str] = []  # "<reason>:<due day>" already escalated

    @classmethod
    def register(cls, *, unit_code: str, kind: str, title: str, version: str, revised_on: date | str, document: dict[str, Any],
                 today: date, revision_years: int, by: Actor, mechanism: str | None = None, hazard: str = "") -> Plan:
        kind = parse_enum(PlanKind, kind, "kind")
        if kind == PlanKind.MECHANISM:
            mechanism = parse_enum(Mechanism, mechanism or "", "mechanism")
        elif mechanism:
            raise InvalidValue("only a mechanism document names a mechanism", field="mechanism")
        revised = _day(revised_on, "revised_on", today)
        return cls(unit_code=unit_code, kind=kind, mechanism=mechanism or None, hazard=_text(hazard, "hazard", required=False, limit=40),
                   title=_text(title, "title"), version=_text(version, "version", limit=40), revised_on=revised,
                   document=_document(document), revision_due_on=years_after(date.fromisoformat(revised), revision_years).isoformat(),
                   registered_on=today.isoformat(), by=by)

    def _require_active(self, action: str) -> None:
        require_state(self.status, {PlanStatus.ACTIVE}, action, "plan")

    def revise(self, *, version: str, revised_on: date | str, document: dict[str, Any], today: date, revision_years: int,
               by: Actor, note: str = "", title: str = "") -> None:
        """A new version with its document; its revision day restarts the revision cycle."""
        self._require_active("revise")
        version = _text(version, "version", limit=40)
        if version == self.edition:
            raise InvalidValue("a revision is a new version", field="version")
        revised = _day(revised_on, "revised_on", today)
        if revised < self.revised_on:
            raise InvalidValue("a revision is not older than the version it replaces", field="revised_on")
        self._revised(version=version, revised_on=revised, document=_document(document), title=_text(title, "title", required=False) or self.title,
                      note=_text(note, "note", required=False, limit=500),
                      revision_due_on=years_after(date.fromisoformat(revised), revision_years).isoformat(), by=by)

    @event("Revised")
    def _revised(self, version: str, revised_on: str, document: dict[str, Any], title: str, note: str, revision_due_on: str,
                 by: Actor) -> None:
        self.edition = version
        self.revised_on = revised_on
        self.revision_due_on = revision_due_on
        self.title = title

    def file(self, *, filed_with: str, filed_on: date | str, today: date, by: Actor, reference: str = "") -> None:
        """备案: the current version filed with a body (e.g. 区应急管理局) on a day, with its reference number."""
        self._require_active("file")
        filed = _day(filed_on, "filed_on", today)
        if filed < self.revised_on:
            raise InvalidValue("a version is filed on or after the day it was revised", field="filed_on")
        self._filed(version=self.edition, filed_with=_text(filed_with, "filed_with", limit=100), filed_on=filed,
                    reference=_text(reference, "reference", required=False, limit=60), by=by)

    @event("Filed")
    def _filed(self, version: str, filed_with: str, filed_on: str, reference: str, by: Actor) -> None:
        pass

    def retire(self, reason: str, by: Actor) -> None:
        self._require_active("retire")
        self._retired(reason=_text(reason, "reason", limit=500), by=by)

    @event("Retired")
    def _retired(self, reason: str, by: Actor) -> None:
        self.status = PlanStatus.RETIRED.value

    @property
    def drilled(self) -> bool:
        """Overall and special plans are drilled (the 2-year rule); a mechanism document is not."""
        return self.kind != PlanKind.MECHANISM

    def count_drill(self, *, source_id: UUID, held_on: date | str, by: Actor) -> None:
        """A drill of this plan, or an exercise incident linked to it, counts for its 2-year rule."""
        self._require_active("drill")
        if not self.drilled:
            raise InvalidValue("a mechanism document is not drilled; drill a plan", field="plan_id")
        self._drill_counted(source_id=source_id, held_on=_day(held_on, "held_on"), by=by)

    @event("DrillCounted")
    def _drill_counted(self, source_id: UUID, held_on: str, by: Actor) -> None:
        self.last_drill_on = max(self.last_drill_on or held_on, held_on)

    def lapse(self, reason: str, today: date) -> str | None:
        """The due day that has passed for `reason`, or None when not lapsed (a retired plan never is)."""
        if self.status != PlanStatus.ACTIVE:
            return None
        if reason == Lapse.DRILL:
            if not self.drilled:
                return None
            due, lapsed = plan_drill_state(self.last_drill_on, self.registered_on, today)
            return due.isoformat() if lapsed else None
        due_on = date.fromisoformat(self.revision_due_on)
        return self.revision_due_on if revision_lapsed(due_on, today) else None

    def escalate(self, reason: str, today: date, by: Actor) -> None:
        """One escalation per lapsed due day (a drill or a revision moves the due day, which can lapse again)."""
        reason = parse_enum(Lapse, reason, "reason")
        due_on = self.lapse(reason, today)
        if due_on is None:
            raise InvalidTransition(f"the plan is not lapsed ({reason})", status=self.status)
        if f"{reason}:{due_on}" in self.escalated:
            raise InvalidTransition("already escalated for this due day")
        self._escalated(reason=reason, due_on=due_on, by=by)

    @event("Escalated")
    def _escalated(self, reason: str, due_on: str, by: Actor) -> None:
        self.escalated = [*self.escalated, f"{reason}:{due_on}"]


def _findings(findings: list[dict[str, Any]] | None, held_on: str) -> list[dict[str, Any]]:
    """Each finding is a rectification item: what was found, who owns the fix, by when."""
    rows = list(findings or [])
    if len(rows) > MAX_FINDINGS:
        raise InvalidValue(f"at most {MAX_FINDINGS} findings", field="findings")
    out = []
    for n, f in enumerate(rows, start=1):
        deadline = _day(str(f.get("deadline", "")), "deadline")
        if deadline < held_on:
            raise InvalidValue("a finding's deadline is not before the drill", field="findings")
        out.append({"n": n, "finding": _text(str(f.get("finding", "")), "finding", limit=500),
                    "owner": _text(str(f.get("owner", "")), "owner", limit=100), "deadline": deadline})
    return out


class Drill(Aggregate):
    class_version = 1

    @event("Recorded")
    def __init__(self, plan_id: UUID, unit_code: str, kind: str, held_on: str, scenario: str, participants: int,
                 participant_units: list[str], people: list[str], findings: list[dict[str, Any]], by: Actor) -> None:
        self.plan_id = plan_id
        self.unit_code = unit_code
        self.kind = kind
        self.held_on = held_on
        self.findings = findings
        self.resolved: list[int] = []

    @classmethod
    def record(cls, *, plan_id: UUID, unit_code: str, kind: str, held_on: date | str, scenario: str, participants: int,
               today: date, by: Actor, participant_units: list[str] | None = None, people: list[str] | None = None,
               findings: list[dict[str, Any]] | None = None) -> Drill:
        kind = parse_enum(DrillKind, kind, "kind")
        held = _day(held_on, "held_on", today)
        if not isinstance(participants, int) or isinstance(participants, bool) or not 1 <= participants <= MAX_PARTICIPANTS:
            raise InvalidValue(f"participants is a count from 1 to {MAX_PARTICIPANTS}", field="participants")
        units = sorted({str(u) for u in participant_units or []})
        return cls(plan_id=plan_id, unit_code=unit_code, kind=kind, held_on=held, scenario=_text(scenario, "scenario", limit=1000),
                   participants=participants, participant_units=units, people=[str(p) for p in people or []],
                   findings=_findings(findings, held), by=by)

    def resolve_finding(self, n: int, note: str, by: Actor) -> None:
        """A finding's rectification done (整改完成), with a note on what was done."""
        if n not in {f["n"] for f in self.findings}:
            raise InvalidValue(f"the drill has no finding {n}", field="n")
        if n in self.resolved:
            raise InvalidTransition("the finding is resolved already")
        self._finding_resolved(n=n, note=_text(note, "note", limit=500), by=by)

    @event("FindingResolved")
    def _finding_resolved(self, n: int, note: str, by: Actor) -> None:
        self.resolved = [*self.resolved, n]


def unit_drills_id(unit_code: str) -> UUID:
    return natural_id("unit-drills", unit_code)


class UnitDrills(Aggregate):
    """A unit's drill record (the 2-year rule per unit): opened with its first plan or drill, named by the unit."""

    class_version = 1

    @event("Opened")
    def __init__(self, unit_code: str, since: str, by: Actor) -> None:
        self.unit_code = unit_code
        self.since = since
        self.last_drill_on: str | None = None
        self.escalated: list[str] = []  # due days already escalated

    @classmethod
    def open(cls, *, unit_code: str, today: date, by: Actor) -> UnitDrills:
        return cls(unit_code=unit_code, since=today.isoformat(), by=by)

    @staticmethod
    def create_id(unit_code: str, **_: Any) -> UUID:
        return unit_drills_id(unit_code)

    def count(self, *, source_id: UUID, held_on: date | str, by: Actor, plan_id: UUID | None = None) -> None:
        """A drill in the unit: one of its plans', or an exercise incident in it."""
        self._counted(unit_code=self.unit_code, source_id=source_id, plan_id=plan_id, held_on=_day(held_on, "held_on"), by=by)

    @event("Counted")
    def _counted(self, unit_code: str, source_id: UUID, plan_id: UUID | None, held_on: str, by: Actor) -> None:
        self.last_drill_on = max(self.last_drill_on or held_on, held_on)

    def state(self, today: date) -> tuple[date, bool]:
        return drill_due(date.fromisoformat(self.last_drill_on) if self.last_drill_on else None, date.fromisoformat(self.since), today)

    def escalate(self, today: date, by: Actor) -> None:
        due, lapsed = self.state(today)
        if not lapsed:
            raise InvalidTransition("the unit's drills are not lapsed")
        if due.isoformat() in self.escalated:
            raise InvalidTransition("already escalated for this due day")
        self._escalated(unit_code=self.unit_code, due_on=due.isoformat(), by=by)

    @event("Escalated")
    def _escalated(self, unit_code: str, due_on: str, by: Actor) -> None:
        self.escalated = [*self.escalated, due_on]


# The version of each stored event type (see domain.common.event_versions): a new shape is a new version.
event_versions(Plan, Registered=1, Revised=1, Filed=1, Retired=1, DrillCounted=1, Escalated=1)
event_versions(Drill, Recorded=1, FindingResolved=1)
event_versions(UnitDrills, Opened=1, Counted=1, Escalated=1)
