"""Backup and restore of the log: CloudEvents JSON lines out, the same log back in.

Each line is the CloudEvent the relay would send, plus two extension
attributes that make the restore exact: `yingjitopic` (the stored event's
topic) and `yingjistate` (its stored bytes, base64). Positions are restored
as they were, gaps included, so read models rebuilt from a restored log are
identical to the originals.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from gateway.citylink.cloudevents import to_cloudevent
from gateway.adapters.eventstore import DistrictLog


class RestoreRefused(Exception):
    pass


def export_lines(log: DistrictLog, source: str, batch: int = 2000) -> Iterator[str]:
    after = 0
    while notifications := log.read(after, batch):
        for n in notifications:
            ce = to_cloudevent(log, n, source)
            ce["yingjitopic"] = n.topic
            ce["yingjistate"] = base64.b64encode(n.state).decode()
            yield json.dumps(ce, ensure_ascii=False, separators=(",", ":"))
        after = notifications[-1].id


def export_log(log: DistrictLog, source: str, out: IO[str]) -> int:
    count = 0
    for line in export_lines(log, source):
        out.write(line + "\n")
        count += 1
    return count


def _rows(lines: IO[str]) -> Iterator[tuple[int, UUID, int, str, bytes]]:
    last = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            ce: dict[str, Any] = json.loads(line)
            row = (int(ce["position"]), UUID(ce["subject"]), int(ce["aggregateversion"]), str(ce["yingjitopic"]),
                   base64.b64decode(ce["yingjistate"], validate=True))
        except (ValueError, KeyError, TypeError) as e:
            raise RestoreRefused(f"line {number} is not an exported event: {e}") from None
        if row[0] <= last:
            raise RestoreRefused(f"line {number}: position {row[0]} is not after {last}")
        last = row[0]
        yield row


def import_log(log: DistrictLog, lines: IO[str], batch: int = 2000) -> int:
    """Load an export into an empty store, keeping positions. Refuses a store that holds anything."""
    if log.max_position() != 0:
        raise RestoreRefused("the event store is not empty: restore only into a new, empty store")
    recorder: Any = log.recorder
    pending: list[tuple[int, UUID, int, str, bytes]] = []
    count = 0
    for row in _rows(lines):
        pending.append(row)
        if len(pending) >= batch:
            recorder.insert_positioned(pending)
            count += len(pending)
            pending = []
    if pending:
        recorder.insert_positioned(pending)
        count += len(pending)
    return count


# -- evidence files (双重预防): beside the log, in a directory of their own -----------------------
def export_evidence(store: Any, directory: Path) -> int:
    """Write every evidence file as `<directory>/<sha256>` and their records to `<directory>/index.jsonl`."""
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(directory / "index.jsonl", "w", encoding="utf-8") as index:
        for record in store.records():
            data = store.content(record["sha256"])
            if data is None:
                continue
            (directory / record["sha256"]).write_bytes(data)
            index.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def import_evidence(store: Any, directory: Path) -> int:
    """Load the files an `export_evidence` wrote; each must match its SHA-256 (refused otherwise)."""
    count = 0
    with open(directory / "index.jsonl", encoding="utf-8") as index:
        for number, line in enumerate(index, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            try:
                count += store.restore(record, (directory / record["sha256"]).read_bytes())
            except (OSError, ValueError) as e:
                raise RestoreRefused(f"evidence line {number}: {e}") from None
    return count
