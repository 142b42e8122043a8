"""Group commit: concurrent saves share one transaction, and so one lock and one commit.

On PostgreSQL every save takes the events table's EXCLUSIVE lock (so that
positions are issued in commit order and no tailing reader passes a gap that
fills later) and waits for its own commit to be flushed. Writers therefore
queue behind each other one commit at a time. Here the first writer to arrive
becomes the leader: it takes every save queued meanwhile (up to `max_batch`),
writes them in one transaction, each inside its own savepoint so that one
refused save (a version clash, a reused Idempotency-Key) is rolled back alone,
commits once, and answers each caller. Then it hands the lead to the next
waiting writer, so no request thread serves others for long.

A save's outcome is exactly what it would have been alone: its events and its
idempotency record are committed together or not at all, and an error is
raised in the caller's own thread.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)  # compared by identity: two saves of the same events are still two saves
class PendingSave:
    stored_events: Sequence[Any]
    kwargs: dict[str, Any]
    ids: Sequence[int] | None = None
    error: BaseException | None = None
    lead: bool = False  # set when this writer is handed the lead
    done: bool = False
    wake: threading.Event = field(default_factory=threading.Event)


# Writes a batch in one transaction, setting each save's `ids` or `error`; raises when the whole
# transaction failed (then every save in it failed with that error).
WriteBatch = Callable[[list[PendingSave]], None]


class GroupCommitter:
    def __init__(self, write_batch: WriteBatch, max_batch: int = 64):
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[PendingSave] = []
        self._leading = False
        self.batches = 0  # transactions committed or tried, for metrics and the benchmark
        self.saves = 0

    def save(self, stored_events: Sequence[Any], **kwargs: Any) -> Sequence[int] | None:
        pending = PendingSave(stored_events, kwargs)
        with self._lock:
            self._queue.append(pending)
            if not self._leading:
                self._leading = pending.lead = True
        try:
            while not pending.lead and not pending.done:
                pending.wake.wait()
                pending.wake.clear()
        except BaseException:  # interrupted while waiting: leave the queue without stranding the others
            self._abandon(pending)
            raise
        if not pending.done:
            self._lead()
        if pending.error is not None:
            raise pending.error
        return pending.ids

    def _abandon(self, pending: PendingSave) -> None:
        with self._lock:
            if pending not in self._queue:
                return  # already taken into a batch: it is written, only its answer is lost
            self._queue.remove(pending)
            if pending.lead:  # it was handed the lead and will never take it: pass it on
                self._hand_on()

    def _hand_on(self) -> None:
        """With the lock held: give the lead to the oldest writer still waiting, or put it down."""
        if self._queue:
            self._queue[0].lead = True
            self._queue[0].wake.set()
        else:
            self._leading = False

    def _lead(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch:]
        try:
            self._write_batch(batch)
        except BaseException as e:  # the transaction as a whole failed: so did each save in it
            for p in batch:
                if p.error is None:
                    p.error = e if p.lead else _copy_of(e)  # each thread raises an object of its own
        finally:
            with self._lock:
                self.batches += 1
                self.saves += len(batch)
                for p in batch:
                    p.done = True
                    p.wake.set()
                self._hand_on()


def _copy_of(e: BaseException) -> BaseException:
    try:
        twin = copy.copy(e)
    except Exception:  # noqa: BLE001 - an exception that cannot be copied is shared, as it was
        return e
    twin.__cause__ = e
    return twin
