"""Inspection campaigns (检查验收 → 整改提升 → 对标销号).

A campaign is a self-inspection (自查) by a street office over its own units, or the district's
supervision and assessment (督查考核) over its streets and villages. It checks each unit against the
readiness standard (domain.readiness) at the moment it is opened, and records what it found: every
item that was red becomes a rectification item (整改事项) owned by that unit, with the reason in words,
a responsible person where the people register names one, and a deadline.

A rectification item is signed off (销号) only when its scorecard item is green at that moment: the
service judges the item from the facts and hands the verdict in, so a sign-off carries its evidence
(the green reason) and a red item cannot be ticked off. An item still open past its deadline is
escalated once (the watchdog).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidTransition, InvalidValue, event_versions, natural_id, parse_enum
from domain.readiness import ItemStatus, Verdict
from domain.units import code_level

RECTIFY_DAYS = 14  # the plan's 整改提升 stage: two weeks from the checking to 对标销号, unless the campaign sets another


class CampaignKind(StrEnum):
    SELF = "self"  # 自查: a street office over its own units
    SUPERVISION = "supervision"  # 督查考核: the district over its streets and villages


# Which level of unit runs which kind of campaign (0: the district, 1: a street or the cluster).
RUN_BY_LEVEL = {CampaignKind.SELF: 1, CampaignKind.SUPERVISION: 0}


class RectificationStatus(StrEnum):
    OPEN = "open"  # 整改中
    SIGNED_OFF = "signed_off"  # 已销号


def _text(value: str, field: str, limit: int = 200) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidValue(f"{field} is required", field=field)
    if len(value) > limit:
        raise InvalidValue(f"{field} is at most {limit} characters", field=field)
    return value


class Campaign(Aggregate):
    class_version = 1

    @event("Opened")
    def __init__(self, kind: str, unit_code: str, title: str, standard_version: str, units: list[str], items: list[str], deadline: datetime,
                 checked: int, passed: int, tally: dict[str, list[int]], findings: list[dict[str, Any]], by: Actor) -> None:
        self.kind = kind
        self.unit_code = unit_code
        self.title = title
        self.standard_version = standard_version
        self.units = units
        self.deadline = deadline
        self.findings = findings

    @classmethod
    def open(cls, *, kind: str, unit_code: str, title: str, standard_version: str, units: list[str], deadline: datetime,
             now: datetime, results: list[dict[str, Any]], by: Actor, items: list[str] | None = None) -> Campaign:
        """`results`: every item judged, each {unit_code, item_id, standard, status, reason{zh,en}, responsible};
        `items`: the standard items a special inspection (专项检查) checked (empty: all)."""
        kind = parse_enum(CampaignKind, kind, "kind")
        if code_level(unit_code) != RUN_BY_LEVEL[CampaignKind(kind)]:
            raise InvalidValue("a self-inspection is run by a street office; a supervision by the district", field="unit_code")
        if deadline.tzinfo is None:
            raise InvalidValue("deadline needs a time zone", field="deadline")
        if deadline <= now:
            raise InvalidValue("the rectification deadline must be in the future", field="deadline")
        if not units:
            raise InvalidValue("a campaign checks at least one unit", field="units")
        findings = [{k: r[k] for k in ("unit_code", "item_id", "standard", "reason", "responsible")}
                    for r in results if r["status"] == ItemStatus.RED]
        passed = sum(1 for r in results if r["status"] == ItemStatus.GREEN)
        tally: dict[str, list[int]] = {}  # per unit: [items passed, items checked]
        for r in results:
            row = tally.setdefault(r["unit_code"], [0, 0])
            row[0] += r["status"] == ItemStatus.GREEN
            row[1] += 1
        return cls(kind=kind, unit_code=unit_code, title=_text(title, "title"), standard_version=standard_version,
                   units=sorted(units), items=sorted(items or []), deadline=deadline, checked=len(results), passed=passed, tally=tally, findings=findings, by=by)


def default_deadline(now: datetime) -> datetime:
    return now + timedelta(days=RECTIFY_DAYS)


def rectification_id(campaign_id: UUID, unit_code: str, item_id: str) -> UUID:
    """One rectification item per campaign, unit and standard item: raising it twice is the same aggregate."""
    return natural_id("rectification", f"{campaign_id}:{unit_code}:{item_id}")


def rectification_overdue(status: str, deadline: datetime, now: datetime) -> bool:
    return status == RectificationStatus.OPEN and now > deadline


class Rectification(Aggregate):
    class_version = 1

    @staticmethod
    def create_id(campaign_id: UUID, unit_code: str, item_id: str, **_: Any) -> UUID:
        return rectification_id(campaign_id, unit_code, item_id)

    @event("Raised")
    def __init__(self, campaign_id: UUID, unit_code: str, item_id: str, standard: str, reason: dict[str, str],
                 responsible: str, deadline: datetime, by: Actor) -> None:
        self.campaign_id = campaign_id
        self.unit_code = unit_code
        self.item_id = item_id
        self.deadline = deadline
        self.status = RectificationStatus.OPEN.value
        self.escalated = False

    @classmethod
    def raise_item(cls, *, campaign_id: UUID, finding: dict[str, Any], deadline: datetime, by: Actor) -> Rectification:
        return cls(campaign_id=campaign_id, unit_code=finding["unit_code"], item_id=finding["item_id"],
                   standard=finding["standard"], reason=dict(finding["reason"]), responsible=finding.get("responsible", ""),
                   deadline=deadline, by=by)

    def sign_off(self, verdict: Verdict, now: datetime, note: str, by: Actor) -> None:
        """销号: only when the scorecard item is green now; the green reason is kept as the evidence."""
        if self.status != RectificationStatus.OPEN:
            raise InvalidTransition("the item is already signed off", state=self.status)
        if verdict.status != ItemStatus.GREEN:
            raise InvalidTransition(f"the item is still not met: {verdict.zh}", reason="not_green",
                                    evidence={"zh": verdict.zh, "en": verdict.en})
        self._signed_off(evidence={"zh": verdict.zh, "en": verdict.en}, on_time=now <= self.deadline,
                         note=(note or "").strip()[:500], by=by)

    @event("SignedOff")
    def _signed_off(self, evidence: dict[str, str], on_time: bool, note: str, by: Actor) -> None:
        self.status = RectificationStatus.SIGNED_OFF.value

    def escalate(self, now: datetime, by: Actor) -> None:
        """Once, when the deadline has passed with the item still open."""
        if not rectification_overdue(self.status, self.deadline, now):
            raise InvalidTransition("the rectification deadline has not passed with the item open", state=self.status)
        if self.escalated:
            raise InvalidTransition("already escalated")
        self._escalated(deadline=self.deadline, by=by)

    @event("Escalated")
    def _escalated(self, deadline: datetime, by: Actor) -> None:
        self.escalated = True


event_versions(Campaign, Opened=1)
event_versions(Rectification, Raised=1, SignedOff=1, Escalated=1)
