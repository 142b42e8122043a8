"""Event versions: an event stored by today's code is read back as a newer version, through every reader.

The newer version is defined here, not in the product, the way a later change would define it: the
event class with a new field, `class_version = 2` and the library's `upcast_v1_v2`. The events read
back are the golden log's (tests/golden), stored by today's code at version 1.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from eventsourcing import domain as es_domain
from eventsourcing import utils as es_utils

import projections.rebuild
from domain.common import event_versions
from domain.incidents import Incident
from gateway.citylink import cloudevents
from gateway.citylink.eventschemas import load, schema_of
from gateway.container import Container
from gateway.settings import Settings
from gateway.tools.backup import export_lines, import_log
from tests.golden.views import EXPECTED, FIXTURE, SOURCE, replay_boards

TOPIC = "domain.incidents:Incident.Verified"
V1 = "urn:yingji:events:incident.verified:v1"
SECRET = "whsec_" + base64.b64encode(b"yingji-test-upstream-secret-32b!").decode()


class VerifiedV2(Incident.Verified):
    """Incident.Verified, version 2: says whether the verification was made in an exercise (演练)."""

    class_version = 2
    exercise: bool

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["exercise"] = False  # every verification before version 2 was a real one


VerifiedV2.__qualname__ = "Incident.Verified"  # the name reducers and after-action reports route by
VerifiedV2.__module__ = "domain.incidents"


@pytest.fixture
def version_2(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The stored topic resolves to version 2, as it would once the product's class had moved on."""
    monkeypatch.setitem(es_utils._topic_cache, TOPIC, VerifiedV2)
    monkeypatch.setitem(es_utils._type_cache, VerifiedV2, TOPIC)
    # In the product, `@event(Verified)` on the aggregate's method registers the method that applies it.
    monkeypatch.setitem(es_domain.decorated_funcs, VerifiedV2, es_domain.decorated_funcs[Incident.Verified])
    cloudevents._published.cache_clear()
    yield
    cloudevents._published.cache_clear()


@pytest.fixture
def golden(settings: Settings) -> Iterator[Container]:
    """A store holding the golden log as today's code wrote it, read models rebuilt (before version 2 exists)."""
    settings = settings.model_copy(update={"run_projector": False, "upstream_url": "http://127.0.0.1:9", "upstream_secret": SECRET})
    c = Container.build(settings)
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as lines:
        import_log(c.log, lines)
    c.rebuild()
    yield c
    c.close()


def verified_notifications(c: Container) -> list[Any]:
    return [n for n in c.log.read(0, 1_000_000) if n.topic == TOPIC]


def test_a_version_1_event_is_read_back_as_version_2_by_the_store_rebuild_replay_and_publishers(
        golden: Container, version_2: None, monkeypatch: pytest.MonkeyPatch) -> None:
    c = golden
    stored = verified_notifications(c)
    assert stored and all(b"class_version" not in n.state for n in stored)  # version 1: the library stores no number
    incidents_before = {d["id"]: d for d in c.store.list("incident", limit=100_000)[0]}

    # The store: events and aggregates.
    first = stored[0]
    events = c.log.events.get(first.originator_id)
    verified = [e for e in events if type(e).__qualname__ == "Incident.Verified"]
    assert len(verified) == 1 and isinstance(verified[0], VerifiedV2) and verified[0].exercise is False
    assert c.log.repository.get(first.originator_id).status in ("verified", "controlled", "closed")

    # Rebuild: the reducers fold the upcast events, and the read models come out as before.
    folded: list[Any] = []
    real_apply = projections.rebuild.apply_event
    monkeypatch.setattr(projections.rebuild, "apply_event", lambda get, e: (folded.append(e), real_apply(get, e))[1])
    c.rebuild()
    upcast = [e for e in folded if type(e).__qualname__ == "Incident.Verified"]
    assert len(upcast) == len(stored) and all(isinstance(e, VerifiedV2) and e.exercise is False for e in upcast)
    assert {d["id"]: d for d in c.store.list("incident", limit=100_000)[0]} == incidents_before

    # Replay: the board at the end of the log, folded from upcast events, is the board replay showed before.
    head = c.log.max_position()
    expected = json.loads((EXPECTED / f"replay-{head}.json").read_text(encoding="utf-8"))
    assert json.loads(json.dumps(replay_boards(c, [head])[f"replay-{head}"], ensure_ascii=False)) == expected

    # Publishing (GET /events, export, relay): the current version's shape, naming the current version's schema.
    schema = jsonschema_rs.validator_for(schema_of(VerifiedV2), validate_formats=True)
    ce = cloudevents.to_cloudevent(c.log, first, SOURCE)
    assert ce["dataschema"] == "urn:yingji:events:incident.verified:v2"
    assert ce["data"]["exercise"] is False and "class_version" not in ce["data"]
    assert schema.is_valid(ce["data"]) and not jsonschema_rs.validator_for(load(V1)).is_valid(ce["data"])
    exported = [json.loads(line) for line in export_lines(c.log, SOURCE) if f'"position":{first.id},' in line]
    assert exported[0]["data"] == ce["data"] and exported[0]["dataschema"] == ce["dataschema"]
    relay = c.make_relay()
    try:
        batch = json.loads(relay.prepare(first.id - 1).body)  # type: ignore[union-attr]
    finally:
        relay.http.close()
    assert batch[0]["position"] == first.id and batch[0]["data"] == ce["data"] and batch[0]["dataschema"] == ce["dataschema"]
    # Other types are untouched: still version 1, published straight from the stored bytes.
    other = cloudevents.to_cloudevent(c.log, next(n for n in c.log.read(0, 10)), SOURCE)
    assert other["dataschema"] == "urn:yingji:events:unit.registered:v1"


@pytest.mark.parametrize("backend", ["sqlite"])  # the mapper's work: one store is enough
def test_a_version_2_event_is_stored_with_its_version_and_published_as_stored(golden: Container, version_2: None) -> None:
    c = golden
    first = verified_notifications(c)[0]
    event = c.log.decode(first)
    stored = c.log.mapper.to_stored_event(event)  # what today's code would write once at version 2
    assert json.loads(stored.state)["class_version"] == 2
    again = c.log.mapper.to_domain_event(stored)
    assert isinstance(again, VerifiedV2) and again.exercise is False
    as_notification = type(first)(id=first.id, originator_id=first.originator_id, originator_version=first.originator_version,
                                  topic=stored.topic, state=stored.state)
    ce = cloudevents.to_cloudevent(c.log, as_notification, SOURCE)
    assert ce["data"] == cloudevents.to_cloudevent(c.log, first, SOURCE)["data"] and "class_version" not in ce["data"]


def test_declared_versions_must_agree_with_the_event_class() -> None:
    with pytest.raises(TypeError, match="declares class_version 2"):
        event_versions(type("Holder", (), {"Verified": VerifiedV2}), Verified=1)
