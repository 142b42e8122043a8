"""Read model `warehouse`: each warehouse and its stock (on hand, reserved, minimum) per material."""

from __future__ import annotations

from typing import Any

from projections.reducer import Changes, Get, Reducer, iso, updated

K = "warehouse"


def _registered(get: Get, e: Any) -> Changes:
    return {
        str(e.originator_id): {
            "id": str(e.originator_id),
            "name": e.name,
            "unit_code": e.unit_code,
            "address": e.address,
            "manager": e.manager,
            "phone": e.phone,
            "lat": e.lat,
            "lon": e.lon,
            "stock": {},
            "status": "active",
            "updated_at": iso(e.timestamp),
        }
    }


def _line(stock: dict[str, Any], code: str) -> dict[str, int]:
    return dict(stock.get(code) or {"on_hand": 0, "reserved": 0, "minimum": 0})


def _stock_change(apply):  # type: ignore[no-untyped-def]
    """`apply(line, event, code, qty)` mutates a copy of one stock line."""

    def handle(get: Get, e: Any) -> Changes:
        doc = get(K, str(e.originator_id))
        if doc is None:
            return {}
        stock = dict(doc["stock"])
        items = e.lines.items() if hasattr(e, "lines") else [(e.code, None)]
        for code, qty in items:
            line = _line(stock, code)
            apply(line, e, qty)
            stock[code] = line
        return updated(get, K, e, stock=stock)

    return handle


def _add(field: str, sign: int):  # type: ignore[no-untyped-def]
    def apply(line: dict[str, int], e: Any, qty: int) -> None:
        line[field] += sign * qty

    return apply


def _issue(line: dict[str, int], e: Any, qty: int) -> None:
    line["reserved"] -= qty
    line["on_hand"] -= qty


WAREHOUSES = Reducer(
    K,
    {
        "Warehouse.Registered": _registered,
        "Warehouse.StockReceived": _stock_change(_add("on_hand", +1)),
        "Warehouse.StockCounted": _stock_change(lambda line, e, _: line.__setitem__("on_hand", e.counted)),
        "Warehouse.MinimumSet": _stock_change(lambda line, e, _: line.__setitem__("minimum", e.minimum)),
        "Warehouse.StockReserved": _stock_change(_add("reserved", +1)),
        "Warehouse.StockReleased": _stock_change(_add("reserved", -1)),
        "Warehouse.StockIssued": _stock_change(_issue),
        "Warehouse.StockReturned": _stock_change(_add("on_hand", +1)),
    },
)
