"""Rescue teams (救援队伍). A team serves at most one active dispatch at a time."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidTransition, InvalidValue, TeamUnavailable, event_versions, parse_enum
from domain.units import within


class TeamKind(StrEnum):
    COMPREHENSIVE = "comprehensive"  # 综合性应急救援队伍
    MILITIA = "militia"  # 民兵应急救援队伍
    FIRE = "fire"  # 消防
    FLOOD = "flood"  # 防汛抢险
    MEDICAL = "medical"  # 医疗救护
    HAZMAT = "hazmat"  # 危化品处置
    ENGINEERING = "engineering"  # 工程抢险
    VOLUNTEER = "volunteer"  # 志愿者
    PERSUADER = "persuader"  # 安全劝导员


MAX_MEMBERS = 2000  # a bound on a team's strength, so a typo cannot make a team of a million


class Team(Aggregate):
    class_version = 1  # its state as kept in snapshots; its events' versions are declared below the class

    @event("Registered")
    def __init__(
        self,
        name: str,
        kind: str,
        unit_code: str,
        members: int,
        leader: str,
        phone: str,
        by: Actor,
    ) -> None:
        self.name = name
        self.kind = kind
        self.unit_code = unit_code
        self.members = members
        self.leader = leader
        self.phone = phone
        self.on_duty = True
        self.current_dispatch_id: UUID | None = None

    @classmethod
    def register(
        cls,
        *,
        name: str,
        kind: str,
        unit_code: str,
        members: int,
        by: Actor,
        leader: str = "",
        phone: str = "",
    ) -> Team:
        if not name.strip():
            raise InvalidValue("name must not be empty", field="name")
        if not isinstance(members, int) or isinstance(members, bool) or members < 1:
            raise InvalidValue("members must be at least 1", field="members")
        kind = parse_enum(TeamKind, kind, "kind")
        if kind == TeamKind.COMPREHENSIVE and members < 20:
            # The plan: each street's comprehensive team has at least 20 people.
            raise InvalidValue("a comprehensive rescue team needs at least 20 members", field="members")
        if not within(unit_code, unit_code):
            raise InvalidValue("unit_code must be a 12-digit unit code", field="unit_code")
        return cls(
            name=name.strip(), kind=kind, unit_code=unit_code, members=members, leader=leader, phone=phone, by=by
        )

    @property
    def is_busy(self) -> bool:
        return self.current_dispatch_id is not None

    def set_duty(self, on_duty: bool, by: Actor) -> None:
        if on_duty == self.on_duty:
            raise InvalidTransition(f"the team is already {'on' if on_duty else 'off'} duty")
        if not on_duty and self.is_busy:
            raise InvalidTransition("a team serving a dispatch cannot go off duty", dispatch_id=str(self.current_dispatch_id))
        if on_duty:
            self._went_on_duty(by=by)
        else:
            self._went_off_duty(by=by)

    @event("WentOnDuty")
    def _went_on_duty(self, by: Actor) -> None:
        self.on_duty = True

    @event("WentOffDuty")
    def _went_off_duty(self, by: Actor) -> None:
        self.on_duty = False

    def change_strength(self, members: int, reason: str, by: Actor) -> None:
        """The team's registered strength changes (people join or leave). Unlike registration, a comprehensive
        team may fall below 20 here: the readiness scorecard shows the gap rather than the log hiding it."""
        if not isinstance(members, int) or isinstance(members, bool) or members < 1 or members > MAX_MEMBERS:
            raise InvalidValue(f"members must be 1 to {MAX_MEMBERS}", field="members")
        if members == self.members:
            raise InvalidValue("the team already has that many members", field="members")
        if not reason.strip():
            raise InvalidValue("a change of strength is recorded with its reason", field="reason")
        self._strength_changed(members=members, previous=self.members, reason=reason.strip(), by=by)

    @event("StrengthChanged")
    def _strength_changed(self, members: int, previous: int, reason: str, by: Actor) -> None:
        self.members = members

    def assign(self, dispatch_id: UUID, by: Actor) -> None:
        if not self.on_duty:
            raise TeamUnavailable("the team is off duty", team_id=str(self.id))
        if self.is_busy:
            raise TeamUnavailable(
                "the team is serving another dispatch", team_id=str(self.id), dispatch_id=str(self.current_dispatch_id)
            )
        self._assigned(dispatch_id=dispatch_id, by=by)

    @event("Assigned")
    def _assigned(self, dispatch_id: UUID, by: Actor) -> None:
        self.current_dispatch_id = dispatch_id

    def release(self, dispatch_id: UUID, by: Actor) -> None:
        if self.current_dispatch_id != dispatch_id:
            raise InvalidTransition("the team is not serving that dispatch", dispatch_id=str(dispatch_id))
        self._released(dispatch_id=dispatch_id, by=by)

    @event("Released")
    def _released(self, dispatch_id: UUID, by: Actor) -> None:
        self.current_dispatch_id = None


# The version of each stored event type (see domain.common.event_versions): a new shape is a new version.
event_versions(Team, Registered=1, WentOnDuty=1, WentOffDuty=1, Assigned=1, Released=1, StrengthChanged=1)
