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
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, ROOT, Server

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = ROOT / "docs" / "screenshots"
DEMO_TITLES = ("魏庄村低洼区域积水", "仓储厂房火情", "道路边坡小面积滑塌")
WIDTH, HEIGHT = 1920, 1080

if not Path(CHROMIUM).exists():
    if IN_CI:
        pytest.fail(f"{CHROMIUM} is missing — required in CI (apt-get install chromium)", pytrace=False)
    pytest.skip(f"{CHROMIUM} not available (apt-get install chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def backend() -> str:
    """The browser test runs on the embedded default only (SQLite), not once per backend."""
    return "sqlite"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


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


def position_shown(page: Any) -> int:
    text = page.locator("#position").inner_text().strip()
    return int(text) if text.isdigit() else -1


def test_board_signs_in_updates_live_and_survives_a_server_kill(server: Server, page: Any) -> None:
    expect = sync_api.expect
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.base_url + "/")
    assert page.url.endswith("/ui/board.html")

    # Sign in as the commander.
    expect(page.locator("#login-form")).to_be_visible()
    page.fill("#login-username", "commander")
    page.fill("#login-password", "yingji2026")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "online", timeout=15_000)

    # The demo incidents, with their level groups and the user in the header.
    incidents = page.locator("#incident-list")
    for title in DEMO_TITLES:
        expect(incidents).to_contain_text(title, timeout=10_000)
    expect(page.locator('#incident-list [data-testid^="incident-"]')).to_have_count(3)
    expect(page.locator("#user-name")).to_contain_text("王强")
    expect(page.locator("#position")).to_have_text(re.compile(r"^\d+$"))
    expect(page.locator("#map .map-incident")).to_have_count(3)

    # A command through the API shows up without a reload.
    first = report(server, "居民楼燃气泄漏", level="II")
    row = page.locator(f'[data-testid="incident-{first["id"]}"]')
    expect(row).to_be_visible(timeout=10_000)
    expect(row).to_contain_text("居民楼燃气泄漏")
    expect(row).to_have_attribute("data-level", "II")
    expect(page.locator("#map .map-incident")).to_have_count(4)
    page.wait_for_function("p => Number(document.querySelector('#position').textContent) >= p", arg=first["position"])

    # Screenshots for the docs: Chinese, then English (the choice is remembered).
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(600)  # let the new-incident flash settle into a frame
    page.screenshot(path=str(SCREENSHOTS / "board.png"))
    page.click("#lang-toggle")
    expect(page.locator(".p-incidents .panel-head h2")).to_have_text("Open incidents")
    assert page.evaluate("localStorage.getItem('yingji.lang')") == "en"
    page.wait_for_timeout(300)
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
    expect(page.locator('#incident-list [data-testid^="incident-"]')).to_have_count(5)

    assert not errors, errors
