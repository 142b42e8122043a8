"""The field team's phone page in a real headless Chromium (phone viewport, touch) against a real server.

A team leader signs in; the command center orders a dispatch through the API and the phone shows it
live with a banner; the leader taps 收到 → 出发 → 到达 → 完成 and the API shows the four times.
Offline, taps queue in localStorage with their Idempotency-Keys, survive a reload, and are sent in
order when the network is back; a lost answer and a double tap never apply a step twice (one event
in the log). Materials shipped to the team are signed for from the phone. Keeps docs/screenshots/field.png.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.e2e.browser import assert_accessible, backend, browser, sync_api  # noqa: F401 (fixtures)
from tests.conftest import Api, Server, screenshot_dir

pytestmark = pytest.mark.browser

SCREENSHOTS = screenshot_dir()
PHONE = {"width": 390, "height": 844}
EVENT = "cn.gov.yingji.dispatch."


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai",
    )
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


@pytest.fixture
def commander(server: Server) -> Iterator[Api]:
    api = server.client("commander")
    yield api
    api.close()


@pytest.fixture
def team_id(server: Server) -> str:
    api = server.client("field")
    try:
        return str(api.user["team_id"])
    finally:
        api.close()


def sign_in(page: Any, server: Server) -> None:
    expect = sync_api.expect
    page.goto(server.base_url + "/ui/field.html")
    expect(page.locator("#login-form")).to_be_visible()
    assert_accessible(page, "the field phone's sign-in")
    page.fill("#login-username", "field")
    page.fill("#login-password", "yingji2026")
    page.click("#login-submit")
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "online", timeout=15_000)
    expect(page.locator("#team-name")).to_have_text("新兴街道综合应急救援队")


def free_the_team(commander: Api, team_id: str) -> str:
    """Cancel the demo's dispatch of the team (改派), so it can take a new one; returns its id."""
    active = [d for d in commander.get("/dispatches", params={"team_id": team_id}).json()["items"] if d["status"] == "ordered"]
    assert len(active) == 1, active
    commander.ok(f"/dispatches/{active[0]['id']}/cancel", {"reason": "改派"}, key=str(uuid.uuid4()))
    return str(active[0]["id"])


def incident_titled(commander: Api, title: str) -> str:
    return next(str(i["id"]) for i in commander.get("/incidents", params={"limit": 1000}).json()["items"] if i["title"] == title)


def report(commander: Api, title: str, level: str, unit: str, address: str) -> str:
    answer = commander.ok(
        "/incidents",
        {
            "category": "accident", "subtype": "gas_leak", "level": level, "title": title, "unit_code": unit,
            "address": address, "occurred_at": datetime.now(timezone.utc).isoformat(),
        },
        key=str(uuid.uuid4()),
    )
    return str(answer["id"])


def order(commander: Api, incident_id: str, team_id: str, task: str) -> dict[str, Any]:
    return commander.ok(f"/incidents/{incident_id}/dispatches", {"team_id": team_id, "task": task}, key=str(uuid.uuid4()))


def events_of(commander: Api, subject: str) -> list[dict[str, Any]]:
    """The subject's events in the whole log, read page by page (the demo's log is longer than one page)."""
    found, after = [], 0
    while True:
        items = commander.get("/events", params={"after": after, "limit": 1000}).json()["items"]
        if not items:
            return found
        found += [e for e in items if e["subject"] == subject]
        after = int(items[-1]["position"])


def count(events: list[dict[str, Any]], step: str) -> int:
    return sum(1 for e in events if e["type"] == EVENT + step)


def outbox(page: Any) -> list[dict[str, Any]]:
    return json.loads(page.evaluate("localStorage.getItem('yingji.field.outbox') || '[]'"))


def test_a_dispatch_arrives_live_and_is_taken_through_to_completion(server: Server, page: Any, commander: Api, team_id: str) -> None:
    expect = sync_api.expect
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, server)

    # The demo's dispatch is on the phone; the command center reassigns it (the phone moves it to history).
    demo = free_the_team(commander, team_id)
    expect(page.locator(f'[data-testid="history-{demo}"]')).to_have_attribute("data-status", "cancelled", timeout=10_000)
    expect(page.locator(f'[data-testid="history-{demo}"]')).to_contain_text("改派")
    expect(page.locator('[data-testid="no-dispatch"]')).to_be_visible()

    # A new dispatch, ordered through the API, shows up without a reload, with a banner.
    incident = report(commander, "兴业路居民楼燃气泄漏", "II", "411099001002", "兴业路18号院3号楼")
    d = order(commander, incident, team_id, "疏散3号楼居民，关闭燃气总阀，设置警戒区")
    card = page.locator(f'[data-testid="dispatch-{d["id"]}"]')
    expect(card).to_be_visible(timeout=10_000)
    expect(card).to_have_attribute("data-status", "ordered")
    banner = page.locator("#new-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("新的调度指令")
    expect(banner).to_have_attribute("data-dispatch-id", d["id"])
    expect(card).to_contain_text("兴业路居民楼燃气泄漏")
    expect(card).to_contain_text("兴业路18号院3号楼")
    expect(card).to_contain_text("疏散3号楼居民")
    expect(card).to_contain_text("指挥长 commander")
    expect(card.locator(".lv-badge")).to_contain_text("重大")
    expect(card.locator('.deadline[data-kind="ack"] [data-countdown]')).to_contain_text("剩余")
    # Only the buttons that apply: 收到 and 拒绝, thumb-sized.
    expect(card.locator("button[data-action]")).to_have_count(2)
    for action in ("acknowledge", "decline"):
        box = card.locator(f'button[data-action="{action}"]').bounding_box()
        assert box and box["height"] >= 56, (action, box)

    # Materials on their way to this team for this incident: on the card and to sign for.
    warehouse = next(w["id"] for w in commander.get("/warehouses").json()["items"] if w["name"] == "新兴街道应急物资仓库")
    alloc = commander.ok(
        "/allocations",
        {"incident_id": incident, "warehouse_id": warehouse, "lines": {"LIFE-JACKET": 20, "TENT-12": 4}, "destination": "兴业路18号院", "team_id": team_id},
        key=str(uuid.uuid4()),
    )
    commander.ok(f"/allocations/{alloc['id']}/ship", {"vehicle": "豫K·A1234"}, key=str(uuid.uuid4()))
    acard = page.locator(f'[data-testid="allocation-{alloc["id"]}"]')
    expect(acard).to_have_attribute("data-status", "shipped", timeout=10_000)
    expect(card.locator(".dcard-mat")).to_contain_text("救生衣")

    # 收到: the banner goes, the next step is 出发. Screenshot of the phone with an active dispatch.
    card.locator('button[data-action="acknowledge"]').click()
    expect(card).to_have_attribute("data-status", "acknowledged")
    expect(banner).to_be_hidden()
    expect(card).to_have_attribute("data-sync", "synced", timeout=10_000)
    expect(card.locator("button[data-action]")).to_have_count(2)  # 出发, 拒绝
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.emulate_media(reduced_motion="reduce")
    page.wait_for_timeout(3300)  # the toast fades, the cooldown ends
    page.evaluate("window.scrollTo(0, 0)")
    assert_accessible(page, "the field phone with a dispatch")
    page.screenshot(path=str(SCREENSHOTS / "field.png"))

    for action, status in (("depart", "departed"), ("arrive", "arrived")):
        card.locator(f'button[data-action="{action}"]').click()
        expect(card).to_have_attribute("data-status", status)
        expect(card).to_have_attribute("data-sync", "synced", timeout=10_000)
    expect(card.locator("button[data-action]")).to_have_count(1)  # 完成 only: no declining once on scene
    card.locator('button[data-action="complete"]').click()
    expect(page.locator("#sheet")).to_be_visible()
    page.fill("#sheet textarea[name=note]", "疏散居民46人，燃气阀门已关闭")
    page.click("#sheet-submit")
    history = page.locator(f'[data-testid="history-{d["id"]}"]')
    expect(history).to_have_attribute("data-status", "completed", timeout=10_000)
    expect(page.locator('[data-testid="no-dispatch"]')).to_be_visible()

    done = commander.get(f"/dispatches/{d['id']}").json()
    assert done["status"] == "completed"
    stamps = [done[k] for k in ("acknowledged_at", "departed_at", "arrived_at", "completed_at")]
    assert all(stamps), done
    assert stamps == sorted(stamps, key=lambda s: datetime.fromisoformat(s))
    events = events_of(commander, d["id"])
    assert [count(events, s) for s in ("acknowledged", "departed", "arrived", "completed")] == [1, 1, 1, 1]

    # Sign for the materials.
    acard.locator('button[data-action="deliver"]').click()
    expect(page.locator("#sheet input[name=received_by]")).to_have_value("新兴综合队 队长")
    page.click("#sheet-submit")
    expect(acard).to_have_attribute("data-status", "delivered")
    expect(acard).to_have_attribute("data-sync", "synced", timeout=10_000)
    delivered = commander.get(f"/allocations/{alloc['id']}").json()
    assert delivered["status"] == "delivered" and delivered["received_by"] == "新兴综合队 队长"

    # Give back the tents not used (退回), from the delivered row: the sheet offers what is still out.
    back = page.locator(f'[data-testid="allocation-{alloc["id"]}"] button[data-action="return"]')
    expect(back).not_to_have_attribute("aria-disabled", "true", timeout=10_000)
    back.click()
    expect(page.locator("#sheet input[name=TENT-12]")).to_have_value("4")
    assert_accessible(page, "the field phone returning materials")
    page.fill("#sheet input[name=LIFE-JACKET]", "0")
    page.click("#sheet-submit")
    expect(page.locator("#sheet")).to_be_hidden()
    expect(page.locator("#outbox")).to_be_hidden(timeout=10_000)  # sent and answered
    deadline = time.monotonic() + 5
    while commander.get(f"/allocations/{alloc['id']}").json()["returned"] != {"TENT-12": 4} and time.monotonic() < deadline:
        time.sleep(0.05)  # the read model follows the log
    assert commander.get(f"/allocations/{alloc['id']}").json()["returned"] == {"TENT-12": 4}

    # English toggle.
    page.click("#lang-toggle")
    expect(page.locator("#history-h")).to_have_text("Past tasks")
    page.click("#lang-toggle")
    expect(page.locator("#history-h")).to_have_text("历史任务")
    assert not errors, errors


def test_offline_taps_queue_survive_a_reload_and_apply_exactly_once(
    server: Server, context: Any, page: Any, commander: Api, team_id: str
) -> None:
    expect = sync_api.expect
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, server)
    free_the_team(commander, team_id)
    d = order(commander, incident_titled(commander, "魏庄村低洼区域积水"), team_id, "加固魏庄村东组堤段，转移低洼处群众")
    card = page.locator(f'[data-testid="dispatch-{d["id"]}"]')
    expect(card).to_have_attribute("data-status", "ordered", timeout=10_000)
    expect(page.locator("#new-banner")).to_have_attribute("data-dispatch-id", d["id"])
    # The service worker keeps the page itself, so it opens again without a network.
    page.wait_for_function("() => !!navigator.serviceWorker && !!navigator.serviceWorker.controller", timeout=15_000)

    # Offline: 收到 then 出发 are queued (in order), shown at once as not yet synced.
    context.set_offline(True)
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "offline", timeout=10_000)
    card.locator('button[data-action="acknowledge"]').click()
    expect(card).to_have_attribute("data-status", "acknowledged")
    expect(card).to_have_attribute("data-sync", "pending")
    expect(page.locator("#outbox-count")).to_have_text("待发送 1 条")
    card.locator('button[data-action="depart"]').click()
    expect(card).to_have_attribute("data-status", "departed")
    expect(page.locator("#outbox-count")).to_have_text("待发送 2 条")
    expect(page.locator("#outbox-list .outbox-item")).to_have_count(2)
    expect(page.locator("#outbox-list .outbox-item").nth(0)).to_contain_text("收到")
    expect(page.locator("#outbox-list .outbox-item").nth(1)).to_contain_text("出发")
    queued = outbox(page)
    assert [(q["method"], q["path"], q["action"]) for q in queued] == [
        ("POST", f"/dispatches/{d['id']}/acknowledge", "acknowledge"),
        ("POST", f"/dispatches/{d['id']}/depart", "depart"),
    ]
    keys = [q["key"] for q in queued]
    assert all(keys) and len(set(keys)) == 2
    assert count(events_of(commander, d["id"]), "acknowledged") == 0

    # A reload while offline: the page comes from the service worker, the queue from localStorage.
    page.reload()
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "offline", timeout=10_000)
    expect(page.locator("#stale-bar")).to_be_visible()
    expect(card).to_have_attribute("data-status", "departed")
    expect(card).to_have_attribute("data-sync", "pending")
    expect(page.locator("#outbox-count")).to_have_text("待发送 2 条")
    assert [q["key"] for q in outbox(page)] == keys

    # Back online: sent in order, each exactly once, with the keys made on the phone.
    context.set_offline(False)
    expect(page.locator("#outbox")).to_be_hidden(timeout=20_000)
    expect(card).to_have_attribute("data-sync", "synced", timeout=10_000)
    expect(card).to_have_attribute("data-status", "departed")
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "online", timeout=15_000)
    events = events_of(commander, d["id"])
    acked = [e for e in events if e["type"] == EVENT + "acknowledged"]
    departed = [e for e in events if e["type"] == EVENT + "departed"]
    assert len(acked) == 1 and len(departed) == 1, [e["type"] for e in events]
    assert acked[0]["data"]["by"]["idempotency_key"] == keys[0]
    assert departed[0]["data"]["by"]["idempotency_key"] == keys[1]
    assert acked[0]["position"] < departed[0]["position"]

    # 到达, tapped twice quickly, while the first answer is lost on its way back: applied once.
    sent: list[str] = []

    def lose_first_answer(route: Any) -> None:
        sent.append(route.request.headers.get("idempotency-key", ""))
        if len(sent) == 1:
            route.fetch()  # the server applies the step ...
            route.abort("connectionreset")  # ... and the phone never hears back
        else:
            route.continue_()

    page.route("**/api/v1/dispatches/*/arrive", lose_first_answer)
    card.locator('button[data-action="arrive"]').dblclick()
    expect(card).to_have_attribute("data-status", "arrived")
    expect(page.locator("#sheet")).to_be_hidden()  # the second tap did not hit 完成 in the same place
    expect(card).to_have_attribute("data-sync", "synced", timeout=20_000)
    expect(page.locator("#outbox")).to_be_hidden()
    assert len(sent) >= 2 and len(set(sent)) == 1, sent  # retried with the same key
    # A second, scripted double tap on 完成's sheet opener does not queue anything either.
    page.wait_for_timeout(1000)  # past the after-tap cooldown
    page.evaluate(
        """() => { const b = document.querySelector('[data-action="complete"]'); b.click(); b.click(); }"""
    )
    expect(page.locator("#sheet")).to_be_visible()
    page.click("#sheet-cancel")
    events = events_of(commander, d["id"])
    assert count(events, "arrived") == 1, [e["type"] for e in events]
    assert count(events, "completed") == 0
    assert commander.get(f"/dispatches/{d['id']}").json()["status"] == "arrived"
    assert outbox(page) == []
    assert not errors, errors


def test_a_tap_that_no_longer_applies_is_reported_and_declining_asks_for_a_reason(
    server: Server, context: Any, page: Any, commander: Api, team_id: str
) -> None:
    """Queued offline, cancelled meanwhile by the command center: the tap is refused once and shown as not applied.
    Then a new dispatch is declined, with a reason picked on the phone."""
    expect = sync_api.expect
    sign_in(page, server)
    d = next(x for x in commander.get("/dispatches", params={"team_id": team_id}).json()["items"] if x["status"] == "ordered")
    card = page.locator(f'[data-testid="dispatch-{d["id"]}"]')
    expect(card).to_be_visible(timeout=10_000)
    context.set_offline(True)
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "offline", timeout=10_000)
    card.locator('button[data-action="acknowledge"]').click()
    expect(page.locator("#outbox-count")).to_have_text("待发送 1 条")
    commander.ok(f"/dispatches/{d['id']}/cancel", {"reason": "改派"}, key=str(uuid.uuid4()))
    context.set_offline(False)
    expect(page.locator("#outbox")).to_be_hidden(timeout=20_000)
    expect(page.locator('.notice[data-code="invalid_transition"]')).to_contain_text("「收到」未执行")
    expect(page.locator(f'[data-testid="history-{d["id"]}"]')).to_have_attribute("data-status", "cancelled", timeout=10_000)
    assert count(events_of(commander, d["id"]), "acknowledged") == 0
    assert outbox(page) == []

    # Decline: a reason is required; the quick reasons fill it in.
    d = order(commander, incident_titled(commander, "魏庄村低洼区域积水"), team_id, "巡查魏庄村东组堤段")
    card = page.locator(f'[data-testid="dispatch-{d["id"]}"]')
    expect(card).to_have_attribute("data-status", "ordered", timeout=10_000)
    card.locator('button[data-action="decline"]').click()
    expect(page.locator("#sheet")).to_be_visible()
    page.click("#sheet-submit")
    expect(page.locator("#sheet-error")).to_have_text("请填写拒绝原因")
    page.locator("#sheet .chip", has_text="人员或装备不足").click()
    page.click("#sheet-submit")
    expect(page.locator("#sheet")).to_be_hidden()
    row = page.locator(f'[data-testid="history-{d["id"]}"]')
    expect(row).to_have_attribute("data-status", "declined", timeout=10_000)
    expect(row).to_contain_text("人员或装备不足")
    declined = commander.get(f"/dispatches/{d['id']}").json()
    assert declined["status"] == "declined" and declined["reason"] == "人员或装备不足"
