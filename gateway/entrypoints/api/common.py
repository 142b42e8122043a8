"""Helpers shared by the routers: command answers, scoping of queries, paging."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import JSONResponse

from domain.units import scope_prefix
from gateway.context import TARGETED, TEAM_WORK, Principal, Role, not_found
from gateway.service_layer.service import Accepted
from projections.store import DocStore


def answer(result: Accepted, created: bool = False) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return JSONResponse({"id": result.id, "position": result.position}, status_code=201 if created else 200, headers=headers)


def replayed(body: dict[str, Any], status_code: int) -> JSONResponse:
    """The answer to a retried Idempotency-Key of a command kept outside the log (accounts)."""
    return JSONResponse(body, status_code=status_code, headers={"Idempotent-Replayed": "true"})


def unit_prefix(principal: Principal) -> str | None:
    """Non-admins see their unit's subtree only (the SQL side of `Principal.can_read`)."""
    return None if principal.is_admin else scope_prefix(principal.unit_code)


def visible_doc(store: DocStore, principal: Principal, kind: str, doc_id: str, what: str) -> dict[str, Any]:
    """One record by id, within the caller's scope (`Principal.can_read`)."""
    doc = store.get(kind, doc_id)
    # Out of scope reads as not found: it does not reveal what exists elsewhere.
    if not principal.can_read_doc(kind, doc):
        raise not_found(what, doc_id)
    return doc  # type: ignore[return-value]


def scoped_list(store: DocStore, principal: Principal, kind: str, *, statuses: Sequence[str] | None = None,
                limit: int = 100, offset: int = 0, where: Callable[[dict[str, Any]], bool] | None = None,
                ) -> tuple[list[dict[str, Any]], int]:
    """A page of `kind` within the caller's scope (`Principal.can_read`), optionally narrowed by `where`.

    When the scope is a unit subtree and nothing else narrows the list, the store pages it; otherwise
    (a field account's team work, a filter) the subtree is read and filtered here.
    """
    team_scoped = (principal.role == Role.FIELD and kind in TEAM_WORK) or kind in TARGETED
    if where is None and not team_scoped:
        return store.list(kind, unit_prefix=unit_prefix(principal), statuses=statuses, limit=limit, offset=offset)
    items, _ = store.list(kind, unit_prefix=None if team_scoped else unit_prefix(principal), statuses=statuses, limit=10_000_000)
    items = [d for d in items if principal.can_read_doc(kind, d) and (where is None or where(d))]
    return items[offset : offset + limit], len(items)


Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=2**53)]


def page(items: list[dict[str, Any]], total: int, position: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset, "position": position}
