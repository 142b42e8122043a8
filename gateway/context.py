"""Who is calling and how: the principal behind a request and a command's context."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.common import Actor
from domain.units import within
from gateway.errors import Forbidden


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

    def check_unit(self, unit_code: str, what: str = "this") -> None:
        """Non-admins act only within their unit's subtree."""
        if not self.can_see_unit(unit_code):
            raise Forbidden(f"{what} belongs to unit {unit_code}, outside your unit {self.unit_code}")

    def check_team(self, team_id: str) -> None:
        """Field accounts act only on their own team's work."""
        if self.role == Role.FIELD and self.team_id != team_id:
            raise Forbidden("field accounts act only on their own team's dispatches")


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
