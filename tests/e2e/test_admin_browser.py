"""System administration (admin.html) in a real headless Chromium against the demo server.

The admin creates and revokes an account; a commander issues a team's phone login (the password
shown once signs in) and receives stock with a double click that acts once; the sections a role
sees follow the server's role × route table. Every section passes axe-core.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Server, screenshot_dir
from tests.e2e.browser import assert_accessible, backend, browser, sync_api  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
SCREENSHOTS = screenshot_dir()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    yield ctx.new_page()
    ctx.close()


def sign_in(page: Any, server: Server, username: str, section: str = "") -> None:
    page.goto(server.base_url + "/ui/admin.html" + (f"#{section}" if section else ""))
    page.fill("#login-username", username)
    page.fill("#login-password", "yingji2026")
    page.click("#login-submit")


def test_the_admin_creates_and_revokes_an_account(server: Server, page: Any) -> None:
    expect = sync_api.expect
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, server, "admin")
    expect(page.locator("#users-body tr").first).to_be_visible(timeout=15_000)
    assert_accessible(page, "administration, accounts")
    form = page.locator("#user-form")
    form.locator('input[name="username"]').fill("duty-xinxing")
    form.locator('input[name="display_name"]').fill("新兴街道值班员 周洋")
    form.locator('select[name="role"]').select_option("operator")
    form.locator('select[name="unit_code"]').select_option("411099001000")
    form.locator('input[name="password"]').fill("Xinxing-duty-2026")
    form.locator('button[type="submit"]').click()
    expect(page.locator("#admin-status")).to_contain_text("duty-xinxing", timeout=10_000)
    row = page.locator("#users-body tr", has_text="duty-xinxing")
    expect(row).to_contain_text("正常")
    page.screenshot(path=str(SCREENSHOTS / "admin.png"))

    page.once("dialog", lambda d: d.accept())
    row.locator("[data-revoke]").click()
    expect(row).to_contain_text("已停用", timeout=10_000)
    r = httpx.post(server.base_url + "/api/v1/auth/token", data={"username": "duty-xinxing", "password": "Xinxing-duty-2026"})
    assert r.status_code == 401

    # A refusal reads as the server's problem, in words.
    form.locator('input[name="username"]').fill("duty-xinxing")
    form.locator('select[name="role"]').select_option("observer")
    form.locator('input[name="password"]').fill("Another-pass-2026")
    form.locator('button[type="submit"]').click()
    expect(page.locator("#admin-error")).to_be_visible(timeout=10_000)

    # The organisation tree: a new street, from a dialog worked by keyboard; a code taken is refused in words.
    page.click('.admin-tabs a[data-section="units"]')
    expect(page.locator("#units-body")).to_contain_text("新兴街道", timeout=10_000)
    page.click("#unit-add")
    dialog = page.locator("#unit-dialog")
    expect(page.locator("#u-parent")).to_be_focused()
    expect(page.locator("#u-code")).to_have_value("411099")  # the district's digits; a street adds its own
    expect(page.locator("#u-kind option")).to_have_text(["街道", "产业集聚区"])
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.locator("#u-code")).to_be_focused()
    page.keyboard.press("End")
    page.keyboard.type("001000")
    page.keyboard.press("Tab")
    page.keyboard.type("长店街道")
    assert_accessible(page, "administration, registering a unit")
    page.keyboard.press("Enter")
    expect(page.locator("#unit-error")).to_contain_text("操作冲突", timeout=10_000)  # 新兴街道's code
    expect(page.locator("#u-code")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#u-code")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("411099009000")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden(timeout=10_000)
    expect(page.locator("#admin-status")).to_contain_text("长店街道")
    expect(page.locator("#units-body")).to_contain_text("411099009000")
    assert errors == []


def test_a_commander_issues_a_team_login_and_receives_stock_once(server: Server, page: Any) -> None:
    expect = sync_api.expect
    sign_in(page, server, "commander", "teams")
    expect(page.locator('.admin-tabs a[data-section="users"]')).to_be_hidden(timeout=15_000)  # accounts: admins only
    expect(page.locator("#sec-teams")).to_be_visible()
    page.click("#issue-team")
    password = page.locator('[data-testid="issued-password"]')
    expect(password).to_be_visible(timeout=10_000)
    username = page.locator("#team-password code").first.inner_text()
    assert_accessible(page, "administration, team logins with the one-time password")
    r = httpx.post(server.base_url + "/api/v1/auth/token", data={"username": username, "password": password.inner_text()})
    assert r.status_code == 200 and r.json()["user"]["role"] == "field"

    team = page.locator("#team-form")  # a new team registered from the page
    team.locator('input[name="name"]').fill("新兴街道防汛抢险突击队")
    team.locator('select[name="kind"]').select_option("flood")
    team.locator('select[name="unit_code"]').select_option("411099001000")
    team.locator('input[name="members"]').fill("18")
    team.locator('button[type="submit"]').click()
    expect(page.locator("#admin-status")).to_contain_text("已登记", timeout=10_000)
    auth = {"Authorization": page.evaluate("() => 'Bearer ' + localStorage.getItem('yingji.token')")}
    for _ in range(50):  # the read model follows the log within moments
        teams = httpx.get(server.base_url + "/api/v1/teams?limit=1000", headers=auth).json()["items"]
        if any(t["name"] == "新兴街道防汛抢险突击队" and t["members"] == 18 for t in teams):
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the team registered on the page is not listed")

    page.click('.admin-tabs a[data-section="stock"]')
    expect(page.locator("#stock-body tr").first).to_be_visible(timeout=10_000)
    warehouse = page.locator("#warehouse-select").input_value()
    api = server.client("commander")
    before = api.get(f"/warehouses/{warehouse}").json()["stock"]["PUMP"]["on_hand"]
    form = page.locator("#receipt-form")
    form.locator('select[name="code"]').select_option("PUMP")
    form.locator('input[name="quantity"]').fill("5")
    form.locator('button[type="submit"]').dblclick()
    expect(page.locator("#admin-status")).to_be_visible(timeout=10_000)
    page.wait_for_timeout(500)
    after = api.get(f"/warehouses/{warehouse}").json()["stock"]["PUMP"]["on_hand"]
    assert after - before == 5  # a double click is one receipt

    minimum = page.locator("#minimum-form")
    minimum.locator('select[name="code"]').select_option("PUMP")
    minimum.locator('input[name="minimum"]').fill("999")
    minimum.locator('button[type="submit"]').click()
    expect(page.locator("#stock-body tr.is-short").first).to_be_visible(timeout=10_000)
    assert_accessible(page, "administration, warehouse stock")

    page.click('.admin-tabs a[data-section="relay"]')
    expect(page.locator("#relay-state")).to_contain_text("未配置市级平台", timeout=10_000)
    assert_accessible(page, "administration, relay")
    api.close()
