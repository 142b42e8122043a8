"""People register (人员 / 通讯录) and training (培训) commands.

Scope: a desk account manages the people of its unit's subtree (a street its own and its villages'; the
district everyone); another unit's person answers as unknown (404). Attendees of a training session are
loaded from the log, so a person registered a moment ago can attend, and one out of the caller's scope
reads as unknown, exactly as a direct command on them would.

Linking an account asks the accounts store (beside the log, `CommandService.accounts`) for the account's unit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from domain.common import InvalidValue
from domain.people import Person
from domain.policy import local_day
from domain.teams import Team
from domain.training import TrainingSession
from domain.units import within
from gateway.context import CommandContext
from gateway.service_layer import commands as c

if TYPE_CHECKING:
    from gateway.service_layer.service import Accepted, CommandService, Decision


def _check_team(svc: CommandService, ctx: CommandContext, unit_code: str, team_id: UUID | None) -> None:
    """A team post names a team of the person's unit or of a unit above it (a village's militia in the street's team)."""
    if team_id is None:
        return
    team = svc._load_readable(ctx, Team, team_id, "team", "team")
    if not within(team.unit_code, unit_code):
        raise InvalidValue("the team belongs to another unit than the person's or one above it", field="team_id")


def register_person(svc: CommandService, ctx: CommandContext, unit_code: str, name: str, phone: str, posts: list[str],
                    team_id: UUID | None = None) -> Accepted:
    def decide() -> Decision:
        svc._unit(unit_code)  # the unit exists
        ctx.principal.check_unit(unit_code, "the person's unit")
        _check_team(svc, ctx, unit_code, team_id)
        person = Person.register(unit_code=unit_code, name=name, phone=phone, posts=posts, team_id=team_id, by=ctx.actor)
        return person.id, [person]

    return svc._execute(ctx, decide)


def _person(svc: CommandService, ctx: CommandContext, person_id: UUID) -> Person:
    return svc._load_readable(ctx, Person, person_id, "person", "person")


def update_person_contact(svc: CommandService, ctx: CommandContext, person_id: UUID, name: str, phone: str) -> Accepted:
    def decide() -> Decision:
        person = _person(svc, ctx, person_id)
        person.update_contact(name, phone, by=ctx.actor)
        return person.id, [person]

    return svc._execute(ctx, decide)


def change_person_posts(svc: CommandService, ctx: CommandContext, person_id: UUID, posts: list[str],
                        team_id: UUID | None = None) -> Accepted:
    def decide() -> Decision:
        person = _person(svc, ctx, person_id)
        _check_team(svc, ctx, person.unit_code, team_id)
        person.change_posts(posts, team_id, by=ctx.actor)
        return person.id, [person]

    return svc._execute(ctx, decide)


def link_person_account(svc: CommandService, ctx: CommandContext, person_id: UUID, username: str) -> Accepted:
    def decide() -> Decision:
        person = _person(svc, ctx, person_id)
        name = username.strip()
        account = svc.accounts.get(name) if svc.accounts is not None and name else None
        person.link_account(username, account.unit_code if account is not None and account.active else None, by=ctx.actor)
        return person.id, [person]

    return svc._execute(ctx, decide)


def mark_person_left(svc: CommandService, ctx: CommandContext, person_id: UUID, reason: str) -> Accepted:
    def decide() -> Decision:
        person = _person(svc, ctx, person_id)
        person.mark_left(reason, by=ctx.actor)
        return person.id, [person]

    return svc._execute(ctx, decide)


def _attendees(svc: CommandService, ctx: CommandContext, ids: list[UUID]) -> list[tuple[UUID, str, str]]:
    if len(set(ids)) != len(ids):
        raise InvalidValue("an attendee is listed twice", field="attendees")
    return [(p.id, p.unit_code, p.status) for p in (_person(svc, ctx, i) for i in ids)]


def record_training(svc: CommandService, ctx: CommandContext, unit_code: str, day: date, topic: str, hours: float,
                    attendees: list[UUID], notes: str = "") -> Accepted:
    def decide() -> Decision:
        svc._unit(unit_code)
        ctx.principal.check_unit(unit_code, "the organising unit")
        session = TrainingSession.record(unit_code=unit_code, day=day, today=local_day(svc.clock()), topic=topic, hours=hours,
                                         attendees=_attendees(svc, ctx, attendees), notes=notes, by=ctx.actor)
        return session.id, [session]

    return svc._execute(ctx, decide)


def add_training_attendees(svc: CommandService, ctx: CommandContext, training_id: UUID, attendees: list[UUID]) -> Accepted:
    def decide() -> Decision:
        session = svc._load_readable(ctx, TrainingSession, training_id, "training", "training session")
        session.add_attendees(_attendees(svc, ctx, attendees), by=ctx.actor)
        return session.id, [session]

    return svc._execute(ctx, decide)


HANDLERS: dict[type[c.Command], Callable[..., Accepted]] = {
    c.RegisterPerson: register_person,
    c.UpdatePersonContact: update_person_contact,
    c.ChangePersonPosts: change_person_posts,
    c.LinkPersonAccount: link_person_account,
    c.MarkPersonLeft: mark_person_left,
    c.RecordTraining: record_training,
    c.AddTrainingAttendees: add_training_attendees,
}
