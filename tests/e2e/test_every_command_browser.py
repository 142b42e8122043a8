"""Every command a role may call has a control on that role's pages, and the controls work.

Driven by the server, not by a list kept here: the commands are the mutating routes of the running
server's /openapi.json that the role × route table (gateway/authz.py) lets the role call. Each role
signs in on the pages it uses and the test collects the controls shown to it: every control names
the route it calls in `data-command` (written by vocab.js `command()`, which refuses a route the
table lacks). A route with no control on the role's pages fails the test, by name. Then commands are
performed through the controls (click, fill the dialog, submit) and every command the pages send
must be answered 2xx.

Exempt, with the reason, are only routes that are not page actions (EXEMPT below).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.authz import API, MATRIX, Public
from tests.conftest import Server
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

# Known gaps (issue #17, still open), each with why: the control is drawn only in a state the demo
# district does not show (no draft warning, no unacknowledged directive, no signed report, no desk
# targeted by a warning; a field team with no dispatch under way), or there is no control yet. The
# test fails when one of them gains a control (take it off this list) and, as for every route not
# here, when a route lacks one.
_STATE = "drawn only in a state the demo district does not show"
_DESK_PENDING = {
    "POST /allocations/{allocation_id}/return": "no control yet: delivered allocations leave the board; the records page lists them read-only",
    "POST /directives/{directive_id}/acknowledge": _STATE + " (an unacknowledged city directive)",
    "POST /disaster-reports/{report_id}/submit": _STATE + " (a report signed off, not yet submitted)",
    "POST /warnings/{warning_id}/receipts/{unit_code}/acknowledge": _STATE + " (a warning targeting the desk's own unit)",
    "POST /warnings/{warning_id}/receipts/{unit_code}/response": _STATE + " (a warning targeting the desk's own unit)",
}
PENDING: dict[str, dict[str, str]] = {
    "admin": _DESK_PENDING | {
        "POST /units": "no control yet: units are registered from the district's code list at setup (yingji seed / API)",
        "POST /units/{code}/parts": "no control yet: the old typed counts, no longer scored (readiness derives them)",
        "POST /warnings/{warning_id}/issue": _STATE + " (a draft warning)",
    },
    "commander": _DESK_PENDING | {
        "POST /units/{code}/parts": "no control yet: the old typed counts, no longer scored (readiness derives them)",
        "POST /warnings/{warning_id}/issue": _STATE + " (a draft warning)",
    },
    "operator": _DESK_PENDING,
    "observer": {},
    "field": {
        "POST /allocations/{allocation_id}/deliver": _STATE + " (materials shipped to the team)",
        "POST /allocations/{allocation_id}/return": "no control yet on the team's phone",
        "POST /dispatches/{dispatch_id}/depart": _STATE + " (a dispatch acknowledged)",
        "POST /dispatches/{dispatch_id}/arrive": _STATE + " (a dispatch under way)",
        "POST /dispatches/{dispatch_id}/complete": _STATE + " (a dispatch arrived)",
        "POST /teams/{team_id}/duty": _STATE + " (the team idle, not on a dispatch)",
    },
    "reporter": {
        "POST /incidents/{incident_id}/situation": _STATE + " (an open incident in the village)",
        "POST /warnings/{warning_id}/receipts/{unit_code}/acknowledge": _STATE + " (a warning to the village)",
        "POST /warnings/{warning_id}/receipts/{unit_code}/response": _STATE + " (a warning to the village)",
    },
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
}


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
    if page.locator("#login-username").is_visible():
        page.fill("#login-username", role)
        page.fill("#login-password", "yingji2026")
        page.click("#login-submit")
    if where == "board":  # the board is drawn from its live snapshot
        sync_api.expect(page.locator("#conn-status")).to_have_attribute("data-state", "online", timeout=15_000)
        sync_api.expect(page.locator(".incident").first).to_be_visible(timeout=15_000)
    page.wait_for_load_state("networkidle")


def controls_on(page: Any, where: str) -> set[str]:
    page.wait_for_timeout(300)
    seen = set(page.evaluate(SHOWN))
    for selector in EXPANDERS.get(where, []):
        for n in range(page.locator(selector).count()):
            target = page.locator(selector).nth(n)
            if target.is_visible():
                target.click()
                page.wait_for_timeout(150)
                seen |= set(page.evaluate(SHOWN))
    return seen


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
    if acted_not:
        print("controls that sent nothing:", acted_not)
    return done


@pytest.mark.parametrize("role", list(PAGES))
def test_every_command_of_the_role_has_a_control_on_its_pages(server: Server, context: Any, role: str) -> None:
    required = commands_of(server, role) - set(EXEMPT)
    page = context.new_page()
    answers: list[tuple[str, int]] = []
    page.on("response", lambda r: answers.append((template_of(r.request.method, r.url, required) or "", r.status))
            if r.request.method in ("POST", "PUT", "PATCH", "DELETE") and API in r.url else None)
    shown: set[str] = set()
    performed: set[str] = set()
    for where in PAGES[role]:
        sign_in(page, server, role, where)
        shown |= controls_on(page, where)
        if where == "board":
            performed = perform(page, answers, budget_s=25)  # keeps the suite lean; the order acts on the most useful first
            shown |= performed
    refused = [(route, status) for route, status in answers if not 200 <= status < 300]
    assert not refused, f"{role}: commands sent from the pages were refused: {refused}"
    print(f"{role}: performed through the board {len(performed)}: {sorted(performed)}")
    unknown = shown - set(MATRIX)
    assert not unknown, f"controls name routes the table does not have: {sorted(unknown)}"
    pending = PENDING[role]
    gained = sorted(set(pending) & shown)
    assert not gained, f"{role}: these now have a control; take them off PENDING: {gained}"
    missing = sorted(required - shown - set(pending))
    assert not missing, f"{role}: {len(missing)} of {len(required)} commands have no control on {PAGES[role]}:\n  " + "\n  ".join(missing)
