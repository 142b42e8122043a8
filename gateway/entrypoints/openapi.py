"""The OpenAPI document's sign-in: which operations need a bearer token, read off the role × route
table (gateway/authz.py) rather than declared by a per-request dependency on every route.

(A `Depends(OAuth2PasswordBearer)` on each route only told the docs how to sign in, and cost a
dependency solve on every request.)
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from gateway.authz import API, Public, rule_for

SCHEME = "OAuth2PasswordBearer"
TOKEN_URL = API + "/auth/token"


def with_sign_in(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with the password flow declared and required on every operation that is not public."""
    schema.setdefault("components", {}).setdefault("securitySchemes", {})[SCHEME] = {
        "type": "oauth2", "flows": {"password": {"scopes": {}, "tokenUrl": TOKEN_URL}}}
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith(API + "/"):
            continue
        for method, operation in operations.items():
            if not isinstance(operation, dict) or isinstance(rule_for(method.upper(), path), Public):
                continue
            operation["security"] = [{SCHEME: []}]
    return schema


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_sign_in(get_openapi(title=app.title, version=app.version, routes=app.routes, description=app.description))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
