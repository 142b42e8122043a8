"""Notifications on the records they concern: each dispatch, warning, receipt, handover, report schedule or
village carries the messages sent about it (`notifications`: to whom, which channel, delivered, retrying or
failed, how many attempts, the last error), so its GET, the board and replay show them as they stood.

No read model of their own: the handlers below join the record's own reducer (projections.catalog), and every
Notification event names its record, so each is folded without looking anything else up.
"""

from __future__ import annotations

from typing import Any

from projections.reducer import Changes, Get, Handler, Reducer, iso

# Kinds read beyond the people told (units: every account, the map; a warning: every unit it targets, so a village
# reads the district's): their entries keep the channel, the post and the state, not the name nor the masked address.
PUBLIC_KINDS = frozenset({"unit", "warning"})
KEEP = 60  # messages kept per record (a warning to every village of a street: heads, reporters, phones)


def _entry(e: Any) -> dict[str, Any]:
    return {"id": str(e.originator_id), "purpose": e.purpose, "channel": e.channel, "recipient": e.recipient.get("name", ""),
            "post": e.recipient.get("post", ""), "address": e.address, "text": e.text, "urgent": e.urgent,
            "status": "deferred" if e.not_before else "queued", "not_before": iso(e.not_before), "attempts": 0,
            "error": "", "queued_at": iso(e.timestamp), "updated_at": iso(e.timestamp)}


def _apply(kind: str, get: Get, e: Any, change: dict[str, Any] | None) -> Changes:
    if e.record_kind != kind:
        return {}
    doc = get(kind, e.record_id)
    if doc is None:
        return {}
    entries = list(doc.get("notifications") or [])
    nid = str(e.originator_id)
    if change is None:  # queued
        entry = _entry(e)
        if kind in PUBLIC_KINDS:  # read by every account (the organisation tree): who was told stays out of it
            entry |= {"recipient": "", "address": ""}
        entries = [x for x in entries if x["id"] != nid] + [entry]
        entries = entries[-KEEP:]
    else:
        entries = [{**x, **change, "updated_at": iso(e.timestamp)} if x["id"] == nid else x for x in entries]
    return {e.record_id: {**doc, "notifications": entries}}


def handlers(kind: str) -> dict[str, Handler]:
    return {
        "Notification.Queued": lambda get, e: _apply(kind, get, e, None),
        "Notification.AttemptFailed": lambda get, e: _apply(kind, get, e, {"status": "retrying", "attempts": e.attempt,
                                                                           "error": e.error, "retry_at": iso(e.retry_at)}),
        "Notification.Delivered": lambda get, e: _apply(kind, get, e, {"status": "delivered", "attempts": e.attempt,
                                                                       "error": "", "delivered_at": iso(e.timestamp)}),
        "Notification.Failed": lambda get, e: _apply(kind, get, e, {"status": "failed", "attempts": e.attempt, "error": e.error}),
    }


def with_notifications(reducer: Reducer) -> Reducer:
    """The record's reducer, also folding the notifications about its records."""
    return Reducer(reducer.kind, {**reducer.handlers, **handlers(reducer.kind)})
