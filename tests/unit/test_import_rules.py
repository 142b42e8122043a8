"""The layers import only along the arrows (README, "How it is built").

    domain  <-  projections  <-  gateway kernel (settings, errors, context, authz)
            <-  adapters  <-  service_layer  <-  citylink  <-  notify  <-  container (composition root)
            <-  entrypoints;     tools (city stand-in, seeding, backup, generators) may use anything,
    and the runtime never imports tools, except the CLI, which starts them.

Every import counts, including the ones inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KERNEL = {"gateway.settings", "gateway.errors", "gateway.context", "gateway.authz"}
ORDER = ["domain", "projections", "kernel", "adapters", "service_layer", "citylink", "notify", "composition", "entrypoints"]
# each layer may import itself and every layer before it in ORDER; tools may import anything
ALLOWED = {layer: set(ORDER[: i + 1]) for i, layer in enumerate(ORDER)} | {"tools": {*ORDER, "tools"}}
ALLOWED["kernel"] = {"domain", "kernel"}  # the kernel is below the read side: it needs no read model
EXCEPTIONS = {("gateway.entrypoints.cli", "tools")}  # `yingji upstream|seed|export|import` start the tools


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] in ("domain", "projections"):
        return parts[0]
    if parts[0] != "gateway" or len(parts) == 1:
        return None
    if module in KERNEL or ".".join(parts[:2]) in KERNEL:
        return "kernel"
    if parts[1] == "container":
        return "composition"
    if parts[1] == "vocab":
        return "tools"  # writes ui/vocab.js; not imported at run time
    return {"adapters": "adapters", "service_layer": "service_layer", "citylink": "citylink", "notify": "notify",
            "entrypoints": "entrypoints",
            "tools": "tools"}.get(parts[1], "unknown")


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names if layer_of(f"{node.module}.{a.name}") == "kernel"}
    return found


def wrong_way_imports() -> list[str]:
    wrong = []
    for top in ("domain", "projections", "gateway"):
        for path in sorted((ROOT / top).rglob("*.py")):
            me = module_name(path)
            if me == "gateway":  # the package marker
                continue
            mine = layer_of(me)
            assert mine not in (None, "unknown"), f"{me}: not in any layer; place it in one (README, How it is built)"
            for imported in imports_of(path):
                theirs = layer_of(imported)
                if theirs is None:
                    continue
                if theirs not in ALLOWED[mine] and (me, theirs) not in EXCEPTIONS:
                    wrong.append(f"{me} ({mine}) imports {imported} ({theirs})")
    return wrong


def test_every_module_imports_along_the_arrows() -> None:
    assert wrong_way_imports() == []


def test_the_rule_sees_a_wrong_way_import(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text("def f():\n    from gateway.entrypoints.hub import Hub\n")
    assert "gateway.entrypoints.hub" in imports_of(bad)
    assert layer_of("gateway.entrypoints.hub") not in ALLOWED["service_layer"]
    assert layer_of("gateway.errors") == "kernel" and "kernel" in ALLOWED["adapters"]
