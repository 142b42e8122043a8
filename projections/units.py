"""Read model `unit`: the organisation tree, keyed by unit code."""

from __future__ import annotations

from typing import Any

from domain.units import parent_code
from projections.reducer import Changes, Get, Reducer, iso


def _registered(get: Get, e: Any) -> Changes:
    return {
        e.code: {
            "id": e.code,
            "code": e.code,
            "name": e.name,
            "kind": e.kind,
            "parent_code": parent_code(e.code),
            "unit_code": e.code,
            "lat": e.lat,
            "lon": e.lon,
            "parts": dict(e.parts),
            "status": "active",
            "created_at": iso(e.timestamp),
            "updated_at": iso(e.timestamp),
        }
    }


def _parts_updated(get: Get, e: Any) -> Changes:
    for doc_id in _ids_of(get, e):
        doc = get("unit", doc_id)
        if doc is not None:
            return {doc_id: {**doc, "parts": {**doc["parts"], **e.parts}, "updated_at": iso(e.timestamp)}}
    return {}


def _ids_of(get: Get, e: Any) -> list[str]:
    # Unit events carry the code only on registration; look it up by aggregate id.
    doc = get("unit_by_id", str(e.originator_id))
    return [doc["code"]] if doc else []


UNITS = Reducer("unit", {"Unit.Registered": _registered, "Unit.PartsUpdated": _parts_updated})

# A small index from aggregate id to unit code, so later unit events find their document.
UNIT_IDS = Reducer(
    "unit_by_id",
    {"Unit.Registered": lambda get, e: {str(e.originator_id): {"id": str(e.originator_id), "code": e.code, "unit_code": e.code, "status": "active"}}},
)
