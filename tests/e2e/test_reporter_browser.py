"""The disaster information reporter's phone page (零报告) in a real headless Chromium against a real server.

The demo's reporter (魏庄村, not yet filed today) signs in, files the zero report with one tap, then
corrects it with a few words; the API and the event log hold one report, filed once and corrected
once. Keeps docs/screenshots/reporter.png.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Server
from tests.e2e import test_field_browser as phone
from tests.e2e.browser import assert_accessible

# The field page's phone fixtures (Debian's Chromium, a 390×844 touch viewport, SQLite only).
backend, browser, context, page = phone.backend, phone.browser, phone.context, phone.page
sync_api, SCREENSHOTS = phone.sync_api, phone.SCREENSHOTS

pytestmark = pytest.mark.browser
VILLAGE = "411099001001"


def sign_in(page: Any, server: Server, username: str) -> None:
    page.goto(server.base_url + "/ui/reporter.html")
    page.fill("#login-username", username)
    page.fill("#login-password", "yingji2026")
    page.click("#login-submit")


def test_a_reporter_files_the_zero_report_and_corrects_it(server: Server, page: Any) -> None:
    expect = sync_api.expect
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, server, "reporter")
    expect(page.locator("#unit-name")).to_have_text("魏庄村", timeout=15_000)
    card = page.locator("#today-card")
    assert card.get_attribute("data-status") in ("due", "missing")
    expect(page.locator("#week-list li")).to_have_count(6)

    page.click("#file-zero")
    expect(card).to_have_attribute("data-status", "filed", timeout=10_000)
    expect(page.locator("#today-state")).to_have_text("已报送 · 零报告")
    expect(page.locator("#file-zero")).to_have_text("更正为零报告")

    page.click("#file-news")
    page.fill("#news-summary", "夜间强降雨，村东低洼处积水约0.8米，已转移46人，无伤亡")
    assert_accessible(page, "the reporter's sheet for news")
    page.click("#sheet-submit")
    expect(page.locator("#today-state")).to_have_text("已报送 · 有情况", timeout=10_000)
    expect(page.locator("#today-summary")).to_have_text("夜间强降雨，村东低洼处积水约0.8米，已转移46人，无伤亡")
    expect(page.locator("#today-due")).to_contain_text("已更正 1 次")
    assert_accessible(page, "the reporter's phone, filed and corrected")
    page.screenshot(path=str(SCREENSHOTS / "reporter.png"))

    # The village's flood is still open: its figures as they now stand, from the phone (更新灾情, through the outbox).
    flood = page.locator("#open-incidents li").filter(has_text="魏庄村低洼区域积水")
    flood.locator("[data-situation]").click()
    evacuated = page.locator("#situation-fields input[name=evacuated]")
    expect(page.locator("#situation-fields input").first).to_be_focused()
    expect(evacuated).to_have_value("46")
    assert_accessible(page, "the reporter's sheet for the situation")
    evacuated.fill("52")
    page.click("#situation-submit")
    expect(page.locator("#situation-sheet")).to_be_hidden()
    expect(flood).to_contain_text("52", timeout=10_000)  # read again once the update is answered

    page.click("#lang-toggle")
    expect(page.locator("#today-state")).to_have_text("Filed · with news")
    page.click("#lang-toggle")

    cmd = server.client("commander")
    try:
        [inc] = [i for i in cmd.get("/incidents").json()["items"] if i["title"] == "魏庄村低洼区域积水"]
        assert (inc["situation"]["evacuated"], inc["situation"]["affected"]) == (52, 210)  # only the figure changed was sent
        [row] = [i for i in cmd.get("/reports/daily").json()["items"] if i["unit_code"] == VILLAGE]
        assert (row["status"], row["zero"], row["corrections"], row["filed_by"]["user"]) == ("filed", False, 1, "reporter")
        events = cmd.events()
        mine = [e["type"] for e in events if e["subject"] == row["id"]]
        assert mine == ["cn.gov.yingji.dailyreport.filed", "cn.gov.yingji.dailyreport.corrected"]  # one tap, one event each
    finally:
        cmd.close()
    assert not errors, errors


def test_an_account_that_is_not_a_villages_is_sent_back_to_sign_in(server: Server, page: Any) -> None:
    sign_in(page, server, "field")
    sync_api.expect(page.locator("#login-error")).to_contain_text("灾害信息员账号", timeout=15_000)
    assert page.locator("#app").is_hidden()
