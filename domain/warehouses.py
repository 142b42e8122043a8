"""Warehouses (应急物资仓库) and their stock.

Stock per material: on hand, reserved by allocations, and a minimum level.
Available = on hand - reserved. Every change keeps on hand >= reserved >= 0,
so stock never goes negative and a reservation is always backed.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InsufficientStock, InvalidTransition, InvalidValue, UnknownMaterial, event_versions, require_positive
from domain.materials import is_known
from domain.units import within

Lines = dict[str, int]  # material code -> quantity


def check_lines(lines: Lines) -> Lines:
    if not lines:
        raise InvalidValue("at least one line is required", field="lines")
    for code, qty in lines.items():
        if not is_known(code):
            raise UnknownMaterial(f"unknown material {code!r}", material=code)
        require_positive(qty, f"lines.{code}")
    return dict(lines)


class Warehouse(Aggregate):
    class_version = 1  # its state as kept in snapshots; its events' versions are declared below the class

    @event("Registered")
    def __init__(
        self,
        name: str,
        unit_code: str,
        address: str,
        manager: str,
        phone: str,
        lat: float | None,
        lon: float | None,
        by: Actor,
    ) -> None:
        self.name = name
        self.unit_code = unit_code
        self.address = address
        self.manager = manager
        self.phone = phone
        self.lat = lat
        self.lon = lon
        self.on_hand: dict[str, int] = {}
        self.reserved: dict[str, int] = {}
        self.minimum: dict[str, int] = {}
        # allocation id (hex) -> lines still reserved for it
        self.reservations: dict[str, Lines] = {}

    @classmethod
    def register(
        cls,
        *,
        name: str,
        unit_code: str,
        by: Actor,
        address: str = "",
        manager: str = "",
        phone: str = "",
        lat: float | None = None,
        lon: float | None = None,
    ) -> Warehouse:
        if not name.strip():
            raise InvalidValue("name must not be empty", field="name")
        if not within(unit_code, unit_code):
            raise InvalidValue("unit_code must be a 12-digit unit code", field="unit_code")
        return cls(
            name=name.strip(), unit_code=unit_code, address=address, manager=manager, phone=phone, lat=lat, lon=lon, by=by
        )

    def available(self, code: str) -> int:
        return self.on_hand.get(code, 0) - self.reserved.get(code, 0)

    # -- stock keeping ---------------------------------------------------
    def receive(self, lines: Lines, note: str, by: Actor) -> None:
        self._received(lines=check_lines(lines), note=note, by=by)

    @event("StockReceived")
    def _received(self, lines: Lines, note: str, by: Actor) -> None:
        for code, qty in lines.items():
            self.on_hand[code] = self.on_hand.get(code, 0) + qty

    def count(self, code: str, counted: int, note: str, by: Actor) -> None:
        """Stocktake: set on-hand to what was counted."""
        if not is_known(code):
            raise UnknownMaterial(f"unknown material {code!r}", material=code)
        if not isinstance(counted, int) or isinstance(counted, bool) or counted < 0:
            raise InvalidValue("counted must be a non-negative integer", field="counted")
        if counted < self.reserved.get(code, 0):
            raise InsufficientStock(
                "the count is below what is reserved for allocations; cancel or ship them first",
                material=code,
                reserved=self.reserved.get(code, 0),
            )
        self._counted(code=code, counted=counted, previous=self.on_hand.get(code, 0), note=note, by=by)

    @event("StockCounted")
    def _counted(self, code: str, counted: int, previous: int, note: str, by: Actor) -> None:
        self.on_hand[code] = counted

    def set_minimum(self, code: str, minimum: int, by: Actor) -> None:
        if not is_known(code):
            raise UnknownMaterial(f"unknown material {code!r}", material=code)
        if not isinstance(minimum, int) or isinstance(minimum, bool) or minimum < 0:
            raise InvalidValue("minimum must be a non-negative integer", field="minimum")
        self._minimum_set(code=code, minimum=minimum, by=by)

    @event("MinimumSet")
    def _minimum_set(self, code: str, minimum: int, by: Actor) -> None:
        self.minimum[code] = minimum

    # -- allocations -----------------------------------------------------
    def reserve(self, allocation_id: UUID, lines: Lines, by: Actor) -> None:
        """All lines or none: a shortage on any line refuses the whole request."""
        lines = check_lines(lines)
        if allocation_id.hex in self.reservations:
            raise InvalidTransition("this allocation already holds a reservation here")
        short = {code: {"requested": qty, "available": self.available(code)} for code, qty in lines.items() if qty > self.available(code)}
        if short:
            raise InsufficientStock("not enough stock for this allocation", shortages=short)
        self._reserved(allocation_id=allocation_id, lines=lines, by=by)

    @event("StockReserved")
    def _reserved(self, allocation_id: UUID, lines: Lines, by: Actor) -> None:
        for code, qty in lines.items():
            self.reserved[code] = self.reserved.get(code, 0) + qty
        self.reservations[allocation_id.hex] = dict(lines)

    def release(self, allocation_id: UUID, by: Actor) -> None:
        lines = self._reservation(allocation_id)
        self._released(allocation_id=allocation_id, lines=lines, by=by)

    @event("StockReleased")
    def _released(self, allocation_id: UUID, lines: Lines, by: Actor) -> None:
        for code, qty in lines.items():
            self.reserved[code] -= qty
        del self.reservations[allocation_id.hex]

    def issue(self, allocation_id: UUID, by: Actor) -> None:
        lines = self._reservation(allocation_id)
        self._issued(allocation_id=allocation_id, lines=lines, by=by)

    @event("StockIssued")
    def _issued(self, allocation_id: UUID, lines: Lines, by: Actor) -> None:
        for code, qty in lines.items():
            self.reserved[code] -= qty
            self.on_hand[code] -= qty
        del self.reservations[allocation_id.hex]

    def take_back(self, allocation_id: UUID, lines: Lines, by: Actor) -> None:
        self._returned(allocation_id=allocation_id, lines=check_lines(lines), by=by)

    @event("StockReturned")
    def _returned(self, allocation_id: UUID, lines: Lines, by: Actor) -> None:
        for code, qty in lines.items():
            self.on_hand[code] = self.on_hand.get(code, 0) + qty

    def _reservation(self, allocation_id: UUID) -> Lines:
        try:
            return dict(self.reservations[allocation_id.hex])
        except KeyError:
            raise InvalidTransition("no reservation for that allocation in this warehouse") from None


# The version of each stored event type (see domain.common.event_versions): a new shape is a new version.
event_versions(
    Warehouse,
    Registered=1, StockReceived=1, StockCounted=1, MinimumSet=1,
    StockReserved=1, StockReleased=1, StockIssued=1, StockReturned=1,
)
