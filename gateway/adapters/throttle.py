"""Sign-in throttling, and password hashing kept off the serving loop and bounded in concurrency.

Failed sign-ins are counted three ways, each with a few free failures and then a delay that
doubles with every further failure (the next attempt is refused with 429 and `Retry-After`
without checking the password, so a flood costs no hashing):

- per (account, client address): strict — 5 free, then 1 s, 2 s, 4 s … up to 15 min;
- per client address, whatever the account: 30 free, then doubling up to 15 min (one address
  guessing many accounts);
- per account, from any address: 20 free, then doubling up to only 60 s (many addresses guessing
  one account) — and never for an address that has signed in to this account successfully before,
  so an attacker elsewhere cannot lock the real user out of the desk.

A success clears its (account, address) count. Counts live in the process (several gateway
workers each count their own: N workers allow N times the attempts) and are forgotten an hour
after the last failure; the table is bounded, oldest first out.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from gateway.errors import Busy, TooManyAttempts

T = TypeVar("T")


@dataclass(frozen=True)
class Rule:
    free: int  # failures before any delay
    first: float  # seconds of the first delay
    cap: float  # the longest delay


PAIR = Rule(free=5, first=1.0, cap=900.0)
ADDRESS = Rule(free=30, first=1.0, cap=900.0)
ACCOUNT = Rule(free=20, first=1.0, cap=60.0)
FORGET_SECONDS = 3600.0
MAX_ENTRIES = 100_000


@dataclass
class _Count:
    failures: int = 0
    blocked_until: float = 0.0
    last: float = 0.0


class SignInThrottle:
    def __init__(self, pair: Rule = PAIR, address: Rule = ADDRESS, account: Rule = ACCOUNT,
                 clock: Callable[[], float] = time.monotonic, max_entries: int = MAX_ENTRIES):
        self.rules = {"pair": pair, "address": address, "account": account}
        self.clock = clock
        self.max_entries = max_entries
        self._counts: OrderedDict[tuple[str, ...], _Count] = OrderedDict()
        self._known: OrderedDict[tuple[str, str], float] = OrderedDict()  # (account, address) that signed in
        self.refused = 0

    def _keys(self, username: str, address: str) -> dict[str, tuple[str, ...]]:
        name = username.strip().lower()
        keys: dict[str, tuple[str, ...]] = {"pair": ("pair", name, address), "address": ("address", address)}
        if (name, address) not in self._known:
            keys["account"] = ("account", name)
        return keys

    def check(self, username: str, address: str) -> None:
        """Refuse (429, Retry-After) an attempt that comes before its delay has passed."""
        now = self.clock()
        wait = max((c.blocked_until - now for k in self._keys(username, address).values() if (c := self._counts.get(k))), default=0.0)
        if wait > 0:
            self.refused += 1
            seconds = math.ceil(wait)
            raise TooManyAttempts(f"too many failed sign-ins; try again in {seconds} s", retry_after=seconds)

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        keys = self._keys(username, address)
        keys["account"] = ("account", username.strip().lower())  # a known address still counts toward the account
        for kind, key in keys.items():
            rule = self.rules[kind]
            c = self._counts.pop(key, None) or _Count()
            if now - c.last > FORGET_SECONDS:
                c = _Count()
            c.failures += 1
            c.last = now
            over = c.failures - rule.free
            if over > 0:
                c.blocked_until = now + min(rule.cap, rule.first * 2 ** (over - 1))
            self._counts[key] = c  # most recent last
        self._bound(self._counts)

    def succeeded(self, username: str, address: str) -> None:
        name = username.strip().lower()
        self._counts.pop(("pair", name, address), None)
        self._known.pop((name, address), None)
        self._known[(name, address)] = self.clock()
        self._bound(self._known)

    def _bound(self, table: OrderedDict[Any, Any]) -> None:
        while len(table) > self.max_entries:
            table.popitem(last=False)


class HashingPool:
    """Password checks on a few threads of their own, never on the event loop nor on the pool that
    serves requests; when `max_waiting` are already queued, the next sign-in is refused at once
    (503 busy, Retry-After: 1) instead of piling up behind a flood."""

    def __init__(self, workers: int = 1, max_waiting: int = 16):
        self.workers = max(1, workers)
        self.max_waiting = max_waiting
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="password-hash")
        self.waiting = 0  # touched on the event loop only
        self.refused = 0

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self.waiting >= self.max_waiting + self.workers:
            self.refused += 1
            raise Busy("too many sign-ins at once; try again in a moment", retry_after=1)
        self.waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)
        finally:
            self.waiting -= 1

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
