"""The materials catalogue."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from domain.materials import CATALOGUE
from gateway.entrypoints.deps import PrincipalDep

router = APIRouter(prefix="/materials", tags=["materials"])


@router.get("")
def list_materials(_: PrincipalDep) -> dict[str, Any]:
    items = [asdict(m) for m in CATALOGUE.values()]
    return {"items": items, "total": len(items)}
