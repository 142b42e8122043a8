"""Readiness in a real headless Chromium against the demo server: the board's street column (能力建设) and the
readiness page (readiness.html).

东城街道's comprehensive team has 19 members in the demo, one short of the standard. On the readiness page, by
keyboard, its strength is set to 20; the board, open beside it and never reloaded, counts one more 1+4 item
met for 东城街道 (the change travels as every board change does: projector, hub, socket). The self-inspection's
open item for the team is then signed off (销号) on the page. axe-core finds no WCAG 2.1 AA violation on the
page, in Chinese and in English; a screenshot is kept under docs/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Server, screenshot_dir
from tests.e2e.browser import assert_accessible, backend, browser, sync_api  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
SCREENSHOTS = screenshot_dir()
DONGCHENG = "411099002000"


@pytest.fixture
def desk(browser: Any) -> Iterator[Any]:  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    yield ctx
    ctx.close()


def met(text: str) -> tuple[int, int]:
    m = re.search(r"(\d+)/(\d+)", text)
    assert m, text
    return int(m.group(1)), int(m.group(2))


def test_growing_a_team_to_20_turns_its_item_green_on_the_board_live(server: Server, desk: Any) -> None:
    expect = sync_api.expect
    errors: list[str] = []
    board = desk.new_page()
    board.on("pageerror", lambda e: errors.append(str(e)))
    board.goto(server.base_url + "/ui/board.html")
    board.fill("#login-username", "commander")
    board.fill("#login-password", "yingji2026")
    board.keyboard.press("Enter")
    cell = board.locator(f'[data-readiness-street="{DONGCHENG}"] [data-readiness="s1_4"]')
    expect(cell).to_be_visible(timeout=20_000)
    before = met(cell.inner_text())
    assert before[0] < before[1] and "hot" in (cell.get_attribute("class") or "")

    page = desk.new_page()  # the same session: the page opens signed in
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.base_url + f"/ui/readiness.html#street={DONGCHENG}")
    card = page.locator(f'.unit-card[data-unit="{DONGCHENG}"]')
    expect(card).to_have_attribute("open", "", timeout=15_000)
    team_item = card.locator('[data-item="s1_4.team"]')
    expect(team_item).to_have_attribute("data-status", "red")
    expect(team_item.locator(".reason")).to_have_text("综合应急救援队 19 人，差 1 人")
    assert_accessible(page, "readiness page, a street drilled into")
    page.screenshot(path=str(SCREENSHOTS / "readiness.png"), full_page=False)

    # By keyboard: focus the strength field, type 20, Enter.
    field = team_item.locator('input[name="members"]')
    field.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("20")
    page.keyboard.press("Enter")
    expect(team_item).to_have_attribute("data-status", "green", timeout=15_000)

    # The board, never reloaded, counts one more 1+4 item met for 东城街道.
    expect(cell).to_have_text(re.compile(rf"{before[0] + 1}/{before[1]}"), timeout=15_000)
    board.bring_to_front()
    board.screenshot(path=str(SCREENSHOTS / "board-readiness.png"))

    # The self-inspection's open item for the team can now be signed off (销号): the server finds it green.
    page.bring_to_front()
    row = page.locator('#item-body tr[data-item="s1_4.team"]')
    expect(row).to_have_attribute("data-status", "open", timeout=15_000)
    row.locator("[data-sign-off]").click()
    expect(page.locator('#item-body tr[data-item="s1_4.team"]')).to_have_attribute("data-status", "signed_off", timeout=15_000)
    expect(page.locator('#item-body tr[data-item="s1_4.team"]')).to_contain_text("20 人")

    page.click("#lang-toggle")
    expect(page.locator("#h-units")).to_have_text("Items per unit")
    assert_accessible(page, "readiness page in English")
    assert not errors, errors
