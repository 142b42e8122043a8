"""kill -9 under load: a command answered 2xx is in the log exactly once, and nothing else is.

16 clients send commands with Idempotency-Keys while the server is killed.
Commands whose answer was lost are retried with the same key after the
restart, as the field app does; then the log must hold exactly one set of
events per answered key, and no event from a command that was never answered.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timezone

import httpx
import pytest

from tests.conftest import DEMO_PASSWORD, Server

VILLAGE = "411099001001"
CLIENTS = 16


def _token(base: str) -> str:
    r = httpx.post(base + "/api/v1/auth/token", data={"username": "commander", "password": DEMO_PASSWORD})
    return r.json()["access_token"]


def _commands(worker: int, incident: str):  # type: ignore[no-untyped-def]
    """An endless stream of (path, body) for one client: new reports and updates of a shared incident."""
    n = 0
    while True:
        n += 1
        if n % 2:
            yield "/incidents", {
                "category": "natural_disaster", "subtype": "flood", "level": "IV", "title": f"积水点 {worker}-{n}",
                "unit_code": VILLAGE, "occurred_at": datetime.now(timezone.utc).isoformat(),
            }
        else:
            yield f"/incidents/{incident}/situation", {"affected": worker * 1000 + n, "notes": f"{worker}-{n}"}


@pytest.mark.slow
def test_kill_9_under_load_loses_and_duplicates_nothing(server: Server) -> None:
    base = server.base_url
    token = _token(base)
    headers = {"Authorization": f"Bearer {token}"}
    incident = httpx.post(base + "/api/v1/incidents", headers=headers, json=next(_commands(0, ""))[1]).json()["id"]
    start_head = httpx.get(base + "/healthz").json()["log_position"]

    answered: dict[str, dict] = {}  # key -> 2xx answer
    sent: dict[str, tuple[str, dict]] = {}  # key -> (path, body) for every attempt
    lost: set[str] = set()  # keys whose answer never came
    lock = threading.Lock()
    stop = threading.Event()

    def client(worker: int) -> None:
        with httpx.Client(base_url=base + "/api/v1", headers=headers, timeout=10) as http:
            for path, body in _commands(worker, incident):
                if stop.is_set():
                    return
                key = f"w{worker}-{uuid.uuid4()}"
                with lock:
                    sent[key] = (path, body)
                try:
                    r = http.post(path, json=body, headers={"Idempotency-Key": key})
                except httpx.HTTPError:
                    with lock:
                        lost.add(key)
                    return
                if r.status_code < 300:
                    with lock:
                        answered[key] = r.json()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60  # under load on a busy machine, let enough commands through first
    while len(answered) < 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill9()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert len(answered) > 50, "the load did not get going before the kill"

    server.start()  # same store, new process
    headers = {"Authorization": f"Bearer {_token(server.base_url)}"}

    def logged_keys() -> Counter[str]:
        keys: Counter[str] = Counter()
        after = start_head
        while True:
            page = httpx.get(server.base_url + "/api/v1/events", headers=headers, params={"after": after, "limit": 1000}).json()
            for e in page["items"]:
                if key := e["data"]["by"]["idempotency_key"]:  # not the notifier's or watchdog's own records
                    keys[key] += 1
            if not page["items"]:
                return keys
            after = page["next"]

    before_retry = logged_keys()
    # Nothing in the log that was not at least sent; answered ones are there exactly once.
    assert set(before_retry) <= set(answered) | lost
    for key in answered:
        assert before_retry[key] == 1, key  # every command here writes one event

    # The client retries what it never heard back about, with the same key and body.
    with httpx.Client(base_url=server.base_url + "/api/v1", headers=headers, timeout=10) as http:
        for key in sorted(lost):
            path, body = sent[key]
            r = http.post(path, json=body, headers={"Idempotency-Key": key})
            assert r.status_code < 300, r.text
            answered[key] = r.json()
            if key in before_retry:  # committed before the kill: the retry is answered from the log
                assert r.headers.get("Idempotent-Replayed") == "true"

    after_retry = logged_keys()
    assert set(after_retry) == set(answered)
    assert all(count == 1 for count in after_retry.values())
    # Positions answered are the positions in the log.
    positions = {k: a["position"] for k, a in answered.items()}
    assert len(set(positions.values())) == len(positions)
