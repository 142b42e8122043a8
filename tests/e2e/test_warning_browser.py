"""A red warning from the desk to the village's phone and back, in real headless Chromium against a real server.

The commander drafts a red warning on the board's desk form and issues it from the 预警 panel; the demo
reporter's phone (魏庄村, a 390×844 touch viewport) shows it on its warnings tab through the live path,
without reloading. The phone goes offline, the reporter taps 签收: the tap waits in the outbox; when the
network returns it is sent once (one acknowledged event in the log) and the board shows the village as
signed. Both pages pass axe-core's WCAG 2.1 AA checks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from domain.warnings import receipt_id
from tests.conftest import Server
from tests.e2e import test_field_browser as phone
from tests.e2e.browser import assert_accessible

backend, browser, context, page = phone.backend, phone.browser, phone.context, phone.page
sync_api, SCREENSHOTS = phone.sync_api, phone.SCREENSHOTS

pytestmark = pytest.mark.browser
VILLAGE = "411099001001"


@pytest.fixture
def desk(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    yield ctx.new_page()
    ctx.close()


def sign_in(p: Any, url: str, username: str) -> None:
    p.goto(url)
    p.fill("#login-username", username)
    p.fill("#login-password", "yingji2026")
    p.click("#login-submit")


def acknowledged(server: Server, subject: str) -> int:
    cmd = server.client("commander")
    try:
        events = cmd.events()
        return sum(1 for e in events if e["subject"] == subject and e["type"] == "cn.gov.yingji.warningreceipt.acknowledged")
    finally:
        cmd.close()


def test_a_red_warning_issued_at_the_desk_is_signed_offline_on_the_village_phone_once(server: Server, page: Any, context: Any,
                                                                                        desk: Any) -> None:
    expect = sync_api.expect
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"phone: {e}"))
    desk.on("pageerror", lambda e: errors.append(f"desk: {e}"))
    sign_in(page, server.base_url + "/ui/reporter.html", "reporter")
    expect(page.locator("#unit-name")).to_have_text("魏庄村", timeout=15_000)
    sign_in(desk, server.base_url + "/ui/board.html", "commander")
    expect(desk.locator("#warning-list .warn")).to_have_count(1, timeout=15_000)  # the demo's orange warning

    # The desk: draft a red warning to the whole district, then sign it off from the panel.
    desk.click("#warning-btn")
    desk.click(".levels label.wl-red")
    desk.fill("[name=headline]", "东城区暴雨红色预警（测试）")
    desk.fill("[name=instruction]", "立即转移低洼地带群众")
    assert_accessible(desk, "the desk's warning form")
    desk.click("#cmd-submit")
    draft = desk.locator(".warn[data-status=draft]")
    expect(draft).to_have_count(1, timeout=10_000)
    warning_id = draft.get_attribute("data-testid").removeprefix("warning-")
    desk.click(f"[data-testid=warning-issue-{warning_id}]")
    desk.click("#cmd-submit")
    expect(desk.locator(f"[data-testid=warning-{warning_id}]")).to_have_attribute("data-status", "issued", timeout=10_000)

    # The phone: the new warning arrives live on the warnings tab.
    card = page.locator(f"[data-testid=warn-card-{warning_id}]")
    expect(card).to_be_visible(timeout=10_000)
    expect(page.locator("#tab-warnings")).to_have_attribute("aria-selected", "true")
    expect(card).to_contain_text("红色预警")
    expect(card).to_have_attribute("data-state", "pending")
    assert_accessible(page, "the reporter's warnings tab with a red warning")

    # Offline: the tap waits in the outbox, nothing reaches the server.
    context.set_offline(True)
    page.click(f"[data-testid=sign-{warning_id}]")
    expect(card).to_have_attribute("data-state", "queued")
    expect(page.locator("#warn-outbox")).to_be_visible()
    outbox = json.loads(page.evaluate("() => localStorage.getItem('yingji.field.outbox')") or "[]")
    assert [(o["action"], o["id"]) for o in outbox] == [("acknowledge", warning_id)]
    assert_accessible(page, "the reporter's phone offline with a queued 签收")
    time.sleep(1.5)
    subject = str(receipt_id(warning_id, VILLAGE))
    assert acknowledged(server, subject) == 0

    # Online again: sent once, shown signed on the phone and on the board.
    context.set_offline(False)
    expect(card).to_have_attribute("data-state", "signed", timeout=20_000)
    expect(page.locator("#warn-outbox")).to_be_hidden()
    page.screenshot(path=str(SCREENSHOTS / "reporter-warning.png"))
    expect(desk.locator(f"[data-testid=receipt-{warning_id}-{VILLAGE}]")).to_have_attribute("data-state", "signed", timeout=10_000)
    assert_accessible(desk, "the board with the warning and its receipts")
    desk.screenshot(path=str(SCREENSHOTS / "board-warning.png"))
    assert acknowledged(server, subject) == 1

    # The response form: counts go through the same outbox.
    page.click(f"[data-testid=respond-{warning_id}]")
    page.fill("[name=people_moved]", "23")
    page.fill("[name=patrols]", "4")
    assert_accessible(page, "the response form")
    page.click("#respond-submit")
    expect(card).to_contain_text("转移群众 23", timeout=10_000)
    assert acknowledged(server, subject) == 1

    # A street desk (新兴街道's duty officer) signed for its copy of the demo's warning: it reports what the street did.
    desk.evaluate("() => localStorage.clear()")
    sign_in(desk, server.base_url + "/ui/board.html", "xinxing")
    respond = desk.locator("[data-testid^=warning-respond-]")
    expect(respond).to_have_count(1, timeout=15_000)
    respond.click()
    desk.fill("#cmd-form [name=patrols]", "6")
    assert_accessible(desk, "the street desk's response form")
    desk.click("#cmd-submit")
    expect(desk.locator("#cmd-dialog")).to_be_hidden(timeout=10_000)
    assert not errors, errors
