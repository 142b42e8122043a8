"""Wake the projector on PostgreSQL NOTIFY, from another process's writes.

The event store NOTIFYs its channel on every insert. A LISTEN connection can
drop silently-ish (server restart, network); this thread reconnects with
backoff, and the projector keeps polling meanwhile, so a lost LISTEN only
slows it down, never stalls it.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable

import psycopg

log = logging.getLogger("yingji.pgwake")


class PgWaker:
    def __init__(self, dsn: str, channel: str, wake: Callable[[], None]):
        self.dsn = dsn
        self.channel = channel
        self.wake = wake
        self.stop = threading.Event()
        self.listening = False
        self.thread = threading.Thread(target=self._run, name="pg-listen", daemon=True)

    def start(self) -> PgWaker:
        self.thread.start()
        return self

    def close(self) -> None:
        self.stop.set()

    def _run(self) -> None:
        backoff = 0.2
        while not self.stop.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True, connect_timeout=3) as conn:
                    conn.execute(f'LISTEN "{self.channel}"')
                    self.listening = True
                    backoff = 0.2
                    self.wake()  # catch up on whatever happened while we were not listening
                    while not self.stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.wake()
            except psycopg.Error as e:
                log.warning("LISTEN connection lost (%s); reconnecting", e)
            finally:
                self.listening = False
            self.stop.wait(backoff + random.uniform(0, backoff))
            backoff = min(backoff * 2, 5.0)
