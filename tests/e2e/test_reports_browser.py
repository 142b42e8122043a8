"""Staged disaster reports at the desk in a real headless Chromium against a real server.

The operator drafts the demo flood's 初报 from what is due, the commander signs it off and submits it;
the printable form and the .xlsx downloaded from the page carry exactly the API's figures, in words.
Every state passes axe-core's WCAG 2.1 AA checks. Keeps docs/screenshots/report-form.png.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from domain.disaster_reports import FIGURE_CODES
from domain.glossary import term
from tests.conftest import Server, screenshot_dir
from tests.e2e.browser import assert_accessible, backend, browser, sync_api  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
SCREENSHOTS = screenshot_dir()
openpyxl = pytest.importorskip("openpyxl")


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  accept_downloads=True)
    yield context.new_page()
    context.close()


def sign_in(page: Any, server: Server, username: str, path: str = "/ui/reports.html") -> None:
    page.goto(server.base_url + path)
    page.fill("#login-username", username)
    page.fill("#login-password", "yingji2026")
    page.click("#login-submit")


def test_a_report_drafted_signed_submitted_printed_and_exported(server: Server, page: Any) -> None:
    expect = sync_api.expect
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, server, "operator")
    flood = page.locator("#due-body tr", has_text="魏庄村低洼区域积水")
    expect(flood.first).to_be_visible(timeout=15_000)
    expect(page.locator("#list-body tr")).to_have_count(3)  # the seed's: the rainstorm's 初报 and 续报, the slope's late 初报
    flood.locator("[data-act=draft]").click()
    page.fill("input[data-code=affected_population]", "210")
    page.fill("input[data-code=relocated]", "46")
    page.fill("input[data-code=crops_affected_ha]", "12.5")
    page.fill("input[data-code=economic_loss_10k]", "35.8")
    page.fill("#sector-fields input[data-code=agriculture]", "20")
    page.fill("#report-notes", "村东低洼处积水，已转移46人")
    assert_accessible(page, "the report dialog")
    page.fill("input[data-code=relocated]", "300")  # more than the affected: refused, said in words
    page.click("#report-save")
    expect(page.locator("#report-error")).to_contain_text("输入有误")
    page.fill("input[data-code=relocated]", "46")
    page.click("#report-save")
    row = page.locator("#list-body tr[data-status=draft]", has_text="魏庄村低洼区域积水")
    expect(row).to_be_visible(timeout=10_000)
    expect(row.locator("[data-act=sign-off]")).to_have_count(0)  # an operator drafts; a commander signs off
    assert_accessible(page, "the reports page")

    page.click("#sign-out")
    sign_in(page, server, "commander")
    row = page.locator("#list-body tr", has_text="魏庄村低洼区域积水")
    row.locator("[data-act=sign-off]").click()
    expect(row).to_have_attribute("data-status", "signed", timeout=10_000)
    row.locator("[data-act=submit]").click()
    expect(row).to_have_attribute("data-status", "submitted", timeout=10_000)
    report_id = row.get_attribute("data-id")

    api = server.client("commander")
    try:
        report = api.get(f"/disaster-reports/{report_id}").json()
    finally:
        api.close()
    assert report["figures"]["relocated"] == 46 and report["figures"]["crops_affected_ha"] == 12.5

    with page.expect_download() as dl:
        row.locator("[data-act=xlsx]").click()
    sheet = openpyxl.load_workbook(io.BytesIO(open(dl.value.path(), "rb").read())).active
    cells = {r[0]: r[1] for r in sheet.iter_rows(values_only=True) if r and r[0]}
    assert {code: cells[term("reportFigure", code)] for code in FIGURE_CODES} == report["figures"]

    row.locator("a", has_text="打印报表").click()
    paper = page.locator("[data-testid=paper]")
    expect(paper.locator("h1")).to_have_text("自然灾害情况统计表（初报）", timeout=10_000)
    printed = {code: float(paper.locator(f"tr[data-code={code}] td.num").get_attribute("data-value")) for code in FIGURE_CODES}
    assert printed == {k: float(v) for k, v in report["figures"].items()}
    text = paper.inner_text()
    assert "受灾人口" in text and "农业损失" in text and "魏庄村" in text and "指挥长 王强" in text
    assert not any(code in text for code in FIGURE_CODES + ("initial", "submitted", "agriculture"))  # words, never codes
    assert_accessible(page, "the printable form")
    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    page.screenshot(path=str(SCREENSHOTS / "report-form.png"), full_page=True)
    page.emulate_media(media="screen")
    page.click("#lang-toggle")  # the same form in English, the glossary's other column
    expect(paper.locator("h1")).to_have_text("Natural disaster statistics (Initial report)")
    expect(paper.locator("tr[data-code=affected_population] th")).to_have_text("Affected population")
    page.click("#lang-toggle")
    assert not errors, errors
