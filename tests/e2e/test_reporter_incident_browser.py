"""The village reporter reports an incident from the phone, offline: it waits on the phone and is
sent exactly once when the network is back; the desk sees it in the village, reported by the reporter."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Server
from tests.e2e.browser import assert_accessible
from tests.e2e.test_reporter_browser import backend, browser, context, page, sign_in, sync_api  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_a_reporter_reports_an_incident_offline_and_it_arrives_once(server: Server, page: Any, context: Any) -> None:
    expect = sync_api.expect
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.headers.get("idempotency-key", "")) if r.method == "POST" and r.url.endswith("/api/v1/incidents") else None)
    sign_in(page, server, "reporter")
    expect(page.locator("#unit-name")).to_have_text("魏庄村", timeout=15_000)

    context.set_offline(True)
    page.click("#report-incident")
    sheet = page.locator("#incident-sheet")
    expect(sheet).to_be_visible()
    expect(page.locator("#incident-place")).to_have_text("魏庄村")
    page.fill("#incident-title", "村北桥面被冲毁")
    page.select_option("#incident-category", "natural_disaster")
    page.select_option("#incident-subtype", "flood")
    page.locator("label.lv-choice.lv-III").click()
    page.fill("#incident-address", "村北石桥")
    page.fill("#incident-description", "桥面被洪水冲毁，两户群众被困，暂无伤亡")
    assert_accessible(page, "the reporter's incident sheet")
    page.click("#incident-submit")
    expect(sheet).to_be_hidden()
    expect(page.locator("#toast")).to_contain_text("有网络后自动上报")

    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(page.locator("#toast")).to_contain_text("事件已上报：村北桥面被冲毁", timeout=20_000)

    api = server.client("commander")
    try:
        found = [i for i in api.get("/incidents", params={"q": "村北桥面被冲毁"}).json()["items"]]
    finally:
        api.close()
    assert len(found) == 1
    assert found[0]["unit_code"] == "411099001001" and found[0]["level"] == "III" and found[0]["reported_by"]["role"] == "reporter"
    assert len(set(k for k in posts if k)) == 1  # one command, whatever the number of tries
