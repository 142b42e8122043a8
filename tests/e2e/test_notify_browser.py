"""The desk sends a team out from the board and sees, on the dispatch, how the SMS to the team's leader went:
重试中 while the provider answers 503, 已送达 once it recovers; the phone pages offer 接收通知. axe-core finds no
WCAG 2.1 AA violation with the notifications shown."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gateway.settings import Settings
from gateway.tools.smsgateway import SmsGateway
from tests.conftest import Server, screenshot_dir
from tests.e2e.browser import assert_accessible
from tests.e2e.test_board_browser import backend, browser, page, sign_in, sync_api  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
SECRET = "sms-browser-secret-0123456789"


@pytest.fixture
def sms() -> Iterator[SmsGateway]:
    gateway = SmsGateway(SECRET)
    gateway.serve()
    yield gateway
    gateway.close()


@pytest.fixture
def notifying_server(demo_settings: Settings, sms: SmsGateway) -> Iterator[Server]:
    url = f"http://127.0.0.1:{sms.server.server_address[1]}"  # type: ignore[union-attr]
    srv = Server(demo_settings, {"YINGJI_SMS_URL": url, "YINGJI_SMS_SECRET": SECRET, "YINGJI_NOTIFY_BACKOFF_MAX": "1"}).start()
    yield srv
    srv.stop()


def settled(sms: SmsGateway, quiet: float = 2.0, timeout: float = 30.0) -> None:
    """Wait until the stand-in has had no new request for `quiet` seconds."""
    import time

    deadline, last, since = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        n = sms.listing()["requests"]
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since > quiet:
            return
        time.sleep(0.2)
    raise AssertionError("the demo's messages did not settle")


def test_a_dispatch_shows_its_sms_delivery_on_the_board(notifying_server: Server, sms: SmsGateway, page: Any) -> None:
    expect = sync_api.expect
    server = notifying_server
    api = server.client("operator")
    team = next(t for t in api.get("/teams", params={"limit": 100}).json()["items"] if t["status"] == "idle" and t["phone"])
    api.close()
    settled(sms)  # the demo's own messages (its dispatches, its warning) are out
    sign_in(page, server, "operator")
    row = page.locator(".incident", has_text="魏庄村低洼区域积水").first
    row.click()
    row.locator('[data-action="dispatch"]').click()
    form = page.locator("#cmd-form")
    form.locator("[name=team_id]").select_option(team["id"])
    form.locator("[name=task]").fill("抽排积水，转移群众")
    sms.set_faults({"error_rate": 1.0})  # the provider is down: the message is retried
    page.click("#cmd-submit")
    expect(page.locator("#cmd-dialog")).to_be_hidden(timeout=10_000)
    card = page.locator(".dispatch", has_text=team["name"]).first
    notice = card.locator("[data-testid=notify]")
    expect(notice).to_contain_text("短信", timeout=15_000)
    expect(notice).to_contain_text(team["leader"])
    expect(notice.locator(".nt-retrying")).to_have_text("重试中", timeout=15_000)
    sms.set_faults({"error_rate": 0.0})
    expect(notice.locator(".nt-delivered")).to_have_text("已送达", timeout=20_000)
    # the incident's record view lists its dispatches with the same state
    detail = page.locator(".incident", has_text="魏庄村低洼区域积水").first.locator(".inc-detail")
    expect(detail.locator("[data-testid=notify]", has_text=team["leader"]).locator(".nt-delivered")).to_have_text("已送达")
    assert_accessible(page, "the board with a dispatch's delivery state")
    page.locator("section.p-dispatches").screenshot(path=str(screenshot_dir() / "notify-dispatch.png"))
    sent = [m for m in sms.listing()["messages"] if m["to"] == team["phone"]]
    assert len(sent) == 1 and "抽排积水" in sent[0]["text"], sent
    page.click("#lang-toggle")
    expect(notice.locator(".nt-delivered")).to_have_text("Delivered")


def test_the_phone_pages_offer_notifications(server: Server, browser: Any) -> None:
    expect = sync_api.expect
    for path, user in (("/ui/field.html", "field"), ("/ui/reporter.html", "reporter"), ("/ui/inspect.html", "xinxing")):
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN")
        page = context.new_page()
        page.goto(server.base_url + path)
        page.fill("#login-username", user)
        page.fill("#login-password", "yingji2026")
        page.click("#login-form button[type=submit]")
        button = page.locator("#push-enable")
        expect(button).to_have_text("接收通知", timeout=15_000)
        assert_accessible(page, f"{path} with its 接收通知 button")
        context.close()
