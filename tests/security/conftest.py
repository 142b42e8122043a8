"""The security tests run in-process on the marked district of tests/integration/scoped_district.py
(SQLite only: what they protect does not depend on the backend), with an admin, "chief", added."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.settings import Settings
from tests.integration.scoped_district import D, PASSWORD, District, serve

CHIEF = "chief"


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def district(settings: Settings) -> Iterator[District]:
    with serve(settings) as d:
        d.container.accounts.add(CHIEF, PASSWORD, "admin", D, display_name="局长")
        r = d.client.post("/api/v1/auth/token", data={"username": CHIEF, "password": PASSWORD})
        assert r.status_code == 200, r.text
        d.tokens[CHIEF] = r.json()["access_token"]
        yield d
