"""The organisation tree: district → street offices / industrial cluster → villages, communities.

Unit codes follow the 12-digit statistical division code (统计用区划代码):
6 digits of county, 3 of township (street), 3 of village. A unit's subtree is
every code that starts with its significant prefix, so scope checks need no
tree walk.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidValue, event_versions, natural_id, parse_enum


class UnitKind(StrEnum):
    DISTRICT = "district"  # 区
    STREET = "street"  # 街道办事处
    CLUSTER = "cluster"  # 产业集聚区
    VILLAGE = "village"  # 行政村
    COMMUNITY = "community"  # 社区


LEVEL_OF_KIND = {
    UnitKind.DISTRICT: 0,
    UnitKind.STREET: 1,
    UnitKind.CLUSTER: 1,
    UnitKind.VILLAGE: 2,
    UnitKind.COMMUNITY: 2,
}
PREFIX_LENGTH = (6, 9, 12)
CODE_RE = re.compile(r"[0-9]{12}")  # ASCII only: fullwidth digits must not pass as codes

# The parts the plan asks each unit to have: "1+4" for a street office,
# "1+3" for a village or community. Values are counts or flags.
STREET_PARTS = ("committee", "office_staff", "rescue_team_size", "warehouses", "command_platform")
VILLAGE_PARTS = ("persuasion_station", "persuader_team", "info_reporter", "militia_team")


def code_level(code: str) -> int:
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        raise InvalidValue("unit code must be 12 digits", field="code")
    if code[6:] == "000000":
        return 0
    if code[9:] == "000":
        return 1
    return 2


def scope_prefix(code: str) -> str:
    return code[: PREFIX_LENGTH[code_level(code)]]


def within(scope_code: str, code: str) -> bool:
    """True when `code` is `scope_code` or lies under it."""
    if not isinstance(scope_code, str) or not isinstance(code, str) or not CODE_RE.fullmatch(code) or not CODE_RE.fullmatch(scope_code):
        return False
    return code.startswith(scope_prefix(scope_code))


def parent_code(code: str) -> str | None:
    level = code_level(code)
    if level == 0:
        return None
    keep = PREFIX_LENGTH[level - 1]
    return code[:keep] + "0" * (12 - keep)


def street_of(code: str) -> str | None:
    """The street (or cluster) a unit lies in, or is; None for the district itself."""
    level = code_level(code)
    return None if level == 0 else code[:9] + "000"


def ancestors(code: str) -> list[str]:
    """The unit itself and every unit above it, nearest first."""
    chain = [code]
    while (p := parent_code(chain[-1])) is not None:
        chain.append(p)
    return chain


class Unit(Aggregate):
    class_version = 1  # its state as kept in snapshots; its events' versions are declared below the class

    @staticmethod
    def create_id(code: str, **_: Any) -> UUID:
        return unit_id(code)

    @event("Registered")
    def __init__(
        self,
        code: str,
        name: str,
        kind: str,
        lat: float | None,
        lon: float | None,
        parts: dict[str, int],
        by: Actor,
    ) -> None:
        self.code = code
        self.name = name
        self.kind = kind
        self.parent_code = parent_code(code)
        self.lat = lat
        self.lon = lon
        self.parts = dict(parts)

    @classmethod
    def register(
        cls,
        *,
        code: str,
        name: str,
        kind: str,
        by: Actor,
        lat: float | None = None,
        lon: float | None = None,
        parts: dict[str, int] | None = None,
    ) -> Unit:
        kind = parse_enum(UnitKind, kind, "kind")
        if code_level(code) != LEVEL_OF_KIND[UnitKind(kind)]:
            raise InvalidValue(f"a {kind} needs a code at level {LEVEL_OF_KIND[UnitKind(kind)]}", field="code")
        if not name.strip():
            raise InvalidValue("name must not be empty", field="name")
        parts = _check_parts(kind, parts or {})
        return cls(code=code, name=name.strip(), kind=kind, lat=lat, lon=lon, parts=parts, by=by)

    def update_parts(self, parts: dict[str, int], by: Actor) -> None:
        """The old typed counts. No command records them any more (POST /units/{code}/parts is retired: nothing
        read them, readiness derives its items); logs written before keep the events, which replay as ever."""
        self._parts_updated(parts=_check_parts(self.kind, parts), by=by)

    @event("PartsUpdated")
    def _parts_updated(self, parts: dict[str, int], by: Actor) -> None:
        self.parts.update(parts)


# The version of each stored event type (see domain.common.event_versions): a new shape is a new version.
event_versions(Unit, Registered=1, PartsUpdated=1)


def unit_id(code: str) -> UUID:
    return natural_id("unit", code)


def _check_parts(kind: str, parts: dict[str, int]) -> dict[str, int]:
    allowed = VILLAGE_PARTS if LEVEL_OF_KIND[UnitKind(kind)] == 2 else STREET_PARTS
    unknown = set(parts) - set(allowed)
    if unknown:
        raise InvalidValue(f"unknown parts for a {kind}: {sorted(unknown)}", field="parts")
    for k, v in parts.items():
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise InvalidValue(f"part {k} must be a non-negative integer", field="parts")
    return dict(parts)
