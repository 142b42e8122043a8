"""`yingji projections rebuild` from empty read models gives exactly what the live projector built."""

from __future__ import annotations

from sqlalchemy import select

from gateway.container import make_engine
from gateway.settings import Settings
from projections.store import deltas_table, docs_table
from tests.conftest import Server, yingji


def read_models(settings: Settings) -> tuple[dict, list]:
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            docs = {(k, i): (p, b) for k, i, p, b in conn.execute(select(docs_table.c.kind, docs_table.c.id, docs_table.c.position, docs_table.c.body))}
            deltas = list(conn.execute(select(deltas_table).order_by(deltas_table.c.position, deltas_table.c.seq)))
    finally:
        engine.dispose()
    return docs, [tuple(r) for r in deltas]


def test_rebuild_equals_live(server: Server) -> None:
    api = server.client("commander")
    incident = api.get("/incidents").json()["items"][0]["id"]
    for n in range(20):
        api.ok(f"/incidents/{incident}/situation", {"injured": n})
    head = api.get("/events", params={"limit": 1}).json()["head"]
    api.get("/board", params={"min_position": head})
    server.stop()
    live = read_models(server.settings)
    out = yingji(server.settings, "projections", "rebuild")
    assert "rebuilt read models" in out.stdout
    rebuilt = read_models(server.settings)
    assert rebuilt[0] == live[0]
    assert rebuilt[1] == live[1]
    assert len(live[0]) > 100
