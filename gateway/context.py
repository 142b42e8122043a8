"""Who is calling and how: the principal behind a request and a command's context."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.common import Actor
from domain.units import within
from gateway.errors import Forbidden, NotFound

# Records a field account reads by its team rather than by place: a team's phone sees its own
# work wherever it was sent, and nothing of another team's, even in its own street.
TEAM_WORK = frozenset({"dispatch", "allocation"})
# Records every account may read: the organisation tree (the board's map and every unit picker need it).
PUBLIC = frozenset({"unit"})
# Records read by the units they target rather than by the unit they belong to (`Principal.can_read_warning`).
TARGETED = frozenset({"warning"})


class Role(StrEnum):
    ADMIN = "admin"
    COMMANDER = "commander"  # 指挥长
    OPERATOR = "operator"  # 值班员
    FIELD = "field"  # 救援队伍
    REPORTER = "reporter"  # 灾害信息员
    OBSERVER = "observer"  # 观察员 (read only)
    SYSTEM = "system"  # the platform's own processes (watchdog); never an account


@dataclass(frozen=True)
class Principal:
    username: str
    role: str
    unit_code: str
    team_id: str | None = None
    name: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role in (Role.ADMIN, Role.SYSTEM)

    def can_see_unit(self, unit_code: str) -> bool:
        return self.is_admin or within(self.unit_code, unit_code)

    def can_read(self, kind: str, unit_code: str | None, team_id: str | None = None) -> bool:
        """The one scope rule for reading a record of `kind` (every get, list, stream, command and export).

        A record belongs to a unit (`unit_code`: an incident's place; a dispatch's or an allocation's
        is its incident's). Non-admins read records of their unit's subtree; a field account reads
        its own team's dispatches and allocations only. Out of scope reads as not found.
        """
        if self.is_admin or kind in PUBLIC:
            return True
        if self.role == Role.FIELD and kind in TEAM_WORK:
            return team_id is not None and self.team_id is not None and str(team_id) == self.team_id
        return self.can_see_unit(unit_code or "")

    def can_read_warning(self, issuer_unit: str, targets: list[str], status: str) -> bool:
        """The scope rule of an early warning: the issuing unit's subtree sees it (drafts included); once issued,
        a unit sees a warning that targets it, a unit above it (its street, the district) or a unit below it."""
        if self.is_admin or self.can_see_unit(issuer_unit):
            return True
        if status == "draft":
            return False
        return any(within(t, self.unit_code) or within(self.unit_code, t) for t in targets)

    def can_read_doc(self, kind: str, doc: dict | None) -> bool:
        """`can_read` for a read model document."""
        if doc is not None and kind == "warning":
            return self.can_read_warning(doc.get("unit_code") or "", doc.get("targets") or [], doc.get("status") or "")
        return doc is not None and self.can_read(kind, doc.get("unit_code"), doc.get("team_id"))

    def check_readable(self, kind: str, record_id: object, unit_code: str | None, team_id: object = None, what: str = "") -> None:
        """Refuse a record out of scope exactly as an unknown one: same 404, same words (ids cannot be probed)."""
        if not self.can_read(kind, unit_code, None if team_id is None else str(team_id)):
            raise not_found(what or kind, record_id)

    def check_unit(self, unit_code: str, what: str = "this") -> None:
        """Non-admins act only within their unit's subtree."""
        if not self.can_see_unit(unit_code):
            raise Forbidden(f"{what} belongs to unit {unit_code}, outside your unit {self.unit_code}")

    def check_team(self, team_id: str) -> None:
        """Field accounts act only on their own team's work."""
        if self.role == Role.FIELD and self.team_id != team_id:
            raise Forbidden("field accounts act only on their own team's dispatches")


def not_found(what: str, record_id: object) -> NotFound:
    """The one answer for a record that does not exist or is out of the caller's scope."""
    return NotFound(f"{what} {record_id} not found")


@dataclass(frozen=True)
class CommandContext:
    principal: Principal
    request_id: str = ""
    idempotency_key: str = ""
    request_hash: str = ""

    @property
    def actor(self) -> Actor:
        p = self.principal
        return Actor(
            user=p.username, role=p.role, unit=p.unit_code, request_id=self.request_id, idempotency_key=self.idempotency_key,
            name=p.name,
        )

    @property
    def scope_key(self) -> str:
        return f"{self.principal.username}:{self.idempotency_key}" if self.idempotency_key else ""
