"""The published shape of every event: one JSON Schema per event type and version, generated from the event classes.

Each CloudEvent the relay, `GET /events` and `yingji export` publish carries
`dataschema`, naming the schema its `data` follows: `urn:yingji:events:<type>:v<N>`,
where `<type>` is the CloudEvent type without its `cn.gov.yingji.` prefix and `N` the
event class's `class_version` (domain.common.event_versions). The name is stable: a
schema never changes once published; a new shape is a new version, so a new name.
The files are docs/events/<type>.v<N>.json (their `$id` is that name), with an index in
docs/events/README.md. `python -m gateway.citylink.eventschemas` writes them; a test
fails when they are stale. Files of older versions stay when a type moves on: events
published before still name them.

Event types are found by walking the `domain` package, so a new aggregate or event
type is published (and must be documented) without a list to keep.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
import sys
import types
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints
from uuid import UUID

from eventsourcing.domain import Aggregate, CanMutateAggregate, DecoratedFuncCaller, _created_event_classes
from eventsourcing.utils import get_topic

import domain
from domain.common import Actor

TYPE_PREFIX = "cn.gov.yingji."
URI_PREFIX = "urn:yingji:events:"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "events"
_ENVELOPE = ("originator_id", "originator_version", "timestamp", "originator_topic")  # CloudEvent attributes, not data

ACTOR_SCHEMA: dict[str, Any] = {
    "description": "Who issued the command (recorded on every event).",
    "type": "object",
    "properties": {k: {"type": "string"} for k in ("user", "role", "unit", "request_id", "idempotency_key", "name")},
    "required": ["user", "role", "unit"],
    "additionalProperties": False,
}


def event_type(topic: str) -> str:
    """"domain.incidents:Incident.Reported" -> "cn.gov.yingji.incident.reported"."""
    return TYPE_PREFIX + topic.rsplit(":", 1)[-1].lower()


def version_of(cls: type) -> int:
    return int(getattr(cls, "class_version", 1))


def schema_uri(type_: str, version: int) -> str:
    return f"{URI_PREFIX}{type_.removeprefix(TYPE_PREFIX)}:v{version}"


def file_name(type_: str, version: int) -> str:
    return f"{type_.removeprefix(TYPE_PREFIX)}.v{version}.json"


@cache
def aggregates() -> tuple[type[Aggregate], ...]:
    found: list[type[Aggregate]] = []
    for info in pkgutil.iter_modules(domain.__path__, domain.__name__ + "."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Aggregate) and value.__module__ == module.__name__:
                found.append(value)
    return tuple(sorted(found, key=lambda a: a.__name__))


@cache
def event_classes() -> tuple[type[Any], ...]:
    """Every event type the domain defines (what can be stored), in topic order.

    That is the events of `@event` methods and each aggregate's "created" event; not the library's
    bases (`Event`, and `Created` where `__init__` names its own created event)."""
    found = []
    for agg in aggregates():
        created = _created_event_classes.get(agg, [])  # the library's record of the event `__init__` stores
        for value in vars(agg).values():
            if isinstance(value, type) and issubclass(value, CanMutateAggregate) and (
                    issubclass(value, DecoratedFuncCaller) or value in created):
                found.append(value)
    return tuple(sorted(found, key=get_topic))


def _schema_of(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin = get_origin(tp)
    if tp is Any:
        return {}
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        inner = [_schema_of(a, defs) for a in args if a is not type(None)]
        nullable = type(None) in args
        if len(inner) == 1 and nullable and isinstance(inner[0].get("type"), str):
            return {**inner[0], "type": [inner[0]["type"], "null"]}
        return {"anyOf": inner + ([{"type": "null"}] if nullable else [])}
    if origin is dict:
        key, value = get_args(tp) or (str, Any)
        return {"type": "object", "additionalProperties": _schema_of(value, defs)}
    if origin in (list, tuple, set, frozenset):
        (item, *_) = get_args(tp) or (Any,)
        return {"type": "array", "items": _schema_of(item, defs)}
    simple: dict[Any, dict[str, Any]] = {
        bool: {"type": "boolean"}, int: {"type": "integer"}, float: {"type": "number"}, str: {"type": "string"},
        datetime: {"type": "string", "format": "date-time"}, date: {"type": "string", "format": "date"},
        UUID: {"type": "string", "format": "uuid"}, Decimal: {"type": "string"},
        dict: {"type": "object"}, list: {"type": "array"},
    }
    if tp in simple:
        return dict(simple[tp])
    if tp is Actor:
        defs["actor"] = ACTOR_SCHEMA
        return {"$ref": "#/$defs/actor"}
    # A type the transcoder would store in a form of its own: say how it is published before publishing it.
    raise TypeError(f"no JSON Schema for {tp!r}: teach gateway.citylink.eventschemas its published form")


def schema_of(cls: type[Any]) -> dict[str, Any]:
    topic = get_topic(cls)
    type_, version = event_type(topic), version_of(cls)
    hints = get_type_hints(cls)
    defs: dict[str, Any] = {}
    fields = [f.name for f in dataclasses.fields(cls) if f.name not in _ENVELOPE]
    properties = {name: _schema_of(hints[name], defs) for name in fields}
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_uri(type_, version),
        "title": f"{type_} v{version}",
        "description": (f"The `data` of a CloudEvent of type {type_}, version {version} (event class {topic}). "
                        "Generated by gateway.citylink.eventschemas from the event class; never edited by hand."),
        "x-cloudevents-type": type_,
        "x-yingji-topic": topic,
        "x-yingji-version": version,
        "type": "object",
        "properties": properties,
        "required": fields,
        "additionalProperties": False,
    }
    if defs:
        schema["$defs"] = defs
    return schema


def _index(schemas: list[dict[str, Any]]) -> str:
    rows = "\n".join(
        f"| `{s['x-cloudevents-type']}` | {s['x-yingji-version']} | [`{s['$id']}`]({file_name(s['x-cloudevents-type'], s['x-yingji-version'])}) "
        f"| `{s['x-yingji-topic']}` | {', '.join(f'`{p}`' for p in s['properties'])} |"
        for s in schemas
    )
    return f"""# Event schemas

Generated by `python -m gateway.citylink.eventschemas` from the event classes in `domain/`; a test fails
when these files are stale. Do not edit by hand.

Every CloudEvent Yingji publishes (the relay to the city platform, `GET /api/v1/events`, `yingji export`)
carries `dataschema`, the name of the JSON Schema (draft 2020-12) its `data` follows:

    urn:yingji:events:<type without "cn.gov.yingji.">:v<version>

for example `urn:yingji:events:incident.reported:v1`, kept in this directory as `incident.reported.v1.json`
(its `$id` is that name). The version is the event class's `class_version`, the eventsourcing library's
own mechanism, declared for each type with `domain.common.event_versions`.

A published schema never changes. A new shape of an event is a new version: the event class gets
`class_version = N + 1` and a static `upcast_vN_vN+1(state)`, so events stored in older versions are read
back, replayed, rebuilt and published in the newest shape (and name the newest schema). The schema files of
older versions stay here. `tests/golden/` holds a log of every event type as stored by earlier versions;
every version must still read it.

One difference between the district's copies and the city's: the relay blanks `phone` (an empty string, the
same schema) in `person.registered` and `person.contactupdated`, the people register's personal numbers,
which the city does not need (`gateway/citylink/privacy.py`); `GET /api/v1/events` and `yingji export` keep them.

| type | version | dataschema | event class | data fields |
|---|---|---|---|---|
{rows}
"""


def render() -> dict[str, str]:
    """File name -> content, for every current event type's schema and the index."""
    schemas = [schema_of(cls) for cls in event_classes()]
    files = {file_name(s["x-cloudevents-type"], s["x-yingji-version"]): json.dumps(s, ensure_ascii=False, indent=2) + "\n"
             for s in schemas}
    files["README.md"] = _index(schemas)
    return files


def stale(directory: Path = DOCS) -> list[str]:
    """Files that are missing or differ from what the event classes give (older versions' files are left alone)."""
    return sorted(name for name, text in render().items()
                  if not (directory / name).exists() or (directory / name).read_text(encoding="utf-8") != text)


def load(uri: str, directory: Path = DOCS) -> dict[str, Any]:
    """The committed schema a `dataschema` names."""
    body = uri.removeprefix(URI_PREFIX)
    type_, _, version = body.rpartition(":v")
    return json.loads((directory / f"{type_}.v{version}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        names = stale()
        if names:
            print("stale event schemas (python -m gateway.citylink.eventschemas):", ", ".join(names), file=sys.stderr)
        return 1 if names else 0
    DOCS.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        (DOCS / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(render())} files to {DOCS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
