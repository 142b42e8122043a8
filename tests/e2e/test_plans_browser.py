"""预案与演练 in a real headless Chromium against the demo server (plans.html).

The demo's one plan past its drill date (the cluster's 危险化学品事故应急预案) reads 演练到期 in words; the street
desk of 新兴街道 sees its own street's plans only. A commander records a drill of that plan with a finding, by
keyboard: the plan then reads 正常 and the drill is listed with its finding, which is resolved on the page.
The board lists the lapsed plan among its alarms before. axe-core finds no WCAG 2.1 AA violation on the page (with
the drill form open, and in English); a screenshot is kept under docs/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Server, screenshot_dir
from tests.e2e.browser import assert_accessible, backend, browser, sync_api  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
SCREENSHOTS = screenshot_dir()
LAPSED = "东城产业集聚区危险化学品事故应急预案"


@pytest.fixture
def desk(browser: Any) -> Iterator[Any]:  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1500, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    yield ctx
    ctx.close()


def sign_in(page: Any, url: str, user: str) -> None:
    page.goto(url)
    page.fill("#login-username", user)
    page.fill("#login-password", "yingji2026")
    page.keyboard.press("Enter")


def test_a_lapsed_plan_is_drilled_and_its_finding_resolved(server: Server, desk: Any) -> None:
    expect = sync_api.expect
    errors: list[str] = []
    board = desk.new_page()
    board.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(board, server.base_url + "/ui/board.html", "commander")
    expect(board.locator('.alert[data-kind="plan_drill_lapsed"]')).to_contain_text(LAPSED, timeout=20_000)

    page = desk.new_page()  # the same session: signed in
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.base_url + "/ui/plans.html")
    row = page.locator("#plan-body tr", has_text=LAPSED)
    expect(row.locator(".plan-state")).to_contain_text("演练到期", timeout=15_000)
    expect(page.locator("#plan-body tr", has_text="新兴街道防汛应急预案").locator(".plan-state")).to_contain_text("正常")
    assert page.locator("#plan-body tr").count() >= 50  # every street's plans and mechanism documents
    assert_accessible(page, "plans register")

    # Record a drill by keyboard: the row's button, the form's fields in order, a finding, Enter.
    row.locator('button[data-act="drill"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator("#drill-form")).to_be_visible()
    page.locator("#d-kind").select_option("comprehensive")
    page.locator("#d-people").fill("86")
    page.locator("#d-scenario").fill("液氨储罐阀门泄漏，企业先期处置与周边群众疏散")
    page.locator("#d-add").focus()
    page.keyboard.press("Enter")
    page.keyboard.type("应急广播音量不足")  # the new finding's first field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type("集聚区管委会")
    assert_accessible(page, "plans register, drill form open")
    page.locator("#drill-form button[type=submit]").click()
    expect(page.locator("#plans-done")).to_have_text("演练已记录", timeout=10_000)
    expect(row.locator(".plan-state")).to_contain_text("正常", timeout=10_000)
    drill = page.locator("#drill-body tr", has_text="液氨储罐阀门泄漏，企业先期处置与周边群众疏散").first
    expect(drill).to_contain_text("应急广播音量不足")
    expect(drill).to_contain_text("待整改")
    page.screenshot(path=str(SCREENSHOTS / "plans.png"))

    drill.locator('input[name="note"]').fill("已更换大功率广播")
    drill.locator('input[name="note"]').press("Enter")
    expect(page.locator("#plans-done")).to_have_text("整改已记录", timeout=10_000)
    expect(page.locator("#drill-body tr", has_text="应急广播音量不足").first).to_contain_text("已整改")
    # The exercise incidents of the demo are listed as drills, marked 演练.
    expect(page.locator("#drill-body tr", has_text="边坡滑塌避险转移演练")).to_contain_text("演练")

    page.click("#lang-toggle")
    expect(page.locator("h1.records-title")).to_have_text("Emergency plans and drills")
    assert_accessible(page, "plans register in English")
    # The board, never reloaded, no longer lists the plan's alarm.
    expect(board.locator('.alert[data-kind="plan_drill_lapsed"]')).to_have_count(0, timeout=15_000)
    assert errors == []


def test_a_street_desk_sees_its_own_plans_only(server: Server, desk: Any) -> None:
    expect = sync_api.expect
    page = desk.new_page()
    sign_in(page, server.base_url + "/ui/plans.html", "xinxing")
    expect(page.locator("#plan-body tr").first).to_be_visible(timeout=15_000)
    units = set(page.locator("#plan-body tr td:first-child").all_inner_texts())
    assert units == {"新兴街道"}, units
