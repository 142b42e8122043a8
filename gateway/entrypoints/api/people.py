"""The people register and contact directory (人员 / 通讯录) and training sessions (培训).

Every read follows the one scope rule (`Principal.can_read`): a street reads its own and its villages'
people, the district everyone; another unit's person reads as not found (404), in the list, a search,
one record and the `.xlsx` export alike, so another street's phones never come back.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query

from domain.glossary import term
from domain.people import Post
from gateway.entrypoints.api.common import NO_FILTER, Filters, Limit, Offset, answer, page, scoped_list, visible_doc
from gateway.entrypoints.deps import CommandCtx, ContainerDep, PrincipalDep, ReadPosition
from gateway.entrypoints.schemas import (
    Accepted, AccountLinkIn, AttendeesIn, ContactIn, LeftIn, PersonRegisterIn, PostsIn, TrainingIn,
)
from gateway.entrypoints.xlsx import Sheet, download
from gateway.service_layer import commands as c
from projections.people import PERSON, TRAINING
from projections.store import ListFilter

router = APIRouter(tags=["people"])
EXPORT_LIMIT = 10_000  # rows of one export; a narrower filter for more
PostQ = Annotated[Post | None, Query(description="only the holders of this post")]
StatusQ = Annotated[list[Literal["active", "left"]] | None, Query(description="active (在岗) and/or left (已离岗); all by default")]


def _with_post(filters: ListFilter, post: Post | None) -> ListFilter:
    from dataclasses import replace

    return replace(filters, tag=post.value) if post else filters


@router.get("/people")
def list_people(container: ContainerDep, principal: PrincipalDep, position: ReadPosition, post: PostQ = None,
                status: StatusQ = None, limit: Limit = 100, offset: Offset = 0, filters: Filters = NO_FILTER,
                format: Literal["json", "xlsx"] = "json") -> Any:
    """The directory in the caller's scope, newest change first: `q` a name or unit name, `unit` a subtree, `post`;
    keyset paging by `cursor`. `format=xlsx`: every person the filters select, as a workbook in Chinese."""
    narrowed = _with_post(filters, post)
    if format == "xlsx":
        items, _ = scoped_list(container.store, principal, PERSON, statuses=status, limit=EXPORT_LIMIT, filters=narrowed)
        return download([directory_sheet(items)], "directory.xlsx")
    items, total = scoped_list(container.store, principal, PERSON, statuses=status, limit=limit, offset=offset, filters=narrowed)
    return page(items, total, position, limit, offset, container.store, PERSON)


def directory_sheet(items: list[dict[str, Any]]) -> Sheet:
    """The directory as printed: by unit then name, posts and status in words, the latest training day."""
    f = lambda code: term("personField", code)  # noqa: E731
    rows = [[d["unit_name"] or d["unit_code"], d["name"], d["phone"], "、".join(term("post", p) for p in d["posts"]),
             term("personStatus", d["status"]), d.get("last_trained") or "", d.get("account") or ""]
            for d in sorted(items, key=lambda d: (d["unit_code"], d["name"]))]
    return Sheet(f("directory"), [f("unit"), f("name"), f("phone"), f("posts"), f("status"), f("last_trained"), f("account")], rows)


@router.get("/people/{person_id}")
def get_person(person_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    return visible_doc(container.store, principal, PERSON, str(person_id), "person")


@router.post("/people", status_code=201, response_model=Accepted)
def register_person(body: PersonRegisterIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.RegisterPerson(**body.model_dump())), created=True)


@router.post("/people/{person_id}/contact", response_model=Accepted)
def update_contact(person_id: UUID, body: ContactIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.UpdatePersonContact(person_id, body.name, body.phone)))


@router.post("/people/{person_id}/posts", response_model=Accepted)
def change_posts(person_id: UUID, body: PostsIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.ChangePersonPosts(person_id, body.posts, body.team_id)))


@router.post("/people/{person_id}/account", response_model=Accepted)
def link_account(person_id: UUID, body: AccountLinkIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.LinkPersonAccount(person_id, body.username)))


@router.post("/people/{person_id}/left", response_model=Accepted)
def mark_left(person_id: UUID, body: LeftIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.MarkPersonLeft(person_id, body.reason)))


# -- training sessions ----------------------------------------------------------------------------------
@router.get("/trainings")
def list_trainings(container: ContainerDep, principal: PrincipalDep, position: ReadPosition, limit: Limit = 100,
                   offset: Offset = 0, filters: Filters = NO_FILTER) -> dict[str, Any]:
    """Sessions organised in the caller's scope, newest change first: `q` the topic, `unit`, `since`/`until` days."""
    items, total = scoped_list(container.store, principal, TRAINING, limit=limit, offset=offset, filters=filters)
    return page(items, total, position, limit, offset, container.store, TRAINING)


@router.get("/trainings/{training_id}")
def get_training(training_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    return visible_doc(container.store, principal, TRAINING, str(training_id), "training session")


@router.post("/trainings", status_code=201, response_model=Accepted)
def record_training(body: TrainingIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.RecordTraining(**body.model_dump())), created=True)


@router.post("/trainings/{training_id}/attendees", response_model=Accepted)
def add_attendees(training_id: UUID, body: AttendeesIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.AddTrainingAttendees(training_id, body.attendees)))
