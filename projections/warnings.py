"""Read models of early warnings (预警).

`warning`: each warning with its content as it stands, every CAP message sent for it (each with the content it
carried, so `GET /warnings/{id}/cap` can serve any version) and the history of its updates.
`warning_receipt`: one document per receiving unit of each warning: signed or not, late, escalated, the
latest response figures. On the board while its warning is in force; lifting the warning closes them.

Whether a warning is in force or expired, and whether an unsigned receipt is overdue, is judged from time
at the moment asked (domain.policy), never stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.policy import warning_in_force
from domain.warnings import RESPONSE_MEASURES, receipt_id
from projections.reducer import Changes, Get, Reducer, actor_of, iso, updated

K = "warning"
R = "warning_receipt"
CONTENT = ("category", "subtype", "level", "headline", "description", "instruction", "onset", "expires", "targets", "exercise")


def street_code(unit_code: str) -> str:
    return unit_code[:9] + "000"


def _content(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in CONTENT}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _drafted(get: Get, e: Any) -> Changes:
    names = {code: (get("unit", code) or {}).get("name", code) for code in e.targets}
    return {
        str(e.originator_id): {
            "id": str(e.originator_id),
            "category": e.category,
            "subtype": e.subtype,
            "level": e.level,
            "headline": e.headline,
            "description": e.description,
            "instruction": e.instruction,
            "onset": iso(e.onset),
            "expires": iso(e.expires),
            "targets": list(e.targets),
            "target_names": names,
            "unit_code": e.issuer_unit,
            "issuer_name": e.issuer_name,
            "exercise": bool(e.exercise),
            "source": e.source,
            "upstream": dict(e.upstream or {}),
            "status": "draft",
            "version": 0,
            "identifier": None,
            "messages": [],
            "history": [],
            "receivers": [],
            "receipt_deadline": None,
            "drafted_at": iso(e.timestamp),
            "drafted_by": actor_of(e),
            "issued_at": None,
            "issued_by": None,
            "lifted_at": None,
            "lift_reason": "",
            "updated_at": iso(e.timestamp),
        }
    }


def _message(doc: dict[str, Any], message: dict[str, str], version: int) -> dict[str, Any]:
    return {**message, "version": version, "content": _content(doc)}


def _issued(get: Get, e: Any) -> Changes:
    doc = get(K, str(e.originator_id))
    if doc is None:
        return {}
    doc = {**doc, "status": "issued", "version": 1, "issued_at": iso(e.timestamp), "issued_by": actor_of(e),
           "receipt_deadline": iso(e.receipt_deadline), "receivers": list(e.receivers), "identifier": e.message["identifier"],
           "forwarded_from": e.forwarded_from, "updated_at": iso(e.timestamp)}
    doc["messages"] = [_message(doc, e.message, 1)]
    return {doc["id"]: doc}


def _updated(get: Get, e: Any) -> Changes:
    doc = get(K, str(e.originator_id))
    if doc is None:
        return {}
    changes = {k: _plain(v) for k, v in e.changes.items()}
    doc = {**doc, **changes, "version": e.revision, "identifier": e.message["identifier"], "updated_at": iso(e.timestamp)}
    doc["history"] = [*doc["history"], {"version": e.revision, "changes": changes, "previous": {k: _plain(v) for k, v in e.previous.items()},
                                        "reason": e.reason, "at": iso(e.timestamp), "by": actor_of(e)}]
    doc["messages"] = [*doc["messages"], _message(doc, e.message, e.revision)]
    return {doc["id"]: doc}


def _lifted(get: Get, e: Any) -> Changes:
    doc = get(K, str(e.originator_id))
    if doc is None:
        return {}
    doc = {**doc, "status": "lifted", "lifted_at": iso(e.timestamp), "lift_reason": e.reason, "identifier": e.message["identifier"],
           "updated_at": iso(e.timestamp)}
    doc["messages"] = [*doc["messages"], _message(doc, e.message, doc["version"])]
    return {doc["id"]: doc}


WARNINGS = Reducer(K, {"Warning.Drafted": _drafted, "Warning.Issued": _issued, "Warning.Updated": _updated, "Warning.Lifted": _lifted})


def _delivered(get: Get, e: Any) -> Changes:
    return {
        str(e.originator_id): {
            "id": str(e.originator_id),
            "warning_id": str(e.warning_id),
            "unit_code": e.unit_code,
            "street_code": street_code(e.unit_code),
            "level": e.level,
            "exercise": bool(e.exercise),
            "deadline": iso(e.deadline),
            "status": "pending",
            "delivered_at": iso(e.timestamp),
            "signed_at": None,
            "signed_by": None,
            "late": False,
            "escalated_at": None,
            "measures": {},
            "note": "",
            "responded_at": None,
            "responses": 0,
            "closed": False,
            "revision": 1,
            "earlier": [],
            "updated_at": iso(e.timestamp),
        }
    }


def _acknowledged(get: Get, e: Any) -> Changes:
    doc = get(R, str(e.originator_id))
    if doc is None:
        return {}
    status = "closed" if doc.get("closed") else "signed"
    return updated(get, R, e, status=status, signed_at=iso(e.timestamp), signed_by=actor_of(e), late=bool(e.late), sign_note=e.note)


def _responded(get: Get, e: Any) -> Changes:
    doc = get(R, str(e.originator_id))
    if doc is None:
        return {}
    return updated(get, R, e, measures=dict(e.measures), note=e.note, responded_at=iso(e.timestamp), responses=doc.get("responses", 0) + 1)


def _receipts_lifted(get: Get, e: Any) -> Changes:
    """Lifting a warning takes its receipts off the board (signed or not, as they stood)."""
    w = get(K, str(e.originator_id))
    if w is None:
        return {}
    out: Changes = {}
    for code in w.get("receivers", []):
        rid = str(receipt_id(w["id"], code))
        doc = get(R, rid)
        if doc is not None:
            out[rid] = {**doc, "status": "closed", "closed": True, "updated_at": iso(e.timestamp)}
    return out


def _receipts_updated(get: Get, e: Any) -> Changes:
    """A new level reaches every receipt, so the board and the phones show the level in force."""
    if "level" not in e.changes:
        return {}
    w = get(K, str(e.originator_id))
    if w is None:
        return {}
    out: Changes = {}
    for code in w.get("receivers", []):
        rid = str(receipt_id(w["id"], code))
        doc = get(R, rid)
        if doc is not None:
            out[rid] = {**doc, "level": e.changes["level"], "updated_at": iso(e.timestamp)}
    return out


def _redelivered(get: Get, e: Any) -> Changes:
    """A new, higher level: the receipt waits for a new signature; the earlier one is kept beside it."""
    doc = get(R, str(e.originator_id))
    if doc is None:
        return {}
    earlier = [*doc.get("earlier", []), {"revision": doc.get("revision", 1), "signed_at": doc.get("signed_at"), "late": doc.get("late", False),
                                          "escalated_at": doc.get("escalated_at")}]
    status = "closed" if doc.get("closed") else "pending"
    return updated(get, R, e, status=status, revision=e.revision, level=e.level, deadline=iso(e.deadline), signed_at=None, signed_by=None,
                   late=False, escalated_at=None, earlier=earlier)


RECEIPTS = Reducer(R, {
    "WarningReceipt.Redelivered": _redelivered,
    "WarningReceipt.Delivered": _delivered,
    "WarningReceipt.Acknowledged": _acknowledged,
    "WarningReceipt.Escalated": lambda get, e: updated(get, R, e, escalated_at=iso(e.timestamp)),
    "WarningReceipt.Responded": _responded,
    "Warning.Lifted": _receipts_lifted,
    "Warning.Updated": _receipts_updated,
})


def in_force(w: dict[str, Any], now: datetime) -> bool:
    return warning_in_force(w["status"], datetime.fromisoformat(w["expires"]), now)


def shown_status(w: dict[str, Any], now: datetime) -> str:
    """draft, issued, expired (past its expiry, nobody acted) or lifted."""
    if w["status"] == "issued" and not in_force(w, now):
        return "expired"
    return w["status"]


def receipt_state(r: dict[str, Any], now: datetime) -> str:
    """pending, overdue, signed or late (signed after the deadline)."""
    if r.get("signed_at"):
        return "late" if r.get("late") else "signed"
    return "overdue" if datetime.fromisoformat(r["deadline"]) < now else "pending"


def rollup(receipts: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """Receipts and response figures per street (the street's own receipt and its villages'), and the total."""
    streets: dict[str, dict[str, Any]] = {}
    total = {"receivers": 0, "signed": 0, "late": 0, "overdue": 0, "pending": 0, "measures": {m: 0 for m in RESPONSE_MEASURES}}
    for r in receipts:
        row = streets.setdefault(r["street_code"], {"street_code": r["street_code"], "receivers": 0, "signed": 0, "late": 0,
                                                     "overdue": 0, "pending": 0, "measures": {m: 0 for m in RESPONSE_MEASURES}})
        state = receipt_state(r, now)
        for target in (row, total):
            target["receivers"] += 1
            if state in ("signed", "late"):
                target["signed"] += 1
            if state == "late":
                target["late"] += 1
            if state in ("overdue", "pending"):
                target[state] += 1
            for m, v in (r.get("measures") or {}).items():
                target["measures"][m] = target["measures"].get(m, 0) + v
    return {"streets": [streets[k] for k in sorted(streets)], "total": total}
