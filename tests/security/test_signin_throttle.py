"""Item 3 of issue #16: sign-in throttled per account and per client address with growing delays
(429 problem+json, Retry-After), without letting an attacker lock the real user out; password checks
bounded in concurrency on threads of their own, so a flood of sign-ins cannot starve other work."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.adapters.throttle import HashingPool
from gateway.errors import Busy
from tests.integration.scoped_district import PASSWORD, District


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(district: District) -> Clock:
    c = Clock()
    district.container.signin_throttle.clock = c
    return c


def _from(district: District, address: str) -> TestClient:
    return TestClient(district.client.app, client=(address, 40000))


def _sign_in(client: TestClient, username: str, password: str) -> Any:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_guessing_one_account_from_one_address_meets_growing_delays(district: District, clock: Clock) -> None:
    attacker = _from(district, "203.0.113.7")
    answers = [_sign_in(attacker, "op_a", f"guess-{i}").status_code for i in range(6)]
    assert answers == [401] * 6  # five free failures; the sixth starts the delay
    waits = []
    for _ in range(3):
        r = _sign_in(attacker, "op_a", "another-guess")
        assert r.status_code == 429 and r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "too_many_attempts" and r.json()["retry_after"] == int(r.headers["Retry-After"])
        assert _sign_in(attacker, "op_a", PASSWORD).status_code == 429, "not even the right password while throttled"
        waits.append(int(r.headers["Retry-After"]))
        clock.now += waits[-1]
        assert _sign_in(attacker, "op_a", "yet-another-guess").status_code == 401  # answered again: and delayed longer
    assert waits == [1, 2, 4]


def test_an_attacker_elsewhere_cannot_lock_the_real_user_out(district: District, clock: Clock) -> None:
    desk = _from(district, "10.1.1.20")
    assert _sign_in(desk, "op_a", PASSWORD).status_code == 200  # the desk has signed in here before
    for n in range(60):  # a botnet: many addresses, a few guesses each
        assert _sign_in(_from(district, f"198.51.100.{n}"), "op_a", "guess").status_code in (401, 429)
    stranger = _from(district, "192.0.2.99")
    r = _sign_in(stranger, "op_a", "guess")
    assert r.status_code == 429, "the account as a whole is throttled for unknown addresses"
    assert int(r.headers["Retry-After"]) <= 60
    assert _sign_in(desk, "op_a", "typo").status_code == 401  # the desk's own typo is an ordinary failure
    assert _sign_in(desk, "op_a", PASSWORD).status_code == 200  # and the real user gets in at once
    # Other accounts from the same desk are untouched.
    assert _sign_in(desk, "cmd_b", PASSWORD).status_code == 200


def test_one_address_guessing_many_accounts_is_throttled(district: District, clock: Clock) -> None:
    attacker = _from(district, "203.0.113.50")
    codes = [_sign_in(attacker, f"user{i}", "guess").status_code for i in range(32)]
    assert codes[:30] == [401] * 30 and 429 in codes[30:]
    assert _sign_in(_from(district, "10.1.1.21"), "op_a", PASSWORD).status_code == 200  # others are not affected


def test_password_checks_run_bounded_off_the_event_loop() -> None:
    pool = HashingPool(workers=1, max_waiting=2)
    running, most, threads = 0, 0, set()
    lock = threading.Lock()

    def check() -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            threads.add(threading.current_thread().name)
        time.sleep(0.05)  # a password hash
        with lock:
            running -= 1
        return True

    async def flood() -> tuple[list[Any], float]:
        ticks: list[float] = []

        async def loop_latency() -> None:
            for _ in range(10):
                t = time.perf_counter()
                await asyncio.sleep(0.01)
                ticks.append(time.perf_counter() - t)

        results = await asyncio.gather(*(pool.run(check) for _ in range(12)), loop_latency(), return_exceptions=True)
        return results[:12], max(ticks)

    results, worst_tick = asyncio.run(flood())
    pool.close()
    assert most == 1 and all(name.startswith("password-hash") for name in threads)
    assert sum(r is True for r in results) == 3 and sum(isinstance(r, Busy) for r in results) == 9
    assert worst_tick < 0.04, "the event loop kept turning while passwords were checked"


def test_a_busy_sign_in_answers_503_with_retry_after(district: District) -> None:
    district.container.hashing.max_waiting = -1  # type: ignore[union-attr]  # full
    r = _sign_in(district.client, "op_a", PASSWORD)
    assert r.status_code == 503 and r.json()["code"] == "busy" and r.headers["Retry-After"] == "1"


def test_throttling_shows_in_the_metrics(district: District, clock: Clock) -> None:
    attacker = _from(district, "203.0.113.9")
    for i in range(7):
        _sign_in(attacker, "op_a", f"guess-{i}")
    text = district.client.get("/metrics").text
    assert "yingji_signin_throttled_total 1.0" in text, [line for line in text.splitlines() if "signin" in line]
