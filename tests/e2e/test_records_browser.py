"""Records search (records.html) in a real headless Chromium against the demo server.

An operator searches incidents by a word, by keyboard alone; the address keeps the filter, so a
reload (or a shared link) shows the same search; a street the account cannot see finds nothing;
dispatches are searched the same way; a delivered allocation's unused materials are given back
(退回) from its row. Every state passes axe-core; desk and phone screenshots are kept under
docs/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest

from tests.conftest import Server, screenshot_dir
from tests.e2e.browser import assert_accessible, backend, browser, sync_api  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
SCREENSHOTS = screenshot_dir()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True)
    yield ctx.new_page()
    ctx.close()


def test_an_operator_finds_incidents_by_word_and_shares_the_search(server: Server, page: Any, tmp_path: Any) -> None:
    expect = sync_api.expect
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.base_url + "/ui/records.html")
    page.fill("#login-username", "operator")
    page.fill("#login-password", "yingji2026")
    page.keyboard.press("Enter")
    rows = page.locator("#results-body tr")
    expect(rows.first).to_be_visible(timeout=15_000)
    everything = rows.count()
    assert everything >= 3  # the demo's incidents
    assert_accessible(page, "records search, all incidents")

    # By keyboard: the search box, a word, Enter.
    page.focus("#f-q")
    page.keyboard.type("积水")
    page.keyboard.press("Enter")
    expect(page.locator("#results-count")).to_have_text("共 1 条", timeout=10_000)
    expect(rows.first).to_contain_text("魏庄村低洼区域积水")
    assert "q=%E7%A7%AF%E6%B0%B4" in page.url or "q=积水" in page.url
    page.screenshot(path=str(SCREENSHOTS / "records.png"))

    # The address is the search: a reload shows the same filter and the same rows.
    page.reload()
    expect(page.locator("#f-q")).to_have_value("积水", timeout=15_000)
    expect(page.locator("#results-count")).to_have_text("共 1 条", timeout=10_000)

    # The list under this filter, as a workbook: the same rows, in Chinese.
    with page.expect_download() as done:
        page.click("#f-export")
    path = tmp_path / "incidents.xlsx"
    done.value.save_as(path)
    sheet = list(openpyxl.load_workbook(path, read_only=True)["突发事件"].iter_rows(values_only=True))
    assert sheet[0][:3] == ("发生时间", "事件", "单位") and [r[1] for r in sheet[1:]] == ["魏庄村低洼区域积水"]
    assert sheet[1][4] == "自然灾害 · 洪涝" and sheet[1][6] == "已核实"

    # A word nobody wrote finds nothing, said in words.
    page.fill("#f-q", "不存在的记录")
    page.click("#f-submit")
    expect(page.locator("#results-body .empty")).to_have_text("没有符合条件的记录", timeout=10_000)

    # Dispatches, by the same filters; the category filter is for incidents only and hides.
    page.fill("#f-q", "")
    page.check('input[name="kind"][value="dispatches"]')
    expect(page.locator("#f-category")).to_be_hidden()
    expect(page.locator("#results-head th").first).to_have_text("下达时间", timeout=10_000)
    expect(rows.first).to_be_visible()
    assert_accessible(page, "records search, dispatches")

    page.click("#lang-toggle")
    expect(page.locator("#results-head th").first).to_have_text("Ordered")
    page.click("#lang-toggle")

    # Allocations: a delivered one gives back what the incident did not use (退回), from its row's dialog.
    cmd = server.client("commander")
    flood = next(i for i in cmd.get("/incidents").json()["items"] if i["subtype"] == "flood")
    wh = cmd.get("/warehouses").json()["items"][0]["id"]
    a = cmd.ok("/allocations", {"incident_id": flood["id"], "warehouse_id": wh, "lines": {"QUILT": 4}, "destination": "魏庄村委会"})["id"]
    cmd.ok(f"/allocations/{a}/ship", {})
    cmd.ok(f"/allocations/{a}/deliver", {"received_by": "张主任"})
    page.check('input[name="kind"][value="allocations"]')
    back = page.locator(f'[data-return="{a}"]')
    expect(back).to_have_text("退回", timeout=10_000)
    back.click()
    dialog = page.locator("#return-dialog")
    expect(dialog.locator('input[name="QUILT"]')).to_be_focused()
    expect(dialog.locator('input[name="QUILT"]')).to_have_value("4")
    assert_accessible(page, "records search, returning an allocation")
    page.keyboard.press("Control+A")
    page.keyboard.type("5")  # more than is out: said in words, nothing sent
    page.keyboard.press("Enter")
    expect(page.locator("#return-error")).to_contain_text("棉被")
    page.keyboard.press("Control+A")
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden(timeout=10_000)  # closed on the server's answer
    expect(back).to_be_visible()  # three quilts are still out
    assert cmd.get(f"/allocations/{a}").json()["returned"] == {"QUILT": 1}  # the list was read again after the write

    # On a phone: one column, still without violations.
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page, "records search on a phone")
    page.screenshot(path=str(SCREENSHOTS / "records-phone.png"), full_page=True)
    assert errors == []


def test_a_reporter_searches_only_its_village(server: Server, page: Any) -> None:
    expect = sync_api.expect
    page.goto(server.base_url + "/ui/records.html#kind=incidents&unit=411099002000")  # another street
    page.fill("#login-username", "reporter")
    page.fill("#login-password", "yingji2026")
    page.click("#login-submit")
    expect(page.locator("#results-body .empty")).to_be_visible(timeout=15_000)
    expect(page.locator("#results-count")).to_have_text("共 0 条")
