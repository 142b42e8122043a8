"""The golden log: a log written by an earlier version must import and rebuild to the same views, on both stores.

tests/golden/district.jsonl.gz is a `yingji export` of the demo district and ten days of history
touching every event type (tests/golden/generate.py, run deliberately). Every later version must
import it as it is and rebuild to the board, lists, daily reports, replay boards and after-action
reports in tests/golden/expected/. A change that alters them is either a bug or a deliberate change
of a read model, and then the expected files are regenerated with the reason in the commit.
"""

from __future__ import annotations

import base64
import gzip
import json
from functools import cache
from typing import Any

import jsonschema_rs
from eventsourcing.utils import get_topic, resolve_topic

from gateway.citylink.cloudevents import to_cloudevent
from gateway.citylink.eventschemas import event_classes, event_type, load
from gateway.container import Container
from gateway.entrypoints.api.events import read_events
from gateway.settings import Settings
from gateway.tools.backup import import_log
from tests.golden.views import ADMIN, EXPECTED, FIXTURE, SOURCE, views


def fixture_lines() -> list[dict[str, Any]]:
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@cache
def validator(uri: str) -> Any:
    return jsonschema_rs.validator_for(load(uri), validate_formats=True)


def test_the_golden_log_holds_every_event_type_the_domain_defines() -> None:
    stored = {line["yingjitopic"] for line in fixture_lines()}
    defined = {get_topic(cls) for cls in event_classes()}
    missing = sorted(defined - stored)
    assert not missing, f"event types missing from the golden log (add them to tests/golden/generate.py): {missing}"
    # Old types never leave: every topic ever stored still names an event class.
    for topic in stored:
        resolve_topic(topic)


def test_the_golden_log_imports_and_rebuilds_to_the_expected_views(settings: Settings) -> None:
    manifest = json.loads((EXPECTED / "manifest.json").read_text(encoding="utf-8"))
    expected = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in EXPECTED.glob("*.json") if p.stem != "manifest"}
    c = Container.build(settings.model_copy(update={"run_projector": False}))
    try:
        with gzip.open(FIXTURE, "rt", encoding="utf-8") as lines:
            assert import_log(c.log, lines) == manifest["head"]
        assert c.rebuild() == manifest["head"]

        got = views(c, manifest)
        assert sorted(got) == sorted(expected)
        for name, view in expected.items():
            assert got[name] == view, f"{name} differs from tests/golden/expected/{name}.json"

        # The log itself is restored exactly: positions, aggregates, versions, topics and stored bytes.
        original = [(e["position"], e["subject"], e["aggregateversion"], e["yingjitopic"], e["yingjistate"]) for e in fixture_lines()]
        restored = [(n.id, str(n.originator_id), n.originator_version, n.topic, base64.b64encode(n.state).decode())
                    for n in c.log.read(0, 1_000_000)]
        assert restored == original

        # Every event as the relay and GET /events publish it follows the schema its dataschema names.
        seen: set[str] = set()
        for n in c.log.read(0, 1_000_000):
            ce = to_cloudevent(c.log, n, SOURCE)
            schema = load(ce["dataschema"])
            assert ce["type"] == schema["x-cloudevents-type"] == event_type(n.topic)
            errors = [f"{e.instance_path}: {e.message}" for e in validator(ce["dataschema"]).iter_errors(ce["data"])]
            assert not errors, f"position {n.id} ({ce['type']}) does not follow {ce['dataschema']}: {errors}"
            seen.add(ce["type"])
        assert seen == {event_type(get_topic(cls)) for cls in event_classes()}
        page = read_events(container=c, principal=ADMIN, after=0, limit=1000)
        assert page["items"][0]["dataschema"] == "urn:yingji:events:unit.registered:v1"
        assert page["items"] == [to_cloudevent(c.log, n, SOURCE) for n in c.log.read(0, 1000)]
    finally:
        c.close()
