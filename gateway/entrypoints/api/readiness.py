"""Readiness (1+4 / 1+3 / 六有): scorecards derived from the facts at the moment asked (or as they stood on
a past day, from replay), the standard itself, a team's strength, inspection campaigns (自查 / 督查),
their rectification items to 对标销号, a campaign's report and the district's annual assessment, both
also as `.xlsx` with the same figures as the JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from domain.common import InvalidValue
from domain.glossary import term
from domain.policy import local_day
from domain.readiness import CURRENT_STANDARD, Standard, scorecard, standard
from domain.units import scope_prefix, within
from gateway.entrypoints.api.board import visible_to
from gateway.entrypoints.api.common import Limit, Offset, answer, page, scoped_list, visible_doc
from gateway.entrypoints.deps import CommandCtx, ContainerDep, PrincipalDep, ReadPosition
from gateway.entrypoints.schemas import Accepted, CampaignIn, SignOffIn, StrengthIn
from gateway.entrypoints.xlsx import Sheet, download
from gateway.service_layer import commands as c
from projections.campaigns import REPORT_FIELDS, campaign_figures, is_overdue
from projections.readiness import facts_of, rollup
from projections.store import ListFilter

router = APIRouter(tags=["readiness"])
ALL = 10_000_000
StandardQ = Annotated[str | None, Query(pattern="^(s1_4|v1_3|six)$", description="only this standard's items")]
UnitQ = Annotated[str | None, Query(pattern=r"^[0-9]{12}$", description="a street's or village's code: its subtree")]


def cards_now(container: Any, principal: Any, unit: str | None = None) -> tuple[datetime, list[dict[str, Any]]]:
    """Every scorecard in the caller's scope, judged now from the read models and the accounts' sign-ins."""
    now = container.service.clock()
    narrowed = ListFilter(unit_prefix=scope_prefix(unit)) if unit else None
    docs, _ = scoped_list(container.store, principal, "readiness", limit=ALL, filters=narrowed)
    signins = container.accounts.last_signins()
    return now, [scorecard(facts_of(d, signins.get(d["unit_code"]), signins_known=True), now) | {"teams": teams_of(d)} for d in docs]


def teams_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The unit's teams (id, name, kind, members), so the page can change a team's strength where its item is judged."""
    return [{"id": key.split(":", 1)[1], **t} for key, t in sorted(doc["facts"]["teams"].items())]


def _narrow(cards: list[dict[str, Any]], std: str | None, status: str | None) -> list[dict[str, Any]]:
    out = []
    for card in cards:
        items = [i for i in card["items"] if std is None or i["standard"] == std]
        if not items or (status and not any(i["status"] == status for i in items)):
            continue
        out.append({**card, "items": items})
    return out


@router.get("/readiness")
async def readiness(
    container: ContainerDep, principal: PrincipalDep, position: ReadPosition, unit: UnitQ = None,
    standard_: Annotated[str | None, Query(alias="standard", pattern="^(s1_4|v1_3|six)$")] = None,
    status: Annotated[str | None, Query(pattern="^(green|red|unknown)$", description="units with an item in this state")] = None,
    at: Annotated[datetime | None, Query(description="as it stood at this moment (replay), ISO-8601 with time zone")] = None,
    as_of: Annotated[int | None, Query(ge=0, le=2**53, description="as it stood at this log position (replay)")] = None,
) -> dict[str, Any]:
    """Each unit's items green or red with the reason in words, per street and for the district. With `at`, the
    scorecards as they stood then, folded from the log; the platform item is then not judged (sign-ins are kept
    beside the log, not in it)."""
    replay = at is not None or as_of is not None
    if not replay:
        now, cards = await run_in_threadpool(cards_now, container, principal, unit)
    else:
        if at is not None and as_of is not None:
            raise InvalidValue("give at most one of at or as_of", field="at")
        if at is not None and at.tzinfo is None:
            raise InvalidValue("at needs a time zone, e.g. 2026-07-20T02:14:00+08:00", field="at")
        board = await run_in_threadpool(container.checkpoints.board_at, as_of, at, visible_to(principal))
        now = datetime.fromisoformat(board["at"])  # the moment replayed: the last event's time at or before it
        cards = [scorecard(facts_of(d), now) | {"teams": teams_of(d)} for d in board.get("readiness", [])
                 if unit is None or within(unit, d["unit_code"])]
    cards.sort(key=lambda card: card["unit_code"])
    shown = _narrow(cards, standard_, status)
    return {"position": position, "at": now.isoformat(), "version": CURRENT_STANDARD, "replay": replay,
            "units": shown, **rollup(cards)}


@router.get("/readiness/standard")
def readiness_standard(version: Annotated[str, Query(max_length=20)] = CURRENT_STANDARD) -> dict[str, Any]:
    """The versioned standard: each item, the unit kinds it applies to, what it requires and its evidence."""
    s = standard(version)
    return {"version": s.version, "standards": [x.value for x in Standard], "items": [
        {"id": i.id, "standard": i.standard, "name": {"zh": term("readinessItem", i.id), "en": term("readinessItem", i.id, "en")},
         "requires": {"zh": i.requires[0], "en": i.requires[1]}, "evidence": {"zh": i.evidence[0], "en": i.evidence[1]},
         "evaluator": i.evaluator} for i in s.items]}


@router.post("/teams/{team_id}/strength", response_model=Accepted)
def change_team_strength(team_id: UUID, body: StrengthIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.ChangeTeamStrength(team_id, body.members, body.reason)))


# -- campaigns ---------------------------------------------------------------------------------------
@router.post("/campaigns", status_code=201, response_model=Accepted)
def open_campaign(body: CampaignIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.OpenCampaign(**body.model_dump())), created=True)


@router.get("/campaigns")
def list_campaigns(container: ContainerDep, principal: PrincipalDep, position: ReadPosition, limit: Limit = 100,
                   offset: Offset = 0) -> dict[str, Any]:
    items, total = scoped_list(container.store, principal, "campaign", limit=limit, offset=offset)
    return page(items, total, position, limit, offset)


def _items_of(container: Any, principal: Any, campaign_id: str) -> list[dict[str, Any]]:
    docs, _ = scoped_list(container.store, principal, "rectification", limit=ALL, filters=None)
    return sorted((d for d in docs if d["campaign_id"] == campaign_id), key=lambda d: (d["unit_code"], d["item_id"]))


@router.get("/campaigns/{campaign_id}")
def get_campaign(campaign_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    doc = visible_doc(container.store, principal, "campaign", str(campaign_id), "campaign")
    now = container.service.clock()
    items = [{**d, "overdue": is_overdue(d, now)} for d in _items_of(container, principal, doc["id"])]
    return {**doc, "items": items, "position": position}


@router.get("/campaigns/{campaign_id}/report", response_model=None)
def campaign_report(campaign_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition,
                    format: Annotated[str, Query(pattern="^(json|xlsx)$")] = "json") -> dict[str, Any] | Response:
    """Per street: units and items checked, items met, gaps found, signed off (on time), open, overdue, escalated."""
    doc = visible_doc(container.store, principal, "campaign", str(campaign_id), "campaign")
    now = container.service.clock()
    items = _items_of(container, principal, doc["id"])
    figures = campaign_figures(doc, items, now)
    if format == "json":
        return {**figures, "title": doc["title"], "kind": doc["kind"], "position": position}
    names = _unit_names(container)
    heads = [term("statistic", "street"), *[term("campaignStat", k) for k in REPORT_FIELDS]]
    rows = [[names.get(code, code), *[row[k] for k in REPORT_FIELDS]] for code, row in figures["streets"].items()]
    rows.append([term("campaignStat", "total"), *[figures["total"][k] for k in REPORT_FIELDS]])
    detail = [[names.get(d["unit_code"], d["unit_code"]), term("readinessItem", d["item_id"]), d["reason"]["zh"], d["responsible"],
               _local(d["deadline"]), term("rectificationStatus", d["status"]), (d.get("evidence") or {}).get("zh", "")]
              for d in items]
    detail_heads = [term("rectificationField", k) for k in ("unit", "item", "reason", "responsible", "deadline", "status", "evidence")]
    return download([Sheet(doc["title"][:31], heads, rows), Sheet(term("eventKind", "rectification"), detail_heads, detail)],
                    f"campaign-{doc['id'][:8]}.xlsx")


def _local(value: str | None) -> str:
    return local_day(datetime.fromisoformat(value)).isoformat() if value else ""


def _unit_names(container: Any) -> dict[str, str]:
    units, _ = container.store.list("unit", limit=ALL)
    return {u["code"]: u["name"] for u in units}


@router.get("/rectifications")
def list_rectifications(
    container: ContainerDep, principal: PrincipalDep, position: ReadPosition,
    status: Annotated[list[str] | None, Query()] = None, unit: UnitQ = None,
    overdue: Annotated[bool | None, Query(description="only those open past their deadline")] = None,
    limit: Limit = 100, offset: Offset = 0,
) -> dict[str, Any]:
    now = container.service.clock()
    narrowed = ListFilter(unit_prefix=scope_prefix(unit)) if unit else None
    every, _ = scoped_list(container.store, principal, "rectification", statuses=status, limit=ALL, filters=narrowed)
    every = [{**d, "overdue": is_overdue(d, now)} for d in every]
    if overdue is not None:
        every = [d for d in every if d["overdue"] == overdue]
    every.sort(key=lambda d: (d["status"] != "open", d["deadline"], d["unit_code"], d["item_id"]))
    return page(every[offset : offset + limit], len(every), position, limit, offset) | {"at": now.isoformat()}


@router.post("/rectifications/{rectification_id}/sign-off", response_model=Accepted)
def sign_off(rectification_id: UUID, body: SignOffIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.SignOffRectification(rectification_id, body.note)))


# -- the annual assessment (年度考核) ---------------------------------------------------------------------
ASSESSMENT_FIELDS = ("units", "complete", "items", "green", "rate", "found", "signed_off", "open", "escalated")


def assessment(container: Any, principal: Any, year: int) -> dict[str, Any]:
    """Per street: its units' readiness now (units complete, items met of items, the rate) and the year's
    campaigns (gaps found, signed off, open, escalated); the district's row sums them."""
    now, cards = cards_now(container, principal)
    rolled = rollup(cards)
    docs, _ = scoped_list(container.store, principal, "rectification", limit=ALL)
    rows: dict[str, dict[str, Any]] = {}
    for s in rolled["streets"]:
        rows[s["street_code"]] = {"street_code": s["street_code"], "units": s["units"], "complete": s["complete"],
                                  "items": s["items"], "green": s["green"], "found": 0, "signed_off": 0, "open": 0, "escalated": 0}
    for d in docs:
        if local_day(datetime.fromisoformat(d["raised_at"])).year != year:
            continue
        row = rows.get(d["street_code"] or d["unit_code"])
        if row is None:
            continue
        row["found"] += 1
        row["signed_off"] += d["status"] == "signed_off"
        row["open"] += d["status"] == "open"
        row["escalated"] += d.get("escalated_at") is not None
    total = {k: sum(r[k] for r in rows.values()) for k in ASSESSMENT_FIELDS if k != "rate"}
    for r in [*rows.values(), total]:
        r["rate"] = round(r["green"] / r["items"], 4) if r["items"] else None
    return {"year": year, "at": now.isoformat(), "streets": [rows[k] for k in sorted(rows)], "total": total}


@router.get("/readiness/assessment", response_model=None)
def annual_assessment(container: ContainerDep, principal: PrincipalDep, position: ReadPosition,
                      year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
                      format: Annotated[str, Query(pattern="^(json|xlsx)$")] = "json") -> dict[str, Any] | Response:
    year = year or local_day(container.service.clock()).year
    body = assessment(container, principal, year)
    if format == "json":
        return body | {"position": position}
    names = _unit_names(container)
    heads = [term("statistic", "street"), *[term("assessmentStat", k) for k in ASSESSMENT_FIELDS]]
    rows = [[names.get(r["street_code"], r["street_code"]), *[r[k] for k in ASSESSMENT_FIELDS]] for r in body["streets"]]
    rows.append([term("campaignStat", "total"), *[body["total"][k] for k in ASSESSMENT_FIELDS]])
    return download([Sheet(f"{year} {term('campaignStat', 'assessment')}", heads, rows)], f"assessment-{year}.xlsx")

