"""Lists filter and page on indexed read-model columns, within the one scope rule, on both stores.

The district of the scope tests (tests/integration/scoped_district.py), served in-process: street A
(villages A1, A2), street B (village B1), their teams, dispatches and allocations.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import uuid

import pytest
from sqlalchemy import text

from gateway.container import Container
from gateway.settings import Settings
from projections.columns import utc_key
from projections.store import DocStore, ListFilter
from tests.conftest import drop_schema, postgres_or_skip
from tests.integration.scoped_district import A2, B1, District, m, seed, serve


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], scope="module")
def district(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[District]:
    """One served district per store for the whole module: these tests only read."""
    tmp, key = tmp_path_factory.mktemp("filters"), "test-secret-of-at-least-32-bytes!"
    if request.param == "sqlite":
        with serve(Settings(data_dir=tmp, secret_key=key)) as d:
            yield d
        return
    schema = "t_" + uuid.uuid4().hex[:12]
    with serve(Settings(data_dir=tmp, secret_key=key, database_url=postgres_or_skip(), database_schema=schema)) as d:
        yield d
    drop_schema(schema)


def titles(d: District, viewer: str, path: str, **params: Any) -> list[str]:
    r = d.get(viewer, path, params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] >= len(body["items"]) and body["total_exact"] is True
    return sorted(i.get("title") or i.get("task") or i.get("destination") for i in body["items"])


def test_text_search_finds_title_address_and_description_case_folded(district: District) -> None:
    assert titles(district, "A", "/incidents", q="a1-inc") == [m("A1-INC")]
    assert titles(district, "A", "/incidents", q=m("A2-ADDR")) == [m("A2-INC")]
    assert titles(district, "A", "/incidents", q="A1-DESC") == [m("A1-INC")]
    assert titles(district, "A", "/incidents", q="QZ-") == sorted([m("A1-INC"), m("A2-INC")])


def test_search_never_reaches_past_the_callers_scope(district: District) -> None:
    assert titles(district, "A", "/incidents", q="B1-INC") == []
    assert titles(district, "A", "/incidents", unit=B1) == []  # another street's village: nothing, not an error
    assert titles(district, "V", "/incidents", unit=A2) == []  # village A1's reporter asks for its neighbour
    assert titles(district, "B", "/incidents", q="QZ-") == [m("B1-INC")]


def test_like_wildcards_in_a_query_are_literal(district: District) -> None:
    assert titles(district, "A", "/incidents", q="%") == []
    assert titles(district, "A", "/incidents", q="_") == []
    assert titles(district, "A", "/incidents", q="QZ-%-QZ") == []


def test_unit_category_level_and_dates_narrow_the_list(district: District) -> None:
    assert titles(district, "A", "/incidents", unit=A2) == [m("A2-INC")]
    assert titles(district, "A", "/incidents", category="natural_disaster", level="IV") == sorted([m("A1-INC"), m("A2-INC")])
    assert titles(district, "A", "/incidents", category="accident") == []
    assert titles(district, "A", "/incidents", level="I") == []
    today = date.today()
    assert titles(district, "A", "/incidents", since=(today + timedelta(days=2)).isoformat()) == []
    assert len(titles(district, "A", "/incidents", since=(today - timedelta(days=2)).isoformat(),
                      until=(today + timedelta(days=2)).isoformat())) == 2
    assert titles(district, "A", "/incidents", until=(today - timedelta(days=2)).isoformat()) == []


def test_dispatches_of_an_incident_are_the_teams_own_for_a_field_account(district: District) -> None:
    ia1 = district.ids["IA1"]
    assert titles(district, "A", "/dispatches", incident_id=ia1) == sorted([m("TA-TASK"), m("XB-TASK")])
    assert titles(district, "F", "/dispatches", incident_id=ia1) == [m("TA-TASK")]
    assert titles(district, "F", f"/incidents/{ia1}/dispatches") == [m("TA-TASK")]
    assert titles(district, "F", "/dispatches", team_id=district.ids["TB"]) == []  # another team: nothing
    assert titles(district, "A", "/allocations", incident_id=ia1) == [m("ALA-DEST")]


def test_a_keyset_cursor_walks_the_same_rows_as_offsets(district: District) -> None:
    by_offset = [district.get("A", "/dispatches", params={"limit": 1, "offset": k}).json()["items"] for k in range(4)]
    walked, cursor = [], None
    for _ in range(4):
        params: dict[str, Any] = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        body = district.get("A", "/dispatches", params=params).json()
        walked.append(body["items"])
        cursor = body.get("next")
    assert [p[0]["id"] for p in walked if p] == [p[0]["id"] for p in by_offset if p]
    assert len([p for p in walked if p]) == 3  # street A sees three dispatches (TA, TA2, XB)


def test_days_at_the_calendars_ends_are_bounds_not_errors(district: District) -> None:
    """Found by the fuzzer: 0001-01-01 in Shanghai has no UTC form (year 0); it was a 500."""
    everything = titles(district, "A", "/incidents")
    assert everything
    for since, until in (("0001-01-01", "9999-12-31"), ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00")):
        assert titles(district, "A", "/incidents", since=since, until=until) == everything
    assert titles(district, "A", "/incidents", since="9999-12-31T23:59:59-12:00") == []
    assert titles(district, "A", "/incidents", until="0001-01-01") == []


def test_bad_filters_are_refused_as_problems(district: District) -> None:
    for params in ({"unit": "4110"}, {"cursor": "x"}, {"since": "yesterday"}, {"q": "x" * 101}):
        r = district.get("A", "/incidents", params=params)
        assert r.status_code == 422, (params, r.status_code)
        assert r.headers["content-type"].startswith("application/problem+json")


def test_utc_keys_compare_as_time_across_offsets() -> None:
    assert utc_key("2026-06-10T08:00:00+08:00") == utc_key("2026-06-10T00:00:00+00:00")
    assert utc_key("2026-06-10T07:59:59+08:00") < utc_key("2026-06-10T00:00:00Z")  # type: ignore[operator]
    assert utc_key("2026-06-10") == "2026-06-10"


def test_read_models_of_an_older_shape_are_rebuilt_beside_and_switched_in(tmp_path: Any) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="test-secret-of-at-least-32-bytes!", watchdog_seconds=0)
    c = Container.build(settings)
    try:
        seed(c)
        c.rebuild()
        before = c.store.list("incident", limit=100)
        relay_rows = _positions(c.store)
    finally:
        c.close()
    # An older version's table: the documents without the filter columns, and what it served.
    old = Container.build(settings.model_copy(update={"run_projector": False}))
    store = DocStore(old.engine)
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE rm_docs"))
        conn.execute(text("CREATE TABLE rm_docs (kind VARCHAR(32), id VARCHAR(64), unit_code VARCHAR(12), "
                          "status VARCHAR(32), position BIGINT, body JSON, PRIMARY KEY (kind, id))"))
        conn.execute(text("INSERT INTO rm_docs VALUES ('incident', 'old', '411099001001', 'reported', 1, '{}')"))
    assert store.create_schema() is True  # stale, and left serving as it is
    assert _positions(store) == relay_rows
    old.close()
    # The next start (or `db init`) rebuilds the new shape beside it and switches it in.
    c = Container.build(settings)
    try:
        assert c.store.create_schema() is False
        assert c.store.list("incident", limit=100) == before
        found, _ = c.store.list("incident", filters=ListFilter(text="a1-inc"))
        assert [d["title"] for d in found] == [m("A1-INC")]  # the new columns are filled by the rebuild
        assert {k: v for k, v in _positions(c.store).items() if k != "projector"} == {
            k: v for k, v in relay_rows.items() if k != "projector"}
    finally:
        c.close()


def _positions(store: DocStore) -> dict[str, int]:
    with store.engine.connect() as conn:
        return dict(conn.execute(text("SELECT name, position FROM rm_positions")).all())
