"""The hub's pacing on a real store and the in-memory bus: at once after a quiet spell, coalesced under a stream."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import create_engine

from gateway.adapters.bus import MemoryBus
from gateway.entrypoints.hub import Hub, flush_pause, merge_frames, trim_frame
from projections.projector import Batch, Delta
from projections.store import DocStore


def change(position: int) -> Delta:
    return Delta(position, "incident", f"i{position}", {"id": f"i{position}", "status": "reported", "unit_code": "411099002001"})


def test_a_lone_batch_goes_at_once_and_a_stream_is_fanned_out_in_flushes(tmp_path: Path) -> None:
    store = DocStore(create_engine(f"sqlite:///{tmp_path / 'rm.db'}"))
    store.create_schema()
    bus = MemoryBus()

    async def run() -> None:
        # flush_duty ~0: the pause after a flush is always the longest one, 0.3 s
        hub = Hub(store, bus, flush_seconds=0.3, flush_duty=1e-9)
        await hub.start()
        await asyncio.sleep(0.05)  # the hub subscribes to the bus
        try:
            bus.publish(Batch(0, 1, [change(1)]))
            await asyncio.sleep(0.05)
            assert (hub.position, hub.delivered_batches) == (1, 1)  # a quiet hub fans out at once
            for p in range(2, 6):
                bus.publish(Batch(p - 1, p, [change(p)]))
                await asyncio.sleep(0.01)
            assert hub.position == 1  # held back while the pause runs ...
            await asyncio.sleep(0.35)
            assert (hub.position, hub.delivered_batches, hub.accepted_batches) == (5, 2, 5)  # ... then all in one flush
            bus.publish(Batch(4, 5, [change(5)]))  # a duplicate changes nothing
            await asyncio.sleep(0.35)
            assert (hub.position, hub.delivered_batches, hub.accepted_batches) == (5, 2, 5)
            await asyncio.sleep(0.1)
            bus.publish(Batch(5, 6, [change(6)]))  # quiet again for longer than the pause: at once
            await asyncio.sleep(0.05)
            assert (hub.position, hub.delivered_batches) == (6, 3)
            hub.flush_now()  # nothing pending: no empty flush
            assert hub.delivered_batches == 3
        finally:
            await hub.stop()

    asyncio.run(run())


def test_flush_pause_keeps_fanning_out_to_its_share_and_within_the_longest_wait() -> None:
    assert flush_pause(0.005, 0.2, 0.04) == 0.02  # 5 ms of work, 20 ms of rest: 20% of the loop
    assert flush_pause(0.05, 0.2, 0.04) == 0.04  # never holds a change back longer than the longest wait
    assert flush_pause(0.0, 0.2, 0.04) == 0.0


def test_merged_and_trimmed_frames_keep_every_change_once_in_order() -> None:
    a = '{"type":"delta","position":3,"changes":[{"kind":"team","id":"t","doc":null,"position":2},{"kind":"team","id":"u","doc":null,"position":3}]}'
    b = '{"type":"delta","position":5,"changes":[{"kind":"team","id":"v","doc":null,"position":5}]}'
    merged = merge_frames([a, b], 5)
    frame = json.loads(merged)
    assert frame["position"] == 5 and [c["position"] for c in frame["changes"]] == [2, 3, 5]
    assert [c["position"] for c in json.loads(trim_frame(merged, 3) or "{}")["changes"]] == [5]
    assert trim_frame(a, 3) is None
