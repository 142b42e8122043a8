"""The board snapshot (the WebSocket stream of its changes lives beside it)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter

from gateway.context import Principal, Role
from gateway.entrypoints.deps import ContainerDep, PrincipalDep, ReadPosition
from projections.board import BOARD_KINDS, assemble

router = APIRouter(prefix="/board", tags=["board"])


def visible_to(principal: Principal):  # type: ignore[no-untyped-def]
    def visible(kind: str, doc: dict[str, Any]) -> bool:
        if kind == "unit" or principal.is_admin:
            return True
        if principal.role == Role.FIELD and kind in ("dispatch", "allocation"):
            return doc.get("team_id") == principal.team_id
        return principal.can_see_unit(doc.get("unit_code") or "")

    return visible


@router.get("")
def board(container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    position, docs = container.store.snapshot(BOARD_KINDS)
    return assemble(docs, position, datetime.now(timezone.utc), visible_to(principal), relay=container.relay_status())
