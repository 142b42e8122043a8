"""Backup and restore: the log as CloudEvents JSON lines, and whole-district archives.

Each line is the CloudEvent the relay would send, plus two extension
attributes that make the restore exact: `yingjitopic` (the stored event's
topic) and `yingjistate` (its stored bytes, base64). Positions are restored
as they were, gaps included, so read models rebuilt from a restored log are
identical to the originals.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from gateway.citylink.cloudevents import to_cloudevent
from gateway.adapters.accounts import dump_accounts, restore_accounts
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


# -- archives: everything a restore needs, verified before anything is written ------------------
#
# `yingji export --archive backup.zip` writes one zip file:
#   events.jsonl   the log, as above
#   accounts.jsonl every account with its password hash (never a password), team logins included
#   relay.json     the relay's position (what the city already has)
#   manifest.json  format, district, head position, counts and the SHA-256 of every other member
# `yingji import backup.zip` checks the manifest against every member first and writes nothing if
# one does not match; `--until-position` / `--until` restore the log up to a position or moment.

ARCHIVE_FORMAT = "yingji-backup/1"
MEMBERS = ("events.jsonl", "accounts.jsonl", "relay.json")
EVIDENCE_MEMBER = "evidence.jsonl"  # present when the district keeps evidence files (双重预防); archives without it restore as before


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def export_archive(log: DistrictLog, accounts: Any, relay: Any, source: str, district: str, path: Path,
                   evidence: Any = None) -> dict[str, Any]:
    """Write the whole district (log, accounts, relay position, evidence files) to one zip with a manifest."""
    events = "".join(line + "\n" for line in export_lines(log, source)).encode("utf-8")
    account_rows = dump_accounts(accounts)
    accounts_data = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in account_rows).encode("utf-8")
    relay_data = json.dumps({"position": relay.read()["position"] if relay is not None else 0}).encode("utf-8")
    contents = {"events.jsonl": events, "accounts.jsonl": accounts_data, "relay.json": relay_data}
    evidence_rows = _evidence_lines(evidence) if evidence is not None else []
    if evidence_rows:  # 双重预防's photos and documents: their records and bytes (base64), one per line
        contents[EVIDENCE_MEMBER] = "".join(line + "\n" for line in evidence_rows).encode("utf-8")
    manifest = {
        "format": ARCHIVE_FORMAT,
        "district": district,
        "created_at": datetime.now(timezone.utc).isoformat(),
        "head": log.max_position(),
        "counts": {"events": events.count(b"\n"), "accounts": len(account_rows)} | ({"evidence": len(evidence_rows)} if evidence_rows else {}),
        "sha256": {name: _sha256(data) for name, data in contents.items()},
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in contents.items():
            z.writestr(name, data)
        z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return manifest


def read_archive(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and members of an archive, every checksum and count verified; RestoreRefused otherwise."""
    try:
        with zipfile.ZipFile(path) as z:
            manifest = json.loads(z.read("manifest.json"))
            contents = {name: z.read(name) for name in MEMBERS}
            if EVIDENCE_MEMBER in manifest.get("sha256", {}):
                contents[EVIDENCE_MEMBER] = z.read(EVIDENCE_MEMBER)
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise RestoreRefused(f"not a Yingji backup archive: {e}") from None
    if manifest.get("format") != ARCHIVE_FORMAT:
        raise RestoreRefused(f"unknown archive format {manifest.get('format')!r} (expected {ARCHIVE_FORMAT})")
    for name, data in contents.items():
        if _sha256(data) != manifest.get("sha256", {}).get(name):
            raise RestoreRefused(f"{name} does not match its checksum in the manifest: the archive was altered or damaged")
    counts = {"events": contents["events.jsonl"].count(b"\n"), "accounts": contents["accounts.jsonl"].count(b"\n")}
    if EVIDENCE_MEMBER in contents:
        counts["evidence"] = contents[EVIDENCE_MEMBER].count(b"\n")
    if counts != manifest.get("counts"):
        raise RestoreRefused(f"the archive holds {counts}, its manifest says {manifest.get('counts')}")
    return manifest, contents


def _until(lines: Iterable[str], position: int | None, moment: datetime | None) -> Iterator[str]:
    for line in lines:
        if not line.strip():
            continue
        ce = json.loads(line)
        if position is not None and int(ce["position"]) > position:
            return
        if moment is not None and datetime.fromisoformat(ce["time"]) > moment:
            return
        yield line


def import_archive(log: DistrictLog, accounts: Any, relay: Any, path: Path, district: str,
                   until_position: int | None = None, until: datetime | None = None, evidence: Any = None) -> dict[str, Any]:
    """Restore an archive into an empty store: verified first, then the log, the accounts, the relay position."""
    manifest, contents = read_archive(path)
    if manifest.get("district") != district:
        raise RestoreRefused(f"the archive is of district {manifest.get('district')}, this store is {district}")
    if log.max_position() != 0:
        raise RestoreRefused("the event store is not empty: restore only into a new, empty store")
    lines = contents["events.jsonl"].decode("utf-8").splitlines()
    partial = until_position is not None or until is not None
    count = import_log(log, io.StringIO("\n".join(_until(lines, until_position, until)) + "\n"))
    rows = [json.loads(line) for line in contents["accounts.jsonl"].decode("utf-8").splitlines() if line.strip()]
    restored, kept = restore_accounts(accounts, rows)
    files = 0
    if evidence is not None and EVIDENCE_MEMBER in contents:
        for number, line in enumerate(contents[EVIDENCE_MEMBER].decode("utf-8").splitlines(), 1):
            record = json.loads(line)
            try:
                files += evidence.restore(record, base64.b64decode(record.pop("content"), validate=True))
            except (ValueError, KeyError) as e:
                raise RestoreRefused(f"evidence line {number}: {e}") from None
    relay_position = json.loads(contents["relay.json"])["position"]
    if relay is not None and not partial:
        # What the city already has stays sent; after a partial restore (an investigation copy) the
        # relay would resend history the city holds, so its position is left at the restored head.
        relay.set(position=min(relay_position, log.max_position()))
    elif relay is not None:
        relay.set(position=log.max_position())
    return {"events": count, "accounts": restored, "accounts_kept": kept, "head": log.max_position(), "relay_position": relay_position,
            "evidence": files}


# -- evidence files (双重预防): beside the log, in a directory of their own or in an archive ----------
def _evidence_lines(store: Any) -> list[str]:
    lines = []
    for record in store.records():
        data = store.content(record["sha256"])
        if data is not None:
            lines.append(json.dumps(record | {"content": base64.b64encode(data).decode()}, ensure_ascii=False, sort_keys=True))
    return lines


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
