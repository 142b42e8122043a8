"""Item 7 of issue #16: security headers on every page and API answer, refusals included; a CSP
without inline script (the pages have none: checked here too), and no-store on API answers."""

from __future__ import annotations

import re

import pytest

from gateway.entrypoints.app import UI_DIR
from tests.integration.scoped_district import District

PAGES = sorted(p.name for p in UI_DIR.glob("*.html"))


def _assert_secure(r: object, api: bool) -> None:
    h = r.headers  # type: ignore[attr-defined]
    csp = h["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)  # type: ignore[union-attr]
    assert script_src.strip() == "'self'", csp  # no 'unsafe-inline', no 'unsafe-eval', no other origin
    assert h["x-frame-options"] == "DENY"
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"
    if api:
        assert h["cache-control"] == "no-store"


@pytest.mark.parametrize("page", PAGES)
def test_pages_carry_security_headers_and_no_inline_script(district: District, page: str) -> None:
    r = district.client.get(f"/ui/{page}")
    assert r.status_code == 200
    _assert_secure(r, api=False)
    # Every <script> names its source: an inline one would be refused by the CSP.
    for tag in re.findall(r"<script\b[^>]*>(.*?)</script>", r.text, flags=re.S | re.I):
        assert tag.strip() == "", f"inline script in {page}"
    assert not re.search(r"\son[a-z]+\s*=", r.text, flags=re.I), f"inline event handler in {page}"


@pytest.mark.parametrize("path,who,status", [
    ("/incidents", "A", 200),
    ("/incidents/00000000-0000-0000-0000-000000000000", "A", 404),
    ("/incidents", None, 401),
    ("/board", "B", 200),
])
def test_api_answers_carry_security_headers_and_no_store(district: District, path: str, who: str | None, status: int) -> None:
    r = district.get(who, path) if who else district.client.get("/api/v1" + path)
    assert r.status_code == status
    _assert_secure(r, api=True)


def test_the_token_answer_is_not_stored(district: District) -> None:
    r = district.client.post("/api/v1/auth/token", data={"username": "op_a", "password": "Scope-sweep-Passw0rd!"})
    assert r.status_code == 200
    _assert_secure(r, api=True)
    assert r.headers["pragma"] == "no-cache"


def test_refusals_before_the_app_carry_the_headers_too(district: District) -> None:
    r = district.client.post("/api/v1/incidents", content=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    _assert_secure(r, api=True)


def test_api_docs_may_load_their_cdn_but_not_be_framed(district: District) -> None:
    r = district.client.get("/docs")
    assert r.status_code == 200
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"] and r.headers["x-frame-options"] == "DENY"


def test_inline_script_would_be_refused_and_the_browser_check_sees_it(district: District) -> None:
    """The browser tests' CSP check (tests/e2e/browser.py: csp_violations) catches a refused inline script."""
    pytest.importorskip("playwright.sync_api")
    from pathlib import Path

    if not Path("/usr/bin/chromium").exists():
        pytest.skip("no Chromium")
    import threading
    import time

    import uvicorn

    from tests.conftest import free_port
    from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, csp_violations, sync_api

    from gateway.entrypoints.headers import SecurityHeaders

    async def page_with_inline_script(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": b"<!doctype html><title>t</title><script>document.title='ran'</script>"})

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(SecurityHeaders(page_with_inline_script), port=port, log_level="error", lifespan="off"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    try:
        while not server.started:
            time.sleep(0.05)
        with sync_api.sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = b.new_page()
            page.goto(f"http://127.0.0.1:{port}/ui/x.html")
            assert page.title() == "t"  # the inline script did not run
            assert csp_violations(page), "the refusal shows on the console"
            b.close()
    finally:
        server.should_exit = True
        t.join(5)


def test_a_route_that_sets_its_own_policy_keeps_it_and_still_cannot_be_framed() -> None:
    from fastapi.testclient import TestClient

    from gateway.entrypoints.headers import SecurityHeaders

    async def evidence_like(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"image/png"), (b"content-security-policy", b"sandbox"),
            (b"cache-control", b"private, max-age=86400, immutable")]})
        await send({"type": "http.response.body", "body": b"png"})

    r = TestClient(SecurityHeaders(evidence_like)).get("/api/v1/evidence/abc")
    assert r.headers["content-security-policy"] == "sandbox; frame-ancestors 'none'"
    assert r.headers["cache-control"] == "private, max-age=86400, immutable"
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
