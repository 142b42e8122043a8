"""Dispatches: the field team's taps (acknowledge, depart, arrive, complete, decline) and cancel."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from gateway.entrypoints.api.common import NO_FILTER, Filters, Limit, Offset, answer, page, scoped_list, visible_doc
from gateway.entrypoints.deps import CommandCtx, ContainerDep, PrincipalDep, ReadPosition
from gateway.entrypoints.schemas import Accepted, EmptyIn, NoteIn, ReasonIn
from gateway.service_layer import commands as c

router = APIRouter(prefix="/dispatches", tags=["dispatches"])

# Who may read which dispatch is `Principal.can_read("dispatch", ...)`: the incident's unit within the
# caller's subtree, or for a field account its own team's dispatches only. Every read below uses it.


@router.get("")
def list_dispatches(
    container: ContainerDep,
    principal: PrincipalDep,
    position: ReadPosition,
    status: Annotated[list[str] | None, Query()] = None,
    team_id: UUID | None = None,
    incident_id: UUID | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
    filters: Filters = NO_FILTER,
) -> dict[str, Any]:
    filters = replace(filters, team_id=None if team_id is None else str(team_id),
                      ref_id=None if incident_id is None else str(incident_id))
    items, total = scoped_list(container.store, principal, "dispatch", statuses=status, limit=limit, offset=offset, filters=filters)
    return page(items, total, position, limit, offset, container.store, "dispatch")


@router.get("/{dispatch_id}")
def get_dispatch(dispatch_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    return visible_doc(container.store, principal, "dispatch", str(dispatch_id), "dispatch")


@router.post("/{dispatch_id}/acknowledge", response_model=Accepted)
def acknowledge(dispatch_id: UUID, ctx: CommandCtx, container: ContainerDep, _: EmptyIn | None = None) -> Any:
    return answer(container.service.handle(ctx, c.AcknowledgeDispatch(dispatch_id)))


@router.post("/{dispatch_id}/depart", response_model=Accepted)
def depart(dispatch_id: UUID, ctx: CommandCtx, container: ContainerDep, _: EmptyIn | None = None) -> Any:
    return answer(container.service.handle(ctx, c.DepartDispatch(dispatch_id)))


@router.post("/{dispatch_id}/arrive", response_model=Accepted)
def arrive(dispatch_id: UUID, ctx: CommandCtx, container: ContainerDep, _: EmptyIn | None = None) -> Any:
    return answer(container.service.handle(ctx, c.ArriveDispatch(dispatch_id)))


@router.post("/{dispatch_id}/complete", response_model=Accepted)
def complete(dispatch_id: UUID, ctx: CommandCtx, container: ContainerDep, body: NoteIn | None = None) -> Any:
    return answer(container.service.handle(ctx, c.CompleteDispatch(dispatch_id, body.note if body else "")))


@router.post("/{dispatch_id}/decline", response_model=Accepted)
def decline(dispatch_id: UUID, body: ReasonIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.DeclineDispatch(dispatch_id, body.reason)))


@router.post("/{dispatch_id}/cancel", response_model=Accepted)
def cancel(dispatch_id: UUID, body: ReasonIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.CancelDispatch(dispatch_id, body.reason)))
