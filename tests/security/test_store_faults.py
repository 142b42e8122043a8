"""Item 6 of issue #16: accounts and the relay's position live apart from the read models.

The read-model file is deleted, truncated, its header or its interior pages corrupted: the
server and `yingji projections rebuild` recover by themselves (the file set aside, the read
models folded again from the log), and no account and no relay position is ever lost. A store
damaged while serving makes /readyz unready instead of saying ready while reads fail.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.container import Container
from gateway.entrypoints.app import create_app
from gateway.settings import Settings
from tests.conftest import yingji
from tests.integration.scoped_district import D, PASSWORD, VIEWERS, seed

RELAY_AT = 7


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the read-model file is the embedded default's


def _seeded(settings: Settings) -> tuple[int, int]:
    """A district with accounts and a relay position; returns (incidents the admin sees, log head)."""
    c = Container.build(settings)
    try:
        seed(c)
        c.accounts.add("chief", PASSWORD, "admin", D)
        c.projector.catch_up()
        c.relay_state.advance(0, RELAY_AT)
        incidents = len(c.store.list("incident")[0])
        return incidents, c.log.max_position()
    finally:
        c.close()


def delete(path: Path) -> None:
    path.unlink()


def truncate(path: Path) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size // 2)


def corrupt_header(path: Path) -> None:
    with open(path, "r+b") as f:
        f.write(b"this is not an SQLite header at all!" * 3)


def corrupt_interior(path: Path) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as f:
        for page in range(2, size // 4096):
            f.seek(page * 4096 + 100)
            f.write(b"\xff" * 2000)


DAMAGE: dict[str, Callable[[Path], None]] = {
    "deleted": delete, "truncated": truncate, "header-corrupted": corrupt_header, "interior-corrupted": corrupt_interior,
}


def _signs_in_and_reads(settings: Settings, incidents: int) -> None:
    with TestClient(create_app(settings)) as client:
        for username, *_ in VIEWERS.values():
            r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
            assert r.status_code == 200, f"{username} lost: {r.text}"
        token = client.post("/api/v1/auth/token", data={"username": "chief", "password": PASSWORD}).json()["access_token"]
        c: Container = client.app.state.container  # type: ignore[attr-defined]
        assert c.wait_for(c.log.max_position(), 20)
        r = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["total"] == incidents, r.text
        assert client.get("/readyz").status_code == 200
        assert c.relay_state.read()["position"] == RELAY_AT


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_server_start_recovers_a_damaged_read_model_file_without_losing_accounts_or_relay_position(settings: Settings, damage: str) -> None:
    incidents, _ = _seeded(settings)
    DAMAGE[damage](settings.read_model_path)
    _signs_in_and_reads(settings, incidents)
    if damage != "deleted":
        assert list(settings.data_dir.glob("state.sqlite3.broken-*")), "the damaged file is kept aside, not deleted"


@pytest.mark.parametrize("damage", ["header-corrupted", "truncated"])
def test_projections_rebuild_recovers_a_damaged_read_model_file(settings: Settings, damage: str) -> None:
    incidents, head = _seeded(settings)
    DAMAGE[damage](settings.read_model_path)
    out = yingji(settings, "projections", "rebuild")
    assert f"position {head}" in out.stdout, out.stdout + out.stderr
    _signs_in_and_reads(settings, incidents)


def test_readyz_is_not_ready_when_the_read_models_are_damaged_while_serving(settings: Settings) -> None:
    incidents, _ = _seeded(settings)
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").status_code == 200
        c: Container = client.app.state.container  # type: ignore[attr-defined]
        c.engine.dispose()  # drop cached pages, as another process's damage would not be in them
        corrupt_interior(settings.read_model_path)
        client.app.state.store_health.checked_at = float("-inf")  # type: ignore[attr-defined]
        r = client.get("/readyz")
        assert r.status_code == 503 and "rebuild" in r.json()["fix"], r.text
    _signs_in_and_reads(settings, incidents)  # and the next start recovers


def test_accounts_in_an_older_read_model_file_move_to_the_accounts_file(settings: Settings) -> None:
    incidents, _ = _seeded(settings)
    # An older deployment: accounts and the relay's row inside state.sqlite3, no accounts file.
    import sqlite3

    state = sqlite3.connect(settings.read_model_path)
    state.execute(f"ATTACH DATABASE '{settings.accounts_path}' AS a")
    for table in ("accounts", "account_requests", "relay_state"):
        state.execute(f"CREATE TABLE {table} AS SELECT * FROM a.{table}")
    state.commit()
    state.close()
    settings.accounts_path.unlink()
    _signs_in_and_reads(settings, incidents)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_rebuild_never_touches_accounts_revoked_tokens_or_the_relay_position(settings: Settings) -> None:
    from datetime import datetime, timedelta, timezone

    _seeded(settings)
    c = Container.build(settings)
    try:
        c.accounts.revoke_token("a-signed-out-token", "chief", datetime.now(timezone.utc) + timedelta(hours=1))
        before = [a.public() for a in c.accounts.list()]
        c.rebuild()
        assert [a.public() for a in c.accounts.list()] == before and len(before) == len(VIEWERS) + 1
        assert c.accounts.revoked_among({"a-signed-out-token"}) == {"a-signed-out-token"}
        assert c.relay_state.read()["position"] == RELAY_AT
    finally:
        c.close()


def test_a_damaged_accounts_file_stops_the_start_with_what_to_do_and_is_left_alone(settings: Settings) -> None:
    _seeded(settings)
    corrupt_header(settings.accounts_path)
    damaged = settings.accounts_path.read_bytes()
    for command in (["projections", "rebuild"], ["serve", "--port", "0"]):
        out = yingji(settings, *command, check=False)
        assert out.returncode != 0 and "accounts file" in out.stderr and "yingji import --archive" in out.stderr, out.stderr[-2000:]
        assert "Traceback" not in out.stderr
    assert settings.accounts_path.read_bytes() == damaged, "never set aside, never rewritten"
