"""Dispatches: the field team's taps (acknowledge, depart, arrive, complete, decline) and cancel."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from gateway.entrypoints.api.common import Limit, Offset, answer, page, unit_prefix
from gateway.context import Principal, Role
from gateway.entrypoints.deps import CommandCtx, ContainerDep, PrincipalDep, ReadPosition
from gateway.errors import Forbidden, NotFound
from gateway.entrypoints.schemas import Accepted, EmptyIn, NoteIn, ReasonIn

router = APIRouter(prefix="/dispatches", tags=["dispatches"])



def _visible(doc: dict[str, Any] | None, principal: Principal) -> bool:
    if doc is None:
        return False
    if principal.role == Role.FIELD:
        return doc["team_id"] == principal.team_id
    return principal.can_see_unit(doc["unit_code"]) or principal.can_see_unit(doc.get("team_unit_code") or "")


@router.get("")
def list_dispatches(
    container: ContainerDep,
    principal: PrincipalDep,
    position: ReadPosition,
    status: Annotated[list[str] | None, Query()] = None,
    team_id: UUID | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    if principal.role == Role.FIELD or team_id is not None:
        items, _ = container.store.list("dispatch", statuses=status, limit=100_000)
        wanted = principal.team_id if principal.role == Role.FIELD else str(team_id)
        items = [d for d in items if d["team_id"] == wanted and _visible(d, principal)]
        return page(items[offset : offset + limit], len(items), position, limit, offset)
    items, total = container.store.list("dispatch", unit_prefix=unit_prefix(principal), statuses=status, limit=limit, offset=offset)
    return page(items, total, position, limit, offset)


@router.get("/{dispatch_id}")
def get_dispatch(dispatch_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    doc = container.store.get("dispatch", str(dispatch_id))
    if doc is not None and principal.role == Role.FIELD and doc["team_id"] != principal.team_id:
        raise Forbidden("field accounts see only their own team's dispatches")
    if not _visible(doc, principal):
        raise NotFound(f"dispatch {dispatch_id} not found")
    return doc  # type: ignore[return-value]


@router.post("/{dispatch_id}/acknowledge", response_model=Accepted)
def acknowledge(dispatch_id: UUID, ctx: CommandCtx, container: ContainerDep, _: EmptyIn | None = None) -> Any:
    return answer(container.service.acknowledge_dispatch(ctx, dispatch_id))


@router.post("/{dispatch_id}/depart", response_model=Accepted)
def depart(dispatch_id: UUID, ctx: CommandCtx, container: ContainerDep, _: EmptyIn | None = None) -> Any:
    return answer(container.service.depart_dispatch(ctx, dispatch_id))


@router.post("/{dispatch_id}/arrive", response_model=Accepted)
def arrive(dispatch_id: UUID, ctx: CommandCtx, container: ContainerDep, _: EmptyIn | None = None) -> Any:
    return answer(container.service.arrive_dispatch(ctx, dispatch_id))


@router.post("/{dispatch_id}/complete", response_model=Accepted)
def complete(dispatch_id: UUID, ctx: CommandCtx, container: ContainerDep, body: NoteIn | None = None) -> Any:
    return answer(container.service.complete_dispatch(ctx, dispatch_id, body.note if body else ""))


@router.post("/{dispatch_id}/decline", response_model=Accepted)
def decline(dispatch_id: UUID, body: ReasonIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.decline_dispatch(ctx, dispatch_id, body.reason))


@router.post("/{dispatch_id}/cancel", response_model=Accepted)
def cancel(dispatch_id: UUID, body: ReasonIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.cancel_dispatch(ctx, dispatch_id, body.reason))
