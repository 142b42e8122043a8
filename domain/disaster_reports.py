"""Staged disaster reports (灾情报告): 初报, 续报 and 核报 of an incident, in the national statistics form's figures.

One `DisasterReport` per incident and stage (a 续报 per incident and day: its id derives from
the three), so drafting the same report twice is a clash, never a second report. It is drafted
(and revised) by the desk, signed off by a commander, then submitted; the submission is an event
in the log, so the relay carries it to the city, and the city's acknowledgement of the batch
that held it is recorded on the report (as `Incident.ReportedUpward` is on the incident).

When each stage falls due is `reports_due` (its moments from domain.policy); a missed deadline
is recorded once, as a `ReportDeadline` named by incident, stage and day: a second record of the
same miss is the same aggregate, which the log refuses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidTransition, InvalidValue, event_versions, natural_id, parse_enum, require_state
from domain.incidents import OPEN
from domain.policy import (
    CONTINUING_REPORT_LEVELS,
    SHANGHAI,
    VERIFIED_REPORT_DAYS,
    continuing_report_due_at,
    initial_report_due_at,
    verified_report_due_at,
)


class Stage(StrEnum):
    INITIAL = "initial"  # 初报
    CONTINUING = "continuing"  # 续报
    VERIFIED = "verified"  # 核报


class ReportStatus(StrEnum):
    DRAFT = "draft"  # 草稿
    SIGNED = "signed"  # 已签发
    SUBMITTED = "submitted"  # 已报送
    ACKNOWLEDGED = "acknowledged"  # 市级已接收


# Staged reports follow the national natural-disaster statistics form: for natural disasters.
STAGED_CATEGORIES = frozenset({"natural_disaster"})
STAGES = tuple(Stage)
EDITABLE = frozenset({ReportStatus.DRAFT, ReportStatus.SIGNED})  # revising a signed report voids the sign-off

# The form's figures, in the form's order: (code, kind). Kinds set the unit and the plausible upper bound.
FIGURES: tuple[tuple[str, str], ...] = (
    ("affected_population", "people"),  # 受灾人口 (人次)
    ("deaths", "people"),  # 死亡人口
    ("missing", "people"),  # 失踪人口
    ("relocated", "people"),  # 紧急转移安置人口
    ("needing_assistance", "people"),  # 需紧急生活救助人口
    ("houses_collapsed", "houses"),  # 倒塌房屋 (间)
    ("houses_severely_damaged", "houses"),  # 严重损坏房屋 (间)
    ("houses_generally_damaged", "houses"),  # 一般损坏房屋 (间)
    ("crops_affected_ha", "hectares"),  # 农作物受灾面积 (公顷)
    ("crops_failed_ha", "hectares"),  # 其中绝收面积 (公顷)
    ("economic_loss_10k", "money"),  # 直接经济损失 (万元)
)
FIGURE_CODES = tuple(code for code, _ in FIGURES)
# Plausible upper bounds for one district's report: far above any real figure, low enough to catch a typo.
BOUNDS = {"people": 2_000_000, "houses": 1_000_000, "hectares": 500_000, "money": 10_000_000}
WHOLE = frozenset({"people", "houses"})  # counted; hectares and 万元 take two decimals
# Optional sector-specific losses (分行业直接经济损失, 万元); their sum cannot exceed the total.
SECTORS = ("agriculture", "industry_commerce", "transport", "water_works", "power_telecom", "public_services", "other")
# Figures that cannot exceed another: (part, whole).
PART_OF = (("relocated", "affected_population"), ("needing_assistance", "affected_population"),
           ("crops_failed_ha", "crops_affected_ha"))
MAX_NOTES = 4000


def disaster_report_id(incident_id: UUID | str, stage: str, day: str = "") -> UUID:
    """The report of an incident's stage; a 续报 is also named by its day."""
    return natural_id("disaster-report", f"{incident_id}:{stage}:{day if stage == Stage.CONTINUING else ''}")


def due_key(stage: str, day: str = "") -> str:
    """What a deadline is named by within an incident: the stage, and a 续报's day."""
    return day if stage == Stage.CONTINUING else stage


def _number(code: str, kind: str, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float) or (isinstance(value, float) and not math.isfinite(value)):
        raise InvalidValue(f"{code} must be a number", field=code)
    if kind in WHOLE and isinstance(value, float) and not value.is_integer():
        raise InvalidValue(f"{code} must be a whole number", field=code)
    if value < 0:
        raise InvalidValue(f"{code} cannot be negative", field=code)
    if value > BOUNDS[kind]:
        raise InvalidValue(f"{code} above {BOUNDS[kind]} is not plausible for one district", field=code)
    return int(value) if kind in WHOLE else round(float(value), 2)


def check_figures(figures: dict[str, Any], sectors: dict[str, Any] | None = None) -> tuple[dict[str, int | float], dict[str, float]]:
    """The form's figures, complete (absent ones are 0) and plausible; sector lines within the total."""
    unknown = set(figures) - set(FIGURE_CODES)
    if unknown:
        raise InvalidValue(f"unknown figures: {sorted(unknown)}", field="figures")
    kinds = dict(FIGURES)
    out = {code: _number(code, kinds[code], figures.get(code, 0)) for code in FIGURE_CODES}
    for part, whole in PART_OF:
        if out[part] > out[whole]:
            raise InvalidValue(f"{part} cannot exceed {whole}", field=part)
    lines: dict[str, float] = {}
    for code, value in (sectors or {}).items():
        if code not in SECTORS:
            raise InvalidValue(f"unknown sector {code!r}", field="sectors")
        lines[code] = float(_number(f"sectors.{code}", "money", value))
    if round(sum(lines.values()), 2) > out["economic_loss_10k"]:
        raise InvalidValue("the sector losses add up to more than the direct economic loss", field="sectors")
    return out, {code: lines[code] for code in SECTORS if code in lines}


def _notes(notes: str) -> str:
    if len(notes) > MAX_NOTES:
        raise InvalidValue(f"notes are longer than {MAX_NOTES} characters", field="notes")
    return notes.strip()


class DisasterReport(Aggregate):
    class_version = 1  # its state as kept in snapshots; its events' versions are declared below the class

    @staticmethod
    def create_id(incident_id: UUID, stage: str, day: str, **_: Any) -> UUID:
        return disaster_report_id(incident_id, stage, day)

    @event("Drafted")
    def __init__(self, incident_id: UUID, unit_code: str, stage: str, day: str, figures: dict[str, Any],
                 sectors: dict[str, float], notes: str, by: Actor) -> None:
        self.incident_id = incident_id
        self.unit_code = unit_code
        self.stage = stage
        self.day = day
        self.figures = figures
        self.sectors = sectors
        self.notes = notes
        self.status = ReportStatus.DRAFT.value
        self.submitted_at: datetime | None = None
        self.acknowledged_at: datetime | None = None

    @classmethod
    def draft(cls, *, incident_id: UUID, unit_code: str, category: str, incident_status: str, stage: str, day: date,
              figures: dict[str, Any], by: Actor, sectors: dict[str, Any] | None = None, notes: str = "",
              controlled: bool = False) -> DisasterReport:
        stage = parse_enum(Stage, stage, "stage")
        if category not in STAGED_CATEGORIES:
            raise InvalidValue("staged disaster reports are for natural disasters", field="incident_id")
        if incident_status == "dismissed":
            raise InvalidValue("a dismissed report of an incident takes no disaster report", field="incident_id")
        if stage == Stage.VERIFIED and not controlled:
            raise InvalidValue("the 核报 (verified report) follows once the incident is controlled", field="stage")
        checked, lines = check_figures(figures, sectors)
        return cls(incident_id=incident_id, unit_code=unit_code, stage=stage, day=day.isoformat(), figures=checked,
                   sectors=lines, notes=_notes(notes), by=by)

    def revise(self, figures: dict[str, Any], sectors: dict[str, Any] | None, notes: str, by: Actor) -> None:
        require_state(self.status, EDITABLE, "revise", "disaster report")
        checked, lines = check_figures(figures, sectors)
        self._revised(figures=checked, sectors=lines, notes=_notes(notes), by=by)

    @event("Revised")
    def _revised(self, figures: dict[str, Any], sectors: dict[str, float], notes: str, by: Actor) -> None:
        self.figures = figures
        self.sectors = sectors
        self.notes = notes
        self.status = ReportStatus.DRAFT.value

    def sign_off(self, note: str, by: Actor) -> None:
        require_state(self.status, {ReportStatus.DRAFT}, "sign off", "disaster report")
        self._signed_off(note=_notes(note), by=by)

    @event("SignedOff")
    def _signed_off(self, note: str, by: Actor) -> None:
        self.status = ReportStatus.SIGNED.value

    def submit(self, due_at: datetime, now: datetime, by: Actor) -> None:
        """Send upward (the event goes to the city with the relay); `due_at` is the stage's deadline, kept with it."""
        require_state(self.status, {ReportStatus.SIGNED}, "submit", "disaster report")
        self._submitted(due_at=due_at, in_time=now <= due_at, by=by)

    @event("Submitted")
    def _submitted(self, due_at: datetime, in_time: bool, by: Actor) -> None:
        self.status = ReportStatus.SUBMITTED.value

    def record_acknowledged(self, acknowledged_at: datetime, batch_id: str, by: Actor) -> None:
        """The city acknowledged the batch holding the submission: recorded once."""
        require_state(self.status, {ReportStatus.SUBMITTED}, "record the city's acknowledgement of", "disaster report")
        if acknowledged_at.tzinfo is None:
            raise InvalidValue("acknowledged_at needs a time zone", field="acknowledged_at")
        self._acknowledged(acknowledged_at=acknowledged_at, batch_id=batch_id, by=by)

    @event("CityAcknowledged")
    def _acknowledged(self, acknowledged_at: datetime, batch_id: str, by: Actor) -> None:
        self.status = ReportStatus.ACKNOWLEDGED.value
        self.acknowledged_at = acknowledged_at


def report_deadline_id(incident_id: UUID | str, stage: str, key: str) -> UUID:
    return natural_id("report-deadline", f"{incident_id}:{stage}:{key}")


class ReportDeadline(Aggregate):
    """A missed deadline of a staged report, recorded once (the watchdog's durable escalation)."""

    class_version = 1

    @staticmethod
    def create_id(incident_id: UUID, stage: str, key: str, **_: Any) -> UUID:
        return report_deadline_id(incident_id, stage, key)

    @event("Missed")
    def __init__(self, incident_id: UUID, unit_code: str, stage: str, key: str, deadline: datetime, by: Actor) -> None:
        self.incident_id = incident_id
        self.unit_code = unit_code
        self.stage = stage
        self.key = key
        self.deadline = deadline

    @classmethod
    def miss(cls, *, incident_id: UUID, unit_code: str, stage: str, key: str, deadline: datetime, now: datetime,
             by: Actor) -> ReportDeadline:
        stage = parse_enum(Stage, stage, "stage")
        if now < deadline:
            raise InvalidTransition("the deadline has not passed", deadline=deadline.isoformat())
        return cls(incident_id=incident_id, unit_code=unit_code, stage=stage, key=key, deadline=deadline, by=by)


@dataclass(frozen=True)
class Due:
    """A report an incident owes: its stage, the key its deadline is named by, and the moment it falls due."""

    stage: str
    key: str
    due_at: datetime


# How many days back the watchdog still records a missed 续报 (it may have been down); the board shows today's.
CONTINUING_LOOKBACK_DAYS = 7


def reports_due(*, category: str, level: str, status: str, occurred_at: datetime, controlled_at: datetime | None,
                now: datetime, verified_days: int = VERIFIED_REPORT_DAYS, lookback_days: int = 0) -> list[Due]:
    """The reports an incident owes at `now`, submitted or not (the caller knows which were): its 初报; today's
    续报 while a level I or II incident is open, from the day after it occurred (and those of the `lookback_days`
    before today: a 续报 is drafted for its own day, so a past day's stays owed); its 核报 once controlled."""
    if category not in STAGED_CATEGORIES or status == "dismissed":
        return []
    owed = [Due(Stage.INITIAL.value, Stage.INITIAL.value, initial_report_due_at(occurred_at))]
    today = now.astimezone(SHANGHAI).date()
    first = max(occurred_at.astimezone(SHANGHAI).date() + timedelta(days=1), today - timedelta(days=lookback_days))
    if level in CONTINUING_REPORT_LEVELS and status in OPEN:
        for n in range((today - first).days + 1):
            day = first + timedelta(days=n)
            owed.append(Due(Stage.CONTINUING.value, day.isoformat(), continuing_report_due_at(day)))
    if controlled_at is not None:
        owed.append(Due(Stage.VERIFIED.value, Stage.VERIFIED.value, verified_report_due_at(controlled_at, verified_days)))
    return owed


# The version of each stored event type (see domain.common.event_versions): a new shape is a new version.
event_versions(DisasterReport, Drafted=1, Revised=1, SignedOff=1, Submitted=1, CityAcknowledged=1)
event_versions(ReportDeadline, Missed=1)
