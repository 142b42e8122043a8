"""Read model `allocation`: materials on their way from a warehouse to an incident."""

from __future__ import annotations

from typing import Any

from projections.reducer import Changes, Get, Reducer, actor_of, iso, sid, updated

K = "allocation"


def _requested(get: Get, e: Any) -> Changes:
    warehouse = get("warehouse", str(e.warehouse_id)) or {}
    incident = get("incident", str(e.incident_id)) or {}
    return {
        str(e.originator_id): {
            "id": str(e.originator_id),
            "incident_id": str(e.incident_id),
            "incident_title": incident.get("title", ""),
            "warehouse_id": str(e.warehouse_id),
            "warehouse_name": warehouse.get("name", ""),
            "unit_code": e.unit_code,
            "lines": dict(e.lines),
            "returned": {},
            "destination": e.destination,
            "team_id": sid(e.team_id),
            "requested_by": actor_of(e),
            "status": "reserved",
            "requested_at": iso(e.timestamp),
            "shipped_at": None,
            "delivered_at": None,
            "received_by": "",
            "returned_at": None,
            "cancelled_at": None,
            "updated_at": iso(e.timestamp),
        }
    }


def _returned(get: Get, e: Any) -> Changes:
    doc = get(K, str(e.originator_id))
    if doc is None:
        return {}
    returned = dict(doc["returned"])
    for code, qty in e.lines.items():
        returned[code] = returned.get(code, 0) + qty
    extra = {"status": "returned"} if e.fully else {}
    return updated(get, K, e, returned=returned, returned_at=iso(e.timestamp), **extra)


ALLOCATIONS = Reducer(
    K,
    {
        "Allocation.Requested": _requested,
        "Allocation.Shipped": lambda get, e: updated(get, K, e, status="shipped", shipped_at=iso(e.timestamp)),
        "Allocation.Delivered": lambda get, e: updated(
            get, K, e, status="delivered", delivered_at=iso(e.timestamp), received_by=e.received_by
        ),
        "Allocation.Returned": _returned,
        "Allocation.Cancelled": lambda get, e: updated(get, K, e, status="cancelled", cancelled_at=iso(e.timestamp)),
    },
)
