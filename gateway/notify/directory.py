"""Who a message goes to: the `Directory` port and its implementation over the read models.

The notifier asks in the plan's words (a team's leader, a unit's head and disaster information reporter,
who is on duty at a desk); the directory answers with people (name, post, phone) and the push
subscriptions of the accounts that should see it on their phone page. People come from the people
register (`projections.people.holders`: the active holders of a post at exactly a unit) and, where the
register has nobody, from what the log already holds: a team's leader and phone, the roster's leader on duty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domain.duty import duty_day_id
from domain.people import Post
from domain.policy import duty_day
from projections.board import street_of
from projections.people import holders
from projections.store import DocStore

# The people register's posts (domain.people.Post) that head a unit: a street's (or the district's) emergency
# committee directors (双主任制), a village's safety persuasion station head.
HEAD_POSTS = (Post.COMMITTEE_DIRECTOR.value, Post.STATION_HEAD.value)
REPORTER_POSTS = (Post.INFO_REPORTER.value,)


@dataclass(frozen=True)
class Person:
    key: str  # stable: the same person is the same recipient in the outbox key
    name: str
    post: str  # glossary notifyPost
    phone: str = ""


@dataclass(frozen=True)
class PushTarget:
    key: str  # push:<subscription id>
    name: str
    subscription_id: str


class Directory(Protocol):
    def team_leader(self, team_id: str) -> Person | None: ...

    def unit_heads(self, unit_code: str, at: datetime) -> list[Person]: ...

    def unit_reporters(self, unit_code: str) -> list[Person]: ...

    def on_duty(self, unit_code: str, at: datetime) -> tuple[Person | None, list[Person]]: ...

    def push(self, *, unit_code: str | None = None, roles: tuple[str, ...] = (), team_id: str | None = None) -> list[PushTarget]: ...


class ReadModelDirectory:
    def __init__(self, store: DocStore, subscriptions: Any):
        self.store = store
        self.subscriptions = subscriptions

    # -- the people register, when it is there ----------------------------------
    def _register(self, unit_code: str, posts: tuple[str, ...]) -> list[Person]:
        found: dict[str, Person] = {}
        for post in posts:
            for d in holders(self.store, unit_code, post):
                kind = "info_reporter" if post == Post.INFO_REPORTER else "unit_head"
                found.setdefault(d["id"], Person(f"person:{d['id']}", d["name"], kind, d.get("phone") or ""))
        return list(found.values())

    def team_leader(self, team_id: str) -> Person | None:
        team = self.store.get("team", team_id)
        if not team or not team.get("leader"):
            return None
        return Person(f"team-leader:{team_id}:{team['leader']}", team["leader"], "team_leader", team.get("phone") or "")

    def unit_heads(self, unit_code: str, at: datetime) -> list[Person]:
        heads = self._register(unit_code, HEAD_POSTS)
        if heads:
            return heads
        leader, _ = self._duty(unit_code, at)  # a desk without a register: its leader on duty heads it today
        return [leader] if leader else []

    def unit_reporters(self, unit_code: str) -> list[Person]:
        return self._register(unit_code, REPORTER_POSTS)

    def _duty(self, unit_code: str, at: datetime) -> tuple[Person | None, list[Person]]:
        day = duty_day(at).isoformat()
        doc = self.store.get("duty_day", str(duty_day_id(unit_code, day)))
        if not doc:
            return None, []

        def person(p: dict[str, str], post: str) -> Person:
            return Person(f"duty:{unit_code}:{day}:{post}:{p['name']}:{p.get('phone', '')}", p["name"], post, p.get("phone", ""))

        return person(doc["leader"], "duty_leader"), [person(p, "duty_officer") for p in doc["officers"]]

    def on_duty(self, unit_code: str, at: datetime) -> tuple[Person | None, list[Person]]:
        """Who is on duty at the desk over `unit_code`: its street's, else the district's."""
        for desk in dict.fromkeys((street_of(unit_code), unit_code[:6] + "000000")):
            leader, officers = self._duty(desk, at)
            if leader or officers:
                return leader, officers
        return None, []

    def push(self, *, unit_code: str | None = None, roles: tuple[str, ...] = (), team_id: str | None = None) -> list[PushTarget]:
        return [PushTarget(f"push:{s['id']}", s["username"], s["id"])
                for s in self.subscriptions.find(unit_code=unit_code, roles=roles, team_id=team_id)]
