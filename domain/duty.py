"""The duty desk (值班): the roster (值班表) and the shift handover (交接班).

`DutyDay`: who is on duty at a unit (the district, a street) on a duty day: the leader on duty
(带班领导) and the duty officers (值班员), each a name and a phone. One aggregate per unit and day
(its id derives from both), edited from the duty day now on shift (until 08:30 local that is still
yesterday's) up to ROSTER_AHEAD_DAYS ahead.

`Handover`: one per unit and duty day. The outgoing officer signs it with what is still open
(generated from the read models by the gateway, not typed) and free notes; the incoming officer
confirms it. Not confirmed by its deadline (signing + the grace period), it is escalated, once.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidTransition, InvalidValue, event_versions, natural_id, require_state
from domain.policy import ROSTER_AHEAD_DAYS

DUTY_KINDS = frozenset({"district", "street", "cluster"})  # the units that keep a duty desk
MAX_OFFICERS = 8
PHONE = re.compile(r"^\+?[0-9][0-9\- ]{4,19}$")
OPEN_ITEM_KINDS = ("dispatch_unacknowledged", "incident_open", "report_due")
MAX_NOTES = 4000


def duty_day_id(unit_code: str, day: str) -> UUID:
    return natural_id("duty-day", f"{unit_code}:{day}")


def handover_id(unit_code: str, day: str) -> UUID:
    return natural_id("handover", f"{unit_code}:{day}")


def _person(p: Any, field: str) -> dict[str, str]:
    if not isinstance(p, dict) or set(p) - {"name", "phone"}:
        raise InvalidValue(f"{field} is a name and a phone", field=field)
    name, phone = str(p.get("name", "")).strip(), str(p.get("phone", "")).strip()
    if not name or len(name) > 50:
        raise InvalidValue(f"{field} needs a name (50 characters at most)", field=field)
    if phone and not PHONE.match(phone):
        raise InvalidValue(f"{field}'s phone is not a phone number", field=field)
    return {"name": name, "phone": phone}


def check_roster(leader: Any, officers: Any) -> tuple[dict[str, str], list[dict[str, str]]]:
    if not isinstance(officers, list) or not 1 <= len(officers) <= MAX_OFFICERS:
        raise InvalidValue(f"a duty day has 1 to {MAX_OFFICERS} duty officers", field="officers")
    return _person(leader, "leader"), [_person(p, f"officers[{i}]") for i, p in enumerate(officers)]


class DutyDay(Aggregate):
    class_version = 1

    @staticmethod
    def create_id(unit_code: str, day: str, **_: Any) -> UUID:
        return duty_day_id(unit_code, day)

    @event("Scheduled")
    def __init__(self, unit_code: str, day: str, leader: dict[str, str], officers: list[dict[str, str]], by: Actor) -> None:
        self.unit_code = unit_code
        self.day = day
        self.leader = leader
        self.officers = officers

    @staticmethod
    def check_day(day: date, today: date) -> None:
        """`today` is the duty day on shift now (policy.duty_day), not the calendar date: at 02:00 the
        night shift of yesterday's roster is still on duty, and its desk may still correct it."""
        if day < today:
            raise InvalidValue("a past duty day cannot be changed", field="day")
        if day > today + timedelta(days=ROSTER_AHEAD_DAYS):
            raise InvalidValue(f"the roster is kept {ROSTER_AHEAD_DAYS} days ahead at most", field="day")

    @classmethod
    def schedule(cls, *, unit_code: str, unit_kind: str, day: date, today: date, leader: Any, officers: Any, by: Actor) -> DutyDay:
        if unit_kind not in DUTY_KINDS:
            raise InvalidValue("the district and the streets keep a duty roster", field="unit_code")
        cls.check_day(day, today)
        leader, officers = check_roster(leader, officers)
        return cls(unit_code=unit_code, day=day.isoformat(), leader=leader, officers=officers, by=by)

    def change(self, leader: Any, officers: Any, today: date, by: Actor) -> None:
        """The same roster again records nothing."""
        self.check_day(date.fromisoformat(self.day), today)
        leader, officers = check_roster(leader, officers)
        if (leader, officers) != (self.leader, self.officers):
            self._changed(leader=leader, officers=officers, by=by)

    @event("Changed")
    def _changed(self, leader: dict[str, str], officers: list[dict[str, str]], by: Actor) -> None:
        self.leader = leader
        self.officers = officers


class Handover(Aggregate):
    class_version = 1

    @staticmethod
    def create_id(unit_code: str, day: str, **_: Any) -> UUID:
        return handover_id(unit_code, day)

    @event("Signed")
    def __init__(self, unit_code: str, day: str, shift_from: datetime, to_position: int, open_items: list[dict[str, Any]],
                 notes: str, confirm_by: datetime, by: Actor) -> None:
        self.unit_code = unit_code
        self.day = day
        self.outgoing = by.user
        self.confirm_by = confirm_by
        self.status = "signed"
        self.escalated = False

    @classmethod
    def sign(cls, *, unit_code: str, unit_kind: str, day: date, shift_from: datetime, to_position: int,
             open_items: list[dict[str, Any]], notes: str, now: datetime, grace: timedelta, by: Actor) -> Handover:
        if unit_kind not in DUTY_KINDS:
            raise InvalidValue("the district and the streets hand their duty desk over", field="unit_code")
        if len(notes) > MAX_NOTES:
            raise InvalidValue(f"notes are longer than {MAX_NOTES} characters", field="notes")
        if any(item.get("kind") not in OPEN_ITEM_KINDS for item in open_items):
            raise InvalidValue("open items are generated, of known kinds", field="open_items")
        return cls(unit_code=unit_code, day=day.isoformat(), shift_from=shift_from, to_position=to_position,
                   open_items=open_items, notes=notes.strip(), confirm_by=now + grace, by=by)

    def confirm(self, note: str, by: Actor) -> None:
        require_state(self.status, {"signed"}, "confirm", "handover")
        if by.user == self.outgoing:
            raise InvalidValue("the incoming officer confirms a handover, not the one who signed it", field="user")
        if len(note) > MAX_NOTES:
            raise InvalidValue(f"the note is longer than {MAX_NOTES} characters", field="note")
        self._confirmed(note=note.strip(), by=by)

    @event("Confirmed")
    def _confirmed(self, note: str, by: Actor) -> None:
        self.status = "confirmed"

    def escalate(self, now: datetime, by: Actor) -> None:
        """The alarm of a handover nobody confirmed in time: once."""
        require_state(self.status, {"signed"}, "escalate an unconfirmed", "handover")
        if self.escalated:
            raise InvalidTransition("already escalated")
        if now < self.confirm_by:
            raise InvalidTransition("the grace period has not passed", deadline=self.confirm_by.isoformat())
        self._escalated(deadline=self.confirm_by, by=by)

    @event("Escalated")
    def _escalated(self, deadline: datetime, by: Actor) -> None:
        self.escalated = True


# The version of each stored event type (see domain.common.event_versions): a new shape is a new version.
event_versions(DutyDay, Scheduled=1, Changed=1)
event_versions(Handover, Signed=1, Confirmed=1, Escalated=1)
