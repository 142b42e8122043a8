"""Helpers shared by the routers: command answers, scoping of queries, paging."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import Depends, Query
from fastapi.responses import JSONResponse

from domain.policy import SHANGHAI
from domain.units import scope_prefix
from gateway.context import TARGETED, TEAM_WORK, Principal, Role, not_found
from gateway.service_layer.accounts import AccountAnswer
from gateway.service_layer.service import Accepted
from projections.columns import utc_key
from projections.store import COUNT_LIMIT, DocStore, ListFilter


def answer(result: Accepted, created: bool = False) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return JSONResponse({"id": result.id, "position": result.position}, status_code=201 if created else 200, headers=headers)


def account_answer(result: AccountAnswer, status_code: int) -> JSONResponse:
    """An account command's answer: the account (with the password made for it, shown once); a retried
    Idempotency-Key is answered as the first time, marked as such."""
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return JSONResponse(result.body(), status_code=status_code, headers=headers)


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
                limit: int = 100, offset: int = 0, filters: ListFilter | None = None,
                ) -> tuple[list[dict[str, Any]], int]:
    """A page of `kind` within the caller's scope (`Principal.can_read`), narrowed by `filters`.

    The scope is SQL on indexed columns, like every filter: a unit subtree by `unit_code`, a field
    account's own team work by `team_id`. Nothing is read beyond the page returned.
    """
    filters = filters or ListFilter()
    if kind in TARGETED:
        # Read by the units a record targets (a list per record, not one column): the kind's few
        # records in force are read whole, within the filters, and judged by the one rule here.
        items, _ = store.list(kind, statuses=statuses, limit=100_000, filters=filters)
        items = [d for d in items if principal.can_read_doc(kind, d)]
        return items[offset : offset + limit], len(items)
    if principal.role == Role.FIELD and kind in TEAM_WORK:
        if principal.team_id is None or filters.team_id not in (None, principal.team_id):
            return [], 0
        return store.list(kind, statuses=statuses, limit=limit, offset=offset, filters=replace(filters, team_id=principal.team_id))
    if kind in TARGETED and not principal.is_admin:
        # Read by the units they target (`Principal.can_read_warning`), not by one unit column: the district's
        # warnings are few, so they are read whole and filtered here by the one rule.
        items, _ = store.list(kind, statuses=statuses, limit=10_000_000, filters=filters)
        items = [d for d in items if principal.can_read_doc(kind, d)]
        return items[offset : offset + limit], len(items)
    return store.list(kind, unit_prefix=unit_prefix(principal), statuses=statuses, limit=limit, offset=offset, filters=filters)


# Bounds for a moment within a day of the calendar's ends, which has no UTC form (the fuzzer's 0001-01-01 in
# Shanghai is in year 0): every stored moment lies after the first and before the second, as after or before it.
_EARLIEST, _LATEST = "0001-01-01T00:00:00.000000Z", "9999-12-31T23:59:59.999999Z"


def _day_start(value: date | datetime) -> str | None:
    moment = value if isinstance(value, datetime) else datetime.combine(value, time.min, tzinfo=SHANGHAI)
    try:
        return utc_key((moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)).isoformat())
    except OverflowError:
        return _EARLIEST if moment.year == 1 else _LATEST


def list_filter(
    q: Annotated[str | None, Query(max_length=100, description="text in the title, address, description, task…")] = None,
    unit: Annotated[str | None, Query(pattern=r"^\d{12}$", description="a street's or village's code: its subtree")] = None,
    category: Annotated[list[str] | None, Query()] = None,
    level: Annotated[list[str] | None, Query()] = None,
    since: Annotated[date | datetime | None, Query(description="from this day (Asia/Shanghai) or moment")] = None,
    until: Annotated[date | datetime | None, Query(description="before this day (exclusive) or moment")] = None,
    cursor: Annotated[str | None, Query(pattern=r"^\d+\.[0-9A-Za-z-]{1,64}$", description="`next` of the previous page")] = None,
) -> ListFilter:
    """The filters every list offers, each on an indexed read-model column (projections.columns)."""
    after = None
    if cursor:
        position, doc_id = cursor.split(".", 1)
        after = (int(position), doc_id)
    return ListFilter(
        unit_prefix=scope_prefix(unit) if unit else None,
        categories=tuple(category or ()), levels=tuple(level or ()),
        since=_day_start(since) if since else None, until=_day_start(until) if until else None,
        text=q.strip() or None if q else None, after=after,
    )


Filters = Annotated[ListFilter, Depends(list_filter)]
NO_FILTER = ListFilter()  # the default when a route function is called directly (golden views, tests)


Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=2**53)]


def page(items: list[dict[str, Any]], total: int, position: int, limit: int, offset: int,
         store: DocStore | None = None, kind: str | None = None) -> dict[str, Any]:
    """A page of a list; with the store and kind, also the keyset cursor of the next page (`?cursor=`).

    `total` is exact up to COUNT_LIMIT; above it the list answers COUNT_LIMIT with `total_exact` false."""
    body: dict[str, Any] = {"items": items, "total": min(total, COUNT_LIMIT), "total_exact": total <= COUNT_LIMIT,
                            "limit": limit, "offset": offset, "position": position}
    if store is not None and kind is not None and len(items) == limit and items:
        last = store.cursor_of(kind, items[-1]["id"])
        body["next"] = f"{last[0]}.{last[1]}" if last else None
    return body
