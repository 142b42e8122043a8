"""Dispatches (调度指令): one team sent to one incident, tracked from order to completion."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidTransition, InvalidValue, event_versions, require_state


class DispatchStatus(StrEnum):
    ORDERED = "ordered"  # 已下达
    ACKNOWLEDGED = "acknowledged"  # 已收到
    DEPARTED = "departed"  # 已出发
    ARRIVED = "arrived"  # 已到达
    COMPLETED = "completed"  # 已完成
    DECLINED = "declined"  # 已拒绝
    CANCELLED = "cancelled"  # 已取消


class Escalation(StrEnum):
    ACK_OVERDUE = "ack_overdue"  # 超时未确认
    ARRIVAL_OVERDUE = "arrival_overdue"  # 超时未到达


S = DispatchStatus
ACTIVE = frozenset({S.ORDERED, S.ACKNOWLEDGED, S.DEPARTED, S.ARRIVED})
FINAL = frozenset({S.COMPLETED, S.DECLINED, S.CANCELLED})

# The taps of a dispatch: the status each leads to and the statuses it applies in. The aggregate
# enforces it; the field page's buttons come from it (through gateway.vocab).
STEPS: dict[str, tuple[str, frozenset[str]]] = {
    "acknowledge": (S.ACKNOWLEDGED, frozenset({S.ORDERED})),
    "depart": (S.DEPARTED, frozenset({S.ACKNOWLEDGED})),
    "arrive": (S.ARRIVED, frozenset({S.DEPARTED})),
    "complete": (S.COMPLETED, frozenset({S.ARRIVED})),
    "decline": (S.DECLINED, frozenset({S.ORDERED, S.ACKNOWLEDGED})),
    "cancel": (S.CANCELLED, ACTIVE),
}
# The forward path a dispatch takes when all goes well, and the step that moves each status on.
FLOW = (S.ORDERED, S.ACKNOWLEDGED, S.DEPARTED, S.ARRIVED, S.COMPLETED)
NEXT_STEP = {frm: step for step, (target, froms) in STEPS.items() for frm in froms
             if step in ("acknowledge", "depart", "arrive", "complete")}

# Which deadline runs in which status, and what missing it is called. The aggregate's
# escalate, the watchdog, the board and the pages (through gateway.vocab) all read this.
RUNNING_DEADLINE: dict[str, tuple[str, str]] = {
    S.ORDERED: (Escalation.ACK_OVERDUE, "ack_deadline"),
    S.ACKNOWLEDGED: (Escalation.ARRIVAL_OVERDUE, "arrive_deadline"),
    S.DEPARTED: (Escalation.ARRIVAL_OVERDUE, "arrive_deadline"),
}
_ESCALATING = {Escalation.ACK_OVERDUE: "escalate a missed acknowledgement of", Escalation.ARRIVAL_OVERDUE: "escalate a late arrival of"}


def running_deadline(status: str) -> tuple[str, str] | None:
    """(escalation reason, name of the deadline field) for a dispatch in `status`, or None when no clock runs."""
    return RUNNING_DEADLINE.get(status)


class Dispatch(Aggregate):
    class_version = 1  # its state as kept in snapshots; its events' versions are declared below the class

    class Ordered(Aggregate.Created):
        """Version 2 says whether the dispatch is part of an exercise (演练): its incident's flag, recorded with it."""

        class_version = 2
        incident_id: UUID
        team_id: UUID
        unit_code: str
        task: str
        ack_deadline: datetime
        by: Actor
        exercise: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["exercise"] = False  # every dispatch ordered before version 2 was a real one

    @event(Ordered)
    def __init__(
        self,
        incident_id: UUID,
        team_id: UUID,
        unit_code: str,
        task: str,
        ack_deadline: datetime,
        by: Actor,
        exercise: bool = False,
    ) -> None:
        self.incident_id = incident_id
        self.team_id = team_id
        self.unit_code = unit_code
        self.task = task
        self.ack_deadline = ack_deadline
        self.exercise = exercise
        self.arrive_deadline: datetime | None = None
        self.escalations: list[str] = []
        self.status = S.ORDERED.value

    @classmethod
    def order(
        cls, *, incident_id: UUID, team_id: UUID, unit_code: str, task: str, ack_deadline: datetime, by: Actor,
        exercise: bool = False,
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
            exercise=bool(exercise),
        )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    def acknowledge(self, by: Actor, arrive_deadline: datetime | None = None) -> None:
        """`arrive_deadline`: when the team is expected on site; the watchdog escalates after it."""
        require_state(self.status, STEPS["acknowledge"][1], "acknowledge", "dispatch")
        if arrive_deadline is not None and arrive_deadline.tzinfo is None:
            raise InvalidValue("arrive_deadline needs a time zone", field="arrive_deadline")
        self._acknowledged(arrive_deadline=arrive_deadline, by=by)

    @event("Acknowledged")
    def _acknowledged(self, by: Actor, arrive_deadline: datetime | None = None) -> None:
        self.status = S.ACKNOWLEDGED.value
        self.arrive_deadline = arrive_deadline

    def escalate(self, reason: str, now: datetime, by: Actor) -> None:
        """Raise the alarm once per missed deadline: acknowledgement, or arrival after acknowledging."""
        if reason in self.escalations:
            raise InvalidTransition(f"already escalated for {reason}")
        if reason not in _ESCALATING:
            raise InvalidValue(f"unknown escalation {reason!r}", field="reason")
        require_state(self.status, {s for s, (r, _) in RUNNING_DEADLINE.items() if r == reason}, _ESCALATING[reason], "dispatch")
        deadline = getattr(self, RUNNING_DEADLINE[self.status][1])
        if deadline is None or now < deadline:
            raise InvalidTransition("the deadline has not passed", deadline=deadline.isoformat() if deadline else None)
        self._escalated(reason=reason, deadline=deadline, by=by)

    @event("Escalated")
    def _escalated(self, reason: str, deadline: datetime, by: Actor) -> None:
        self.escalations = [*self.escalations, reason]

    def depart(self, by: Actor) -> None:
        require_state(self.status, STEPS["depart"][1], "depart on", "dispatch")
        self._departed(by=by)

    @event("Departed")
    def _departed(self, by: Actor) -> None:
        self.status = S.DEPARTED.value

    def arrive(self, by: Actor) -> None:
        require_state(self.status, STEPS["arrive"][1], "arrive on", "dispatch")
        self._arrived(by=by)

    @event("Arrived")
    def _arrived(self, by: Actor) -> None:
        self.status = S.ARRIVED.value

    def complete(self, by: Actor, note: str = "") -> None:
        require_state(self.status, STEPS["complete"][1], "complete", "dispatch")
        self._completed(note=note, by=by)

    @event("Completed")
    def _completed(self, note: str, by: Actor) -> None:
        self.status = S.COMPLETED.value

    def decline(self, reason: str, by: Actor) -> None:
        require_state(self.status, STEPS["decline"][1], "decline", "dispatch")
        if not reason.strip():
            raise InvalidValue("a reason is required to decline", field="reason")
        self._declined(reason=reason.strip(), by=by)

    @event("Declined")
    def _declined(self, reason: str, by: Actor) -> None:
        self.status = S.DECLINED.value

    def cancel(self, reason: str, by: Actor) -> None:
        require_state(self.status, STEPS["cancel"][1], "cancel", "dispatch")
        if not reason.strip():
            raise InvalidValue("a reason is required to cancel", field="reason")
        self._cancelled(reason=reason.strip(), by=by)

    @event("Cancelled")
    def _cancelled(self, reason: str, by: Actor) -> None:
        self.status = S.CANCELLED.value


# The version of each stored event type (see domain.common.event_versions): a new shape is a new version.
event_versions(Dispatch, Ordered=2, Acknowledged=1, Escalated=1, Departed=1, Arrived=1, Completed=1, Declined=1, Cancelled=1)
