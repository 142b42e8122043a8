"""The read models' indexed columns: what the store can filter and sort on without reading bodies.

Every document is stored whole (`body`); the fields a list is filtered by are copied into indexed
columns when it is written, so a list costs what it returns rather than a scan of its kind. This is
the one place that says which field of which kind of document fills which column; the store writes
them and the list routes filter on them. Changing it changes the table: bump `SCHEMA` and the store
rebuilds the read models from the log at the next start.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from projections.reducer import Doc

SCHEMA = 3  # 1: (unit_code, status); 2: + ref_id, team_id, category, level, at, text; 3: + tags

# The filter columns besides (kind, id, unit_code, status, position), in table order.
FILTER_COLUMNS = ("ref_id", "team_id", "category", "level", "at", "text", "tags")

# The time a record is about, per kind: date-range filters and "newest first" use it.
_AT_FIELD = {
    "incident": "occurred_at",
    "dispatch": "ordered_at",
    "allocation": "requested_at",
    "directive": "issued_at",
    "daily_report": "day",
    "training": "day",
    "plan": "revised_on",
    "drill": "held_on",
}
# The free text a search looks in, per kind (case-folded, joined).
_TEXT_FIELDS = {
    "incident": ("title", "address", "description", "situation_notes"),
    "dispatch": ("incident_title", "task", "address"),
    "allocation": ("incident_title", "destination", "received_by"),
    "directive": ("title", "content", "issuer"),
    "daily_report": ("unit_name", "summary"),
    "warning": ("headline", "description", "instruction"),
    "team": ("name", "leader"),
    "warehouse": ("name", "address", "manager"),
    "unit": ("name",),
    "person": ("name", "unit_name"),  # never the phone: a search is not a way to probe numbers
    "training": ("topic", "unit_name"),
    "plan": ("title", "hazard"),
    "drill": ("scenario", "plan_title"),
}
# The record another one belongs to (a dispatch's or an allocation's incident).
_REF_FIELD = {"dispatch": "incident_id", "allocation": "incident_id", "warning_receipt": "warning_id",
              "disaster_report": "incident_id", "drill": "plan_id"}
# The level a list may be filtered by (a dispatch carries its incident's).
_LEVEL_FIELD = {"incident": "level", "dispatch": "incident_level", "directive": "level", "plan": "mechanism"}
# The category a list may be filtered by, where it is not the document's `category` (a plan's or a drill's kind).
_CATEGORY_FIELD = {"plan": "kind", "drill": "kind"}
TEXT_LIMIT = 2000  # characters of searchable text kept per document
# Codes a record holds several of, matched whole (`|a|b|` LIKE `%|a|%`): a person's posts.
_TAGS_FIELD = {"person": "posts"}


def utc_key(value: str | None) -> str | None:
    """An ISO timestamp as a UTC string that sorts and compares as text; a bare date stays as it is."""
    if not value:
        return None
    if len(value) == 10:  # a day, YYYY-MM-DD
        return value
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def search_text(kind: str, doc: Doc) -> str | None:
    parts = [str(doc.get(f) or "") for f in _TEXT_FIELDS.get(kind, ())]
    text = " ".join(p for p in parts if p).casefold()
    return text[:TEXT_LIMIT] or None


def tags(kind: str, doc: Doc) -> str | None:
    values = doc.get(_TAGS_FIELD[kind]) if kind in _TAGS_FIELD else None
    return "|" + "|".join(str(v) for v in values) + "|" if values else None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def filter_columns(kind: str, doc: Doc) -> tuple[str | None, ...]:
    """The values of FILTER_COLUMNS for one document."""
    return (
        _str(doc.get(_REF_FIELD[kind])) if kind in _REF_FIELD else None,
        _str(doc.get("team_id")),
        _str(doc.get(_CATEGORY_FIELD.get(kind, "category"))),
        _str(doc.get(_LEVEL_FIELD[kind])) if kind in _LEVEL_FIELD else None,
        utc_key(doc.get(_AT_FIELD[kind])) if kind in _AT_FIELD else None,
        search_text(kind, doc),
        tags(kind, doc),
    )

