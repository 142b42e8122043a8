"""Training (培训): sessions a unit organises, with the people who attended, and the plan's rule that every
disaster information reporter attends at least one (灾害信息员至少参加1次培训).

A `TrainingSession` is organised by a unit (the district, a street office, a village); its level
(district / street / village) is that unit's level, derived rather than typed. Its attendees are people
of the register, active and of the organising unit's subtree (a street trains its own and its villages'
people; the district anyone): the gateway looks them up, this aggregate judges them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidValue, event_versions
from domain.people import Post
from domain.units import code_level, within

LEVELS = ("district", "street", "village")  # by domain.units.code_level
MAX_TOPIC = 200
MAX_NOTES = 4000
MAX_HOURS = 200.0  # a multi-day course at most; a typo cannot make a year of training
MAX_ATTENDEES = 500
TRAINING_YEARS_BACK = 10  # a session recorded late, but not from another era


def level_of(unit_code: str) -> str:
    return LEVELS[code_level(unit_code)]


class Attendee(Protocol):
    """What the rule needs of a person (domain.readiness.PersonFact has it)."""

    name: str
    posts: tuple[str, ...] | list[str]
    trained_on: tuple[date, ...] | list[date]


def untrained_reporters(people: Iterable[Attendee], as_of: date) -> list[Attendee]:
    """The disaster information reporters among `people` who had attended no training session by `as_of`."""
    return [p for p in people if Post.INFO_REPORTER.value in p.posts and not any(d <= as_of for d in p.trained_on)]


def every_reporter_trained(people: Iterable[Attendee], as_of: date) -> bool:
    """The plan's rule: every reporter has attended at least one training (vacuously true without reporters)."""
    return not untrained_reporters(people, as_of)


def check_attendees(unit_code: str, attendees: Iterable[tuple[UUID, str, str]], already: Iterable[UUID] = ()) -> list[UUID]:
    """(person id, their unit, their status) of each attendee: active people of the organising unit's subtree, each once."""
    seen = set(already)
    out: list[UUID] = []
    for person_id, person_unit, status in attendees:
        if status != "active":
            raise InvalidValue(f"person {person_id} has left and cannot attend", field="attendees")
        if not within(unit_code, person_unit):
            raise InvalidValue(f"person {person_id} is not of the organising unit or below it", field="attendees")
        if person_id in seen:
            raise InvalidValue(f"person {person_id} is already an attendee", field="attendees")
        seen.add(person_id)
        out.append(person_id)
    if len(seen) > MAX_ATTENDEES:
        raise InvalidValue(f"a session has {MAX_ATTENDEES} attendees at most", field="attendees")
    return out


class TrainingSession(Aggregate):
    class_version = 1

    @event("Recorded")
    def __init__(self, unit_code: str, level: str, day: str, topic: str, hours: float, attendees: list[UUID], notes: str,
                 by: Actor) -> None:
        self.unit_code = unit_code
        self.level = level
        self.day = day
        self.attendees = list(attendees)

    @classmethod
    def record(cls, *, unit_code: str, day: date, today: date, topic: str, hours: Any, attendees: list[tuple[UUID, str, str]],
               by: Actor, notes: str = "") -> TrainingSession:
        if day > today:
            raise InvalidValue("a training session is recorded once it has been held", field="day")
        if day.year < today.year - TRAINING_YEARS_BACK:
            raise InvalidValue(f"a session more than {TRAINING_YEARS_BACK} years ago is not recorded", field="day")
        topic = topic.strip()
        if not topic or len(topic) > MAX_TOPIC:
            raise InvalidValue(f"a session needs a topic ({MAX_TOPIC} characters at most)", field="topic")
        if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= MAX_HOURS:
            raise InvalidValue(f"hours are more than 0 and {MAX_HOURS:g} at most", field="hours")
        if len(notes) > MAX_NOTES:
            raise InvalidValue(f"notes are longer than {MAX_NOTES} characters", field="notes")
        if not attendees:
            raise InvalidValue("a session has at least one attendee", field="attendees")
        return cls(unit_code=unit_code, level=level_of(unit_code), day=day.isoformat(), topic=topic, hours=float(hours),
                   attendees=check_attendees(unit_code, attendees), notes=notes.strip(), by=by)

    def add_attendees(self, attendees: list[tuple[UUID, str, str]], by: Actor) -> None:
        """People left off the first record (a late sign-in sheet): added, never removed."""
        if not attendees:
            raise InvalidValue("name at least one attendee to add", field="attendees")
        self._attendees_added(attendees=check_attendees(self.unit_code, attendees, self.attendees), by=by)

    @event("AttendeesAdded")
    def _attendees_added(self, attendees: list[UUID], by: Actor) -> None:
        self.attendees += attendees


event_versions(TrainingSession, Recorded=1, AttendeesAdded=1)
