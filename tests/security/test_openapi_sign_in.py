"""The OpenAPI document says which operations need a token, read off the role × route table
(gateway/entrypoints/openapi.py), so /docs can sign in and call them."""

from __future__ import annotations

from gateway.authz import API, MATRIX, Public, rule_for
from tests.integration.scoped_district import District


def test_every_operation_but_the_public_ones_asks_for_the_password_flow(district: District) -> None:
    schema = district.client.get("/openapi.json").json()
    flow = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]
    assert flow["tokenUrl"] == API + "/auth/token"
    seen = 0
    for path, operations in schema["paths"].items():
        if not path.startswith(API + "/"):
            continue
        for method, operation in operations.items():
            public = isinstance(rule_for(method.upper(), path), Public)
            assert ("security" in operation) is not public, (method, path)
            seen += 1
    assert seen >= len(MATRIX) - 1  # every row of the table is an operation (the board's socket is not in OpenAPI)
