"""On PostgreSQL the projector wakes on NOTIFY from other processes, and survives losing its LISTEN connection."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import psycopg
import pytest

from gateway.container import Container
from gateway.settings import Settings
from tests.conftest import PG_URL
from tests.integration.test_store import DISTRICT, STREET, VILLAGE, ctx


@pytest.fixture
def backend() -> str:
    return "postgres"


def wait_until(predicate, seconds: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_projector_follows_writes_of_another_process_across_a_lost_listen(settings: Settings) -> None:
    follower = Container.build(settings.model_copy(update={"watchdog_seconds": 0}))
    writer = Container.build(settings.model_copy(update={"run_projector": False, "create_schema": False}))
    try:
        follower.start()
        assert wait_until(lambda: follower._waker is not None and follower._waker.listening)  # type: ignore[attr-defined]
        s = writer.service
        s.register_unit(ctx(), code=DISTRICT, name="东城区", kind="district")
        s.register_unit(ctx(), code=STREET, name="新兴街道", kind="street")
        last = s.register_unit(ctx(), code=VILLAGE, name="魏庄村", kind="village").position
        assert follower.projector.wait_for(last, 10)

        with psycopg.connect(PG_URL, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query ILIKE 'LISTEN%%' AND pid <> pg_backend_pid()"
            ).fetchall()
        assert killed, "no LISTEN connection to kill"
        incident = s.report_incident(ctx(), category="accident", subtype="fire", level="IV", title="火情", unit_code=VILLAGE,
                                     occurred_at=datetime.now(timezone.utc))
        assert follower.projector.wait_for(incident.position, 10)  # polling covers the gap
        assert wait_until(lambda: follower._waker.listening)  # type: ignore[attr-defined]  # and LISTEN came back
        again = s.verify_incident(ctx(), incident.id)
        assert follower.projector.wait_for(again.position, 10)
        assert follower.store.get("incident", incident.id)["status"] == "verified"
    finally:
        writer.close()
        follower.close()
