"""The duty desk's handover (交接班) in a real headless Chromium against a real server.

The day operator opens the handover the demo's night officer signed: its open items were generated
from the log (the rainstorm's reports, the unacknowledged dispatch), and confirms it. Then the operator
hands the current shift over; with no grace period configured it is an alarm at once, on the page and on
the board (the watchdog records it once); the commander confirms it and the alarm clears. Every state
passes axe-core's WCAG 2.1 AA checks. Keeps docs/screenshots/duty.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gateway.settings import Settings
from tests.conftest import Server, screenshot_dir
from tests.e2e.browser import assert_accessible, backend, browser, sync_api  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
SCREENSHOTS = screenshot_dir()


@pytest.fixture
def desk(demo_settings: Settings) -> Iterator[Server]:
    """The demo district served with no grace for a handover and a quick watchdog."""
    srv = Server(demo_settings, {"YINGJI_HANDOVER_GRACE_MINUTES": "0", "YINGJI_WATCHDOG_SECONDS": "0.5"}).start()
    yield srv
    srv.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    yield context.new_page()
    context.close()


def sign_in(page: Any, server: Server, username: str) -> None:
    page.goto(server.base_url + "/ui/duty.html")
    page.fill("#login-username", username)
    page.fill("#login-password", "yingji2026")
    page.click("#login-submit")


def alarms(server: Server) -> list[dict[str, Any]]:
    api = server.client("commander")
    try:
        return [a for a in api.get("/board").json()["alerts"] if a["kind"] == "handover_unconfirmed"]
    finally:
        api.close()


def test_a_handover_shows_generated_open_items_and_confirming_clears_the_alarm(desk: Server, page: Any) -> None:
    expect = sync_api.expect
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, desk, "operator")
    assert_accessible(page, "the duty page's sign-in") if page.locator("#login-form").is_visible() else None
    pending = page.locator("#pending")
    expect(pending).to_have_attribute("data-status", "signed", timeout=15_000)
    items = page.locator("[data-testid=pending-items] li")
    expect(items.filter(has_text="许田村暴雨内涝").first).to_be_visible()  # the seed's rainstorm, generated from the log
    expect(page.locator("[data-testid=pending-items] li[data-kind=report_due]").filter(has_text="初报").first).to_be_visible()
    expect(page.locator("[data-testid=pending-items] li[data-kind=dispatch_unacknowledged]").first).to_be_visible()
    expect(page.locator("#on-duty")).to_contain_text("带班领导")
    expect(page.locator("#roster-body tr")).to_have_count(7)
    assert_accessible(page, "the duty page with the night shift's handover")

    page.fill("#confirm-note", "已接班，继续跟进续报")
    page.click("#confirm-btn")
    expect(page.locator("#pending")).to_contain_text("无待确认的交班", timeout=10_000)

    # The day shift hands over: with no grace it is an alarm at once, recorded once by the watchdog.
    expect(page.locator("[data-testid=draft-items] li").first).to_be_visible()
    page.fill("#sign-notes", "白班平稳，许田村续报待签发")
    page.click("#sign-btn")
    expect(page.locator("#handover-alarm")).to_be_visible(timeout=10_000)
    expect(page.locator("#handover-alarm")).to_contain_text("交接班超时未确认")
    expect(page.locator("#confirm-box")).to_be_hidden()  # the one who signed does not confirm
    assert_accessible(page, "the duty page with an unconfirmed handover's alarm")
    page.screenshot(path=str(SCREENSHOTS / "duty.png"), full_page=True)
    deadline = __import__("time").monotonic() + 15
    while not (found := alarms(desk)) or not found[0]["escalated"]:
        assert __import__("time").monotonic() < deadline, f"no escalated handover alarm on the board: {found}"
        __import__("time").sleep(0.3)

    page.click("#sign-out")
    sign_in(page, desk, "commander")
    expect(page.locator("#handover-alarm")).to_be_visible(timeout=15_000)
    page.click("#confirm-btn")
    expect(page.locator("#handover-alarm")).to_be_hidden(timeout=10_000)
    expect(page.locator("#pending")).to_contain_text("无待确认的交班")
    assert alarms(desk) == []
    assert_accessible(page, "the duty page after confirming")

    # The roster is kept a month ahead: four weeks on, a day is scheduled through the page.
    for _ in range(4):
        first = page.locator("#roster-body tr").first.get_attribute("data-day")
        page.click("#week-next")
        expect(page.locator("#roster-body tr").first).not_to_have_attribute("data-day", first, timeout=10_000)
    last = page.locator("#roster-body tr:has([data-edit])").last  # the days beyond the month cannot be edited
    expect(last.locator("td").first).to_contain_text("—", timeout=10_000)  # nobody scheduled that far yet
    day = last.get_attribute("data-day")
    last.locator("[data-edit]").click()
    page.fill("#leader-name", "刘卫东")
    page.fill("#leader-phone", "13903749999")
    page.fill("[data-officer-name='0']", "周明")
    assert_accessible(page, "the roster dialog")
    page.click("#roster-save")
    expect(page.locator(f"#roster-body tr[data-day='{day}']")).to_contain_text("刘卫东", timeout=10_000)
    expect(page.locator("#week-next")).to_be_disabled()
    api = desk.client("commander")
    try:
        [row] = api.get("/roster", params={"start": day, "days": 1}).json()["items"]
    finally:
        api.close()
    assert row["leader"] == {"name": "刘卫东", "phone": "13903749999"} and row["officers"] == [{"name": "周明", "phone": ""}]
    assert not errors, errors
