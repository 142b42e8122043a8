"""The board snapshot (the WebSocket stream of its changes lives beside it)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter

from gateway.context import Principal
from gateway.entrypoints.deps import ContainerDep, PrincipalDep, ReadPosition
from projections.board import BOARD_KINDS, assemble

router = APIRouter(prefix="/board", tags=["board"])


def visible_to(principal: Principal):  # type: ignore[no-untyped-def]
    """The board's filter: the one scope rule of each kind of record (`Principal.can_read`)."""

    def visible(kind: str, doc: dict[str, Any]) -> bool:
        return principal.can_read_doc(kind, doc)

    return visible


@router.get("")
def board(container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    position, docs = container.store.snapshot(BOARD_KINDS)
    return assemble(docs, position, datetime.now(timezone.utc), visible_to(principal), relay=container.relay_status(),
                    verified_days=container.settings.verified_report_days)
