"""The field page's service worker must keep every module the page imports, or it cannot open offline."""

from __future__ import annotations

import re
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "ui"


def imports_of(name: str, seen: set[str]) -> set[str]:
    if name in seen:
        return seen
    seen.add(name)
    for dep in re.findall(r"""^import[^;]*?from\s+["']\./([\w.-]+)["']""", (UI / name).read_text(), flags=re.M | re.S):
        imports_of(dep, seen)
    return seen


def test_the_offline_shell_holds_every_module_of_the_field_page() -> None:
    shell = set(re.search(r"const SHELL = \[(.*?)\]", (UI / "sw.js").read_text()).group(1).replace('"', "").replace(" ", "").split(","))  # type: ignore[union-attr]
    needed = imports_of("field.js", set()) | {"field.html", "field.css"}
    assert needed <= shell, f"add to SHELL in ui/sw.js (and bump CACHE): {sorted(needed - shell)}"
    assert "signin.js" in needed  # the walk does follow imports


def test_the_offline_shell_holds_every_module_of_the_inspector_page() -> None:
    shell = set(re.search(r"const INSPECT_SHELL = \[(.*?)\]", (UI / "sw.js").read_text()).group(1).replace('"', "").replace(" ", "").split(","))  # type: ignore[union-attr]
    needed = imports_of("inspect.js", set()) | {"inspect.html", "inspect.css", "field.css"}
    assert needed <= shell, f"add to INSPECT_SHELL in ui/sw.js (and bump its CACHE): {sorted(needed - shell)}"
