"""Backup and restore: export, import into an empty store, rebuild — an identical log and identical read models."""

from __future__ import annotations

import uuid
from pathlib import Path


from gateway.container import Container
from gateway.settings import Settings
from tests.conftest import PG_URL, Server, drop_schema, postgres_or_skip, yingji
from tests.e2e.test_rebuild import read_models


def log_of(settings: Settings) -> list[tuple]:
    c = Container.build(settings.model_copy(update={"run_projector": False, "create_schema": False}))
    try:
        return [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in c.log.read(0, 1_000_000)]
    finally:
        c.close()


def test_export_import_into_empty_postgres_gives_the_same_log_and_read_models(server: Server, tmp_path: Path) -> None:
    api = server.client("commander")
    incident = api.get("/incidents").json()["items"][0]["id"]
    for n in range(5):
        api.ok(f"/incidents/{incident}/situation", {"missing": n})
    head = api.get("/events", params={"limit": 1}).json()["head"]
    api.get("/board", params={"min_position": head})
    server.stop()
    dump = tmp_path / "district.jsonl"
    yingji(server.settings, "export", str(dump))
    assert len(dump.read_text(encoding="utf-8").splitlines()) == head

    postgres_or_skip()
    schema = "t_" + uuid.uuid4().hex[:12]
    target = Settings(data_dir=tmp_path / "restored", database_url=PG_URL, database_schema=schema, secret_key="test-secret-of-at-least-32-bytes!")
    try:
        out = yingji(target, "import", str(dump))
        assert f"imported {head} events" in out.stdout
        assert log_of(target) == log_of(server.settings)
        yingji(target, "projections", "rebuild")
        assert read_models(target) == read_models(server.settings)
        refused = yingji(target, "import", str(dump), check=False)
        assert refused.returncode != 0 and "not empty" in refused.stderr
    finally:
        drop_schema(schema)
