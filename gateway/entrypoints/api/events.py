"""The log itself, as CloudEvents, for auditors and integrations (admin, commander, observer)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from gateway.citylink.cloudevents import to_cloudevent
from gateway.entrypoints.deps import ContainerDep, PrincipalDep
from gateway.errors import Forbidden

# Operators replay the board too, so they read the log; field and reporter accounts do not.
router = APIRouter(prefix="/events", tags=["events"])


@router.get("")
def read_events(
    container: ContainerDep,
    principal: PrincipalDep,
    after: Annotated[int, Query(ge=0, le=2**53)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    # The log is the whole district's: accounts scoped to a street see their part through the
    # board, lists and replay, which filter by unit, not here.
    if not principal.can_see_unit(container.settings.district_code):
        raise Forbidden("the event log spans the whole district: it is for district-level accounts")
    source = f"/districts/{container.settings.district_code}"
    notifications = container.log.read(after, limit)
    items = [to_cloudevent(container.log, n, source) for n in notifications]
    return {"items": items, "after": after, "next": items[-1]["position"] if items else after, "head": container.log.max_position()}
