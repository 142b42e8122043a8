"""The people register (人员) behind the contact directory (通讯录): named people, their phones and posts.

A `Person` belongs to one unit (the district, a street office or the cluster, a village or community)
and holds one or more posts (`Post`). Which posts a unit of each level has is one table here,
`POSTS_AT_LEVEL`: a street office has the emergency committee (应急管理委员会, two directors under the
双主任制, deputies, members) and the emergency office (应急管理办公室: head, full-time deputy, full-time
staff); a village or community has the safety persuasion station (安全劝导站: head, deputies), the
persuaders (安全劝导员), the disaster information reporter (灾害信息员) and the militia (民兵应急连).
Rescue team posts exist wherever teams are registered.

A person's id is a uuid4: people share names, and phones change hands, so nothing natural names them.
Phones are personal data: kept in the log (the register's history), shown only within scope, never in
a server log line, and blanked in what the relay sends to the city (gateway/citylink/privacy.py).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidTransition, InvalidValue, event_versions, require_state
from domain.duty import PHONE
from domain.units import code_level


class Post(StrEnum):
    COMMITTEE_DIRECTOR = "committee_director"  # 应急管理委员会主任 (双主任制: two)
    COMMITTEE_DEPUTY = "committee_deputy"  # 副主任
    COMMITTEE_MEMBER = "committee_member"  # 成员
    OFFICE_HEAD = "office_head"  # 应急管理办公室主任
    OFFICE_DEPUTY = "office_deputy"  # 专职副主任
    OFFICE_STAFF = "office_staff"  # 专职工作人员
    TEAM_LEADER = "team_leader"  # 救援队队长
    TEAM_MEMBER = "team_member"  # 救援队队员
    STATION_HEAD = "station_head"  # 安全劝导站站长
    STATION_DEPUTY = "station_deputy"  # 副站长
    PERSUADER = "persuader"  # 安全劝导员
    INFO_REPORTER = "info_reporter"  # 灾害信息员
    MILITIA = "militia"  # 民兵应急连


_COMMITTEE = (Post.COMMITTEE_DIRECTOR, Post.COMMITTEE_DEPUTY, Post.COMMITTEE_MEMBER)
_OFFICE = (Post.OFFICE_HEAD, Post.OFFICE_DEPUTY, Post.OFFICE_STAFF)
_TEAM = (Post.TEAM_LEADER, Post.TEAM_MEMBER)
# The posts a unit of each level (domain.units.code_level: 0 district, 1 street/cluster, 2 village/community) has.
# Street offices also keep a reporter (乡镇（街道）灾害信息员) and militia; the district its committee, office and teams.
POSTS_AT_LEVEL: dict[int, tuple[Post, ...]] = {
    0: (*_COMMITTEE, *_OFFICE, *_TEAM),
    1: (*_COMMITTEE, *_OFFICE, *_TEAM, Post.INFO_REPORTER, Post.MILITIA),
    2: (Post.STATION_HEAD, Post.STATION_DEPUTY, Post.PERSUADER, Post.INFO_REPORTER, Post.MILITIA, *_TEAM),
}
TEAM_POSTS = frozenset(_TEAM)  # the posts that may name the team they serve in (team_id)


class PersonStatus(StrEnum):
    ACTIVE = "active"  # 在岗
    LEFT = "left"  # 已离岗


MAX_NAME = 50
MAX_REASON = 500
USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def check_name(name: Any) -> str:
    name = str(name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidValue(f"a person needs a name ({MAX_NAME} characters at most)", field="name")
    return name


def check_phone(phone: Any) -> str:
    phone = str(phone or "").strip()
    if not PHONE.match(phone):
        raise InvalidValue("phone is not a phone number", field="phone")
    return phone


def check_posts(unit_code: str, posts: Any, team_id: UUID | None) -> list[str]:
    """One or more posts, each one a unit of this level has (POSTS_AT_LEVEL), none twice; a team only with a team post."""
    if not isinstance(posts, (list, tuple)) or not posts:
        raise InvalidValue("a person holds at least one post", field="posts")
    allowed = POSTS_AT_LEVEL[code_level(unit_code)]
    out: list[str] = []
    for p in posts:
        try:
            post = Post(p)
        except ValueError:
            raise InvalidValue(f"unknown post {p!r}", field="posts") from None
        if post not in allowed:
            raise InvalidValue(f"a unit at this level has no post {post.value}", field="posts", post=post.value)
        if post.value in out:
            raise InvalidValue(f"post {post.value} is listed twice", field="posts")
        out.append(post.value)
    if team_id is not None and not TEAM_POSTS & set(out):
        raise InvalidValue("a team is named only for a team leader or member", field="team_id")
    return out


class Person(Aggregate):
    class_version = 1

    @event("Registered")
    def __init__(self, unit_code: str, name: str, phone: str, posts: list[str], team_id: UUID | None, by: Actor) -> None:
        self.unit_code = unit_code
        self.name = name
        self.phone = phone
        self.posts = list(posts)
        self.team_id = team_id
        self.account = ""
        self.status = PersonStatus.ACTIVE.value

    @classmethod
    def register(cls, *, unit_code: str, name: str, phone: str, posts: Any, by: Actor, team_id: UUID | None = None) -> Person:
        return cls(unit_code=unit_code, name=check_name(name), phone=check_phone(phone),
                   posts=check_posts(unit_code, posts, team_id), team_id=team_id, by=by)

    def _active(self, action: str) -> None:
        require_state(self.status, {PersonStatus.ACTIVE.value}, action, "person")

    def update_contact(self, name: str, phone: str, by: Actor) -> None:
        self._active("update the contact of")
        name, phone = check_name(name), check_phone(phone)
        if (name, phone) == (self.name, self.phone):
            raise InvalidValue("the contact is already so", field="phone")
        self._contact_updated(name=name, phone=phone, by=by)

    @event("ContactUpdated")
    def _contact_updated(self, name: str, phone: str, by: Actor) -> None:
        self.name = name
        self.phone = phone

    def change_posts(self, posts: Any, team_id: UUID | None, by: Actor) -> None:
        self._active("change the posts of")
        posts = check_posts(self.unit_code, posts, team_id)
        if (posts, team_id) == (self.posts, self.team_id):
            raise InvalidValue("the person already holds these posts", field="posts")
        self._posts_changed(posts=posts, team_id=team_id, by=by)

    @event("PostsChanged")
    def _posts_changed(self, posts: list[str], team_id: UUID | None, by: Actor) -> None:
        self.posts = list(posts)
        self.team_id = team_id

    def link_account(self, username: str, account_unit: str | None, by: Actor) -> None:
        """Link the person to their platform account (a reporter's login), which must be of the person's own unit;
        an empty username unlinks."""
        self._active("link an account to")
        username = username.strip()
        if username:
            if not USERNAME.match(username):
                raise InvalidValue("not an account name", field="username")
            if account_unit is None:
                raise InvalidValue(f"no active account {username}", field="username")
            if account_unit != self.unit_code:
                raise InvalidValue("the account belongs to another unit than the person", field="username")
        if username == self.account:
            raise InvalidValue("the account is already so linked", field="username")
        self._account_linked(username=username, by=by)

    @event("AccountLinked")
    def _account_linked(self, username: str, by: Actor) -> None:
        self.account = username

    def mark_left(self, reason: str, by: Actor) -> None:
        """The person left their posts (调离, 退休 …): kept in the register's history, no longer counted."""
        if self.status == PersonStatus.LEFT:
            raise InvalidTransition("the person has already left")
        reason = reason.strip()
        if not reason or len(reason) > MAX_REASON:
            raise InvalidValue(f"leaving is recorded with a reason ({MAX_REASON} characters at most)", field="reason")
        self._left(reason=reason, by=by)

    @event("Left")
    def _left(self, reason: str, by: Actor) -> None:
        self.status = PersonStatus.LEFT.value


# The version of each stored event type (see domain.common.event_versions): a new shape is a new version.
event_versions(Person, Registered=1, ContactUpdated=1, PostsChanged=1, AccountLinked=1, Left=1)
