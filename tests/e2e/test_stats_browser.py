"""Statistics (stats.html) in a real headless Chromium against the demo server.

A commander opens the last 30 days: the figures per street equal GET /reports/summary's; the
period is kept in the address; the workbook downloads and reads back with openpyxl; every state
passes axe-core.
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
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True)
    yield ctx.new_page()
    ctx.close()


def test_a_commander_reads_the_month_per_street_and_exports_it(server: Server, page: Any, tmp_path: Any) -> None:
    expect = sync_api.expect
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.base_url + "/ui/stats.html")
    page.fill("#login-username", "commander")
    page.fill("#login-password", "yingji2026")
    page.click("#login-submit")
    expect(page.locator("#street-body tr").first).to_be_visible(timeout=15_000)
    expect(page.locator("#kpis .stat-kpi").first).to_contain_text("事件数")
    assert "preset=30" in page.url

    since, until = page.input_value("#w-since"), page.input_value("#w-until")
    api = server.client("commander")
    summary = api.get("/reports/summary", params={"start": f"{since}T00:00:00+08:00", "end": f"{until}T00:00:00+08:00"}).json()
    api.close()
    assert summary["incidents"] >= 3
    shown = {r.locator("th").inner_text(): int(r.locator("td").first.inner_text()) for r in page.locator("#street-body tr").all()}
    assert sum(shown.values()) == summary["incidents"]
    assert len(shown) == len(summary["by_street"])
    expect(page.locator("#street-chart svg")).to_have_attribute("role", "img")
    # The demo's orange warning to two streets: its receipts per street and in total, as the summary says.
    w = summary["warnings"]
    assert w["issued"] == 1 and w["receipts"]["signed_in_time"] == 5
    total = page.locator("[data-testid=warning-stats] tbody tr").last
    expect(total).to_contain_text("合计")
    assert [int(c.inner_text()) for c in total.locator("td").all()] == [w["receipts"][k] for k in (
        "receipts", "signed_in_time", "signed_late", "unsigned", "escalated")]
    assert_accessible(page, "statistics, last 30 days")
    page.screenshot(path=str(SCREENSHOTS / "stats.png"), full_page=True)

    with page.expect_download() as done:
        page.click("#export-summary")
    path = tmp_path / "summary.xlsx"
    done.value.save_as(path)
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.sheetnames[:2] == ["统计概况", "分街道统计"]
    streets = list(wb["分街道统计"].iter_rows(values_only=True))
    assert sum(r[1] for r in streets[1:]) == summary["incidents"]

    with page.expect_download() as done:  # the month's daily reports: village × day, as the API's month says
        page.click("#daily-month-form button[type=submit]")
    done.value.save_as(tmp_path / "month.xlsx")
    matrix = list(openpyxl.load_workbook(tmp_path / "month.xlsx", read_only=True)["零报告月报"].iter_rows(values_only=True))
    api = server.client("commander")
    month = api.get("/reports/daily/month").json()
    api.close()
    assert len(matrix) - 1 == month["total"] == 42
    assert sum(r[-4] + r[-3] for r in matrix[1:]) == sum(i["filed"] + i["late"] for i in month["items"])

    # The desk files the silent 魏庄村's zero report for it (its reporter phoned it in).
    page.select_option("#daily-unit", "411099001001")
    page.click("#daily-file")
    expect(page.locator("#daily-file-status")).to_have_text("已报送", timeout=10_000)
    api = server.client("commander")
    [row] = [i for i in api.get("/reports/daily").json()["items"] if i["unit_code"] == "411099001001"]
    api.close()
    assert row["status"] == "filed" and row["zero"] is True and row["filed_by"]["user"] == "commander"

    page.select_option("#w-preset", "7")
    page.wait_for_function("() => location.hash.includes('preset=7')")
    page.click("#lang-toggle")
    expect(page.locator("#street-title")).to_have_text("By street")
    assert errors == []
