"""Time travel: the board as it was at a log position or a moment, from checkpoints and the log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from domain.common import InvalidValue
from gateway.entrypoints.api.board import visible_to
from gateway.entrypoints.deps import ContainerDep, PrincipalDep

router = APIRouter(prefix="/replay", tags=["replay"])


@router.get("/board")
async def replay_board(
    container: ContainerDep,
    principal: PrincipalDep,
    position: Annotated[int | None, Query(ge=0, le=2**53)] = None,
    at: Annotated[datetime | None, Query(description="ISO-8601 with time zone")] = None,
) -> dict[str, Any]:
    if (position is None) == (at is None):
        raise InvalidValue("give exactly one of position or at", field="position")
    if at is not None and at.tzinfo is None:
        raise InvalidValue("at needs a time zone, e.g. 2026-07-20T02:14:00+08:00", field="at")
    head = await run_in_threadpool(container.log.max_position)
    if position is not None and position > head:
        raise InvalidValue(f"position {position} is beyond the end of the log ({head})", field="position", head=head)
    board = await run_in_threadpool(container.checkpoints.board_at, position, at, visible_to(principal))
    board["head"] = head
    return board
