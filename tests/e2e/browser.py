"""What every browser test shares: Debian's Chromium driven by Playwright, and the accessibility check.

Import the fixtures into a test module (`from tests.e2e.browser import backend, browser`) and call
`assert_accessible(page, "what is on screen")` at each state worth checking: axe-core (vendored
under tests/e2e/vendor/axe-core, its version and licence beside it) runs in the page and any
WCAG 2.1 A/AA violation fails the test with the rule, the elements and how to fix them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

if not Path(CHROMIUM).exists():
    if IN_CI:
        pytest.fail(f"{CHROMIUM} is missing — required in CI (apt-get install chromium)", pytrace=False)
    pytest.skip(f"{CHROMIUM} not available (apt-get install chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def backend() -> str:
    """Browser tests run on the embedded default only (SQLite), not once per backend."""
    return "sqlite"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol, not as an inline <script>: the pages' CSP refuses those.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
            return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary) }));
        }""",
        WCAG_21_AA,
    )


def csp_violations(page: Any) -> list[str]:
    """What the page's Content-Security-Policy refused so far (Chromium reports each on the console)."""
    return [m.text for m in page.console_messages() if "Content Security Policy" in m.text]


def assert_accessible(page: Any, where: str) -> None:
    """No WCAG 2.1 AA violation axe-core can find on the page as it stands (and nothing the CSP refused)."""
    refused = csp_violations(page)
    assert refused == [], f"CSP, {where}:\n" + "\n".join(refused)
    found = axe_violations(page)
    assert found == [], f"axe-core, {where}:\n" + "\n".join(f"- {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"][:5]) for v in found)
