"""Things every aggregate shares: who acted, and the errors a command can hit."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

# Namespace for ids derived from natural keys (unit codes), so that the same
# key always names the same aggregate and a second "create" is a version clash.
YINGJI_NS = UUID("6d3f0a2e-4a55-4c71-9d07-3c1b8a6e2f10")


def natural_id(kind: str, key: str) -> UUID:
    return uuid5(YINGJI_NS, f"{kind}:{key}")


@dataclass(frozen=True)
class Actor:
    """Who issued a command. Recorded on every event."""

    user: str
    role: str
    unit: str
    request_id: str = ""
    idempotency_key: str = ""
    name: str = ""  # display name, e.g. "指挥长 王强", for people reading the record

    def as_dict(self) -> dict[str, str]:
        return {
            "user": self.user,
            "role": self.role,
            "unit": self.unit,
            "request_id": self.request_id,
            "idempotency_key": self.idempotency_key,
            "name": self.name,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Actor:
        return cls(**{k: str(data.get(k, "")) for k in ("user", "role", "unit", "request_id", "idempotency_key", "name")})


SYSTEM = Actor(user="system", role="system", unit="")


class DomainError(Exception):
    """A command the domain refuses. `code` is the stable public error code."""

    code = "domain_error"

    def __init__(self, detail: str, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidTransition(DomainError):
    code = "invalid_transition"


class InvalidValue(DomainError):
    code = "validation_error"


class TeamUnavailable(DomainError):
    code = "team_unavailable"


class InsufficientStock(DomainError):
    code = "insufficient_stock"


class UnknownMaterial(DomainError):
    code = "unknown_material"


def parse_enum(enum: type[StrEnum], value: str, field: str) -> str:
    try:
        return enum(value).value
    except ValueError:
        raise InvalidValue(f"{field} must be one of {[e.value for e in enum]}", field=field) from None


def require_state(current: str, allowed: set[str] | frozenset[str], action: str, what: str) -> None:
    if current not in allowed:
        raise InvalidTransition(
            f"cannot {action} a {what} that is {current}",
            state=current,
            allowed_from=sorted(allowed),
        )


def event_versions(aggregate: type, **versions: int) -> None:
    """Declare the stored version of each of an aggregate's event types: the library's `class_version`.

    The log outlives the code, so an event's shape never changes in place. To change one: declare
    the event class explicitly on the aggregate (fields, `class_version = N + 1`, and a static
    `upcast_vN_vN+1(state)` that turns the stored dict of version N into version N + 1), then raise
    its number here. The library's mapper writes `class_version` into the stored state when it is
    above 1 and runs the upcasters on every read (store, replay, rebuild); the CloudEvents the relay
    and `/events` publish are upcast the same way. Version 1 is what the library assumes when
    nothing is stored, so every event written before versions were declared is version 1.
    """
    for name, version in versions.items():
        cls = getattr(aggregate, name)
        declared = cls.__dict__.get("class_version")
        if declared is not None and declared != version:
            raise TypeError(f"{aggregate.__name__}.{name} declares class_version {declared}, not {version}")
        cls.class_version = version


def require_positive(quantity: int, field: str = "quantity") -> None:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise InvalidValue(f"{field} must be a positive integer", field=field)
