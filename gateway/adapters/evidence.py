"""Evidence files (photos, documents) of hidden dangers: content-addressed, stored beside the log.

A file is named by the SHA-256 of the bytes kept (after location metadata is stripped), and the
events name it by that hash. Its record (unit, type, size, who uploaded it) is a row in the state
database; its bytes are a file under `<data_dir>/evidence/` on the embedded default and a column of
that row on PostgreSQL (the scaled layout has no shared disk). The unit a file was uploaded for is
its scope: it is served only to accounts whose scope covers that unit, and commands attach it only
to records of that unit (the same bytes uploaded for another unit are another record, so an upload
never learns where else they are kept).

Uploads are sniffed, never trusted by name or declared type: JPEG, PNG and PDF only. GPS data is
removed from JPEG (the EXIF GPS directory) and PNG (the eXIf chunk) unless the uploader keeps it.
"""

from __future__ import annotations

import hashlib
import os
import struct
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Column, Engine, LargeBinary, MetaData, String, Table, insert, select
from sqlalchemy.exc import IntegrityError

metadata = MetaData()
evidence_table = Table(
    "evidence",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("unit_code", String(12), primary_key=True),  # the same bytes uploaded for two units are two records
    Column("media_type", String(40), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("name", String(200), nullable=False),
    Column("uploaded_by", String(64), nullable=False),
    Column("uploaded_at", String(40), nullable=False),
    Column("content", LargeBinary, nullable=True),  # PostgreSQL (and in-memory tests): the bytes; else on disk
)

MEDIA_TYPES = ("image/jpeg", "image/png", "application/pdf")


class UnsupportedType(ValueError):
    pass


def sniff(data: bytes) -> str:
    """The media type the bytes are, whatever the name or the declared type say."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    raise UnsupportedType("only JPEG, PNG and PDF files are accepted")


def _strip_tiff_gps(tiff: bytearray) -> None:
    """Blank the GPS directory of an EXIF (TIFF) block in place: its entries and every value they point to."""
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return
    end = "<" if tiff[:2] == b"II" else ">"
    u16 = lambda at: struct.unpack_from(end + "H", tiff, at)[0]  # noqa: E731
    u32 = lambda at: struct.unpack_from(end + "I", tiff, at)[0]  # noqa: E731
    sizes = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8, 11: 4, 12: 8}
    try:
        ifd0 = u32(4)
        for i in range(u16(ifd0)):
            entry = ifd0 + 2 + 12 * i
            if u16(entry) != 0x8825:  # GPSInfo
                continue
            gps = u32(entry + 8)
            n = u16(gps)
            for j in range(n):
                e = gps + 2 + 12 * j
                typ, count = u16(e + 2), u32(e + 4)
                size = sizes.get(typ, 1) * count
                if size > 4:
                    off = u32(e + 8)
                    tiff[off: off + size] = bytes(len(tiff[off: off + size]))
            tiff[gps: gps + 2 + 12 * n] = bytes(len(tiff[gps: gps + 2 + 12 * n]))  # zero entries: an empty directory
    except struct.error:
        return


def strip_location(data: bytes, media_type: str) -> bytes:
    """The same file without GPS metadata (JPEG EXIF GPS directory, PNG eXIf chunk); other bytes untouched."""
    if media_type == "image/jpeg":
        out = bytearray(data)
        pos = 2
        while pos + 4 <= len(out) and out[pos] == 0xFF:
            marker = out[pos + 1]
            if marker in (0xD9, 0xDA):  # end of image, start of scan: no more metadata
                break
            length = struct.unpack_from(">H", out, pos + 2)[0]
            if marker == 0xE1 and out[pos + 4: pos + 10] == b"Exif\x00\x00":
                tiff = bytearray(out[pos + 10: pos + 2 + length])
                _strip_tiff_gps(tiff)
                out[pos + 10: pos + 2 + length] = tiff
            pos += 2 + length
        return bytes(out)
    if media_type == "image/png":
        out, pos = bytearray(data[:8]), 8
        while pos + 12 <= len(data):
            length = struct.unpack_from(">I", data, pos)[0]
            chunk = data[pos: pos + 12 + length]
            if chunk[4:8] != b"eXIf":
                out += chunk
            pos += 12 + length
        return bytes(out)
    return data


class EvidenceStore:
    def __init__(self, engine: Engine, directory: Path | None):
        """`directory`: where the bytes go (embedded default); None keeps them in the table (PostgreSQL)."""
        self.engine = engine
        self.directory = directory

    def create_schema(self) -> None:
        metadata.create_all(self.engine)

    def _path(self, sha: str) -> Path:
        assert self.directory is not None
        return self.directory / sha[:2] / sha

    def put(self, data: bytes, *, unit_code: str, name: str, uploaded_by: str, keep_location: bool = False) -> dict[str, Any]:
        """Keep a file (sniffed; stripped of location unless kept) and return its record. The same bytes
        uploaded again for the same unit are the same file."""
        media_type = sniff(data)
        if not keep_location:
            data = strip_location(data, media_type)
        sha = hashlib.sha256(data).hexdigest()
        existing = self.meta(sha, unit_code)
        if existing is not None:
            return existing
        if self.directory is not None and not self._path(sha).exists():
            path = self._path(sha)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.part")
            tmp.write_bytes(data)
            os.replace(tmp, path)  # the row is written after the bytes: a row always has its file
        row = {"sha256": sha, "unit_code": unit_code, "media_type": media_type, "size": len(data), "name": name[:200],
               "uploaded_by": uploaded_by, "uploaded_at": datetime.now(timezone.utc).isoformat(),
               "content": None if self.directory is not None else data}
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(evidence_table).values(**row))
        except IntegrityError:  # a concurrent upload of the same bytes for the same unit
            pass
        return self.meta(sha, unit_code)  # type: ignore[return-value]

    def meta(self, sha: str, unit_code: str | None = None) -> dict[str, Any] | None:
        """The record of a file uploaded for `unit_code` (any unit's when None)."""
        found = [m for m in self.records_of(sha) if unit_code is None or m["unit_code"] == unit_code]
        return found[0] if found else None

    def records_of(self, sha: str) -> list[dict[str, Any]]:
        """Every unit's record of the same bytes (usually one)."""
        cols = [c for c in evidence_table.c if c.name != "content"]
        with self.engine.connect() as conn:
            rows = conn.execute(select(*cols).where(evidence_table.c.sha256 == sha).order_by(evidence_table.c.unit_code)).mappings()
            return [dict(r) for r in rows]

    def content(self, sha: str) -> bytes | None:
        if self.directory is not None:
            path = self._path(sha)
            return path.read_bytes() if path.exists() else None
        with self.engine.connect() as conn:
            return conn.execute(select(evidence_table.c.content).where(evidence_table.c.sha256 == sha).limit(1)).scalar()

    def records(self) -> list[dict[str, Any]]:
        """Every file's record (not its bytes), oldest first: what a backup writes beside the log."""
        cols = [c for c in evidence_table.c if c.name != "content"]
        with self.engine.connect() as conn:
            order = (evidence_table.c.uploaded_at, evidence_table.c.sha256, evidence_table.c.unit_code)
            return [dict(r) for r in conn.execute(select(*cols).order_by(*order)).mappings()]

    def restore(self, record: dict[str, Any], data: bytes) -> bool:
        """Keep a file from a backup as it was (no stripping: it was stripped when uploaded). False when already kept.
        Refuses bytes that are not what the record names."""
        if hashlib.sha256(data).hexdigest() != record["sha256"]:
            raise ValueError(f"file {record['sha256']} does not match its SHA-256")
        sniff(data)
        if self.meta(record["sha256"], record["unit_code"]) is not None:
            return False
        if self.directory is not None:
            path = self._path(record["sha256"])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        row = {k: record[k] for k in ("sha256", "unit_code", "media_type", "size", "name", "uploaded_by", "uploaded_at")}
        with self.engine.begin() as conn:
            conn.execute(insert(evidence_table).values(**row, content=None if self.directory is not None else data))
        return True

    def count(self) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(evidence_table.c.sha256)).all())  # records, one per file and unit
