"""Errors the application layer adds to the domain's, and their problem+json rendering (RFC 9457)."""

from __future__ import annotations

from typing import Any

from domain.common import DomainError


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class VersionConflict(DomainError):
    code = "version_conflict"


class IdempotencyMismatch(DomainError):
    code = "idempotency_mismatch"


class ProjectionLag(DomainError):
    code = "projection_lag"


class Conflict(DomainError):
    code = "conflict"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"


class TooManyAttempts(DomainError):
    """Too many failed sign-ins: wait `retry_after` seconds (429, Retry-After)."""

    code = "too_many_attempts"


class Busy(DomainError):
    """The server refuses more of this kind of work for a moment (503, Retry-After)."""

    code = "busy"


STATUS_OF_CODE = {
    "validation_error": 422,
    "bad_request": 400,
    "unknown_material": 422,
    "not_found": 404,
    "forbidden": 403,
    "unauthenticated": 401,
    "invalid_transition": 409,
    "team_unavailable": 409,
    "insufficient_stock": 409,
    "version_conflict": 409,
    "idempotency_mismatch": 422,
    "conflict": 409,
    "projection_lag": 503,
    "payload_too_large": 413,
    "method_not_allowed": 405,
    "unsupported_media_type": 415,
    "internal_error": 500,
    "too_many_attempts": 429,
    "busy": 503,
}

TITLES = {
    "validation_error": "The request is not valid",
    "bad_request": "The request could not be read",
    "unknown_material": "Unknown material code",
    "not_found": "Not found",
    "forbidden": "Not allowed",
    "unauthenticated": "Authentication required",
    "invalid_transition": "Not possible in the current state",
    "team_unavailable": "The team cannot take this dispatch",
    "insufficient_stock": "Not enough stock",
    "version_conflict": "Changed by someone else; try again",
    "idempotency_mismatch": "Idempotency-Key reused with a different request",
    "conflict": "Conflict",
    "projection_lag": "Read models are behind the requested position",
    "payload_too_large": "Request body too large",
    "method_not_allowed": "Method not allowed",
    "unsupported_media_type": "Unsupported media type",
    "internal_error": "Internal error",
    "too_many_attempts": "Too many attempts",
    "busy": "Busy; try again shortly",
}


def problem(code: str, detail: str, instance: str = "", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"https://yingji.example/problems/{code.replace('_', '-')}",
        "title": TITLES.get(code, code),
        "status": STATUS_OF_CODE.get(code, 400),
        "code": code,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return body
