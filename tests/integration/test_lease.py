"""One active relay per district: the PostgreSQL advisory lease and the file lease."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from gateway.citylink.relay import AdvisoryLease, FileLease
from tests.conftest import PG_URL, postgres_or_skip


def test_advisory_lease_is_exclusive_and_passes_on_when_the_holder_goes() -> None:
    postgres_or_skip()
    key = f"yingji-relay:test:{uuid.uuid4()}"
    first, second = AdvisoryLease(PG_URL, key), AdvisoryLease(PG_URL, key)
    try:
        assert first.acquire() and first.held()
        assert not second.acquire()
        first.conn.close()  # the holder's connection dies (process killed, network gone)
        assert not first.held()
        # The server lets go of the lock when it has noticed the session end: a moment later.
        deadline = time.monotonic() + 10
        while not second.acquire():
            assert time.monotonic() < deadline, "the lease never passed on"
            time.sleep(0.05)
        assert second.held()
    finally:
        first.release()
        second.release()


def test_file_lease_is_exclusive_and_passes_on(tmp_path: Path) -> None:
    path = tmp_path / "relay.lock"
    first, second = FileLease(path), FileLease(path)
    assert first.acquire() and first.held()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()
