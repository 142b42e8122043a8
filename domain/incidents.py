"""Incidents (突发事件): reported, verified, re-levelled, situation updates, controlled, closed or dismissed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidTransition, InvalidValue, event_versions, parse_enum, require_state
from domain.policy import reported_upward_in_time
from domain.units import within


class Category(StrEnum):
    NATURAL_DISASTER = "natural_disaster"  # 自然灾害
    ACCIDENT = "accident"  # 事故灾难
    PUBLIC_HEALTH = "public_health"  # 公共卫生事件
    SOCIAL_SECURITY = "social_security"  # 社会安全事件


# Sub-types per national category. Keys are the API values; Chinese labels live in the UI.
SUBTYPES: dict[str, tuple[str, ...]] = {
    Category.NATURAL_DISASTER: (
        "flood",  # 洪涝
        "rainstorm",  # 暴雨
        "geological",  # 地质灾害
        "earthquake",  # 地震
        "drought",  # 干旱
        "strong_wind",  # 大风
        "snow_ice",  # 雨雪冰冻
        "forest_fire",  # 森林火灾
        "other_natural",
    ),
    Category.ACCIDENT: (
        "fire",  # 火灾
        "hazmat",  # 危化品
        "traffic",  # 交通事故
        "building_collapse",  # 建筑坍塌
        "production_safety",  # 生产安全事故
        "gas_leak",  # 燃气泄漏
        "other_accident",
    ),
    Category.PUBLIC_HEALTH: ("epidemic", "food_poisoning", "other_health"),
    Category.SOCIAL_SECURITY: ("mass_incident", "crowd_stampede", "other_security"),
}


class Level(StrEnum):
    I = "I"  # 特别重大  # noqa: E741
    II = "II"  # 重大
    III = "III"  # 较大
    IV = "IV"  # 一般


class IncidentStatus(StrEnum):
    REPORTED = "reported"
    VERIFIED = "verified"
    CONTROLLED = "controlled"
    CLOSED = "closed"
    DISMISSED = "dismissed"


OPEN = frozenset({IncidentStatus.REPORTED, IncidentStatus.VERIFIED, IncidentStatus.CONTROLLED})
DISMISSABLE = frozenset({IncidentStatus.REPORTED, IncidentStatus.VERIFIED})  # a false report, before it is under control
SITUATION_FIELDS = ("deaths", "injured", "missing", "evacuated", "affected")
HARM_FIELDS = ("deaths", "injured", "missing")  # people harmed: shown in red wherever figures are shown


class Incident(Aggregate):
    class_version = 1  # its state as kept in snapshots; its events' versions are declared below the class

    class Reported(Aggregate.Created):
        """Version 2 says whether the incident is an exercise (演练) and the plan it drills, if any."""

        class_version = 2
        category: str
        subtype: str
        level: str
        title: str
        description: str
        unit_code: str
        address: str
        lat: float | None
        lon: float | None
        occurred_at: datetime
        source: str
        by: Actor
        exercise: bool
        plan_id: UUID | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["exercise"] = False  # every incident reported before version 2 was a real one
            state["plan_id"] = None

    @event(Reported)
    def __init__(
        self,
        category: str,
        subtype: str,
        level: str,
        title: str,
        description: str,
        unit_code: str,
        address: str,
        lat: float | None,
        lon: float | None,
        occurred_at: datetime,
        source: str,
        by: Actor,
        exercise: bool = False,
        plan_id: UUID | None = None,
    ) -> None:
        self.category = category
        self.subtype = subtype
        self.level = level
        self.title = title
        self.description = description
        self.unit_code = unit_code
        self.address = address
        self.lat = lat
        self.lon = lon
        self.occurred_at = occurred_at
        self.source = source
        self.status = IncidentStatus.REPORTED.value
        self.situation = {k: 0 for k in SITUATION_FIELDS}
        self.reported_upward_at: datetime | None = None
        self.exercise = exercise  # 演练: shown as such, left out of statistics and of the 2-hour rule
        self.plan_id = plan_id

    @classmethod
    def report(
        cls,
        *,
        category: str,
        subtype: str,
        level: str,
        title: str,
        unit_code: str,
        occurred_at: datetime,
        by: Actor,
        description: str = "",
        address: str = "",
        lat: float | None = None,
        lon: float | None = None,
        source: str = "",
        exercise: bool = False,
        plan_id: UUID | None = None,
    ) -> Incident:
        category = parse_enum(Category, category, "category")
        if subtype not in SUBTYPES[category]:
            raise InvalidValue(f"subtype {subtype!r} is not a kind of {category}", field="subtype")
        if not title.strip():
            raise InvalidValue("title must not be empty", field="title")
        if occurred_at.tzinfo is None:
            raise InvalidValue("occurred_at needs a time zone", field="occurred_at")
        if not within(unit_code, unit_code):
            raise InvalidValue("unit_code must be a 12-digit unit code", field="unit_code")
        if plan_id is not None and not exercise:
            raise InvalidValue("only an exercise (演练) is linked to a plan", field="plan_id")
        return cls(
            category=category,
            subtype=subtype,
            level=parse_enum(Level, level, "level"),
            title=title.strip(),
            description=description,
            unit_code=unit_code,
            address=address,
            lat=lat,
            lon=lon,
            occurred_at=occurred_at,
            source=source or by.user,
            by=by,
            exercise=bool(exercise),
            plan_id=plan_id,
        )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def verify(self, by: Actor, note: str = "") -> None:
        require_state(self.status, {IncidentStatus.REPORTED}, "verify", "incident")
        self._verified(note=note, by=by)

    @event("Verified")
    def _verified(self, note: str, by: Actor) -> None:
        self.status = IncidentStatus.VERIFIED.value

    def change_level(self, level: str, reason: str, by: Actor) -> None:
        require_state(self.status, OPEN, "change the level of", "incident")
        level = parse_enum(Level, level, "level")
        if level == self.level:
            raise InvalidValue(f"the incident is already level {level}", field="level")
        self._level_changed(level=level, previous=self.level, reason=reason, by=by)

    @event("LevelChanged")
    def _level_changed(self, level: str, previous: str, reason: str, by: Actor) -> None:
        self.level = level

    def update_situation(self, figures: dict[str, int], notes: str, by: Actor) -> None:
        require_state(self.status, OPEN, "update the situation of", "incident")
        unknown = set(figures) - set(SITUATION_FIELDS)
        if unknown:
            raise InvalidValue(f"unknown situation figures: {sorted(unknown)}", field="figures")
        for k, v in figures.items():
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise InvalidValue(f"{k} must be a non-negative integer", field=k)
        if not figures and not notes.strip():
            raise InvalidValue("give at least one figure or a note", field="figures")
        self._situation_updated(figures=dict(figures), notes=notes, by=by)

    @event("SituationUpdated")
    def _situation_updated(self, figures: dict[str, int], notes: str, by: Actor) -> None:
        self.situation.update(figures)

    def control(self, by: Actor, note: str = "") -> None:
        require_state(self.status, {IncidentStatus.VERIFIED}, "mark as controlled", "incident")
        self._controlled(note=note, by=by)

    @event("Controlled")
    def _controlled(self, note: str, by: Actor) -> None:
        self.status = IncidentStatus.CONTROLLED.value

    def close(self, summary: str, by: Actor) -> None:
        require_state(self.status, {IncidentStatus.VERIFIED, IncidentStatus.CONTROLLED}, "close", "incident")
        if not summary.strip():
            raise InvalidValue("a closing summary is required", field="summary")
        self._closed(summary=summary.strip(), by=by)

    @event("Closed")
    def _closed(self, summary: str, by: Actor) -> None:
        self.status = IncidentStatus.CLOSED.value

    def dismiss(self, reason: str, by: Actor) -> None:
        require_state(self.status, DISMISSABLE, "dismiss", "incident")
        if not reason.strip():
            raise InvalidValue("a reason is required to dismiss a report", field="reason")
        self._dismissed(reason=reason.strip(), by=by)

    @event("Dismissed")
    def _dismissed(self, reason: str, by: Actor) -> None:
        self.status = IncidentStatus.DISMISSED.value

    # -- the 2-hour rule (灾情发生2小时内报送) -----------------------------
    def record_reported_upward(self, acknowledged_at: datetime, batch_id: str, by: Actor) -> None:
        """The city acknowledged the batch holding this incident's report: recorded once."""
        if self.reported_upward_at is not None:
            raise InvalidTransition("the report upward is already recorded")
        if acknowledged_at.tzinfo is None:
            raise InvalidValue("acknowledged_at needs a time zone", field="acknowledged_at")
        within = reported_upward_in_time(self.occurred_at, acknowledged_at)
        self._reported_upward(acknowledged_at=acknowledged_at, batch_id=batch_id, within_deadline=within, by=by)

    @event("ReportedUpward")
    def _reported_upward(self, acknowledged_at: datetime, batch_id: str, within_deadline: bool, by: Actor) -> None:
        self.reported_upward_at = acknowledged_at


# The version of each stored event type (see domain.common.event_versions): a new shape is a new version.
event_versions(
    Incident,
    Reported=2, Verified=1, LevelChanged=1, SituationUpdated=1,
    Controlled=1, Closed=1, Dismissed=1, ReportedUpward=1,
)
