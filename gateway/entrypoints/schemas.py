"""Request bodies of the command API. Strict: unknown fields, wrong types and bad enums are refused.

Every text in every body (any model deriving from `Body`, dict keys included) passes one rule,
`clean_text`: normalised to NFC; control characters refused (newline and tab are allowed in
multi-line fields, marked `MULTILINE`), and so are bidirectional overrides and isolates and
zero-width characters, which make text read otherwise than it is stored ("RTL \u202eexe.txt"
shows as "RTL txt.exe"). NUL is a control character, so it never reaches PostgreSQL (which
cannot store it). Passwords (`SECRET`) are refused control characters but kept byte for byte.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, create_model, field_validator

from domain.disaster_reports import BOUNDS, FIGURES, SECTORS, WHOLE, Stage
from domain.incidents import Category, Level
from domain.plans import MAX_FINDINGS, MAX_PARTICIPANTS, DrillKind, Mechanism, PlanKind
from domain.teams import TeamKind
from domain.units import UnitKind
from domain.warnings import WarningLevel


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a time zone, e.g. 2026-07-20T08:30:00+08:00")
    return value


EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
CLOCK_SKEW = timedelta(minutes=10)


def _past(value: datetime) -> datetime:
    """A time that has happened: not in the future (beyond clock skew), not before 1970."""
    value = _aware(value)
    if value > datetime.now(timezone.utc) + CLOCK_SKEW:
        raise ValueError("is in the future")
    if value < EARLIEST:
        raise ValueError("is before 1970")
    return value


class TextPolicy:
    """Marks a text field in `Annotated[...]` metadata; unmarked text is single-line."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


MULTILINE = TextPolicy("multiline")  # notes, descriptions, reasons: newline and tab allowed
SECRET = TextPolicy("secret")  # passwords: no control characters, otherwise kept as typed (never normalised)

BIDI_CONTROLS = {
    **{chr(c): "a bidirectional override" for c in range(0x202A, 0x202F)},  # LRE RLE PDF LRO RLO
    **{chr(c): "a bidirectional isolate" for c in range(0x2066, 0x206A)},  # LRI RLI FSI PDI
    "\u200e": "a bidirectional mark", "\u200f": "a bidirectional mark", "\u061c": "a bidirectional mark",
}
ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}


def clean_text(value: str, policy: TextPolicy | None = None) -> str:
    """The one rule for text from outside (see the module's docstring); raises ValueError with the reason."""
    multiline = policy is MULTILINE
    if policy is not SECRET:
        value = unicodedata.normalize("NFC", value.replace("\r\n", "\n") if multiline else value)
    for i, ch in enumerate(value):
        where = f"at character {i + 1} (U+{ord(ch):04X})"
        category = unicodedata.category(ch)
        if category == "Cc":
            if multiline and ch in "\n\t":
                continue
            what = "a NUL character" if ch == "\x00" else "a line break" if ch in "\r\n" else "a control character"
            raise ValueError(f"contains {what} {where}" + ("; this field is one line" if ch in "\r\n" else ""))
        if category == "Cs":
            raise ValueError(f"contains an unpaired surrogate {where}")
        if policy is SECRET:
            continue
        if ch in BIDI_CONTROLS:
            raise ValueError(f"contains {BIDI_CONTROLS[ch]} {where}, which makes text read otherwise than it is written")
        if ch in ZERO_WIDTH:
            raise ValueError(f"contains an invisible zero-width character {where}")
    return value


def _clean_any(value: Any, policy: TextPolicy | None) -> Any:
    if isinstance(value, str):
        return clean_text(value, policy)
    if isinstance(value, dict):
        return {_clean_any(k, None): _clean_any(v, policy) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_clean_any(v, policy) for v in value)
    return value


Quantity = Annotated[int, Field(strict=True, gt=0, le=10_000_000)]
Count = Annotated[int, Field(strict=True, ge=0, le=10_000_000)]
# People in a situation report (deaths, injured, missing, evacuated, affected): a district's
# whole population is far below this, and the board's cards are laid out for up to seven digits.
People = Annotated[int, Field(strict=True, ge=0, le=1_000_000)]
Text = Annotated[str, Field(max_length=2000), MULTILINE]
Line = Annotated[str, Field(max_length=2000)]  # one line (an address)
Name = Annotated[str, Field(min_length=1, max_length=200)]
UnitCode = Annotated[str, Field(pattern=r"^[0-9]{12}$", description="12-digit division code")]
MaterialCode = Annotated[str, Field(min_length=1, max_length=40)]
Lat = Annotated[float, Field(ge=-90, le=90)]
Lon = Annotated[float, Field(ge=-180, le=180)]
AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
PastDatetime = Annotated[datetime, AfterValidator(_past)]
Lines = Annotated[dict[MaterialCode, Quantity], Field(min_length=1, max_length=100)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _clean_text(cls, value: Any, info: ValidationInfo) -> Any:
        """Every text field of every command, by the one rule (`clean_text`)."""
        field = cls.model_fields.get(info.field_name or "")
        policy = next((m for m in field.metadata if isinstance(m, TextPolicy)), None) if field else None
        return _clean_any(value, policy)


class UnitIn(Body):
    code: UnitCode
    name: Name
    kind: UnitKind
    lat: Lat | None = None
    lon: Lon | None = None
    parts: dict[str, Count] = Field(default_factory=dict)


class IncidentIn(Body):
    category: Category
    subtype: Annotated[str, Field(min_length=1, max_length=40)]
    level: Level
    title: Name
    description: Text = ""
    unit_code: UnitCode
    address: Line = ""
    lat: Lat | None = None
    lon: Lon | None = None
    occurred_at: PastDatetime
    source: Annotated[str, Field(max_length=200)] = ""
    exercise: bool = Field(default=False, description="an exercise (演练): shown as such, left out of statistics and the 2-hour rule")
    plan_id: UUID | None = Field(default=None, description="the plan an exercise drills (counts for its 2-year drill rule)")


class EmptyIn(Body):
    """For commands that take no fields: `{}` or no body; anything else is refused."""


class NoteIn(Body):
    note: Text = ""


class LevelIn(Body):
    level: Level
    reason: Text = ""


class SituationIn(Body):
    deaths: People | None = None
    injured: People | None = None
    missing: People | None = None
    evacuated: People | None = None
    affected: People | None = None
    notes: Text = ""

    def figures(self) -> dict[str, int]:
        return {k: v for k, v in self.model_dump(exclude={"notes"}).items() if v is not None}


class SummaryIn(Body):
    summary: Annotated[str, Field(min_length=1, max_length=4000), MULTILINE]


class ReasonIn(Body):
    reason: Annotated[str, Field(min_length=1, max_length=2000), MULTILINE]


class TeamIn(Body):
    name: Name
    kind: TeamKind
    unit_code: UnitCode
    members: Annotated[int, Field(strict=True, ge=1, le=100_000)]
    leader: Annotated[str, Field(max_length=100)] = ""
    phone: Annotated[str, Field(max_length=40)] = ""


class DutyIn(Body):
    on_duty: Annotated[bool, Field(strict=True)]


class DispatchIn(Body):
    team_id: UUID
    task: Annotated[str, Field(min_length=1, max_length=2000), MULTILINE]
    ack_minutes: Annotated[int, Field(strict=True, ge=1, le=24 * 60)] | None = None


class WarehouseIn(Body):
    name: Name
    unit_code: UnitCode
    address: Line = ""
    manager: Annotated[str, Field(max_length=100)] = ""
    phone: Annotated[str, Field(max_length=40)] = ""
    lat: Lat | None = None
    lon: Lon | None = None


class ReceiptIn(Body):
    lines: Lines
    note: Text = ""


class CountIn(Body):
    code: MaterialCode
    counted: Count
    note: Text = ""


class MinimumIn(Body):
    code: MaterialCode
    minimum: Count


class AllocationIn(Body):
    incident_id: UUID
    warehouse_id: UUID
    lines: Lines
    destination: Line = ""
    team_id: UUID | None = None


class ShipIn(Body):
    vehicle: Annotated[str, Field(max_length=100)] = ""


class DeliverIn(Body):
    received_by: Annotated[str, Field(max_length=100)] = ""


class ReturnIn(Body):
    lines: Lines
    note: Text = ""


class UserIn(Body):
    username: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{2,64}$")]
    password: Annotated[str, Field(min_length=8, max_length=200), SECRET]
    role: Annotated[str, Field(pattern=r"^(admin|commander|operator|field|reporter|observer)$")]
    unit_code: UnitCode
    team_id: UUID | None = None
    display_name: Annotated[str, Field(max_length=128)] = ""


class TeamAccountIn(Body):
    username: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{2,64}$")] | None = None
    display_name: Annotated[str, Field(max_length=128)] = ""


class Accepted(BaseModel):
    id: str
    position: int


class DailyReportIn(Body):
    """The day's report of a village or community: `zero` when nothing happened (零报告)."""

    unit_code: UnitCode
    day: date = Field(description="the reporting day in Asia/Shanghai, e.g. 2026-07-20")
    zero: bool = Field(strict=True)
    summary: Text = ""


# -- staged disaster reports (灾情报告) ------------------------------------------
def _figure_field(kind: str) -> Any:
    bound = BOUNDS[kind]
    if kind in WHOLE:
        return Annotated[int, Field(strict=True, ge=0, le=bound)], 0
    return Annotated[float, Field(strict=True, ge=0, le=bound, allow_inf_nan=False)], 0


# The national form's figures, each optional (0 when absent), bounded as domain.disaster_reports says.
FiguresIn = create_model("FiguresIn", __base__=Body, **{code: _figure_field(kind) for code, kind in FIGURES})  # type: ignore[call-overload]
SectorCode = Literal[SECTORS]  # type: ignore[valid-type]
Money = Annotated[float, Field(strict=True, ge=0, le=BOUNDS["money"], allow_inf_nan=False)]


class DisasterFiguresIn(Body):
    figures: FiguresIn  # type: ignore[valid-type]
    sectors: dict[SectorCode, Money] = Field(default_factory=dict)
    notes: Text = ""


class DisasterReportIn(DisasterFiguresIn):
    """A new 初报, 续报 (today's) or 核报 of the incident, as a draft."""

    stage: Stage


# -- the duty desk (值班表, 交接班) ----------------------------------------------
class PersonIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=50)]
    phone: Annotated[str, Field(max_length=20, pattern=r"^(\+?[0-9][0-9\- ]{4,19})?$")] = ""


class RosterIn(Body):
    """Who is on duty at a unit on a duty day (08:30 to 08:30): the leader on duty and the duty officers."""

    unit_code: UnitCode
    day: date
    leader: PersonIn
    officers: Annotated[list[PersonIn], Field(min_length=1, max_length=8)]


class HandoverIn(Body):
    """The outgoing officer's signature; what is still open is generated by the server, not sent."""

    unit_code: UnitCode
    notes: Text = ""
    day: date | None = None
# -- early warnings (预警) ------------------------------------------------------
Headline = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=4000), MULTILINE]


class WarningIn(Body):
    """A warning drafted at the desk; the commander issues it (签发)."""

    category: Category
    subtype: Annotated[str, Field(min_length=1, max_length=40)]
    level: WarningLevel
    headline: Headline
    description: Description = ""
    instruction: Text = ""
    onset: AwareDatetime
    expires: AwareDatetime
    targets: Annotated[list[UnitCode], Field(min_length=1, max_length=1000)]
    exercise: bool = Field(default=False, strict=True)


class WarningChangesIn(Body):
    """An update: only the fields that change, and why (a new version superseding the last)."""

    level: WarningLevel | None = None
    headline: Headline | None = None
    description: Description | None = None
    instruction: Text | None = None
    onset: AwareDatetime | None = None
    expires: AwareDatetime | None = None
    reason: Text = ""

    def changes(self) -> dict[str, Any]:
        return {k: (v.value if isinstance(v, WarningLevel) else v) for k, v in self.model_dump(exclude_unset=True, exclude={"reason"}).items()
                if v is not None}


class ResponseIn(Body):
    """响应措施: what the target unit did, with counts (patrols, people moved, roads closed...)."""

    measures: dict[Annotated[str, Field(max_length=40)], Annotated[int, Field(strict=True, ge=0, le=1_000_000)]] = Field(
        default_factory=dict, max_length=20)
    note: Text = ""
# -- 双重预防: risk points, inspections, hidden dangers ---------------------------------------
from domain.prevention import (  # noqa: E402  (kept in one block with the bodies it serves)
    CONTROL_TIERS, FIVE_IN_PLACE, MAX_EVIDENCE, AssessMethod, CheckResult, DangerGrade, InspectionKind, RiskLevel,
)

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of a file uploaded with POST /evidence")]
Evidence = Annotated[list[Sha256], Field(max_length=MAX_EVIDENCE)]
FutureDatetime = Annotated[datetime, AfterValidator(_aware)]
Short = Annotated[str, Field(min_length=1, max_length=200)]
LecL = Annotated[float, Field(ge=0.1, le=10)]
LecE = Annotated[float, Field(ge=0.5, le=10)]
LecC = Annotated[float, Field(ge=1, le=100)]


class AssessmentIn(Body):
    """LEC (`l`, `e`, `c` from the method's tables) or a level given directly with its basis."""

    method: AssessMethod
    l: LecL | None = None  # noqa: E741
    e: LecE | None = None
    c: LecC | None = None
    level: RiskLevel | None = None
    basis: Text = ""


class RiskPointIn(AssessmentIn):
    unit_code: UnitCode
    name: Name
    subject: Name
    hazard: Annotated[str, Field(min_length=1, max_length=2000), MULTILINE]
    industry: Annotated[str, Field(max_length=100)] = ""
    address: Line = ""
    lat: Lat | None = None
    lon: Lon | None = None


class ControlIn(Body):
    tier: Annotated[str, Field(pattern="^(" + "|".join(CONTROL_TIERS) + ")$")]
    measures: Annotated[str, Field(min_length=1, max_length=2000), MULTILINE]
    person: Short


class ControlsIn(Body):
    controls: Annotated[list[ControlIn], Field(min_length=1, max_length=len(CONTROL_TIERS))]


class CheckIn(Body):
    item: Short
    result: CheckResult
    note: Text = ""


class FindingIn(Body):
    grade: DangerGrade
    title: Name
    description: Text = ""
    risk_point_id: UUID | None = None
    site: Line = ""
    evidence: Evidence = Field(default_factory=list)


class InspectionIn(Body):
    unit_code: UnitCode
    kind: InspectionKind
    inspected_at: PastDatetime
    checklist: Annotated[list[CheckIn], Field(min_length=1, max_length=200)]
    risk_point_ids: Annotated[list[UUID], Field(max_length=50)] = Field(default_factory=list)
    site: Line = ""
    inspectors: Annotated[str, Field(max_length=200)] = ""
    findings: Annotated[list[FindingIn], Field(max_length=50)] = Field(default_factory=list)


class HiddenDangerIn(Body):
    unit_code: UnitCode
    grade: DangerGrade
    title: Name
    description: Text = ""
    risk_point_id: UUID | None = None
    site: Line = ""
    evidence: Evidence = Field(default_factory=list)


class FiveIn(Body):
    """重大隐患 五落实: each one said in words."""

    responsibility: Text = ""
    measures: Text = ""
    funds: Text = ""
    time_limit: Text = ""
    plan: Text = ""


assert tuple(FiveIn.model_fields) == FIVE_IN_PLACE


class AssignIn(Body):
    rectifier: Short
    responsible: Short
    deadline: FutureDatetime
    measures: Annotated[str, Field(min_length=1, max_length=4000), MULTILINE]
    five: FiveIn | None = None
    supervision: Annotated[str, Field(max_length=200)] = ""


class ProgressIn(Body):
    note: Annotated[str, Field(min_length=1, max_length=4000), MULTILINE]
    evidence: Evidence = Field(default_factory=list)


class DeadlineIn(Body):
    deadline: FutureDatetime
    reason: Annotated[str, Field(min_length=1, max_length=2000), MULTILINE]


class RectifiedIn(Body):
    evidence: Annotated[list[Sha256], Field(min_length=1, max_length=MAX_EVIDENCE)]
    note: Text = ""


class RejectIn(Body):
    reason: Annotated[str, Field(min_length=1, max_length=2000), MULTILINE]
    deadline: FutureDatetime


# -- 预案与演练 -----------------------------------------------------------------------------
Version = Annotated[str, Field(min_length=1, max_length=40)]


class PlanIn(Body):
    """A plan of a unit; its document uploaded first (POST /evidence for the same unit) and named by SHA-256."""

    unit_code: UnitCode
    kind: PlanKind
    mechanism: Mechanism | None = Field(default=None, description="a mechanism document's mechanism (kind `mechanism` only)")
    hazard: Annotated[str, Field(max_length=40)] = Field(default="", description="a special plan's hazard, e.g. 防汛")
    title: Name
    version: Version
    revised_on: date = Field(description="the day this version was revised (issued), Asia/Shanghai")
    document: Sha256


class PlanRevisionIn(Body):
    version: Version
    revised_on: date
    document: Sha256
    title: Annotated[str, Field(max_length=200)] = ""
    note: Annotated[str, Field(max_length=500), MULTILINE] = ""


class PlanFilingIn(Body):
    filed_with: Annotated[str, Field(min_length=1, max_length=100)] = Field(description="the body it is filed with, e.g. 区应急管理局")
    filed_on: date
    reference: Annotated[str, Field(max_length=60)] = ""


class PlanRetireIn(Body):
    reason: Annotated[str, Field(min_length=1, max_length=500), MULTILINE]


class DrillFindingIn(Body):
    """A finding of a drill, and the rectification item it becomes: who fixes it, by when."""

    finding: Annotated[str, Field(min_length=1, max_length=500), MULTILINE]
    owner: Annotated[str, Field(min_length=1, max_length=100)]
    deadline: date


class DrillIn(Body):
    kind: DrillKind
    held_on: date
    scenario: Annotated[str, Field(min_length=1, max_length=1000), MULTILINE]
    participants: Annotated[int, Field(strict=True, ge=1, le=MAX_PARTICIPANTS)]
    participant_units: Annotated[list[UnitCode], Field(max_length=100)] = Field(default_factory=list)
    people: Annotated[list[UUID], Field(max_length=500)] = Field(default_factory=list, description="people of the register who took part")
    findings: Annotated[list[DrillFindingIn], Field(max_length=MAX_FINDINGS)] = Field(default_factory=list)


class ResolveIn(Body):
    note: Annotated[str, Field(min_length=1, max_length=500), MULTILINE]
# -- readiness: team strength, inspection campaigns, 销号 ----------------------------------------
class StrengthIn(Body):
    members: Annotated[int, Field(strict=True, ge=1, le=2000)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class CampaignIn(Body):
    kind: Annotated[str, Field(pattern="^(self|supervision)$", description="self (自查) or supervision (督查)")]
    unit_code: UnitCode
    title: Annotated[str, Field(min_length=1, max_length=200)]
    deadline: FutureDatetime | None = None
    units: list[UnitCode] | None = Field(default=None, max_length=500)
    items: list[Annotated[str, Field(pattern=r"^[a-z0-9_]+\.[a-z_]+$", max_length=40)]] | None = Field(default=None, max_length=50)


class SignOffIn(Body):
    note: Annotated[str, Field(max_length=500)] = ""


class PushKeysIn(Body):
    p256dh: Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-=]{40,200}$")]  # base64url, as the browser gives them
    auth: Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-=]{8,100}$")]


class PushSubscriptionIn(Body):
    """A browser's PushSubscription (`subscription.toJSON()`), and a name for the device."""

    endpoint: Annotated[str, Field(max_length=1000, pattern=r"^https?://[^\s]{3,990}$")]
    keys: PushKeysIn
    expirationTime: int | None = None  # noqa: N815 (the browser's name)
    device: Annotated[str, Field(max_length=120)] = ""


# -- the people register (人员 / 通讯录) and training (培训) -------------------------------------------
PostCode = Annotated[str, Field(pattern=r"^[a-z_]{1,40}$", description="a post (domain.people.Post)")]
Phone = Annotated[str, Field(min_length=5, max_length=20, pattern=r"^\+?[0-9][0-9\- ]{4,19}$")]
PersonName = Annotated[str, Field(min_length=1, max_length=50)]


class PersonRegisterIn(Body):
    """A named person of a unit, with their phone and one or more posts."""

    unit_code: UnitCode
    name: PersonName
    phone: Phone
    posts: Annotated[list[PostCode], Field(min_length=1, max_length=13)]
    team_id: UUID | None = None


class ContactIn(Body):
    name: PersonName
    phone: Phone


class PostsIn(Body):
    posts: Annotated[list[PostCode], Field(min_length=1, max_length=13)]
    team_id: UUID | None = None


class AccountLinkIn(Body):
    username: Annotated[str, Field(max_length=64, description="the person's account of the same unit; empty unlinks")]


class LeftIn(Body):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class TrainingIn(Body):
    """A training session held: organising unit, day, topic, hours and the people who attended."""

    unit_code: UnitCode
    day: date
    topic: Annotated[str, Field(min_length=1, max_length=200)]
    hours: Annotated[float, Field(gt=0, le=200)]
    attendees: Annotated[list[UUID], Field(min_length=1, max_length=500)]
    notes: Annotated[str, Field(max_length=4000), MULTILINE] = ""


class AttendeesIn(Body):
    attendees: Annotated[list[UUID], Field(min_length=1, max_length=500)]
