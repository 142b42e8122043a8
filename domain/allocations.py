"""Allocations (物资调拨): materials from one warehouse to one incident.

Requested (stock reserved) -> shipped (stock issued) -> delivered (receipt
confirmed in the field) -> returned, partly or fully. Cancel only before shipping.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidValue, event_versions, require_state
from domain.warehouses import Lines, check_lines


class AllocationStatus(StrEnum):
    RESERVED = "reserved"  # 已预留
    SHIPPED = "shipped"  # 已出库
    DELIVERED = "delivered"  # 已签收
    RETURNED = "returned"  # 已归还 (everything returned)
    CANCELLED = "cancelled"  # 已取消


A = AllocationStatus
IN_FLIGHT = frozenset({A.RESERVED, A.SHIPPED})


class Allocation(Aggregate):
    class_version = 1  # its state as kept in snapshots; its events' versions are declared below the class

    @event("Requested")
    def __init__(
        self,
        incident_id: UUID,
        warehouse_id: UUID,
        unit_code: str,
        lines: Lines,
        destination: str,
        team_id: UUID | None,
        by: Actor,
    ) -> None:
        self.incident_id = incident_id
        self.warehouse_id = warehouse_id
        self.unit_code = unit_code
        self.lines = dict(lines)
        self.destination = destination
        self.team_id = team_id
        self.returned: dict[str, int] = {}
        self.status = A.RESERVED.value

    @classmethod
    def request(
        cls,
        *,
        incident_id: UUID,
        warehouse_id: UUID,
        unit_code: str,
        lines: Lines,
        by: Actor,
        destination: str = "",
        team_id: UUID | None = None,
    ) -> Allocation:
        return cls(
            incident_id=incident_id,
            warehouse_id=warehouse_id,
            unit_code=unit_code,
            lines=check_lines(lines),
            destination=destination,
            team_id=team_id,
            by=by,
        )

    def ship(self, by: Actor, vehicle: str = "") -> None:
        require_state(self.status, {A.RESERVED}, "ship", "allocation")
        self._shipped(vehicle=vehicle, by=by)

    @event("Shipped")
    def _shipped(self, vehicle: str, by: Actor) -> None:
        self.status = A.SHIPPED.value

    def deliver(self, received_by: str, by: Actor) -> None:
        require_state(self.status, {A.SHIPPED}, "confirm receipt of", "allocation")
        self._delivered(received_by=received_by or by.user, by=by)

    @event("Delivered")
    def _delivered(self, received_by: str, by: Actor) -> None:
        self.status = A.DELIVERED.value

    def outstanding(self) -> Lines:
        return {c: q - self.returned.get(c, 0) for c, q in self.lines.items() if q - self.returned.get(c, 0) > 0}

    def give_back(self, lines: Lines, by: Actor, note: str = "") -> None:
        require_state(self.status, {A.DELIVERED}, "return materials of", "allocation")
        lines = check_lines(lines)
        outstanding = self.outstanding()
        too_many = {c: q for c, q in lines.items() if q > outstanding.get(c, 0)}
        if too_many:
            raise InvalidValue(
                "cannot return more than was delivered and not yet returned", field="lines", outstanding=outstanding
            )
        fully = all(outstanding.get(c, 0) - lines.get(c, 0) == 0 for c in outstanding)
        self._returned(lines=lines, fully=fully, note=note, by=by)

    @event("Returned")
    def _returned(self, lines: Lines, fully: bool, note: str, by: Actor) -> None:
        for code, qty in lines.items():
            self.returned[code] = self.returned.get(code, 0) + qty
        if fully:
            self.status = A.RETURNED.value

    def cancel(self, reason: str, by: Actor) -> None:
        require_state(self.status, {A.RESERVED}, "cancel", "allocation")
        if not reason.strip():
            raise InvalidValue("a reason is required to cancel", field="reason")
        self._cancelled(reason=reason.strip(), by=by)

    @event("Cancelled")
    def _cancelled(self, reason: str, by: Actor) -> None:
        self.status = A.CANCELLED.value


# The version of each stored event type (see domain.common.event_versions): a new shape is a new version.
event_versions(Allocation, Requested=1, Shipped=1, Delivered=1, Returned=1, Cancelled=1)
