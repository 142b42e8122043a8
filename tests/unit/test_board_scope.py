"""Issue 16, item 5: a board's counts and derived alerts come from the viewer's scope only.

Every account sees the whole organisation tree (the map needs it), so a street's board holds every
village: it must still count only its own villages' daily reports as due, and raise
`daily_report_missing` only for them.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from domain.reports import DailyReport
from domain.units import Unit
from gateway.context import Principal
from projections.board import assemble
from projections.fold import MemoryDocs
from tests.unit.helpers import ACTOR, DISTRICT, OTHER_STREET, STREET

A1, A2, B1 = "411099001001", "411099001002", "411099002001"
TODAY = date(2026, 7, 20)
AFTER_CUTOFF = datetime(2026, 7, 20, 9, 0, tzinfo=timezone.utc)  # 17:00 in Shanghai


def district() -> tuple[MemoryDocs, int]:
    """Two streets; today A1 and B1 have filed, A2 has not."""
    docs = MemoryDocs()
    aggregates = [Unit.register(code=DISTRICT, name="东城区", kind="district", by=ACTOR),
                  Unit.register(code=STREET, name="新兴街道", kind="street", by=ACTOR),
                  Unit.register(code=OTHER_STREET, name="东城街道", kind="street", by=ACTOR),
                  Unit.register(code=A1, name="魏庄村", kind="village", by=ACTOR),
                  Unit.register(code=A2, name="后河社区", kind="community", by=ACTOR),
                  Unit.register(code=B1, name="大周村", kind="village", by=ACTOR)]
    aggregates += [DailyReport.file(unit_code=u, day=TODAY, today=TODAY, zero=True, summary="", by=ACTOR) for u in (A1, B1)]
    position = 0
    for agg in aggregates:
        for e in agg.collect_events():
            position += 1
            docs.apply(e, position)
    return docs, position


def board_of(principal: Principal) -> dict:
    docs, position = district()
    return assemble(((k, d) for (k, _), d in docs.docs.items()), position, AFTER_CUTOFF, lambda k, d: principal.can_read_doc(k, d))


def missing_alerts(board: dict) -> list[tuple[str, list[str]]]:
    return [(a["unit_code"], a["units"]) for a in board["alerts"] if a["kind"] == "daily_report_missing"]


def test_a_street_board_counts_and_alerts_only_its_own_villages() -> None:
    board = board_of(Principal("op", "operator", STREET))
    assert len(board["unit"]) == 6  # the map still has every unit
    assert board["reporting_units"] == [A1, A2]
    assert {k: (v["daily_due"], v["daily_filed"]) for k, v in board["counts_by_street"].items()} == {STREET: (2, 1)}
    assert missing_alerts(board) == [(STREET, [A2])]


def test_the_other_streets_board_raises_no_alert_for_a_village_that_filed() -> None:
    board = board_of(Principal("op", "operator", OTHER_STREET))
    assert {k: (v["daily_due"], v["daily_filed"]) for k, v in board["counts_by_street"].items()} == {OTHER_STREET: (1, 1)}
    assert missing_alerts(board) == []  # B1 filed; A2's silence is street A's to see


def test_a_village_board_counts_itself_only() -> None:
    board = board_of(Principal("rep", "reporter", A2))
    assert board["reporting_units"] == [A2]
    assert {k: (v["daily_due"], v["daily_filed"]) for k, v in board["counts_by_street"].items()} == {STREET: (1, 0)}
    assert missing_alerts(board) == [(STREET, [A2])]


def test_the_district_board_counts_every_street() -> None:
    board = board_of(Principal("cmd", "commander", DISTRICT))
    assert {k: (v["daily_due"], v["daily_filed"]) for k, v in board["counts_by_street"].items()} == {STREET: (2, 1), OTHER_STREET: (1, 1)}
    assert missing_alerts(board) == [(STREET, [A2])]
