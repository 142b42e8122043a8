"""Every command a role may call has a control on that role's pages, and the controls work.

Driven by the server, not by a list kept here: the commands are the mutating routes of the running
server's /openapi.json that the role × route table (gateway/authz.py) lets the role call. Each role
signs in on the pages it uses and the test collects the controls shown to it: every control names
the route it calls in `data-command` (written by vocab.js `command()`, which refuses a route the
table lacks). A route with no control on the role's pages fails the test, by name. Then commands are
performed through the controls (click, fill the dialog, submit) and every command the pages send
must be answered 2xx.

The demo district does not show every state a control is drawn in (a draft warning, a city directive
not yet acknowledged, a report signed off and not submitted, a team's dispatch under way, materials
shipped to a team, a street desk's own copy of a warning): `stage` makes them through the API before
the pages are visited, a few milliseconds of commands, and the phones' and a street desk's controls
are then performed one after the other (`act`), each step drawing the next.

Exempt, with the reason, are only routes that are not page actions (EXEMPT below).
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from gateway.authz import API, MATRIX, Public
from gateway.settings import Settings
from tests.conftest import DEMO_PASSWORD, Server, screenshot_dir
from tests.e2e.browser import backend, browser, sync_api  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
MUTATING = {"post", "put", "patch", "delete"}

# Routes no page offers, each for a stated reason. Anything else without a control fails.
EXEMPT: dict[str, str] = {
    # not HTTP calls a person makes on a page:
    "POST /auth/token": "the sign-in form posts it before there is a role (public)",
    "POST /upstream/directives": "the city platform's signed ingress, machine to machine (public)",
    "POST /upstream/warnings": "the city platform's signed CAP ingress, machine to machine (public)",
    "POST /evidence": "uploaded by the photo pickers as part of recording a hidden danger, not a command of its own",
}

# Known gaps (issue #17), each with why. The test fails when one of them gains a control (take it off this
# list) and, as for every route not here, when a route lacks one.
_NO_COPY = ("an admin account belongs to the district (accounts.check_account_shape), and a warning reaches the streets and "
            "villages under its targets, never the district: the admin has no copy of its own to sign for or answer")
PENDING: dict[str, dict[str, str]] = {
    "admin": {
        "POST /warnings/{warning_id}/receipts/{unit_code}/acknowledge": _NO_COPY,
        "POST /warnings/{warning_id}/receipts/{unit_code}/response": _NO_COPY,
    },
    "commander": {},
    "operator": {},
    "observer": {},
    "field": {},
    "reporter": {},
}

DESK = ["board", "admin", "records", "stats", "dangers", "inspect", "reports", "duty", "replay", "readiness", "people", "plans"]
PAGES: dict[str, list[str]] = {"admin": DESK, "commander": DESK, "operator": DESK, "observer": DESK,
                                "field": ["field"], "reporter": ["reporter"]}
# What to click on a page to show the controls that belong to one record (rows open their details).
EXPANDERS: dict[str, list[str]] = {
    "board": [".incident"],
    "admin": [".admin-tabs a"],
    "dangers": ["#register .hd-row"],
    "reports": [],
    "duty": [],
    "readiness": [".unit-card:not([open]) summary"],
    "people": ["#results-body tr:first-child [data-edit]"],  # a person's dialog: contact, posts, account, leaving
    "records": ["#filters input[name=kind][value=allocations]"],  # allocations: a delivered one's 退回
    "reporter": ["#tab-warnings"],  # the warnings tab: 签收, 响应措施
}

STREET = "411099001000"  # 新兴街道: the field team's street, the reporter's village's, and a street desk's
# A desk of the role at that street, to whom a warning to the street is delivered (a district desk gets no copy).
STREET_DESK = {"operator": "xinxing", "commander": "commander-xinxing"}
UPSTREAM_SECRET = "whsec_" + base64.b64encode(b"every-command-test-city-secret!!").decode()


@pytest.fixture
def server(demo_settings: Settings) -> Iterator[Server]:
    """The demo district with its city ingress open: the test posts a directive as the city platform would."""
    srv = Server(demo_settings, {"YINGJI_UPSTREAM_SECRET": UPSTREAM_SECRET}).start()
    yield srv
    srv.stop()


def stage(server: Server, role: str) -> None:
    """The states the demo district does not show, made through the API before the role's pages are visited."""
    cmd = server.client("commander")
    now = datetime.now(timezone.utc)
    if role in ("admin", "commander", "operator"):
        def warning(headline: str) -> dict[str, Any]:
            return {"category": "natural_disaster", "subtype": "rainstorm", "level": "yellow", "headline": headline,
                    "onset": now.isoformat(), "expires": (now + timedelta(hours=6)).isoformat(), "targets": [STREET]}
        cmd.ok("/warnings", warning("浏览器测试：待签发的预警"))  # a draft: 签发
        cmd.ok(f"/warnings/{cmd.ok('/warnings', warning('浏览器测试：待签收的预警'))['id']}/issue", {})  # the street's copy to sign for
        directive(server)  # a city directive not yet acknowledged
        flood = next(i for i in cmd.get("/incidents").json()["items"] if i["subtype"] == "flood")
        report = cmd.ok(f"/incidents/{flood['id']}/disaster-reports", {"stage": "initial", "figures": {"affected_population": 210}})
        cmd.ok(f"/disaster-reports/{report['id']}/sign-off", {"note": "同意报送"})  # signed off, not yet submitted
        if role == "commander":
            server.client("admin").ok("/users", {"username": STREET_DESK[role], "password": DEMO_PASSWORD, "role": role,
                                                "unit_code": STREET, "display_name": "新兴街道指挥长"})
    if role in ("admin", "commander", "operator", "field"):
        # Materials shipped to the field team (its phone signs for them, then gives back what was not used), and one
        # delivered already for the desks' records (退回).
        team = server.client("field").user["team_id"]
        flood = next(i for i in cmd.get("/incidents").json()["items"] if i["subtype"] == "flood")
        wh = next(w for w in cmd.get("/warehouses").json()["items"] if w["unit_code"] == STREET)
        for _ in range(1 if role == "field" else 2):
            a = cmd.ok("/allocations", {"incident_id": flood["id"], "warehouse_id": wh["id"], "lines": {"QUILT": 3, "WATER-550": 5},
                                        "destination": "魏庄村委会", "team_id": team})["id"]
            cmd.ok(f"/allocations/{a}/ship", {"vehicle": "豫K·12345"})
        if role != "field":
            cmd.ok(f"/allocations/{a}/deliver", {"received_by": "魏庄村 张主任"})


def directive(server: Server) -> None:
    """A directive down from the city, signed as the city platform signs it (the upstream ingress)."""
    from standardwebhooks.webhooks import Webhook

    body = json.dumps({"id": "XC-TEST-01", "title": "加强夜间巡查", "content": "各街道加强低洼地段夜间巡查。", "level": "orange",
                       "issued_at": datetime.now(timezone.utc).isoformat()}, ensure_ascii=False)
    ts = datetime.now(timezone.utc)
    headers = {"webhook-id": "msg-every-command", "webhook-timestamp": str(int(ts.timestamp())),
               "webhook-signature": Webhook(UPSTREAM_SECRET).sign("msg-every-command", ts, body), "content-type": "application/json"}
    r = httpx.post(server.base_url + "/api/v1/upstream/directives", content=body.encode(), headers=headers)
    assert r.status_code == 201, r.text


def commands_of(server: Server, role: str) -> set[str]:
    """The mutating routes of the served API that `role` may call ("METHOD /path" as in the table)."""
    spec = httpx.get(server.base_url + "/openapi.json").json()
    routes = {f"{m.upper()} {p.removeprefix(API)}" for p, ops in spec["paths"].items() for m in ops if m in MUTATING}
    assert routes, "the server publishes its routes"
    return {r for r in routes if (rule := MATRIX.get(r)) is not None and not isinstance(rule, Public) and role in rule}


def template_of(method: str, url: str, routes: set[str]) -> str | None:
    """The table's route a request was sent to, by matching its path against the templates."""
    path = url.split("?")[0].split(API, 1)[-1]
    for r in routes:
        m, tpl = r.split(" ", 1)
        if m == method and re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(tpl)), path):
            return r
    return None


# A control counts when it is shown; one that appears only in a state the demo cannot show (the relay
# paused) says so in `data-shown-when` and counts while the role's table lets it be shown.
SHOWN = """() => [...document.querySelectorAll('[data-command]')]
  .filter((el) => el.checkVisibility() || (el.dataset.shownWhen && !el.closest('section[hidden]')))
  .map((el) => el.dataset.command)"""


def sign_in(page: Any, server: Server, role: str, where: str) -> None:
    page.goto(f"{server.base_url}/ui/{where}.html")
    page.wait_for_load_state("networkidle")
    if page.evaluate("() => JSON.parse(localStorage.getItem('yingji.user') || 'null')?.username") not in (role, None):
        page.evaluate("() => localStorage.clear()")  # another account: sign in afresh
        page.reload()
        page.wait_for_load_state("networkidle")
    if page.locator("#login-username").is_visible():
        page.fill("#login-username", role)
        page.fill("#login-password", "yingji2026")
        page.click("#login-submit")
    if where == "board":  # the board is drawn from its live snapshot
        sync_api.expect(page.locator("#conn-status")).to_have_attribute("data-state", "online", timeout=15_000)
        sync_api.expect(page.locator(".incident").first).to_be_visible(timeout=15_000)
    if where == "field":  # the team's dispatch comes with its live board
        sync_api.expect(page.locator(".dcard").first).to_be_visible(timeout=15_000)
    page.wait_for_load_state("networkidle")


IN_FLIGHT: dict[int, int] = {}  # a page's requests sent and not yet answered


def follow_requests(page: Any) -> None:
    IN_FLIGHT[id(page)] = 0

    def step(n: int) -> Any:
        return lambda _: IN_FLIGHT.__setitem__(id(page), IN_FLIGHT[id(page)] + n)
    page.on("request", step(1))
    page.on("requestfinished", step(-1))
    page.on("requestfailed", step(-1))


def quiet(page: Any, at_most_ms: int = 2_000) -> None:
    """Wait until the page has no request in flight (what a click fetched is drawn), at most `at_most_ms`."""
    page.wait_for_timeout(100)
    deadline = time.monotonic() + at_most_ms / 1000
    while IN_FLIGHT.get(id(page), 0) > 0 and time.monotonic() < deadline:
        page.wait_for_timeout(40)


def controls_on(page: Any, where: str) -> set[str]:
    quiet(page)
    seen = set(page.evaluate(SHOWN))
    for selector in EXPANDERS.get(where, []):
        for n in range(page.locator(selector).count()):
            target = page.locator(selector).nth(n)
            if target.is_visible():
                target.click()
                quiet(page)
                seen |= set(page.evaluate(SHOWN))
    return seen


def act(page: Any, route: str) -> None:
    """Perform one command through its control: click it, fill what its dialog (if any) requires, submit, and
    wait for the server's answer to that route (every answer must be 2xx: the test's check of `answers`)."""
    button = page.locator(f'[data-command="{route}"]').filter(visible=True).first
    button.wait_for(timeout=8_000)
    sync_api.expect(button).not_to_have_attribute("aria-disabled", "true")  # a phone's button just after a tap
    with page.expect_response(lambda r: template_of(r.request.method, r.url, {route}) == route, timeout=8_000):
        button.click()
        dialog = page.locator("dialog[open]")
        try:
            dialog.wait_for(timeout=1_000)
        except sync_api.TimeoutError:
            return  # a tap without a dialog: already sent
        if route.endswith("/situation"):  # one more person moved to safety
            field = dialog.locator("[name=evacuated]")
            field.fill(str(int(field.input_value() or 0) + 1))
        if route.endswith("/response"):  # one measure taken
            dialog.locator("input[type=number]").first.fill("2")
        if route == "POST /units":  # a new street under the district
            dialog.locator("[name=code]").fill("411099009000")
        dialog.evaluate(FILL)
        dialog.locator("[type=submit]").first.click()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN", timezone_id="Asia/Shanghai")
    yield ctx
    ctx.close()


# The board's commands in an order that leaves the next one something to act on: a dispatch's steps
# before its cancel, the incident's figures before it is controlled and closed, a false report last.
ORDER = ["acknowledge", "depart", "arrive", "complete", "ship", "deliver", "/verify", "situation", "/level", "teams/{team_id}/duty",
         "dispatches\"", "POST /allocations\"", "control", "/close", "decline", "cancel", "dismiss"]
FILL = """(dlg) => {
  for (const el of dlg.querySelectorAll('input, textarea, select')) {
    if (el.disabled || el.type === 'hidden' || !el.checkVisibility()) continue;
    if (el.type === 'radio') { if (!dlg.querySelector(`input[name="${el.name}"]:checked`)) el.checked = true; continue; }
    if (el.value || !el.required) continue;
    if (el.tagName === 'SELECT') { const o = [...el.options].find((o) => o.value); if (o) el.value = o.value; }
    else if (el.type === 'number') el.value = el.min && +el.min > 1 ? el.min : '1';
    else el.value = '浏览器测试';
    el.dispatchEvent(new Event('input', { bubbles: true })); el.dispatchEvent(new Event('change', { bubbles: true }));
  }
}"""


def next_control_shows(page: Any, seen: set[str], deadline: float, wait_s: float = 5.0) -> bool:
    """Whether a control of ORDER not yet acted on appears within `wait_s` (e.g. a dispatch's next step, drawn
    when the live board receives the last step's change)."""
    until = min(deadline, time.monotonic() + wait_s)
    while time.monotonic() < until:
        if any(key in c + '"' for c in page.evaluate(SHOWN) if c not in seen for key in ORDER if key not in ("/level",)):
            return True
        page.wait_for_timeout(250)
    return False


def perform(page: Any, answers: list[tuple[str, int]], budget_s: float) -> set[str]:
    """Act through the board's controls, in ORDER, as long as one is shown and time is left: click it,
    fill what its dialog requires, submit, and wait for the server's answer. Answers the routes acted on."""
    done: set[str] = set()
    acted_not: list[str] = []
    deadline = time.monotonic() + budget_s
    progress = True
    while progress and time.monotonic() < deadline:
        progress = False
        for key in ORDER:
            controls = [c for c in page.evaluate(SHOWN) if key in c + '"' and c not in done and not c.endswith("/level")]
            if key == "/level":
                controls = [c for c in page.evaluate(SHOWN) if c.endswith("/level") and c not in done]
            if "incidents" in key or key in ("/verify", "situation", "/level", "control", "/close", "dismiss") and not controls:
                if page.locator("dialog[open]").count():
                    page.keyboard.press("Escape")  # a dialog still open (its command answered late) would take the click
                page.locator(".incident").first.click(timeout=5_000)  # the first incident's details show its controls
                controls = [c for c in page.evaluate(SHOWN) if key in c + '"' and c not in done]
            controls = [c for c in controls if c not in acted_not]
            if not controls or time.monotonic() > deadline:
                continue
            route = controls[0]
            button = page.locator(f'[data-command="{route}"]').filter(visible=True).first
            done.add(route)
            progress = True
            try:
                with page.expect_response(lambda r: r.request.method in ("POST", "PUT", "PATCH", "DELETE") and API in r.url, timeout=8_000):
                    button.click()
                    dialog = page.locator("dialog[open]")
                    dialog.wait_for(timeout=3_000)
                    if route.endswith("/level"):  # another level than the incident's
                        dialog.locator("label[class^=lv-]:not(:has(input:checked))").first.click()
                    if route.endswith("/situation"):  # one more person moved to safety
                        field = dialog.locator("[name=evacuated]")
                        field.fill(str(int(field.input_value() or 0) + 1))
                    dialog.evaluate(FILL)
                    dialog.locator("[type=submit]").first.click()
            except sync_api.TimeoutError:
                acted_not.append(route)  # nothing was sent: reported, and the route stays unperformed
                done.discard(route)
                page.keyboard.press("Escape")  # a dialog the page kept open (it refused the input) is closed
                continue
            page.wait_for_timeout(200)
        if not progress:  # the live board may show the next step late on a busy machine: wait for it, once a pass
            progress = next_control_shows(page, done | set(acted_not), deadline)
    if acted_not:
        print("controls that sent nothing:", acted_not)
    return done


# What is performed on a page after its controls are collected, in an order where each step draws the next
# control: (what to click first, or None; the route). The phones' steps go through their outboxes.
STEPS: dict[str, list[tuple[str | None, str]]] = {
    "admin": [(None, "POST /units")],  # the units tab, the last one the expanders opened
    "records": [(None, "POST /allocations/{allocation_id}/return")],  # the allocations the expander listed
    "field": [(None, f"POST /dispatches/{{dispatch_id}}/{step}") for step in ("acknowledge", "depart", "arrive", "complete")]
    + [(None, "POST /teams/{team_id}/duty"), (None, "POST /allocations/{allocation_id}/deliver"), (None, "POST /allocations/{allocation_id}/return")],
    "reporter": [(None, "POST /warnings/{warning_id}/receipts/{unit_code}/acknowledge"),
                 (None, "POST /warnings/{warning_id}/receipts/{unit_code}/response"),
                 ("#tab-daily", "POST /incidents/{incident_id}/situation")],
    # a street desk: signs for its street's copy of the warning, and reports what it did under the demo's
    "street": [(None, "POST /warnings/{warning_id}/receipts/{unit_code}/acknowledge"),
               (None, "POST /warnings/{warning_id}/receipts/{unit_code}/response")],
}


def steps(page: Any, where: str, required: set[str]) -> set[str]:
    done = set()
    for first, route in STEPS.get(where, []):
        if route in required:
            if first:
                page.click(first)
            try:
                act(page, route)
            except sync_api.TimeoutError as e:
                page.screenshot(path=str(screenshot_dir() / f"every-command-{where}.png"))
                raise AssertionError(f"{where}: {route} was not performed ({e.message.splitlines()[0]})") from None
            done.add(route)
    return done


@pytest.mark.parametrize("role", list(PAGES))
def test_every_command_of_the_role_has_a_control_on_its_pages(server: Server, context: Any, role: str) -> None:
    required = commands_of(server, role) - set(EXEMPT)
    stage(server, role)
    page = context.new_page()
    follow_requests(page)
    answers: list[tuple[str, int]] = []
    page.on("response", lambda r: answers.append((template_of(r.request.method, r.url, required) or "", r.status))
            if r.request.method in ("POST", "PUT", "PATCH", "DELETE") and API in r.url else None)
    shown: set[str] = set()
    performed: set[str] = set()
    acted: set[str] = set()
    for where in PAGES[role]:
        sign_in(page, server, role, where)
        shown |= controls_on(page, where)
        if where == "board":
            performed = perform(page, answers, budget_s=45)  # keeps the suite lean; the order acts on the most useful first
            shown |= performed
        acted |= steps(page, where, required)
    if role in STREET_DESK:  # the role's desk at a street a warning reaches: its own copy's controls
        sign_in(page, server, STREET_DESK[role], "board")
        shown |= set(page.evaluate(SHOWN))
        acted |= steps(page, "street", required)
    shown |= acted
    refused = [(route, status) for route, status in answers if not 200 <= status < 300]
    assert not refused, f"{role}: commands sent from the pages were refused: {refused}"
    print(f"{role}: performed through the board {len(performed)}: {sorted(performed)}; on the other pages {len(acted)}: {sorted(acted)}")
    unknown = shown - set(MATRIX)
    assert not unknown, f"controls name routes the table does not have: {sorted(unknown)}"
    pending = PENDING[role]
    gained = sorted(set(pending) & shown)
    assert not gained, f"{role}: these now have a control; take them off PENDING: {gained}"
    missing = sorted(required - shown - set(pending))
    assert not missing, f"{role}: {len(missing)} of {len(required)} commands have no control on {PAGES[role]}:\n  " + "\n  ".join(missing)
