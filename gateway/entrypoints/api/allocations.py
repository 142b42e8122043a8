"""Allocations: reserve materials for an incident, ship, confirm receipt, return, cancel."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from gateway.entrypoints.api.common import NO_FILTER, Filters, Limit, Offset, answer, page, scoped_list, visible_doc
from gateway.entrypoints.deps import CommandCtx, ContainerDep, PrincipalDep, ReadPosition
from gateway.entrypoints.schemas import Accepted, AllocationIn, DeliverIn, ReasonIn, ReturnIn, ShipIn
from gateway.service_layer import commands as c

router = APIRouter(prefix="/allocations", tags=["allocations"])


@router.get("")
def list_allocations(
    container: ContainerDep,
    principal: PrincipalDep,
    position: ReadPosition,
    status: Annotated[list[str] | None, Query()] = None,
    incident_id: UUID | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
    filters: Filters = NO_FILTER,
) -> dict[str, Any]:
    # Scope: `Principal.can_read("allocation", ...)` (a field account: materials sent to its team).
    filters = replace(filters, ref_id=None if incident_id is None else str(incident_id))
    items, total = scoped_list(container.store, principal, "allocation", statuses=status, limit=limit, offset=offset, filters=filters)
    return page(items, total, position, limit, offset, container.store, "allocation")


@router.get("/{allocation_id}")
def get_allocation(allocation_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    return visible_doc(container.store, principal, "allocation", str(allocation_id), "allocation")


@router.post("", status_code=201, response_model=Accepted)
def request_allocation(body: AllocationIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(
        container.service.handle(ctx, c.RequestAllocation(body.incident_id, body.warehouse_id, body.lines, body.destination, body.team_id)),
        created=True,
    )


@router.post("/{allocation_id}/ship", response_model=Accepted)
def ship(allocation_id: UUID, ctx: CommandCtx, container: ContainerDep, body: ShipIn | None = None) -> Any:
    return answer(container.service.handle(ctx, c.ShipAllocation(allocation_id, body.vehicle if body else "")))


@router.post("/{allocation_id}/deliver", response_model=Accepted)
def deliver(allocation_id: UUID, ctx: CommandCtx, container: ContainerDep, body: DeliverIn | None = None) -> Any:
    return answer(container.service.handle(ctx, c.DeliverAllocation(allocation_id, body.received_by if body else "")))


@router.post("/{allocation_id}/return", response_model=Accepted)
def give_back(allocation_id: UUID, body: ReturnIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.ReturnAllocation(allocation_id, body.lines, body.note)))


@router.post("/{allocation_id}/cancel", response_model=Accepted)
def cancel(allocation_id: UUID, body: ReasonIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.CancelAllocation(allocation_id, body.reason)))
