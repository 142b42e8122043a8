"""The restore drill: a whole district (log, accounts, relay position) from a PostgreSQL deployment
into an empty embedded store, through the real CLI; a tampered archive is refused with nothing written."""

from __future__ import annotations

import json
import uuid
import zipfile
from pathlib import Path

import pytest

from gateway.container import Container
from gateway.settings import Settings
from tests.conftest import PG_URL, drop_schema, postgres_or_skip, seed_demo, yingji
from tests.e2e.test_rebuild import read_models

KEY = "test-secret-of-at-least-32-bytes!"


@pytest.fixture
def source(tmp_path: Path):  # type: ignore[no-untyped-def]
    postgres_or_skip()
    schema = "t_" + uuid.uuid4().hex[:12]
    settings = Settings(data_dir=tmp_path / "source", database_url=PG_URL, database_schema=schema, secret_key=KEY)
    seed_demo(settings)
    yield settings
    drop_schema(schema)


def counts(settings: Settings) -> tuple[int, int]:
    c = Container.build(settings.model_copy(update={"run_projector": False}))
    try:
        return c.log.max_position(), c.accounts.count()
    finally:
        c.close()


def evidence_files(settings: Settings) -> dict[str, bytes | None]:
    """The district's evidence files (双重预防's photos) by SHA-256 and unit, with their bytes."""
    c = Container.build(settings.model_copy(update={"run_projector": False}))
    try:
        return {f"{r['sha256']}:{r['unit_code']}": c.evidence.content(r["sha256"]) for r in c.evidence.records()}
    finally:
        c.close()


def test_a_postgres_district_restores_into_an_empty_embedded_store(source: Settings, tmp_path: Path) -> None:
    archive = tmp_path / "backup.zip"
    out = yingji(source, "export", "--archive", str(archive))
    head, accounts = counts(source)
    assert f"exported {head} events and {accounts} accounts" in out.stderr
    with zipfile.ZipFile(archive) as z:
        manifest = json.loads(z.read("manifest.json"))
        stored = z.read("accounts.jsonl").decode()
    files = evidence_files(source)
    assert manifest["head"] == head and manifest["counts"] == {"events": head, "accounts": accounts, "evidence": len(files)}
    assert "yingji2026" not in stored and stored.count("\"scrypt$") == accounts  # hashes, never passwords

    target = Settings(data_dir=tmp_path / "restored", secret_key=KEY)
    out = yingji(target, "import", str(archive))
    assert f"imported {head} events (head {head}) and {accounts} accounts" in out.stdout
    assert read_models(target) == read_models(source)  # the same board, lists and reports
    assert evidence_files(target) == files and files  # the photos, PostgreSQL -> files under the data directory
    c = Container.build(target.model_copy(update={"run_projector": False}))
    try:  # the same people sign in with the same passwords
        assert c.accounts.authenticate("commander", "yingji2026") is not None
        assert c.accounts.authenticate("reporter", "yingji2026").unit_code == "411099001001"  # type: ignore[union-attr]
    finally:
        c.close()

    # An investigation copy: the log up to a position only.
    partial = Settings(data_dir=tmp_path / "partial", secret_key=KEY)
    out = yingji(partial, "import", str(archive), "--until-position", "40")
    assert counts(partial)[0] == 40 and "head 40" in out.stdout


def test_a_tampered_archive_is_refused_and_nothing_is_written(source: Settings, tmp_path: Path) -> None:
    archive = tmp_path / "backup.zip"
    yingji(source, "export", "--archive", str(archive))
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(archive) as z, zipfile.ZipFile(tampered, "w") as t:
        for item in z.infolist():
            data = z.read(item)
            if item.filename == "events.jsonl":
                data = data.replace("魏庄村".encode(), "某某村".encode(), 1)
            t.writestr(item, data)
    target = Settings(data_dir=tmp_path / "restored", secret_key=KEY)
    refused = yingji(target, "import", str(tampered), check=False)
    assert refused.returncode != 0 and "checksum" in refused.stderr
    assert counts(target) == (0, 0)
