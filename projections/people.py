"""Read models of the people register and training: `person` (the contact directory, 通讯录) and `training`.

`person` (one document per person, id = the person's id), the fields other helpers read:
    unit_code, street_code, unit_name, name, phone, posts (list of domain.people.Post codes), team_id,
    account (linked username or ""), status ("active" | "left"), trainings ([{id, day, topic}], the sessions
    attended, oldest first), trained_on (their days, ISO, sorted), last_trained (the latest day or None).
Indexed columns (projections.columns): unit_code, status, text (name and unit name, never the phone),
tags (`|post|post|`: `ListFilter(tag=post)` finds the holders of a post). Listed newest change first
with keyset paging like every list.

`training` (one per session): unit_code (the organising unit), street_code, unit_name, level
(district/street/village), day (also the `at` column: since/until filter it), topic, hours, notes,
attendees ([{id, name, unit_code}], no phones), attendee_count.

Queries for the other capabilities (all pure reads of a `DocStore`, no scope applied: callers scope):
    holders(store, unit_code, post) -> [person doc]       the active people holding `post` at exactly `unit_code`
                                                         (notifications address people through it)
    unit_people(store, unit_code) -> [person doc]        the active people of exactly `unit_code`
    post_counts(docs) -> {post: n}                       active holders per post among `docs`
    trained_reporters(docs, as_of) -> [person doc]       active reporters among `docs` who trained by `as_of`
    untrained_reporters(docs, as_of) -> [person doc]     and those who had not (domain.training's rule)
    unit_summary(store, unit_code, as_of) -> {...}       for readiness: counts per post, trained and untrained
                                                         reporters (names), last training day, of one unit
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.people import PersonStatus
from domain.units import street_of
from projections.reducer import Changes, Doc, Get, Reducer, actor_of, iso, sid, updated

PERSON = "person"
TRAINING = "training"
ALL = 100_000


def _unit_name(get: Get, code: str) -> str:
    return str((get("unit", code) or {}).get("name", ""))


# -- person -----------------------------------------------------------------------------------------
def _registered(get: Get, e: Any) -> Changes:
    return {str(e.originator_id): {
        "id": str(e.originator_id), "unit_code": e.unit_code, "street_code": street_of(e.unit_code),
        "unit_name": _unit_name(get, e.unit_code), "name": e.name, "phone": e.phone, "posts": list(e.posts),
        "team_id": sid(e.team_id), "account": "", "status": PersonStatus.ACTIVE.value, "left_reason": "",
        "trainings": [], "trained_on": [], "last_trained": None,
        "registered_at": iso(e.timestamp), "registered_by": actor_of(e), "updated_at": iso(e.timestamp),
    }}


def _attended(get: Get, e: Any, ids: list[Any]) -> Changes:
    """Each attendee's document gains the session (and its day) when it is recorded or they are added."""
    session = get(TRAINING, str(e.originator_id)) if not hasattr(e, "topic") else None
    day, topic = (e.day, e.topic) if hasattr(e, "topic") else ((session or {}).get("day"), (session or {}).get("topic", ""))
    out: Changes = {}
    for pid in map(str, ids):
        doc = get(PERSON, pid)
        if doc is None or day is None:
            continue
        trainings = sorted([*doc["trainings"], {"id": str(e.originator_id), "day": day, "topic": topic}], key=lambda t: t["day"])
        days = sorted({t["day"] for t in trainings})
        out[pid] = {**doc, "trainings": trainings, "trained_on": days, "last_trained": days[-1], "updated_at": iso(e.timestamp)}
    return out


PEOPLE = Reducer(PERSON, {
    "Person.Registered": _registered,
    "Person.ContactUpdated": lambda get, e: updated(get, PERSON, e, name=e.name, phone=e.phone),
    "Person.PostsChanged": lambda get, e: updated(get, PERSON, e, posts=list(e.posts), team_id=sid(e.team_id)),
    "Person.AccountLinked": lambda get, e: updated(get, PERSON, e, account=e.username),
    "Person.Left": lambda get, e: updated(get, PERSON, e, status=PersonStatus.LEFT.value, left_reason=e.reason),
    "TrainingSession.Recorded": lambda get, e: _attended(get, e, e.attendees),
    "TrainingSession.AttendeesAdded": lambda get, e: _attended(get, e, e.attendees),
})


# -- training ---------------------------------------------------------------------------------------
def _attendee(get: Get, pid: Any) -> dict[str, Any]:
    doc = get(PERSON, str(pid)) or {}
    return {"id": str(pid), "name": doc.get("name", ""), "unit_code": doc.get("unit_code", "")}


def _recorded(get: Get, e: Any) -> Changes:
    attendees = [_attendee(get, p) for p in e.attendees]
    return {str(e.originator_id): {
        "id": str(e.originator_id), "unit_code": e.unit_code, "street_code": street_of(e.unit_code),
        "unit_name": _unit_name(get, e.unit_code), "level": e.level, "day": e.day, "topic": e.topic, "hours": e.hours,
        "notes": e.notes, "attendees": attendees, "attendee_count": len(attendees), "status": "recorded",
        "recorded_by": actor_of(e), "recorded_at": iso(e.timestamp), "updated_at": iso(e.timestamp),
    }}


def _added(get: Get, e: Any) -> Changes:
    doc = get(TRAINING, str(e.originator_id))
    if doc is None:
        return {}
    attendees = [*doc["attendees"], *(_attendee(get, p) for p in e.attendees)]
    return updated(get, TRAINING, e, attendees=attendees, attendee_count=len(attendees))


TRAININGS = Reducer(TRAINING, {"TrainingSession.Recorded": _recorded, "TrainingSession.AttendeesAdded": _added})


# -- queries ----------------------------------------------------------------------------------------
def unit_people(store: Any, unit_code: str) -> list[Doc]:
    """The active people of exactly `unit_code` (not its villages), by name."""
    docs, _ = store.list(PERSON, unit_prefix=unit_code, statuses=[PersonStatus.ACTIVE.value], limit=ALL)
    return sorted((d for d in docs if d["unit_code"] == unit_code), key=lambda d: (d["name"], d["id"]))


def holders(store: Any, unit_code: str, post: str) -> list[Doc]:
    """The active people holding `post` at exactly `unit_code`: read on the indexed tags column."""
    from projections.store import ListFilter

    docs, _ = store.list(PERSON, unit_prefix=unit_code, statuses=[PersonStatus.ACTIVE.value], limit=ALL,
                         filters=ListFilter(tag=post))
    return sorted((d for d in docs if d["unit_code"] == unit_code), key=lambda d: (d["name"], d["id"]))


def _active(docs: list[Doc]) -> list[Doc]:
    return [d for d in docs if d.get("status") == PersonStatus.ACTIVE.value]


def post_counts(docs: list[Doc]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for d in _active(docs):
        for post in d["posts"]:
            counts[post] = counts.get(post, 0) + 1
    return dict(sorted(counts.items()))


def _trained(doc: Doc, as_of: date) -> bool:
    return any(date.fromisoformat(day) <= as_of for day in doc.get("trained_on", []))


def trained_reporters(docs: list[Doc], as_of: date) -> list[Doc]:
    return [d for d in _active(docs) if "info_reporter" in d["posts"] and _trained(d, as_of)]


def untrained_reporters(docs: list[Doc], as_of: date) -> list[Doc]:
    """domain.training.untrained_reporters over documents."""
    return [d for d in _active(docs) if "info_reporter" in d["posts"] and not _trained(d, as_of)]


def unit_summary(store: Any, unit_code: str, as_of: date) -> dict[str, Any]:
    """One unit's register as the readiness scorecards read it: counts per post, reporters trained or not (names),
    the latest training day of its people."""
    docs = unit_people(store, unit_code)
    days = [d["last_trained"] for d in docs if d.get("last_trained")]
    return {"unit_code": unit_code, "people": len(docs), "posts": post_counts(docs),
            "trained_reporters": [d["name"] for d in trained_reporters(docs, as_of)],
            "untrained_reporters": [d["name"] for d in untrained_reporters(docs, as_of)],
            "last_trained": max(days) if days else None}
