"""The embedded default's SQLite files: checking the read-model file, setting a broken one aside,
and moving accounts out of it (deployments from before accounts had a file of their own).

The read-model file (`state.sqlite3`) holds only what the log can give back, so a missing,
truncated or corrupt one is set aside (renamed, never deleted: it is evidence) and recreated
empty; the projector then folds the whole log into it. The accounts file (`accounts.sqlite3`)
holds what no log can give back (accounts, revoked tokens, the relay's position, account-request
records) and is never dropped.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger("yingji.store")

# Tables that lived in the read-model file before the accounts file existed.
LEGACY_TABLES = ("accounts", "account_requests", "relay_state")


def sqlite_problem(path: Path) -> str | None:
    """What is wrong with an SQLite file, or None when it opens and passes `PRAGMA quick_check`."""
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        return str(e)
    found = [r[0] for r in rows]
    return None if found == ["ok"] else "; ".join(map(str, found[:3]))


def _companions(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


def set_aside(path: Path, why: str) -> Path:
    """Rename a broken file (and its WAL) out of the way; returns where it went."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.broken-{stamp}")
    for p, t in [(path, target), *((c, target.with_name(target.name + c.name[len(path.name):])) for c in _companions(path))]:
        if p.exists():
            p.rename(t)
    log.warning("read-model file %s is damaged (%s): set aside as %s; the read models are rebuilt from the log", path, why, target)
    return target


class AccountsFileDamaged(RuntimeError):
    """The accounts file cannot be read: nothing can rebuild it, so the process must not start."""


def check_accounts_file(path: Path) -> None:
    """Refuse to go on with a damaged accounts file (it is left exactly as it is, for salvage)."""
    if (why := sqlite_problem(path)) is not None:
        raise AccountsFileDamaged(
            f"the accounts file {path} is damaged ({why}). It holds accounts, signed-out tokens and the relay's "
            f"position, which the log cannot give back: restore it from a backup (`yingji import --archive FILE` "
            f"into an empty data directory, or a copy of the file), or move it away to start with no accounts "
            f"(YINGJI_BOOTSTRAP_ADMIN then creates the first admin, and the relay starts again from position 0).")


def recover_read_model_file(path: Path) -> Path | None:
    """Make the read-model file usable: a damaged one is set aside (returned) and a new one starts empty.

    A WAL left without its database file would be read into the new one: it goes too."""
    if not path.exists():
        for c in _companions(path):
            c.unlink(missing_ok=True)
        return None
    why = sqlite_problem(path)
    return set_aside(path, why) if why else None


def adopt_legacy_accounts(read_model_path: Path, accounts_path: Path) -> int:
    """Copy accounts, account requests and the relay's row out of an older read-model file.

    Only when the accounts file does not exist yet; returns the rows copied. The old tables are
    left where they were (a later rebuild ignores them)."""
    if accounts_path.exists() or not read_model_path.exists():
        return 0
    try:
        src = sqlite3.connect(f"file:{read_model_path}?mode=ro", uri=True, timeout=30)
        try:
            present = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            tables = [t for t in LEGACY_TABLES if t in present]
            if "accounts" not in tables:
                return 0
            dumped = {t: (src.execute('SELECT sql FROM sqlite_master WHERE name = ?', (t,)).fetchone()[0],  # noqa: S608
                          src.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables}
        finally:
            src.close()
    except sqlite3.DatabaseError as e:
        log.error("could not copy accounts out of %s (%s): it is kept (set aside if damaged) for salvage", read_model_path, e)
        return 0
    partial = accounts_path.with_name(accounts_path.name + ".partial")
    partial.unlink(missing_ok=True)
    dst = sqlite3.connect(partial)
    copied = 0
    try:
        with dst:
            for table, (ddl, rows) in dumped.items():
                dst.execute(ddl)
                if rows:
                    marks = ",".join("?" * len(rows[0]))
                    dst.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)  # noqa: S608
                copied += len(rows)
    finally:
        dst.close()
    partial.rename(accounts_path)  # all or nothing: a crash before this copies again next start
    log.warning("moved %d account and relay rows from %s into %s", copied, read_model_path, accounts_path)
    return copied
