"""Readiness commands: a team's strength, inspection campaigns and the sign-off (销号) of their items.

The service judges the standard itself: opening a campaign evaluates every unit it checks, and a
sign-off evaluates the item's scorecard at that moment, from the facts the read models hold
(`ReadinessFacts`), never from anything the caller sends. So an item is signed off only when it is
green, with the green reason kept as its evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.campaigns import RUN_BY_LEVEL, Campaign, CampaignKind, Rectification, default_deadline
from domain.common import InvalidValue, parse_enum
from domain.readiness import CURRENT_STANDARD, POSTS, UnitFacts, item_verdict, scorecard, standard
from domain.teams import Team
from domain.units import code_level, within
from gateway.context import CommandContext
from gateway.service_layer import commands as c
from projections.readiness import facts_of
from projections.store import DocStore

if TYPE_CHECKING:
    from gateway.service_layer.service import Accepted, CommandService, Decision

# (unit codes or None for all, signins known) -> {code: facts}: the read side, wired by the composition root.
FactsSource = Callable[[list[str] | None], dict[str, UnitFacts]]


class ReadinessFacts:
    """The facts builder: each unit's readiness document (the read model) and its accounts' last sign-in."""

    def __init__(self, store: DocStore, last_signins: Callable[[], dict[str, datetime]]):
        self.store = store
        self.last_signins = last_signins

    def __call__(self, codes: list[str] | None = None) -> dict[str, UnitFacts]:
        if codes is None:
            docs, _ = self.store.list("readiness", limit=10_000_000)
        else:
            docs = [d for d in self.store.get_many({("readiness", code) for code in codes}).values() if d is not None]
        signins = self.last_signins()
        return {d["unit_code"]: facts_of(d, signins.get(d["unit_code"]), signins_known=True) for d in docs}


def _responsible(facts: UnitFacts) -> str:
    """Who answers for a unit's items: its committee's first director, or its station head, when the register names one."""
    for post in (POSTS["committee_director"], POSTS["station_head"]):
        names = [p.name for p in facts.people if post in p.posts]
        if names:
            return names[0]
    return ""


def change_team_strength(svc: CommandService, ctx: CommandContext, team_id: UUID, members: int, reason: str) -> Accepted:
    def decide() -> Decision:
        team = svc._load_readable(ctx, Team, team_id, "team", "team")
        ctx.principal.check_team(str(team.id))
        team.change_strength(members, reason, by=ctx.actor)
        return team.id, [team]

    return svc._execute(ctx, decide)


def open_campaign(svc: CommandService, ctx: CommandContext, kind: str, unit_code: str, title: str,
                  deadline: datetime | None = None, units: list[str] | None = None, items: list[str] | None = None) -> Accepted:
    kind = parse_enum(CampaignKind, kind, "kind")
    if code_level(unit_code) != RUN_BY_LEVEL[CampaignKind(kind)]:
        raise InvalidValue("a self-inspection (自查) is run by a street office over its own units; a supervision (督查) by the district",
                           field="unit_code")
    ctx.principal.check_unit(unit_code, "the campaign's unit")
    known = {i.id for i in standard(CURRENT_STANDARD).items}
    if items and not set(items) <= known:
        raise InvalidValue(f"unknown standard items {sorted(set(items) - known)}", field="items")
    for code in units or []:
        if not within(unit_code, code):
            raise InvalidValue(f"unit {code} is not under {unit_code}", field="units")

    def decide() -> Decision:
        now = svc.clock()
        facts = svc.readiness_facts(None)
        chosen = [code for code in sorted(facts) if within(unit_code, code) and (not units or code in units)]
        results: list[dict[str, Any]] = []
        for code in chosen:
            card = scorecard(facts[code], now, CURRENT_STANDARD)
            who = _responsible(facts[code])
            results += [{"unit_code": code, "item_id": i["id"], "standard": i["standard"], "status": i["status"],
                         "reason": i["reason"], "responsible": who} for i in card["items"] if not items or i["id"] in items]
        campaign = Campaign.open(kind=kind, unit_code=unit_code, title=title, standard_version=CURRENT_STANDARD, units=chosen,
                                 items=sorted(items or []),
                                 deadline=deadline or default_deadline(now), now=now, results=results, by=ctx.actor)
        raised = [Rectification.raise_item(campaign_id=campaign.id, finding=f, deadline=campaign.deadline, by=ctx.actor)
                  for f in campaign.findings]
        return campaign.id, [campaign, *raised]

    return svc._execute(ctx, decide)


def sign_off_rectification(svc: CommandService, ctx: CommandContext, rectification_id: UUID, note: str = "") -> Accepted:
    def decide() -> Decision:
        item = svc._load_readable(ctx, Rectification, rectification_id, "rectification", "rectification item")
        campaign = svc._load(Campaign, item.campaign_id, "campaign")
        now = svc.clock()
        facts = svc.readiness_facts([item.unit_code]).get(item.unit_code)
        if facts is None:
            raise InvalidValue(f"no readiness record for unit {item.unit_code}", field="rectification_id")
        item.sign_off(item_verdict(facts, item.item_id, now, campaign.standard_version), now, note, by=ctx.actor)
        return item.id, [item]

    return svc._execute(ctx, decide)


def escalate_rectification(svc: CommandService, ctx: CommandContext, rectification_id: UUID) -> Accepted:
    """The watchdog's command: the aggregate refuses a second escalation and anything not overdue."""
    def decide() -> Decision:
        item = svc._load(Rectification, rectification_id, "rectification item")
        item.escalate(svc.clock(), by=ctx.actor)
        return item.id, [item]

    return svc._execute(ctx, decide)


HANDLERS: dict[type[c.Command], Callable[..., Accepted]] = {
    c.ChangeTeamStrength: change_team_strength,
    c.OpenCampaign: open_campaign,
    c.SignOffRectification: sign_off_rectification,
    c.EscalateRectification: escalate_rectification,
}
