"""Read model `directive`: directives from the city platform and whether a commander acknowledged them."""

from __future__ import annotations

from typing import Any

from projections.reducer import Changes, Get, Reducer, actor_of, iso, updated

K = "directive"


def _received(get: Get, e: Any) -> Changes:
    return {
        str(e.originator_id): {
            "id": str(e.originator_id),
            "upstream_id": e.upstream_id,
            "title": e.title,
            "content": e.content,
            "level": e.level,
            "issuer": e.issuer,
            "issued_at": iso(e.issued_at),
            "unit_code": e.unit_code,
            "status": "received",
            "received_at": iso(e.timestamp),
            "acknowledged_at": None,
            "acknowledged_by": None,
            "note": "",
            "updated_at": iso(e.timestamp),
        }
    }


DIRECTIVES = Reducer(
    K,
    {
        "Directive.Received": _received,
        "Directive.Acknowledged": lambda get, e: updated(
            get, K, e, status="acknowledged", acknowledged_at=iso(e.timestamp), acknowledged_by=actor_of(e), note=e.note
        ),
    },
)
