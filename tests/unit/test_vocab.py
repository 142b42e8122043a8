"""The pages' vocabulary is generated from Python, and no page keeps a copy of its own."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from gateway import vocab

UI = Path(__file__).resolve().parents[2] / "ui"


def test_ui_vocab_js_and_the_glossary_doc_are_generated_from_the_current_python() -> None:
    for path, make in vocab.OUTPUTS.items():
        assert path.read_text(encoding="utf-8") == make(), f"{path.name} is stale: run `python -m gateway.vocab`"


def _rule_words() -> set[str]:
    """Every value a rule is made of: roles, categories, subtypes, levels, statuses, situation fields."""
    v = vocab.vocabulary()
    words: set[str] = set(v["ROLES"]) | set(v["CATEGORIES"]) | set(v["SITUATION_FIELDS"]) | set(v["TEAM_STATUSES"])
    words |= set(itertools.chain.from_iterable(v["SUBTYPES"].values()))
    words |= set(v["DISPATCH_ACTIVE"]) | set(v["DISPATCH_FINAL"]) | set(v["INCIDENT_OPEN"]) | set(v["ALLOCATION_IN_FLIGHT"])
    words |= set(v["REPORTING_KINDS"])
    return words - {"other"}


def retyped_rules(source: str, words: set[str]) -> list[str]:
    """Array literals of two or more quoted strings that are all rule values: a status set, a role list, a subtype list."""
    found = []
    for body in re.findall(r"\[([^\[\]]*)\]", source):
        items = [s.strip() for s in body.split(",") if s.strip()]
        quoted = [m.group(1) for s in items if (m := re.fullmatch(r"""["']([\w-]+)["']""", s))]
        if len(items) >= 2 and len(quoted) == len(items) and all(q in words for q in quoted):
            found.append(f"[{body.strip()}]")
    return found


def test_no_page_declares_statuses_subtypes_or_roles_of_its_own() -> None:
    words = _rule_words()
    offenders = {
        f.name: hits
        for f in sorted(UI.glob("*.js"))
        if f.name != "vocab.js" and (hits := retyped_rules(f.read_text(encoding="utf-8"), words))
    }
    assert offenders == {}, "take these from ui/vocab.js (python -m gateway.vocab) instead"


def test_the_retyped_rule_finder_finds_one() -> None:
    words = _rule_words()
    assert retyped_rules('const ACTIVE = new Set(["ordered", "acknowledged"]);', words)
    assert retyped_rules('const CAN = { report: ["admin", "commander", "operator"] };', words)
    assert not retyped_rules('const KEYS = ["yingji.token", "x"];', words)


def test_no_page_counts_hours_of_its_own() -> None:
    """Deadline arithmetic (2 hours, 16:00, +8 hours) lives in domain/policy.py; pages take it from vocab.js."""
    pattern = re.compile(r"\b2\s*\*\s*60\s*\*\s*60|\b7_?200_?000\b|[\"']16:00[\"']|\b8\s*\*\s*60\s*\*\s*60")
    offenders = [f.name for f in UI.glob("*.js") if f.name != "vocab.js" and pattern.search(f.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_glossary_has_both_languages_for_every_code_the_domain_defines() -> None:
    from domain.glossary import GLOSSARY

    v = vocab.vocabulary()
    needed = {
        "level": v["LEVELS"], "category": v["CATEGORIES"], "subtype": [s for subs in v["SUBTYPES"].values() for s in subs],
        "role": v["ROLES"], "situation": v["SITUATION_FIELDS"], "teamStatus": v["TEAM_STATUSES"], "unitKind": v["UNIT_KINDS"],
        "dispatchStatus": v["DISPATCH_ACTIVE"] + v["DISPATCH_FINAL"],
        "warningLevel": v["WARNING_LEVELS"], "warningGrade": v["WARNING_LEVELS"], "responseMeasure": v["RESPONSE_MEASURES"],
        "warningStatus": ["draft", "issued", "expired", "lifted"], "receiptStatus": ["pending", "signed", "late", "overdue"],
    }
    for group, codes in needed.items():
        missing = set(codes) - set(GLOSSARY[group])
        assert not missing, f"domain/glossary.py {group} lacks {sorted(missing)}"
    for group, rows in GLOSSARY.items():
        for code, row in rows.items():
            assert len(row) == 2 and all(w.strip() for w in row), f"{group}.{code}: a Chinese and an English term"


def test_the_page_dictionaries_have_the_same_keys_in_both_languages() -> None:
    import json
    import shutil
    import subprocess

    node = shutil.which("node")
    assert node, "node runs the page's dictionary"
    src = (UI / "i18n.js").read_text(encoding="utf-8")
    start = src.index("const DICT = {")
    literal = src[start + len("const DICT = "): src.index("\n};\n", start) + 2]
    out = subprocess.run([node, "-e", f"process.stdout.write(JSON.stringify({literal}))"], capture_output=True, text=True, check=True)
    d = json.loads(out.stdout)
    assert set(d) == {"zh", "en"}
    assert sorted(set(d["zh"]) ^ set(d["en"])) == []


def test_every_event_type_the_domain_defines_has_its_terms() -> None:
    """Replay's event list and the after-action timeline name every event in words, never by its code."""
    import inspect

    from eventsourcing.domain import Aggregate

    import domain
    from domain.glossary import GLOSSARY

    types = set()
    for info in __import__("pkgutil").iter_modules(domain.__path__):
        module = __import__(f"domain.{info.name}", fromlist=["_"])
        for cls in vars(module).values():
            if inspect.isclass(cls) and issubclass(cls, Aggregate) and cls.__module__ == module.__name__:
                types |= {f"{cls.__name__.lower()}.{name.lower()}" for name, ev in vars(cls).items()
                          if inspect.isclass(ev) and issubclass(ev, Aggregate.Event) and name not in ("Event", "Created")}
    assert len(types) >= 40
    assert sorted(types - set(GLOSSARY["eventType"])) == []
    assert sorted({t.split(".")[0] for t in types} - set(GLOSSARY["eventKind"])) == []
