"""Read models `campaign` (自查 / 督查: what was checked and found) and `rectification` (each finding's
rectification item to 销号), and the figures of a campaign's report.

The report's figures are one function (`campaign_figures`), used by the API's JSON and its `.xlsx`,
so the workbook and the page cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from domain.campaigns import rectification_overdue
from domain.units import street_of
from projections.reducer import Changes, Doc, Get, Reducer, actor_of, iso, sid, updated

CAMPAIGN = "campaign"
RECTIFICATION = "rectification"


def _opened(get: Get, e: Any) -> Changes:
    return {str(e.originator_id): {
        "id": str(e.originator_id), "kind": e.kind, "unit_code": e.unit_code, "title": e.title,
        "standard_version": e.standard_version, "units": list(e.units), "items": list(e.items), "deadline": iso(e.deadline), "checked": e.checked,
        "passed": e.passed, "tally": dict(e.tally), "findings": len(e.findings), "signed_off": 0, "escalated": 0, "status": "open",
        "opened_at": iso(e.timestamp), "opened_by": actor_of(e), "updated_at": iso(e.timestamp),
    }}


def _campaign_bump(field: str, close_when_done: bool = False):  # type: ignore[no-untyped-def]
    def handle(get: Get, e: Any) -> Changes:
        item = get(RECTIFICATION, str(e.originator_id))
        if item is None:
            return {}
        doc = get(CAMPAIGN, item["campaign_id"])
        if doc is None:
            return {}
        new = {**doc, field: doc[field] + 1, "updated_at": iso(e.timestamp)}
        if close_when_done and new["signed_off"] >= new["findings"]:
            new["status"] = "done"  # every finding 对标销号
        return {doc["id"]: new}

    return handle


CAMPAIGNS = Reducer(CAMPAIGN, {
    "Campaign.Opened": _opened,
    "Rectification.SignedOff": _campaign_bump("signed_off", close_when_done=True),
    "Rectification.Escalated": _campaign_bump("escalated"),
})


def _raised(get: Get, e: Any) -> Changes:
    # The campaign's own words (its title) stay with the campaign: a village reads its items, not the street's record.
    campaign = get(CAMPAIGN, str(e.campaign_id))
    return {str(e.originator_id): {
        "id": str(e.originator_id), "campaign_id": str(e.campaign_id), "campaign_kind": (campaign or {}).get("kind", ""),
        "unit_code": e.unit_code, "street_code": street_of(e.unit_code),
        "item_id": e.item_id, "standard": e.standard, "reason": dict(e.reason), "responsible": e.responsible,
        "deadline": iso(e.deadline), "status": "open", "raised_at": iso(e.timestamp), "signed_off_at": None,
        "signed_off_by": None, "evidence": None, "on_time": None, "note": "", "escalated_at": None, "updated_at": iso(e.timestamp),
    }}


RECTIFICATIONS = Reducer(RECTIFICATION, {
    "Rectification.Raised": _raised,
    "Rectification.SignedOff": lambda get, e: updated(get, RECTIFICATION, e, status="signed_off", signed_off_at=iso(e.timestamp),
                                                      signed_off_by=actor_of(e), evidence=dict(e.evidence), on_time=e.on_time,
                                                      note=e.note),
    "Rectification.Escalated": lambda get, e: updated(get, RECTIFICATION, e, escalated_at=iso(e.timestamp)),
})


def is_overdue(doc: Doc, now: datetime) -> bool:
    return rectification_overdue(doc["status"], datetime.fromisoformat(doc["deadline"]), now)


REPORT_FIELDS = ("units", "checked", "passed", "found", "signed_off", "on_time", "open", "overdue", "escalated")


def campaign_figures(campaign: Doc, items: Iterable[Doc], now: datetime) -> dict[str, Any]:
    """A campaign's report, per street (the unit's street) and in total: units checked, items checked and
    passed (from the campaign), findings, signed off (on time), open, overdue now, escalated."""
    rows: dict[str, dict[str, int]] = {}

    def row(street: str) -> dict[str, int]:
        return rows.setdefault(street, {k: 0 for k in REPORT_FIELDS})

    for code in campaign["units"]:
        r = row(street_of(code) or code)
        r["units"] += 1
        passed, checked = campaign["tally"].get(code, [0, 0])
        r["passed"] += passed
        r["checked"] += checked
    for it in items:
        r = row(it["street_code"] or it["unit_code"])
        r["found"] += 1
        r["signed_off"] += it["status"] == "signed_off"
        r["on_time"] += bool(it.get("on_time"))
        r["open"] += it["status"] == "open"
        r["overdue"] += is_overdue(it, now)
        r["escalated"] += it.get("escalated_at") is not None
    total = {k: sum(r[k] for r in rows.values()) for k in REPORT_FIELDS}
    return {"campaign": sid(campaign["id"]), "at": now.isoformat(), "streets": dict(sorted(rows.items())), "total": total}
