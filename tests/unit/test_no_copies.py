"""No copied run of 20 lines or more between pages, and none in the production Python.

A copy is the same 20 lines, to the letter once white space is folded, standing in two places; blank lines,
comments, lone punctuation (closing tags too) and imports are passed over (as the `duplicates` tool does, which also finds runs
alike but for names: run it for a fuller look). Pages share through modules (ui/shell.js, ui/panels.js, ui/map.js);
Python through functions.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN = 20
SKIP = re.compile(r"^(?:#|//|/\*|\*|<!--|import |from \S+ import |[\s{}()\[\];,:<>/]*$|(?:</[\w-]+>\s*)+$)")


def code_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, folded text) of the lines that count."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        folded = " ".join(line.split())
        if folded and not SKIP.match(folded):
            out.append((n, folded))
    return out


def copies(files: list[Path], *, across_files_only: bool) -> list[str]:
    """Places where the same RUN counted lines stand twice (in two files, or anywhere)."""
    seen: dict[tuple[str, ...], list[tuple[Path, int]]] = defaultdict(list)
    for path in files:
        lines = code_lines(path)
        for i in range(len(lines) - RUN + 1):
            seen[tuple(text for _, text in lines[i : i + RUN])].append((path, lines[i][0]))
    found = []
    for places in seen.values():
        if len(places) < 2 or (across_files_only and len({p for p, _ in places}) < 2):
            continue
        found.append(" ~ ".join(f"{p.relative_to(ROOT)}:{n}" for p, n in places[:3]))
    return sorted(set(found))


def test_no_page_copies_another() -> None:
    pages = sorted(p for p in (ROOT / "ui").iterdir() if p.suffix in (".js", ".html", ".css") and p.name != "vocab.js")
    assert copies(pages, across_files_only=True) == []


# The sign-in, the session check, the language switch and sign-out are written once, in ui/shell.js (on signin.js's
# form, api.js's session and i18n.js's language): a page that signs in, checks or drops the session or switches the
# language itself has a copy of the shell. What gives one away, each a call or element only the shell has business with.
SHELL_ONLY = re.compile(
    r"""\b(?:showSignIn|submitSignIn|mountSignIn)\b"""  # signin.js's form, driven by the shell only
    r"""|\bapi\.(?:signIn|revokeSession|tokenExpired|onUnauthorized)\("""  # signing in, revoking, judging the token
    r"""|\bsetLang\(|\bapplyStatic\("""  # switching the language, drawing the page's words at start-up
    r"""|["']#(?:login-form|lang-toggle|sign-out)["']|["']\.lang-toggle-login["']"""  # the shell's own controls
)
SHELL_FILES = {"shell.js", "signin.js", "api.js", "i18n.js"}  # the shell and the modules it is built on


def shell_copies(files: list[Path]) -> list[str]:
    """Places outside the shell that sign in, keep the session or switch the language themselves."""
    found = []
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.lstrip().startswith(("//", "*", "/*")) and SHELL_ONLY.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    return found


def test_only_the_shell_signs_in() -> None:
    """Every page signs in through ui/shell.js (startShell, or startSession for a page with its own header)."""
    pages = sorted(p for p in (ROOT / "ui").glob("*.js") if p.name not in SHELL_FILES and p.name != "vocab.js")
    assert shell_copies(pages) == [], "sign in through ui/shell.js (startShell / startSession), not by hand"


def test_a_page_signing_in_by_hand_is_found(tmp_path: Path) -> None:
    """The check can fail: a page importing the form's functions, or handling the session or language by hand."""
    global ROOT
    root, ROOT = ROOT, tmp_path
    try:
        for body in ('import { showSignIn, submitSignIn } from "./signin.js";',
                     '$("#login-form").addEventListener("submit", onSubmit);',
                     'if (!token || api.tokenExpired(token)) api.clearSession();',
                     '$("#lang-toggle").addEventListener("click", () => setLang(getLang() === "zh" ? "en" : "zh"));',
                     '$("#sign-out").addEventListener("click", () => api.revokeSession());'):
            (tmp_path / "page.js").write_text(f"// a page\n{body}\n")
            assert shell_copies([tmp_path / "page.js"]), body
        (tmp_path / "page.js").write_text('import { startShell } from "./shell.js";\nstartShell({ route: "GET /incidents", onStart });\n')
        assert shell_copies([tmp_path / "page.js"]) == []
    finally:
        ROOT = root


def test_no_copied_run_in_the_production_python() -> None:
    python = sorted(p for top in ("domain", "projections", "gateway") for p in (ROOT / top).rglob("*.py"))
    assert copies(python, across_files_only=False) == []


def test_a_copy_is_found(tmp_path: Path) -> None:
    """The check can fail: 25 lines written twice are a copy; once, they are not."""
    body = "\n".join(f"total += weight_{i} * value_{i}" for i in range(25))
    (tmp_path / "a.js").write_text(body)
    (tmp_path / "b.js").write_text("let x = 1;\n" + body)
    global ROOT
    root, ROOT = ROOT, tmp_path
    try:
        assert len(copies([tmp_path / "a.js", tmp_path / "b.js"], across_files_only=True)) >= 1
        assert copies([tmp_path / "a.js"], across_files_only=True) == []
    finally:
        ROOT = root
