"""The organisation tree. Everyone signed in may read it (the board's map needs it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gateway.entrypoints.api.common import answer, page
from gateway.entrypoints.deps import CommandCtx, ContainerDep, PrincipalDep, ReadPosition
from gateway.errors import NotFound
from gateway.entrypoints.schemas import Accepted, UnitIn
from gateway.service_layer import commands as c

router = APIRouter(prefix="/units", tags=["units"])


@router.get("")
def list_units(container: ContainerDep, _: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    items, total = container.store.list("unit", limit=100_000)
    items.sort(key=lambda u: u["code"])
    return page(items, total, position, total, 0)


@router.get("/{code}")
def get_unit(code: str, container: ContainerDep, _: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    doc = container.store.get("unit", code)
    if doc is None:
        raise NotFound(f"unit {code} not found")
    return doc


@router.post("", status_code=201, response_model=Accepted)
def register_unit(body: UnitIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.RegisterUnit(**body.model_dump())), created=True)

