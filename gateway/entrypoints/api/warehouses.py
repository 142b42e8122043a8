"""Warehouses and their stock: register, receive, stocktake, minimum levels."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter

from gateway.entrypoints.api.common import NO_FILTER, Filters, Limit, Offset, answer, page, scoped_list, visible_doc
from gateway.entrypoints.deps import CommandCtx, ContainerDep, PrincipalDep, ReadPosition
from gateway.entrypoints.schemas import Accepted, CountIn, MinimumIn, ReceiptIn, WarehouseIn
from gateway.service_layer import commands as c

router = APIRouter(prefix="/warehouses", tags=["warehouses"])


@router.get("")
def list_warehouses(container: ContainerDep, principal: PrincipalDep, position: ReadPosition, limit: Limit = 100, offset: Offset = 0,
                    filters: Filters = NO_FILTER) -> dict[str, Any]:
    items, total = scoped_list(container.store, principal, "warehouse", limit=limit, offset=offset, filters=filters)
    return page(items, total, position, limit, offset, container.store, "warehouse")


@router.get("/{warehouse_id}")
def get_warehouse(warehouse_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    return visible_doc(container.store, principal, "warehouse", str(warehouse_id), "warehouse")


@router.post("", status_code=201, response_model=Accepted)
def register_warehouse(body: WarehouseIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.RegisterWarehouse(**body.model_dump())), created=True)


@router.post("/{warehouse_id}/receipts", response_model=Accepted)
def receive(warehouse_id: UUID, body: ReceiptIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.ReceiveStock(warehouse_id, body.lines, body.note)))


@router.post("/{warehouse_id}/counts", response_model=Accepted)
def count(warehouse_id: UUID, body: CountIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.CountStock(warehouse_id, body.code, body.counted, body.note)))


@router.post("/{warehouse_id}/minimums", response_model=Accepted)
def set_minimum(warehouse_id: UUID, body: MinimumIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.SetMinimum(warehouse_id, body.code, body.minimum)))
