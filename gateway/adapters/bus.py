"""The fan-out bus: carries the projector's committed batches to every gateway process.

In memory when one process does everything; Redis Streams when several
gateways run (pub/sub would lose messages across a reconnect). The bus is a
fast path only: every batch is also durable in the read-model store
(`rm_deltas`), and the hub fills any gap from there, so a lost bus message
delays a change but never drops it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
from collections.abc import Callable
from typing import Protocol

from projections.projector import Batch

log = logging.getLogger("yingji.bus")
Deliver = Callable[[Batch], None]


class Bus(Protocol):
    def publish(self, batch: Batch) -> None: ...

    async def run(self, deliver: Deliver, stop: asyncio.Event) -> None: ...


class MemoryBus:
    def __init__(self) -> None:
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, Deliver]] = []
        self._lock = threading.Lock()

    def publish(self, batch: Batch) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for loop, deliver in subscribers:
            if not loop.is_closed():
                loop.call_soon_threadsafe(deliver, batch)

    async def run(self, deliver: Deliver, stop: asyncio.Event) -> None:
        entry = (asyncio.get_running_loop(), deliver)
        with self._lock:
            self._subscribers.append(entry)
        try:
            await stop.wait()
        finally:
            with self._lock:
                self._subscribers.remove(entry)


class RedisStreamBus:
    MAXLEN = 20_000

    def __init__(self, url: str, stream: str):
        import redis

        self.url = url
        self.stream = stream
        self._publisher = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=2)
        self.connected = False

    def publish(self, batch: Batch) -> None:
        payload = json.dumps(batch.as_dict(), ensure_ascii=False, separators=(",", ":"))
        self._publisher.xadd(self.stream, {"b": payload}, maxlen=self.MAXLEN, approximate=True)

    async def run(self, deliver: Deliver, stop: asyncio.Event) -> None:
        import redis.asyncio as aioredis
        from redis.exceptions import RedisError

        last_id = "$"  # from now on; the hub backfills anything earlier from the store
        backoff = 0.1
        while not stop.is_set():
            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=10)
            try:
                while not stop.is_set():
                    response = await client.xread({self.stream: last_id}, block=2000, count=200)
                    self.connected = True
                    backoff = 0.1
                    for _stream, entries in response or []:
                        for entry_id, fields in entries:
                            last_id = entry_id
                            deliver(Batch.from_dict(json.loads(fields[b"b"])))
            except (RedisError, OSError) as e:
                self.connected = False
                log.warning("redis bus: %s; reconnecting in %.1fs", e, backoff)
                await asyncio.sleep(backoff + random.uniform(0, backoff))
                backoff = min(backoff * 2, 5.0)
            finally:
                await client.aclose()


class StoreBus:
    """For gateway workers whose projector is another process and no Redis is configured (the
    embedded default served by `yingji serve --workers N`): each worker watches the read models'
    position and, when it moves, tells its hub, which reads the new changes from `rm_deltas` (its
    gap fill). One small query per worker every POLL_SECONDS; nothing to publish, the store is the bus."""

    POLL_SECONDS = 0.05

    def __init__(self, position: Callable[[], int]):
        self._position = position

    def publish(self, batch: Batch) -> None:  # the projector's commit already is the message
        pass

    async def run(self, deliver: Deliver, stop: asyncio.Event) -> None:
        seen = -1
        while not stop.is_set():
            try:
                stored = await asyncio.to_thread(self._position)
            except Exception as e:  # noqa: BLE001  # a busy or restarting store: try again next tick
                log.warning("store bus: %s", e)
            else:
                if stored != seen:
                    if seen >= 0:
                        deliver(Batch(stored, stored, []))  # `after` ahead of the hub: it fills from the store
                    seen = stored
            try:
                await asyncio.wait_for(stop.wait(), self.POLL_SECONDS)
            except asyncio.TimeoutError:
                pass


def make_bus(redis_url: str, district_code: str, position: Callable[[], int] | None = None) -> Bus:
    """Redis when configured; the store's position when another process projects (`position`
    given); in memory when this process projects and serves alone."""
    if redis_url:
        return RedisStreamBus(redis_url, f"yingji:{district_code}:board")
    if position is not None:
        return StoreBus(position)
    return MemoryBus()
