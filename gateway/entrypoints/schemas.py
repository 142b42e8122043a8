"""Request bodies of the command API. Strict: unknown fields, wrong types and bad enums are refused."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.incidents import Category, Level
from domain.teams import TeamKind
from domain.units import UnitKind


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


Quantity = Annotated[int, Field(strict=True, gt=0, le=10_000_000)]
Count = Annotated[int, Field(strict=True, ge=0, le=10_000_000)]
Text = Annotated[str, Field(max_length=2000)]
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


class UnitIn(Body):
    code: UnitCode
    name: Name
    kind: UnitKind
    lat: Lat | None = None
    lon: Lon | None = None
    parts: dict[str, Count] = Field(default_factory=dict)


class PartsIn(Body):
    parts: dict[str, Count]


class IncidentIn(Body):
    category: Category
    subtype: Annotated[str, Field(min_length=1, max_length=40)]
    level: Level
    title: Name
    description: Text = ""
    unit_code: UnitCode
    address: Text = ""
    lat: Lat | None = None
    lon: Lon | None = None
    occurred_at: PastDatetime
    source: Annotated[str, Field(max_length=200)] = ""


class EmptyIn(Body):
    """For commands that take no fields: `{}` or no body; anything else is refused."""


class NoteIn(Body):
    note: Text = ""


class LevelIn(Body):
    level: Level
    reason: Text = ""


class SituationIn(Body):
    deaths: Count | None = None
    injured: Count | None = None
    missing: Count | None = None
    evacuated: Count | None = None
    affected: Count | None = None
    notes: Text = ""

    def figures(self) -> dict[str, int]:
        return {k: v for k, v in self.model_dump(exclude={"notes"}).items() if v is not None}


class SummaryIn(Body):
    summary: Annotated[str, Field(min_length=1, max_length=4000)]


class ReasonIn(Body):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


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
    task: Annotated[str, Field(min_length=1, max_length=2000)]
    ack_minutes: Annotated[int, Field(strict=True, ge=1, le=24 * 60)] | None = None


class WarehouseIn(Body):
    name: Name
    unit_code: UnitCode
    address: Text = ""
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
    destination: Text = ""
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
    password: Annotated[str, Field(min_length=8, max_length=200)]
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
