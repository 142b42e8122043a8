"""The desk acts on an incident from the board, not Swagger: update the figures, change the level,
dismiss a false report. Buttons follow the server's role × route table; a refusal shows the server's
words; every dialog passes axe-core."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Server
from tests.e2e.browser import assert_accessible
from tests.e2e.test_board_browser import backend, browser, page, sign_in, sync_api  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def open_incident(page: Any, title: str) -> Any:
    row = page.locator(".incident", has_text=title)
    row.first.click()
    return row.first


def test_the_commander_updates_figures_and_level_and_the_operator_dismisses(server: Server, page: Any) -> None:
    expect = sync_api.expect
    sign_in(page, server, "commander")
    row = open_incident(page, "魏庄村低洼区域积水")
    row.locator('[data-action="situation"]').click()
    form = page.locator("#cmd-form")
    expect(form.locator("[name=evacuated]")).to_have_value("46")
    form.locator("[name=deaths]").fill("1")
    form.locator("[name=notes]").fill("发现1名遇难者")
    assert_accessible(page, "the situation dialog")
    page.click("#cmd-submit")
    expect(page.locator("#cmd-dialog")).to_be_hidden(timeout=10_000)

    row.locator('[data-action="level"]').click()
    form.locator("label.lv-III").click()  # the same level: refused on the page, nothing sent
    form.locator("[name=reason]").fill("有人员死亡")
    page.click("#cmd-submit")
    expect(page.locator("#cmd-error")).to_contain_text("等级未变化")
    form.locator("label.lv-II").click()
    page.click("#cmd-submit")
    expect(page.locator("#cmd-dialog")).to_be_hidden(timeout=10_000)
    expect(page.locator(".incident", has_text="魏庄村低洼区域积水").first).to_have_attribute("data-level", "II", timeout=10_000)

    api = server.client("commander")
    try:
        flood = next(i for i in api.get("/incidents").json()["items"] if i["title"] == "魏庄村低洼区域积水")
        assert flood["situation"]["deaths"] == 1 and flood["situation"]["evacuated"] == 46 and flood["level"] == "II"
    finally:
        api.close()


def test_an_observer_sees_no_action_and_an_operator_dismisses(server: Server, page: Any) -> None:
    expect = sync_api.expect
    sign_in(page, server, "observer")
    row = open_incident(page, "道路边坡小面积滑塌")
    expect(row.locator(".inc-detail")).to_be_visible()
    expect(row.locator("[data-action]")).to_have_count(0)
    page.click("#sign-out")
    sign_in(page, server, "operator")
    row = open_incident(page, "道路边坡小面积滑塌")
    expect(row.locator('[data-action="level"]')).to_have_count(0)  # the commander's, not the desk's
    row.locator('[data-action="dismiss"]').click()
    page.locator("#cmd-form [name=reason]").fill("核实为误报，现场无滑塌")
    assert_accessible(page, "the dismiss dialog")
    page.click("#cmd-submit")
    expect(page.locator(".incident", has_text="道路边坡小面积滑塌")).to_have_count(0, timeout=10_000)  # off the board


def test_the_desk_ships_reserved_materials_from_the_board(server: Server, page: Any) -> None:
    expect = sync_api.expect
    sign_in(page, server, "operator")
    api = server.client("operator")
    try:
        reserved = [a for a in api.get("/allocations").json()["items"] if a["status"] == "reserved"]
        assert reserved, "the demo has materials reserved for the flood"
        a = reserved[0]
        page.click(f'[data-testid="allocation-ship-{a["id"]}"]')
        page.locator("#cmd-form [name=vehicle]").fill("豫K·A1234")
        assert_accessible(page, "the ship dialog")
        page.click("#cmd-submit")
        expect(page.locator(f'[data-testid="allocation-{a["id"]}"] .chip')).to_have_text("运输中", timeout=10_000)
        assert api.get(f"/allocations/{a['id']}").json()["status"] == "shipped"
    finally:
        api.close()


def test_the_other_pages_are_one_menu_away_by_keyboard(server: Server, page: Any) -> None:
    expect = sync_api.expect
    sign_in(page, server, "commander")
    page.focus("#pages-menu summary")
    page.keyboard.press("Enter")
    expect(page.locator("#records-link")).to_be_visible()
    assert_accessible(page, "the board with its pages menu open")
    page.keyboard.press("Escape")
    expect(page.locator("#records-link")).to_be_hidden()
    page.focus("#pages-menu summary")
    page.keyboard.press("Enter")
    page.click("#stats-link")
    expect(page).to_have_url(__import__("re").compile(r"/ui/stats\.html"))
