"""Every event type declares its version, and docs/events/ holds the schema of each type's current version."""

from __future__ import annotations

from eventsourcing.utils import get_topic

from gateway.citylink.eventschemas import aggregates, event_classes, render, schema_of, stale


def test_every_stored_event_type_and_aggregate_declares_its_version() -> None:
    classes = event_classes()
    assert len(classes) >= 40 and len({get_topic(c) for c in classes}) == len(classes)
    undeclared = [get_topic(c) for c in classes if "class_version" not in vars(c)]
    assert not undeclared, f"declare these with domain.common.event_versions: {undeclared}"
    assert all("class_version" in vars(a) for a in aggregates())


def test_docs_events_are_generated_from_the_event_classes() -> None:
    assert stale() == [], "docs/events/ is stale: python -m gateway.citylink.eventschemas"
    assert len(render()) == len(event_classes()) + 1  # one schema per type, and the index


def test_a_schema_says_exactly_what_the_data_holds() -> None:
    from domain.dispatches import Dispatch

    s = schema_of(Dispatch.Acknowledged)
    assert s["$id"] == "urn:yingji:events:dispatch.acknowledged:v1"
    assert s["required"] == ["by", "arrive_deadline"] and s["additionalProperties"] is False
    assert s["properties"]["arrive_deadline"] == {"type": ["string", "null"], "format": "date-time"}
    assert s["properties"]["by"] == {"$ref": "#/$defs/actor"}
