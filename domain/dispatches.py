"""Dispatches (调度指令): one team sent to one incident, tracked from order to completion."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidValue, require_state


class DispatchStatus(StrEnum):
    ORDERED = "ordered"  # 已下达
    ACKNOWLEDGED = "acknowledged"  # 已收到
    DEPARTED = "departed"  # 已出发
    ARRIVED = "arrived"  # 已到达
    COMPLETED = "completed"  # 已完成
    DECLINED = "declined"  # 已拒绝
    CANCELLED = "cancelled"  # 已取消


S = DispatchStatus
ACTIVE = frozenset({S.ORDERED, S.ACKNOWLEDGED, S.DEPARTED, S.ARRIVED})
FINAL = frozenset({S.COMPLETED, S.DECLINED, S.CANCELLED})


class Dispatch(Aggregate):
    @event("Ordered")
    def __init__(
        self,
        incident_id: UUID,
        team_id: UUID,
        unit_code: str,
        task: str,
        ack_deadline: datetime,
        by: Actor,
    ) -> None:
        self.incident_id = incident_id
        self.team_id = team_id
        self.unit_code = unit_code
        self.task = task
        self.ack_deadline = ack_deadline
        self.status = S.ORDERED.value

    @classmethod
    def order(
        cls, *, incident_id: UUID, team_id: UUID, unit_code: str, task: str, ack_deadline: datetime, by: Actor
    ) -> Dispatch:
        if not task.strip():
            raise InvalidValue("a task is required", field="task")
        if ack_deadline.tzinfo is None:
            raise InvalidValue("ack_deadline needs a time zone", field="ack_deadline")
        return cls(
            incident_id=incident_id,
            team_id=team_id,
            unit_code=unit_code,
            task=task.strip(),
            ack_deadline=ack_deadline,
            by=by,
        )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    def acknowledge(self, by: Actor) -> None:
        require_state(self.status, {S.ORDERED}, "acknowledge", "dispatch")
        self._acknowledged(by=by)

    @event("Acknowledged")
    def _acknowledged(self, by: Actor) -> None:
        self.status = S.ACKNOWLEDGED.value

    def depart(self, by: Actor) -> None:
        require_state(self.status, {S.ACKNOWLEDGED}, "depart on", "dispatch")
        self._departed(by=by)

    @event("Departed")
    def _departed(self, by: Actor) -> None:
        self.status = S.DEPARTED.value

    def arrive(self, by: Actor) -> None:
        require_state(self.status, {S.DEPARTED}, "arrive on", "dispatch")
        self._arrived(by=by)

    @event("Arrived")
    def _arrived(self, by: Actor) -> None:
        self.status = S.ARRIVED.value

    def complete(self, by: Actor, note: str = "") -> None:
        require_state(self.status, {S.ARRIVED}, "complete", "dispatch")
        self._completed(note=note, by=by)

    @event("Completed")
    def _completed(self, note: str, by: Actor) -> None:
        self.status = S.COMPLETED.value

    def decline(self, reason: str, by: Actor) -> None:
        require_state(self.status, {S.ORDERED, S.ACKNOWLEDGED}, "decline", "dispatch")
        if not reason.strip():
            raise InvalidValue("a reason is required to decline", field="reason")
        self._declined(reason=reason.strip(), by=by)

    @event("Declined")
    def _declined(self, reason: str, by: Actor) -> None:
        self.status = S.DECLINED.value

    def cancel(self, reason: str, by: Actor) -> None:
        require_state(self.status, ACTIVE, "cancel", "dispatch")
        if not reason.strip():
            raise InvalidValue("a reason is required to cancel", field="reason")
        self._cancelled(reason=reason.strip(), by=by)

    @event("Cancelled")
    def _cancelled(self, reason: str, by: Actor) -> None:
        self.status = S.CANCELLED.value
