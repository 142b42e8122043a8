"""The after-action replay page in a real headless Chromium against a real server.

A commander reports a new incident and verifies it, dispatches a team to it, and closes a demo
incident, all through the API. On /ui/replay.html the slider is scrubbed to the report's position
(the board shows the new incident, the event list highlights that position), one step back (the
incident is not there yet), played forward at 600× (it comes back), then to the end (the closed
demo incident is gone). One incident's own timeline replays too. Keeps replay.png (1920×1080).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.browser import assert_accessible, backend, browser, sync_api  # noqa: F401 (fixtures)
from tests.conftest import Api, Server, screenshot_dir

pytestmark = pytest.mark.browser

SCREENSHOTS = screenshot_dir()
WIDTH, HEIGHT = 1920, 1080
SHANGHAI = ZoneInfo("Asia/Shanghai")
CLOSED_TITLE = "魏庄村低洼区域积水"  # a demo incident, verified: it may be closed


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="zh-CN", timezone_id="Asia/Shanghai")
    yield context.new_page()
    context.close()


def command(api: Api, path: str, body: dict[str, Any]) -> dict[str, Any]:
    return api.ok(path, body, key=str(uuid.uuid4()))


def shanghai(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def scrub(page: Any, value: int) -> None:
    """Move the slider as a user's drag would: set its value, then the input and change events."""
    page.eval_on_selector(
        "#replay-slider",
        """(el, v) => {
            el.value = String(v);
            el.dispatchEvent(new Event("input", { bubbles: true }));
            el.dispatchEvent(new Event("change", { bubbles: true }));
        }""",
        value,
    )


def board_at(page: Any, position: int) -> None:
    """Wait until the board drawn is the one at `position` and the read-out says so."""
    expect = sync_api.expect
    expect(page.locator("#replay-board")).to_have_attribute("data-position", str(position), timeout=10_000)
    expect(page.locator("#replay-board")).to_have_attribute("data-state", "ready", timeout=10_000)
    expect(page.locator("#replay-position")).to_have_text(str(position))
    expect(page.locator("#event-list .ev.current")).to_have_attribute("data-position", str(position))


def test_replay_scrubs_steps_and_plays_the_log(server: Server, page: Any) -> None:
    expect = sync_api.expect
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # History, made through the API as a commander.
    api = server.client("commander")
    try:
        demo = {i["title"]: i for i in api.get("/incidents", params={"limit": 1000}).json()["items"]}
        reported = command(api, "/incidents", {
            "category": "accident", "subtype": "gas_leak", "level": "II", "title": "居民楼燃气泄漏", "unit_code": "411099002003",
            "address": "东城街道建设路12号", "occurred_at": datetime.now(timezone.utc).isoformat(),
        })
        new_id, p1 = reported["id"], reported["position"]
        verified = command(api, f"/incidents/{new_id}/verify", {"note": "现场确认，燃气公司已到场"})
        idle = [t for t in api.get("/board").json()["team"] if t["status"] == "idle" and t["unit_code"].startswith("411099002")]
        dispatched = command(api, f"/incidents/{new_id}/dispatches", {"team_id": idle[0]["id"], "task": "疏散居民，关阀堵漏"})
        closed_id = demo[CLOSED_TITLE]["id"]
        p2 = command(api, f"/incidents/{closed_id}/close", {"summary": "积水排除，群众已返回"})["position"]
        assert p1 < verified["position"] < dispatched["position"] < p2
        log = {e["position"]: e for e in api.get("/events", params={"after": p1 - 1, "limit": 100}).json()["items"]}
        event_p1 = log[p1]
        assert event_p1["type"] == "cn.gov.yingji.incident.reported"
        ordered = next(p for p, e in log.items() if e["type"] == "cn.gov.yingji.dispatch.ordered" and e["subject"] == dispatched["id"])
    finally:
        api.close()

    # Sign in on the replay page, as on the board.
    page.goto(server.base_url + "/ui/replay.html")
    expect(page.locator("#login-form")).to_be_visible()
    page.fill("#login-username", "commander")
    page.fill("#login-password", "yingji2026")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#replay-board")).to_have_attribute("data-state", "ready", timeout=15_000)
    head = int(page.locator("#replay-head").inner_text())
    assert head >= p2
    board = page.locator("#replay-board")
    new_row = board.locator(f'[data-testid="incident-{new_id}"]')
    closed_row = board.locator(f'[data-testid="incident-{closed_id}"]')

    # Scrub to the report: the new incident is on the board and its event is the current row.
    scrub(page, p1)
    board_at(page, p1)
    expect(new_row).to_be_visible()
    expect(new_row).to_have_attribute("data-status", "reported")
    expect(new_row).to_have_attribute("data-level", "II")
    expect(closed_row).to_be_visible()
    expect(page.locator("#replay-time")).to_have_text(shanghai(event_p1["time"]))
    current = page.locator("#event-list .ev.current")
    expect(current).to_have_attribute("data-type", "incident.reported")
    expect(current).to_contain_text("上报事件")
    expect(current).to_contain_text("居民楼燃气泄漏")
    expect(current).to_contain_text("王强")
    expect(page.locator(f'#event-list .ev[data-position="{p1 - 1}"]')).not_to_have_class(re.compile(r"\bcurrent\b"))
    expect(page.locator("#map .map-incident")).to_have_count(5)  # the demo's four incidents and the new one
    # The street table as it stood: five open incidents in all, each street's readiness (1+4, 六有, 1+3) shown
    # without the link to today's readiness page.
    streets = page.locator("#street-list")
    expect(streets.locator("tr.total td").nth(1)).to_have_text("5")
    expect(streets.locator("[data-readiness-street] [data-readiness]").first).to_be_visible()
    expect(streets.locator("[data-readiness-street] a")).to_have_count(0)

    # One step back: the moment before the report, without the new incident.
    page.click("#step-back")
    board_at(page, p1 - 1)
    expect(new_row).to_have_count(0)
    expect(closed_row).to_be_visible()
    expect(page.locator("#map .map-incident")).to_have_count(4)
    expect(streets.locator("tr.total td").nth(1)).to_have_text("4")
    assert int(page.eval_on_selector("#replay-slider", "el => el.value")) == p1 - 1

    # Play at 600× from there: it runs through the report and the close and stops by itself at the end.
    page.select_option("#speed-select", "600")
    page.evaluate("""() => {
        window.__seen = new Set();  // what the read-out showed while playing (600x may be over in one frame)
        const btn = document.querySelector("#play-btn"), pos = document.querySelector("#replay-position");
        new MutationObserver(() => window.__seen.add(`${btn.dataset.state}:${pos.textContent}`))
            .observe(document.querySelector("#transport"), { subtree: true, attributes: true, childList: true, characterData: true });
    }""")
    page.click("#play-btn")
    expect(page.locator("#play-btn")).to_have_attribute("data-state", "paused", timeout=30_000)
    seen = page.evaluate("[...window.__seen]")
    assert any(s.startswith("playing:") for s in seen), seen
    expect(page.locator("#play-state")).to_have_attribute("data-state", "end")
    # The page follows the log: the notifier may have recorded the new incident's messages since sign-in.
    head = int(page.locator("#replay-head").inner_text())
    board_at(page, head)
    expect(new_row).to_have_attribute("data-status", "verified")
    expect(closed_row).to_have_count(0)

    # Scrubbing back and forth: at the report again, then the end, after the close.
    scrub(page, p1)
    board_at(page, p1)
    expect(new_row).to_have_attribute("data-status", "reported")
    scrub(page, head)
    board_at(page, head)
    expect(closed_row).to_have_count(0)
    expect(new_row).to_have_attribute("data-status", "verified")
    expect(page.locator(f'#event-list .ev[data-position="{p2}"]')).to_have_attribute("data-type", "incident.closed")
    expect(page.locator(f'#event-list .ev[data-position="{p2}"]')).to_contain_text("事件结案")

    # The screenshot for the docs: the dispatch order (what it changed is marked); the close is still ahead in the list.
    scrub(page, ordered)
    board_at(page, ordered)
    expect(board.locator(".dispatch")).to_have_count(3)
    expect(board.locator(f'[data-testid="dispatch-{dispatched["id"]}"]')).to_have_class(re.compile(r"\bis-touched\b"))
    page.emulate_media(reduced_motion="reduce")
    page.wait_for_timeout(300)
    assert_accessible(page, "replay, an incident in focus")
    page.screenshot(path=str(SCREENSHOTS / "replay.png"))

    # One incident's own timeline: its events, the board fetched at each one's time.
    page.select_option("#scope-select", new_id)
    expect(page.locator("#event-list .ev")).to_have_count(3, timeout=10_000)  # reported, verified, dispatch ordered
    expect(page.locator("#replay-step")).to_contain_text("1 / 3")
    expect(board).to_have_attribute("data-position", str(p1), timeout=10_000)
    expect(new_row).to_have_class(re.compile(r"\bselected\b"))
    page.click("#to-end")
    expect(page.locator("#event-list .ev.current")).to_have_attribute("data-type", "dispatch.ordered")
    expect(board).to_have_attribute("data-position", str(ordered), timeout=10_000)
    expect(page.locator("#focus")).to_contain_text("居民楼燃气泄漏")

    assert not errors, errors
