"""The board snapshot (the WebSocket stream of its changes lives beside it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.context import Principal
from gateway.entrypoints.deps import PrincipalDep, ReadPosition

router = APIRouter(prefix="/board", tags=["board"])


def visible_to(principal: Principal):  # type: ignore[no-untyped-def]
    """The board's filter: the one scope rule of each kind of record (`Principal.can_read`)."""

    def visible(kind: str, doc: dict[str, Any]) -> bool:
        return principal.can_read_doc(kind, doc)

    return visible


@router.get("")
async def board(request: Request, principal: PrincipalDep, position: ReadPosition) -> Response:
    """The whole board in the caller's scope: the per-scope snapshot the live sockets share, built
    and encoded once for everyone of that scope asking within a second (the hub's reuse window)."""
    text = await request.app.state.hub.board_json(principal, visible_to(principal), position)
    return Response(text, media_type="application/json")

