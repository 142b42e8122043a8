"""The contact directory (people.html) in a real headless Chromium against the demo server.

A commander adds a person by keyboard (unit, name, phone, posts offered for that unit's kind), searches and finds
them with a dialable tel: link; a training is recorded with them as attendee and their row shows the day; the
street desk of 新兴街道 sees its own people only (another street's phone is nowhere on its page); on a phone
the directory is a list of cards. axe-core finds no WCAG 2.1 AA violation, in Chinese, in English, with a dialog
open and on the phone; screenshots are kept under docs/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Server, screenshot_dir
from tests.e2e.browser import assert_accessible, backend, browser, sync_api  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
SCREENSHOTS = screenshot_dir()
WEIZHUANG = "411099001001"  # 魏庄村, 新兴街道


@pytest.fixture
def ctx(browser: Any) -> Iterator[Any]:  # noqa: F811
    c = browser.new_context(viewport={"width": 1366, "height": 820}, locale="zh-CN", timezone_id="Asia/Shanghai")
    yield c
    c.close()


def sign_in(page: Any, server: Server, user: str) -> None:
    page.goto(server.base_url + "/ui/people.html")
    page.fill("#login-username", user)
    page.fill("#login-password", "yingji2026")
    page.keyboard.press("Enter")


def test_a_person_added_is_found_trained_and_dialable_and_another_street_sees_none_of_it(server: Server, ctx: Any,
                                                                                        browser: Any) -> None:  # noqa: F811
    expect = sync_api.expect
    errors: list[str] = []
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, server, "commander")
    rows = page.locator("#results-body tr")
    expect(rows.first).to_be_visible(timeout=20_000)
    expect(page.locator("#trainings-body")).to_contain_text("全区灾害信息员业务培训", timeout=10_000)
    assert_accessible(page, "directory, signed in")

    # Add a person by keyboard: a village offers the village's posts only.
    page.click("#f-add")
    expect(page.locator("#person-dialog")).to_be_visible()
    page.select_option("#p-unit", WEIZHUANG)
    assert page.locator('#p-posts input[value="committee_director"]').count() == 0
    page.focus("#p-name")
    page.keyboard.type("魏新华")
    page.keyboard.press("Tab")
    page.keyboard.type("13812345678")
    page.locator('#p-posts input[value="persuader"]').focus()
    page.keyboard.press("Space")
    page.locator('#p-posts input[value="militia"]').check()
    assert_accessible(page, "directory, adding a person")
    page.keyboard.press("Enter")
    expect(page.locator("#person-dialog")).to_be_hidden(timeout=10_000)
    found = rows.filter(has_text="魏新华")
    expect(found).to_have_count(1, timeout=10_000)
    expect(found.locator("td.posts")).to_have_text("安全劝导员、民兵应急连")
    assert found.locator('td.phone a').get_attribute("href") == "tel:13812345678"

    # A search by post and unit finds them; the address keeps it.
    page.fill("#f-q", "")
    page.select_option("#f-unit", WEIZHUANG)
    page.select_option("#f-post", "persuader")
    page.click("#f-submit")
    expect(found).to_have_count(1, timeout=10_000)
    assert "post=persuader" in page.url and f"unit={WEIZHUANG}" in page.url

    # A training with them as attendee: their row shows the day.
    page.click("#t-add")
    expect(page.locator("#training-dialog")).to_be_visible()
    page.select_option("#t-unit", WEIZHUANG)
    page.fill("#t-hours", "2")
    page.fill("#t-topic", "汛期安全劝导培训")
    page.fill("#t-find", "魏新华")
    page.locator("#t-people input").first.check()
    assert_accessible(page, "directory, recording a training")
    page.click("#training-submit")
    expect(page.locator("#training-dialog")).to_be_hidden(timeout=10_000)
    expect(page.locator("#trainings-body")).to_contain_text("汛期安全劝导培训", timeout=10_000)
    expect(found.locator("td.trained")).not_to_have_text("—", timeout=10_000)
    page.screenshot(path=str(SCREENSHOTS / "people.png"))

    # On paper: the directory alone (no filters, buttons or trainings), the phone numbers as text.
    page.emulate_media(media="print")
    expect(page.locator("#filters")).to_be_hidden()
    expect(page.locator(".trainings")).to_be_hidden()
    expect(found.locator("td.phone")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "people-print.png"))
    page.emulate_media(media="screen")

    page.click("#lang-toggle")
    expect(page.locator("#results-head th").first).to_have_text("Unit")
    assert_accessible(page, "directory in English")
    page.click("#lang-toggle")

    # 新兴街道's desk reads its own people only: 祖师街道's phones are nowhere on its page.
    other = page.context.new_page()  # the same session (the district's commander sees every street)
    other.goto(server.base_url + "/ui/people.html")
    expect(other.locator("#results-body tr").first).to_be_visible(timeout=20_000)
    other.fill("#f-q", "")
    other.select_option("#f-unit", "411099004000")
    other.select_option("#f-post", "office_staff")
    other.click("#f-submit")
    expect(other.locator("#results-body tr").first.locator("td.unit")).to_have_text("祖师街道", timeout=10_000)
    expect(other.locator("#results-count")).to_have_text("共 4 条")  # 祖师街道 is one short of its 5 full-time staff
    zushi_phone = other.locator("#results-body td.phone a").first.inner_text()
    other.close()
    street = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", timezone_id="Asia/Shanghai", is_mobile=True)
    try:
        phone = street.new_page()
        phone.on("pageerror", lambda e: errors.append(str(e)))
        sign_in(phone, server, "xinxing")
        expect(phone.locator("#results-body tr").first).to_be_visible(timeout=20_000)
        expect(phone.locator("#f-add")).to_be_visible()
        phone.fill("#f-q", "")
        phone.select_option("#f-status", "all")
        phone.click("#f-submit")
        expect(phone.locator("#results-count")).to_contain_text("共", timeout=10_000)
        assert zushi_phone not in phone.content()
        assert phone.locator('#f-unit option[value="411099004000"]').count() == 0
        assert_accessible(phone, "directory on a street desk's phone")
        phone.screenshot(path=str(SCREENSHOTS / "people-phone.png"))
    finally:
        street.close()
    assert errors == []
