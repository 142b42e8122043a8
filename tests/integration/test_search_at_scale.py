"""Search over 100,000 incidents: every filter returns exactly what a recount of the generated history
gives, keyset pages walk it without a gap or a repeat, and a page is read by index in list order
(the plan has no sort of all the matches), so a page costs what it returns; with a date range, the
range is read by its index and sorted (a page costs the incidents in the range). The timings are in
bench/lists.py (bench/results/lists.json), not asserted here.

The history is written straight into the read model through DocStore.commit (bench/history_docs.py):
the indexed columns are filled by the production code; the list is the route's own `DocStore.list`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from bench.history_docs import RARE, STREETS, VILLAGES, incidents, load
from projections.columns import utc_key
from projections.jsoncodec import ENGINE_CODEC
from projections.store import COUNT_LIMIT, DocStore, ListFilter

N = 100_000


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DocStore, list[dict[str, Any]]]]:
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('scale') / 'rm.db'}", **ENGINE_CODEC)
    store = DocStore(engine)
    docs = incidents(N)
    positions = load(store, docs)
    for d in docs:
        d["_position"] = positions[d["id"]]
    yield store, docs
    engine.dispose()


def recount(docs: list[dict[str, Any]], *, statuses: tuple[str, ...] = (), f: ListFilter) -> list[str]:
    """The filter applied by hand to the generated documents, in the list's order (newest change first)."""
    def keep(d: dict[str, Any]) -> bool:
        at = utc_key(d["occurred_at"])
        text = " ".join(d[k] for k in ("title", "address", "description") if d[k]).casefold()
        return ((not statuses or d["status"] in statuses) and (not f.unit_prefix or d["unit_code"].startswith(f.unit_prefix))
                and (not f.categories or d["category"] in f.categories) and (not f.levels or d["level"] in f.levels)
                and (f.since is None or at >= f.since) and (f.until is None or at < f.until)
                and (not f.text or f.text.casefold() in text))
    return [d["id"] for d in sorted((d for d in docs if keep(d)), key=lambda d: (-d["_position"], d["id"]))]


CASES: list[tuple[str, tuple[str, ...], ListFilter]] = [
    ("text, rare", (), ListFilter(text=RARE)),
    ("text, number", (), ListFilter(text="第4242号")),
    ("dates, one week", (), ListFilter(since=utc_key("2026-03-01T00:00:00+08:00"), until=utc_key("2026-03-08T00:00:00+08:00"))),
    ("street", (), ListFilter(unit_prefix=STREETS[2][:9])),
    ("village", (), ListFilter(unit_prefix=VILLAGES[10])),
    ("category", (), ListFilter(categories=["accident"])),
    ("level", (), ListFilter(levels=["I"])),
    ("status", ("reported", "verified"), ListFilter()),
    ("all together", ("verified",), ListFilter(unit_prefix=STREETS[0][:9], categories=["natural_disaster"], levels=["II", "III"],
                                                since=utc_key("2026-01-01T00:00:00+08:00"), until=utc_key("2026-07-01T00:00:00+08:00"))),
]


@pytest.mark.parametrize(("name", "statuses", "f"), CASES, ids=[c[0] for c in CASES])
def test_each_filter_returns_what_a_recount_gives(history: Any, name: str, statuses: tuple[str, ...], f: ListFilter) -> None:
    store, docs = history
    expected = recount(docs, statuses=statuses, f=f)
    assert expected, f"{name}: the generated history has matches"
    items, total = store.list("incident", statuses=statuses, limit=50, filters=f)
    # counted up to COUNT_LIMIT + 1: above COUNT_LIMIT the list says "more than that" (a broad filter over a
    # long history would otherwise cost a count of all its matches)
    assert total == min(len(expected), COUNT_LIMIT + 1)
    assert store.list("incident", statuses=statuses, limit=1, filters=f, count_limit=len(expected))[1] == len(expected)
    assert [i["id"] for i in items] == expected[:50]


def test_keyset_pages_walk_a_filter_without_gap_or_repeat(history: Any) -> None:
    store, docs = history
    f = ListFilter(unit_prefix=VILLAGES[3], levels=["I", "II"])
    expected = recount(docs, f=f)
    assert 500 < len(expected) < 2000
    seen: list[str] = []
    after = None
    while True:
        items, _ = store.list("incident", limit=100, filters=ListFilter(unit_prefix=f.unit_prefix, levels=f.levels, after=after))
        seen += [i["id"] for i in items]
        if len(items) < 100:
            break
        after = store.cursor_of("incident", items[-1]["id"])
    assert seen == expected


def page_plan(store: DocStore, statuses: tuple[str, ...], f: ListFilter) -> str:
    """SQLite's plan for the page query the list runs (the same WHERE and ORDER BY, compiled with its values)."""
    query = (select(store.docs.c.body).where(store._where("incident", None, statuses, f))
             .order_by(store.docs.c.position.desc(), store.docs.c.id).limit(50))
    sql = str(query.compile(store.engine, compile_kwargs={"literal_binds": True}))
    with store.engine.connect() as conn:
        return "\n".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))


DATED = ("dates, one week", "all together")


@pytest.mark.parametrize(("name", "statuses", "f"), [c for c in CASES if c[0] not in DATED], ids=[c[0] for c in CASES if c[0] not in DATED])
def test_a_page_is_read_by_index_in_list_order(history: Any, name: str, statuses: tuple[str, ...], f: ListFilter) -> None:
    # No "TEMP B-TREE FOR ORDER BY": the rows come off the (kind, position) index in the list's order and
    # reading stops at the page's end, instead of collecting and sorting every match (which would cost the
    # matches). "FOR RIGHT PART OF ORDER BY" is allowed: it orders only rows of one position by id, as they come.
    plan = page_plan(history[0], statuses, f)
    assert "USING INDEX ix_rm_docs_kind_position" in plan and "USE TEMP B-TREE FOR ORDER BY" not in plan, plan


@pytest.mark.parametrize(("name", "statuses", "f"), [c for c in CASES if c[0] in DATED], ids=list(DATED))
def test_a_date_range_is_searched_by_its_index(history: Any, name: str, statuses: tuple[str, ...], f: ListFilter) -> None:
    # With a date range SQLite reads the range off the (kind, at) index and sorts what it finds: a page
    # then costs the incidents in the range (a week: ~1,900 of 100,000), not the whole kind. Measured in
    # bench/lists.py ("dates" rows); a range of years would cost its rows.
    plan = page_plan(history[0], statuses, f)
    assert "SEARCH rm_docs USING INDEX ix_rm_docs_kind_at (kind=? AND at>? AND at<?)" in plan, plan


def test_a_total_beyond_the_count_limit_is_answered_as_a_floor() -> None:
    from gateway.entrypoints.api.common import page

    assert page([], COUNT_LIMIT + 1, 7, 50, 0) | {"items": None} == {
        "items": None, "total": COUNT_LIMIT, "total_exact": False, "limit": 50, "offset": 0, "position": 7}
    assert page([], 12, 7, 50, 0)["total_exact"] is True
