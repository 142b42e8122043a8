"""Sign-out from a page revokes the token on the server (item 8 of issue #16): a copy of the token
kept elsewhere stops working too. Board page, real server, headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.settings import Settings
from tests.conftest import ADMIN, Server
from tests.e2e.browser import assert_accessible, backend, browser, sync_api  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    srv = Server(settings).start()
    yield srv
    srv.stop()


def test_signing_out_of_the_board_revokes_the_token(server: Server, browser: Any) -> None:  # noqa: F811
    page = browser.new_page()
    page.goto(server.base_url + "/ui/board.html")
    page.fill("#login-username", ADMIN[0])
    page.fill("#login-password", ADMIN[1])
    page.click("#login-submit")
    sync_api.expect(page.locator("#sign-out")).to_be_visible(timeout=15_000)
    token = page.evaluate("() => localStorage.getItem('yingji.token')")
    me = lambda: httpx.get(server.base_url + "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code  # noqa: E731
    assert token and me() == 200
    assert_accessible(page, "the board, signed in")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/signout")) as answer:
        page.click("#sign-out")
    assert answer.value.status == 204
    sync_api.expect(page.locator("#login-username")).to_be_visible()
    assert me() == 401
    page.close()
