"""Issue 16, item 5 in the browser: ui/board-model.js counts a street's board as the server does.

The board of a street account holds every unit (the map), but only its own villages' daily
reports are due; the page's model derives from what the server sent (`reporting_units`), so
its counts and alerts equal projections/board.py's. No server: Chromium loads ui/ through a
routed origin, and the board is the one tests/unit/test_board_scope.py assembles.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.context import Principal
from tests.conftest import IN_CI
from tests.unit.helpers import OTHER_STREET, STREET
from tests.unit.test_board_scope import AFTER_CUTOFF, board_of

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
UI = Path(__file__).resolve().parents[2] / "ui"
ORIGIN = "http://yingji.test"

if not Path(CHROMIUM).exists():
    if IN_CI:
        pytest.fail(f"{CHROMIUM} is missing — required in CI (apt-get install chromium)", pytrace=False)
    pytest.skip(f"{CHROMIUM} not available (apt-get install chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


def serve_ui(route: Any) -> None:
    name = route.request.url.removeprefix(ORIGIN + "/ui/").split("?")[0]
    if name == "blank.html":  # a page of this origin to import the modules from
        route.fulfill(status=200, body="<!doctype html><title>model</title>", content_type="text/html")
        return
    path = UI / name
    if name and path.is_file() and path.resolve().is_relative_to(UI):
        route.fulfill(status=200, body=path.read_bytes(), content_type="text/javascript" if name.endswith(".js") else "text/html")
    else:
        route.fulfill(status=404, body="")


@pytest.mark.parametrize("unit", [STREET, OTHER_STREET])
def test_the_page_model_counts_a_street_board_as_the_server_does(unit: str) -> None:
    board = json.loads(json.dumps(board_of(Principal("op", "operator", unit))))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True)
        try:
            page = browser.new_page()
            page.route(ORIGIN + "/**", serve_ui)
            page.goto(ORIGIN + "/ui/blank.html")
            derived = page.evaluate(
                """async ([board, at]) => {
                    const m = await import("/ui/board-model.js");
                    const model = new m.BoardModel();
                    model.replace(board);
                    const live = model.toBoard(at);  // what the page shows after a snapshot frame
                    return {direct: m.derive(board, at, null), live: {alerts: live.alerts, counts_by_street: live.counts_by_street}};
                }""",
                [board, AFTER_CUTOFF.timestamp() * 1000],
            )
        finally:
            browser.close()
    for got in (derived["direct"], derived["live"]):
        assert got["counts_by_street"] == board["counts_by_street"]
        assert [a for a in got["alerts"] if a["kind"] == "daily_report_missing"] == \
            [a for a in board["alerts"] if a["kind"] == "daily_report_missing"]
