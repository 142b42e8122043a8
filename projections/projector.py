"""The projector: follows the log and keeps the read models current.

It reads notifications after its durable position, folds them with the same
reducers as replay, and writes the changed documents together with the new
position in one transaction, so a crash neither loses nor repeats an event.
Each committed change is then handed to `publish` (the board's fan-out bus),
tagged with the log position that caused it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from projections.fold import apply_event
from projections.reducer import Doc
from projections.store import PROJECTOR, DocStore, StalePosition

log = logging.getLogger("yingji.projector")
STORE_CHECK_SECONDS = 1.0  # how often an idle projector compares its position with the store's (see _follow_store)


class LogReader(Protocol):
    def read(self, after: int, limit: int) -> Sequence[Any]: ...

    def decode(self, notification: Any) -> Any: ...


@dataclass(frozen=True)
class Delta:
    position: int
    kind: str
    id: str
    doc: Doc | None

    def as_dict(self) -> dict[str, Any]:
        return {"position": self.position, "kind": self.kind, "id": self.id, "doc": self.doc}


@dataclass(frozen=True)
class Batch:
    """What one projector commit changed: positions (after, upto] and their deltas."""

    after: int
    upto: int
    deltas: list[Delta]

    def as_dict(self) -> dict[str, Any]:
        return {"after": self.after, "upto": self.upto, "deltas": [d.as_dict() for d in self.deltas]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Batch:
        return cls(data["after"], data["upto"], [Delta(**d) for d in data["deltas"]])


class Projector:
    def __init__(
        self,
        reader: LogReader,
        store: DocStore,
        publish: Callable[[Batch], None] | None = None,
        batch_size: int = 500,
        name: str = PROJECTOR,
        cache_size: int = 50_000,
    ):
        self.reader = reader
        self.store = store
        self.publish = publish
        self.batch_size = batch_size
        self.name = name
        self._wake = threading.Event()
        self._checked_at = time.monotonic()
        self._progress = threading.Condition()
        self.position = store.position(name)
        self.errors = 0
        self.loop_at = time.monotonic()  # when run_forever last turned: a health check tells a stuck projector by it
        # The projector is the only writer of the documents, so what it wrote last is what the
        # store holds: a cache of recent documents saves most reads (clear it if that changes).
        self._cache: OrderedDict[tuple[str, str], Doc | None] = OrderedDict()
        self.cache_size = cache_size
        # A rebuild need not write board deltas no client could still resume from.
        self.keep_deltas_after = 0

    def restart_at(self, position: int) -> None:
        """The store was rewritten under this projector (a rebuild): forget its cache, follow from `position`."""
        with self._progress:
            self._cache.clear()
            self.position = position
            self._progress.notify_all()

    def wake(self, _position: int | None = None) -> None:
        self._wake.set()

    def run_once(self) -> int:
        """Project one batch; returns how many events it covered."""
        notifications = self.reader.read(self.position, self.batch_size)
        if not notifications:
            return 0
        overlay: dict[tuple[str, str], Doc | None] = {}
        doc_positions: dict[tuple[str, str], int] = {}
        cache = self._cache

        def get(kind: str, doc_id: str) -> Doc | None:
            key = (kind, doc_id)
            if key in overlay:
                return overlay[key]
            if key not in cache:
                cache[key] = self.store.get(kind, doc_id)
            return cache[key]

        deltas: list[Delta] = []
        for n in notifications:
            event = self.reader.decode(n)
            for kind, doc_id, doc in apply_event(get, event):
                overlay[(kind, doc_id)] = doc
                doc_positions[(kind, doc_id)] = n.id
                deltas.append(Delta(n.id, kind, doc_id, doc))
        new_position = notifications[-1].id
        old_position = self.position
        try:
            self.store.commit(
                overlay, doc_positions, old_position, new_position, self.name,
                deltas=[(d.position, d.kind, d.id, d.doc) for d in deltas if d.position > self.keep_deltas_after],
            )
        except Exception:
            cache.clear()  # what we cached may not be what the store holds
            raise
        for key, doc in overlay.items():
            cache[key] = doc
            cache.move_to_end(key)
        while len(cache) > self.cache_size:
            cache.popitem(last=False)
        with self._progress:
            self.position = new_position
            self._progress.notify_all()
        if self.publish:
            try:
                self.publish(Batch(old_position, new_position, deltas))
            except Exception:  # the bus must not stop projection; subscribers resync by position
                log.exception("publishing board changes failed")
        return len(notifications)

    def catch_up(self) -> int:
        """Project everything there is; beside another projector (a CLI next to a running
        deployment), whichever commits a batch first wins and this one continues from there."""
        total = 0
        while True:
            try:
                n = self.run_once()
            except StalePosition:
                self._cache.clear()
                self.position = self.store.position(self.name)
                continue
            if not n:
                return total
            total += n

    def run_forever(self, stop: threading.Event, poll_seconds: float = 0.5) -> None:
        while not stop.is_set():
            self.loop_at = time.monotonic()
            try:
                # A full batch: more may be waiting. Fewer: we are at the head, and a save since the read has set
                # the wake-up, so reading again at once would only find nothing (one query per batch saved).
                if self.run_once() >= self.batch_size:
                    continue
            except StalePosition:
                log.error("another projector moved the position; reloading it")
                self._cache.clear()
                self.position = self.store.position(self.name)
                continue
            except Exception:
                self.errors += 1
                log.exception("projection failed; retrying")
                stop.wait(1.0)
                continue
            woken = self._wake.wait(poll_seconds)
            self._wake.clear()
            if not woken and time.monotonic() - self._checked_at >= STORE_CHECK_SECONDS:
                self._follow_store()

    def _follow_store(self) -> None:
        """Idle: if the store's position is not ours, a rebuild was switched in (at the head it read, maybe
        behind what this projector had written into the tables it replaced) or another projector moved on;
        follow the store. Without new events no commit would tell us (StalePosition), and the read models
        would stay at the rebuild's position for good."""
        self._checked_at = time.monotonic()
        stored = self.store.position(self.name)
        if stored != self.position:
            log.warning("the read models' position is %d, not %d (a rebuild was switched in?): following it", stored, self.position)
            with self._progress:
                self._cache.clear()
                self.position = stored
                self._progress.notify_all()

    def wait_for(self, position: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._progress:
            while self.position < position:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._progress.wait(left)
        return True
