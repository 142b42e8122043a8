"""Helpers shared by the routers: command answers, scoping of queries, paging."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import JSONResponse

from domain.units import scope_prefix
from gateway.context import Principal
from gateway.errors import NotFound
from gateway.service_layer.service import Accepted
from projections.store import DocStore


def answer(result: Accepted, created: bool = False) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return JSONResponse({"id": result.id, "position": result.position}, status_code=201 if created else 200, headers=headers)


def replayed(body: dict[str, Any], status_code: int) -> JSONResponse:
    """The answer to a retried Idempotency-Key of a command kept outside the log (accounts)."""
    return JSONResponse(body, status_code=status_code, headers={"Idempotent-Replayed": "true"})


def unit_prefix(principal: Principal) -> str | None:
    """Non-admins see their unit's subtree only."""
    return None if principal.is_admin else scope_prefix(principal.unit_code)


def visible_doc(store: DocStore, principal: Principal, kind: str, doc_id: str, what: str) -> dict[str, Any]:
    doc = store.get(kind, doc_id)
    # Out of scope reads as not found: it does not reveal what exists elsewhere.
    if doc is None or not principal.can_see_unit(doc.get("unit_code") or ""):
        raise NotFound(f"{what} {doc_id} not found")
    return doc


Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=2**53)]


def page(items: list[dict[str, Any]], total: int, position: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset, "position": position}
