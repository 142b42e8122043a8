"""The board, replay, field and reporter pages, and the page shell's headers (a dark and a light desk page, the
inspector's phone), look as before: regions compared with tests/e2e/reference/.

One demo district (seeded once for the module), each page signed in as its user; each stable region
(see tests/e2e/looks.py) is compared with its reference, what moves with the clock or the log masked.
`python -m tests.e2e.rebaseline` writes the references anew for a change meant to be seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gateway.settings import Settings
from tests.conftest import Server, seed_demo
from tests.e2e.browser import backend, browser, sync_api  # noqa: F401 (fixtures)
from tests.e2e.looks import assert_looks_as_before

pytestmark = pytest.mark.browser

DESK = {"viewport": {"width": 1920, "height": 1080}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
PAGES = {  # page: (path, user, viewport)
    "board": ("/ui/board.html", "commander", DESK),
    "replay": ("/ui/replay.html", "commander", DESK),
    "field": ("/ui/field.html", "field", PHONE),
    "reporter": ("/ui/reporter.html", "reporter", PHONE),
    "dangers": ("/ui/dangers.html", "operator", DESK),
    "duty": ("/ui/duty.html", "operator", DESK),
    "inspect": ("/ui/inspect.html", "xinxing", PHONE),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo district, seeded once: these tests only read, so they share it."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("looks"), secret_key="test-secret-of-at-least-32-bytes!")
    seed_demo(settings)
    server = Server(settings).start()
    yield server
    server.stop()


def open_page(browser: Any, demo: Server, name: str, *, sign_in: bool = True) -> Any:
    path, user, viewport = PAGES[name]
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", reduced_motion="reduce", **viewport)
    page = context.new_page()
    page.goto(demo.base_url + path)
    sync_api.expect(page.locator("#login-form")).to_be_visible()
    if sign_in:
        page.fill("#login-username", user)
        page.fill("#login-password", "yingji2026")
        page.click("#login-submit")
    return page


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_sign_in_card_looks_as_before(browser: Any, demo: Server, name: str) -> None:
    page = open_page(browser, demo, name, sign_in=False)
    try:
        page.wait_for_timeout(300)  # web fonts settle
        assert_looks_as_before(page.locator("#login-form"), f"{name}-signin")
    finally:
        page.context.close()


def test_the_board_looks_as_before(browser: Any, demo: Server) -> None:
    expect = sync_api.expect
    page = open_page(browser, demo, "board")
    try:
        expect(page.locator("#conn-status")).to_have_attribute("data-state", "online", timeout=15_000)
        expect(page.locator("#map .map-incident")).to_have_count(4, timeout=10_000)
        expect(page.locator("#duty-now")).to_be_visible()
        page.wait_for_timeout(500)
        # The clock, the log's head and the shift on duty change with the hour; the rest of the header does not.
        assert_looks_as_before(page.locator("header.topbar"), "board-topbar",
                               mask=[page.locator(".clock"), page.locator("#position"), page.locator("#duty-now")])
        assert_looks_as_before(page.locator(".p-map"), "board-map")
        assert_looks_as_before(page.locator(".p-streets"), "board-streets")
    finally:
        page.context.close()


def test_the_replay_looks_as_before(browser: Any, demo: Server) -> None:
    expect = sync_api.expect
    page = open_page(browser, demo, "replay")
    try:
        expect(page.locator("#replay-board")).to_have_attribute("data-state", "ready", timeout=15_000)
        expect(page.locator("#map .map-incident")).to_have_count(4, timeout=10_000)
        page.wait_for_timeout(500)
        assert_looks_as_before(page.locator("header.topbar"), "replay-topbar", mask=[page.locator(".clock")])
        assert_looks_as_before(page.locator(".p-map"), "replay-map", mask=[page.locator("#map-stamp")])
    finally:
        page.context.close()


def test_the_field_phone_looks_as_before(browser: Any, demo: Server) -> None:
    expect = sync_api.expect
    page = open_page(browser, demo, "field")
    try:
        expect(page.locator("#conn-status")).to_have_attribute("data-state", "online", timeout=15_000)
        expect(page.locator("#team-name")).to_have_text("新兴街道综合应急救援队")
        page.wait_for_timeout(300)
        assert_looks_as_before(page.locator("header.appbar"), "field-appbar")
    finally:
        page.context.close()


def test_the_reporter_phone_looks_as_before(browser: Any, demo: Server) -> None:
    expect = sync_api.expect
    page = open_page(browser, demo, "reporter")
    try:
        expect(page.locator("#unit-name")).to_have_text("魏庄村", timeout=15_000)
        expect(page.locator("#user-name")).not_to_be_empty()
        page.wait_for_timeout(300)
        assert_looks_as_before(page.locator("header.appbar"), "reporter-appbar")
    finally:
        page.context.close()


@pytest.mark.parametrize("name", ["dangers", "duty"])
def test_the_shell_header_of_a_desk_page_looks_as_before(browser: Any, demo: Server, name: str) -> None:
    """The header ui/shell.js draws, on the dark desk pages (board.css) and the light ones (desk.css)."""
    expect = sync_api.expect
    page = open_page(browser, demo, name)
    try:
        expect(page.locator("#user-role")).to_contain_text("operator", timeout=15_000)
        expect(page.locator(".brand-title .district-name")).to_have_text("东城区")
        page.wait_for_timeout(300)
        assert_looks_as_before(page.locator("header.topbar"), f"{name}-topbar")
    finally:
        page.context.close()


def test_the_inspector_phone_looks_as_before(browser: Any, demo: Server) -> None:
    expect = sync_api.expect
    page = open_page(browser, demo, "inspect")
    try:
        expect(page.locator("#conn-status")).to_have_attribute("data-state", "online", timeout=15_000)
        expect(page.locator("#unit-name")).to_have_text("新兴街道", timeout=15_000)
        expect(page.locator("#user-name")).not_to_be_empty()
        page.wait_for_timeout(300)
        assert_looks_as_before(page.locator("header.appbar"), "inspect-appbar")
    finally:
        page.context.close()
