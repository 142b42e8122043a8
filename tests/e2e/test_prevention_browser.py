"""双重预防 in a real headless Chromium against a real server (the seeded demo district).

On a phone viewport a street safety officer (demo account `xinxing`) goes offline, records a hidden
danger with a photo; back online it is sent exactly once (one HiddenDanger.Found in the log) and
the desk's register shows it with the photo. The desk assigns it; the phone reports it rectified
with a photo; another account verifies it and closes it (销号); the board no longer shows it open.
Every page state checked has no WCAG 2.1 AA violation (axe-core).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gateway.tools.seed import demo_png
from tests.conftest import Api, Server, screenshot_dir
from tests.e2e.browser import assert_accessible, backend, browser, sync_api  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1600, "height": 1000}
TITLE = "配电箱门锁损坏，带电部位外露"


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN",
                              timezone_id="Asia/Shanghai")
    yield ctx
    ctx.close()


@pytest.fixture
def desk(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport=DESK, locale="zh-CN", timezone_id="Asia/Shanghai")
    yield ctx
    ctx.close()


def sign_in(page: Any, server: Server, path: str, user: str) -> None:
    page.goto(server.base_url + path)
    sync_api.expect(page.locator("#login-form")).to_be_visible()
    page.fill("#login-username", user)
    page.fill("#login-password", "yingji2026")
    page.click("#login-submit")
    sync_api.expect(page.locator("#app")).to_be_visible(timeout=15_000)


def found_events(api: Api, title: str) -> list[dict[str, Any]]:
    items = api.get("/events", params={"after": 0, "limit": 1000}).json()["items"]
    while len(items) % 1000 == 0 and items:
        more = api.get("/events", params={"after": items[-1]["position"], "limit": 1000}).json()["items"]
        if not more:
            break
        items += more
    return [e for e in items if e["type"] == "cn.gov.yingji.hiddendanger.found" and e["data"]["title"] == title]


def photo_file(name: str, rgb: tuple[int, int, int]) -> dict[str, Any]:
    return {"name": name, "mimeType": "image/png", "buffer": demo_png(rgb)}


def test_offline_record_with_photo_to_销号_across_phone_desk_and_board(server: Server, phone: Any, desk: Any) -> None:
    expect = sync_api.expect
    commander = server.client("commander")
    try:
        # The phone: signed in online, then the network goes.
        errors: list[str] = []
        p = phone.new_page()
        p.on("pageerror", lambda e: errors.append(f"phone: {e}"))
        sign_in(p, server, "/ui/inspect.html", "xinxing")
        expect(p.locator("#conn-status")).to_have_attribute("data-state", "online")
        assert_accessible(p, "the inspector phone, online")
        p.wait_for_function("() => !!navigator.serviceWorker && !!navigator.serviceWorker.controller", timeout=15_000)
        phone.set_offline(True)
        expect(p.locator("#conn-status")).to_have_attribute("data-state", "offline", timeout=10_000)
        p.select_option("#f-unit", "411099001003")
        p.fill("#f-title", TITLE)
        p.fill("#f-site", "魏庄村委会东侧配电箱")
        p.fill("#f-description", "配电箱门锁损坏，箱门无法关闭，村民可触及带电部位。")
        p.set_input_files("#f-photos", photo_file("配电箱.png", (200, 120, 30)))
        p.click("#found-save")
        expect(p.locator("#outbox")).to_be_visible()
        expect(p.locator("#outbox-list li")).to_have_count(1)
        assert_accessible(p, "the inspector phone, offline with a report waiting")
        p.screenshot(path=str(screenshot_dir() / "inspect.png"))
        assert found_events(commander, TITLE) == []
        # A reload while offline: the page from the service worker, the report (and its photo) from IndexedDB.
        p.reload()
        expect(p.locator("#conn-status")).to_have_attribute("data-state", "offline", timeout=10_000)
        expect(p.locator("#outbox-list li")).to_have_count(1)
        expect(p.locator("#f-unit option")).not_to_have_count(0)  # the places known from the last visit: recording goes on
        expect(p.locator('[data-testid^="mine-"]').first).to_be_visible()

        # Back online: sent once.
        phone.set_offline(False)
        expect(p.locator("#outbox")).to_be_hidden(timeout=20_000)
        found = found_events(commander, TITLE)
        assert len(found) == 1, found
        danger_id = found[0]["subject"]
        photo = found[0]["data"]["evidence"][0]["sha256"]
        p.evaluate("() => window.dispatchEvent(new Event('online'))")  # a second flush finds nothing to send
        p.wait_for_timeout(500)
        assert len(found_events(commander, TITLE)) == 1

        # The desk (the district's duty operator): the record with its photo; assign it.
        d = desk.new_page()
        d.on("pageerror", lambda e: errors.append(f"desk: {e}"))
        sign_in(d, server, f"/ui/dangers.html#id={danger_id}", "operator")
        expect(d.locator('[data-testid="detail-title"]')).to_contain_text(TITLE, timeout=15_000)
        img = d.locator(f'[data-testid="photo-{photo}"]')
        expect(img).to_be_visible()
        d.wait_for_function("(sha) => { const i = document.querySelector(`[data-testid=photo-${sha}]`); return i && i.complete && i.naturalWidth > 0; }", arg=photo)
        assert_accessible(d, "the desk register with a record and its photo")
        d.click('[data-testid="step-assign"]')
        d.fill("#s-rectifier", "魏庄村民委员会")
        d.fill("#s-responsible", "村主任 刘建设")
        d.fill("#s-measures", "更换箱门锁具，加装警示标识")
        assert_accessible(d, "the assign dialog")
        d.click("#cmd-submit")
        expect(d.locator('[data-testid="detail-title"]')).to_contain_text("整改中", timeout=15_000)
        expect(d.locator('[data-testid="step-verify"]')).to_have_count(0)  # not until it is reported rectified

        # The phone reports the rectification with a photo.
        p.reload()
        row = p.locator(f'[data-testid="mine-{danger_id}"]')
        expect(row).to_have_attribute("data-status", "rectifying", timeout=15_000)
        row.locator("[data-rectify]").click()
        p.set_input_files("#r-photos", photo_file("整改后.png", (30, 150, 80)))
        p.fill("#r-note", "已更换锁具并加装警示牌")
        assert_accessible(p, "the phone's rectification sheet")
        p.click("#sheet-submit")
        expect(row).to_have_attribute("data-status", "reported", timeout=20_000)

        # Verified by another account than the reporter (the operator), then 销号.
        d.reload()
        expect(d.locator('[data-testid="step-verify"]')).to_be_visible(timeout=15_000)
        d.click('[data-testid="step-verify"]')
        d.fill("#s-note", "现场复查合格")
        d.click("#cmd-submit")
        expect(d.locator('[data-testid="step-close"]')).to_be_visible(timeout=15_000)
        d.click('[data-testid="step-close"]')
        d.click("#cmd-submit")
        expect(d.locator('[data-testid="detail-title"]')).to_contain_text("已销号", timeout=15_000)
        expect(d.locator('[data-testid="timeline"] img')).to_have_count(2)
        assert_accessible(d, "the desk register with a closed record")
        d.screenshot(path=str(screenshot_dir() / "dangers.png"))

        # Statistics per street and period: the register's street counts, nothing found after today.
        expect(d.locator('[data-testid="stats"]')).to_contain_text("新兴街道")
        d.fill("#p-start", "2099-01-01")
        d.dispatch_event("#p-start", "change")
        expect(d.locator('[data-testid="stats"]')).not_to_contain_text("新兴街道", timeout=10_000)

        # A risk point reassessed by LEC: the page grades it by the domain's bands as the numbers are picked.
        risk = next(r for r in commander.get("/risk-points").json()["items"] if r["level"] == "low")
        d.click(f'[data-testid="assess-{risk["id"]}"]')
        d.select_option("#a-l", "10")
        d.select_option("#a-e", "6")
        d.select_option("#a-c", "15")
        expect(d.locator("#a-result")).to_contain_text("900")
        expect(d.locator("#a-result")).to_contain_text("重大风险")
        assert_accessible(d, "the reassessment dialog")
        d.click("#cmd-submit")
        expect(d.locator(f'[data-testid="risk-{risk["id"]}"]')).to_contain_text("红", timeout=15_000)
        assert commander.get(f"/risk-points/{risk['id']}").json()["assessments"][-1]["d"] == 900

        # A new risk point registered at the desk, graded as the numbers are picked; then its controls per tier.
        d.click('[data-testid="risk-new"]')
        d.select_option("#r-unit", "411099001003")
        d.fill("#r-name", "村东液化气供应点")
        d.fill("#r-subject", "魏庄村液化气站")
        d.fill("#r-hazard", "钢瓶泄漏，火灾爆炸")
        d.select_option("#a-l", "6")
        d.select_option("#a-e", "6")
        d.select_option("#a-c", "15")
        expect(d.locator("#a-result")).to_contain_text("540")
        assert_accessible(d, "the risk point registration dialog")
        d.click("#cmd-submit")
        new = d.locator("#risks .risk", has_text="村东液化气供应点")
        expect(new).to_contain_text("红", timeout=15_000)
        new.locator("[data-controls]").click()
        d.fill("#k-enterprise-measures", "每日开门前检测泄漏，钢瓶定点存放")
        d.fill("#k-enterprise-person", "站长 李明")
        assert_accessible(d, "the controls dialog")
        d.click("#cmd-submit")
        expect(new).to_contain_text("站长 李明", timeout=15_000)
        point = next(r for r in commander.get("/risk-points", params={"limit": 100}).json()["items"] if r["name"] == "村东液化气供应点")
        assert (point["level"], point["assessment"]["d"], [c["tier"] for c in point["controls"]]) == ("major", 540, ["enterprise"])

        # An inspection with its checklist: the failed item's finding raises a hidden danger in the register.
        d.click('[data-testid="insp-new"]')
        d.select_option("#i-unit", "411099001002")
        d.fill("#i-site", "许田村小学")
        d.fill("#i-item-0", "疏散通道")
        d.fill("#i-item-1", "灭火器有效期")
        d.select_option("#i-result-1", "fail")
        d.fill("#i-finding", "教学楼灭火器过期")
        assert_accessible(d, "the inspection dialog")
        d.click("#cmd-submit")
        expect(d.locator('[data-testid="inspections"]')).to_contain_text("许田村小学", timeout=15_000)
        expect(d.locator('[data-testid="register"]')).to_contain_text("教学楼灭火器过期")
        inspection = next(i for i in commander.get("/inspections").json()["items"] if i["site"] == "许田村小学")
        assert [c["result"] for c in inspection["checklist"]] == ["ok", "fail"] and len(inspection["dangers"]) == 1

        # The board: closed, so no longer open; the 重大 one stays listed.
        b = desk.new_page()
        b.goto(server.base_url + "/ui/board.html")
        expect(b.locator('[data-testid="danger-list"]')).to_contain_text("液氨主管道阀门锈蚀", timeout=15_000)
        expect(b.locator('[data-testid="danger-list"]')).not_to_contain_text(TITLE)
        board = commander.get("/board").json()
        assert danger_id not in {h["id"] for h in board["hidden_danger"]}
        assert commander.get(f"/hidden-dangers/{danger_id}").json()["status"] == "closed"
        assert_accessible(b, "the board with the 隐患 panel")
        assert errors == []  # no script failed on any page
    finally:
        commander.close()
