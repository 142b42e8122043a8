"""The command board in a real headless Chromium against a real server.

Sign in, see the demo district, watch a command made through the API appear without a
reload, survive a kill -9 of the server (reconnect, catch up), and keep screenshots of the
board in Chinese and English for the docs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.conftest import Server, screenshot_dir
from tests.e2e.browser import assert_accessible, backend, browser, sync_api  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

SCREENSHOTS = screenshot_dir()
DEMO_TITLES = ("魏庄村低洼区域积水", "仓储厂房火情", "道路边坡小面积滑塌", "许田村暴雨内涝")
WIDTH, HEIGHT = 1920, 1080


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="zh-CN", timezone_id="Asia/Shanghai")
    yield context.new_page()
    context.close()


def report(server: Server, title: str, level: str = "IV", unit: str = "411099002003", subtype: str = "gas_leak") -> dict[str, Any]:
    """Report an incident through the API (not the page), as another operator would."""
    api = server.client("operator")
    try:
        answer = api.ok(
            "/incidents",
            {
                "category": "accident", "subtype": subtype, "level": level, "title": title, "unit_code": unit,
                "address": "东城街道建设路12号", "occurred_at": datetime.now(timezone.utc).isoformat(),
            },
            key=str(uuid.uuid4()),
        )
    finally:
        api.close()
    return answer


def sign_in(page: Any, server: Server, username: str) -> None:
    expect = sync_api.expect
    page.goto(server.base_url + "/")
    assert page.url.endswith("/ui/board.html")
    expect(page.locator("#login-form")).to_be_visible()
    assert_accessible(page, "the board's sign-in")
    page.fill("#login-username", username)
    page.fill("#login-password", "yingji2026")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "online", timeout=15_000)


def assert_same_derivation(page: Any, server: Server) -> None:
    """ui/board-model.js derives the same alerts and street counts as projections/board.py for the same board."""
    api = server.client("commander")
    try:
        board = api.get("/board").json()
    finally:
        api.close()
    derived = page.evaluate(
        """async (board) => {
            const m = await import("/ui/board-model.js");
            const at = Date.parse(board.at.replace(/(\\.\\d{3})\\d+/, "$1"));
            return m.derive(board, at, board.relay ?? null);
        }""",
        board,
    )

    def normal(alert: dict[str, Any]) -> dict[str, Any]:
        out = dict(alert)
        if out.get("since"):
            out["since"] = datetime.fromisoformat(out["since"].replace("Z", "+00:00")).replace(microsecond=0)
        return out

    assert [normal(a) for a in derived["alerts"]] == [normal(a) for a in board["alerts"]]
    assert derived["counts_by_street"] == board["counts_by_street"]


def position_shown(page: Any) -> int:
    text = page.locator("#position").inner_text().strip()
    return int(text) if text.isdigit() else -1


def test_board_signs_in_updates_live_and_survives_a_server_kill(server: Server, page: Any) -> None:
    expect = sync_api.expect
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, server, "commander")

    # The demo incidents, with their level groups and the user in the header.
    incidents = page.locator("#incident-list")
    for title in DEMO_TITLES:
        expect(incidents).to_contain_text(title, timeout=10_000)
    expect(page.locator('#incident-list [data-testid^="incident-"]')).to_have_count(4)
    expect(page.locator("#user-name")).to_contain_text("王强")
    expect(page.locator("#position")).to_have_text(re.compile(r"^\d+$"))
    expect(page.locator("#map .map-incident")).to_have_count(4)
    # The duty desk on the board: who is on duty now, and the staged reports a natural disaster owes.
    expect(page.locator("#duty-names")).to_contain_text("带班领导")
    expect(page.locator("[data-testid^=staged-] .staged-item[data-stage=initial]").first).to_be_visible()
    assert_same_derivation(page, server)

    # A command through the API shows up without a reload.
    first = report(server, "居民楼燃气泄漏", level="II")
    row = page.locator(f'[data-testid="incident-{first["id"]}"]')
    expect(row).to_be_visible(timeout=10_000)
    expect(row).to_contain_text("居民楼燃气泄漏")
    expect(row).to_have_attribute("data-level", "II")
    expect(page.locator("#map .map-incident")).to_have_count(5)
    page.wait_for_function("p => Number(document.querySelector('#position').textContent) >= p", arg=first["position"])

    # Screenshots for the docs: Chinese, then English (the choice is remembered).
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.emulate_media(reduced_motion="reduce")  # still frames: no flashing mid-animation
    page.wait_for_timeout(300)
    assert_accessible(page, "the board, signed in, Chinese")
    page.screenshot(path=str(SCREENSHOTS / "board.png"))
    page.click("#lang-toggle")
    expect(page.locator(".p-incidents .panel-head h2")).to_have_text("Open incidents")
    assert page.evaluate("localStorage.getItem('yingji.lang')") == "en"
    page.wait_for_timeout(300)
    assert_accessible(page, "the board in English")
    page.screenshot(path=str(SCREENSHOTS / "board-en.png"))
    page.click("#lang-toggle")
    expect(page.locator(".p-incidents .panel-head h2")).to_have_text("在办事件")

    # Kill the server: the indicator leaves "online" and the page keeps its data.
    before = position_shown(page)
    server.kill9()
    expect(page.locator("#conn-status")).not_to_have_attribute("data-state", "online", timeout=15_000)
    expect(page.locator("#stale-banner")).to_be_visible()
    expect(row).to_be_visible()

    # Bring it back on the same port; something happens while the page is still away.
    server.start()
    second = report(server, "化工仓库危化品泄漏", level="I", unit="411099006002", subtype="hazmat")
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "online", timeout=30_000)
    caught_up = page.locator(f'[data-testid="incident-{second["id"]}"]')
    expect(caught_up).to_be_visible(timeout=15_000)
    expect(caught_up).to_have_attribute("data-level", "I")
    expect(page.locator("#stale-banner")).to_be_hidden()
    page.wait_for_function("p => Number(document.querySelector('#position').textContent) >= p", arg=second["position"])
    assert position_shown(page) > before
    # Nothing was lost or doubled across the restart.
    expect(page.locator('#incident-list [data-testid^="incident-"]')).to_have_count(6)

    assert not errors, errors


def test_a_lost_answer_is_retried_with_the_same_idempotency_key(server: Server, page: Any) -> None:
    """Report through the dialog while the first answer is lost on the way back: one incident, not two."""
    expect = sync_api.expect
    sign_in(page, server, "operator")
    keys: list[str] = []

    def lose_first_answer(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(route.request.headers.get("idempotency-key", ""))
        if len(keys) == 1:
            route.fetch()  # the server applies the command ...
            route.abort("connectionreset")  # ... and the answer never arrives
        else:
            route.continue_()

    page.route("**/api/v1/incidents", lose_first_answer)
    page.click("#report-btn")
    form = page.locator("#cmd-form")
    expect(form).to_be_visible()
    form.locator("[name=category]").select_option("accident")
    form.locator("[name=subtype]").select_option("traffic")
    form.locator("label.lv-III").click()
    form.locator("[name=title]").fill("许由路多车追尾")
    form.locator("[name=unit_code]").select_option("411099004002")
    form.locator("[name=address]").fill("许由路与建安大道交叉口")
    assert_accessible(page, "the report dialog, filled in")
    page.click("#cmd-submit")

    expect(page.locator("#cmd-dialog")).to_be_hidden(timeout=15_000)
    row = page.locator(".incident", has_text="许由路多车追尾")
    expect(row).to_have_count(1, timeout=10_000)
    expect(row).to_have_attribute("data-level", "III")
    assert len(keys) >= 2 and keys[0] and len(set(keys)) == 1, keys

    api = server.client("operator")
    try:
        items = api.get("/incidents", params={"limit": 1000}).json()["items"]
    finally:
        api.close()
    assert [i["title"] for i in items].count("许由路多车追尾") == 1
