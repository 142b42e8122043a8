"""Incidents: report, verify, re-level, situation, control, close, dismiss; and their dispatches."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query

from domain.glossary import term
from domain.incidents import SITUATION_FIELDS
from domain.policy import SHANGHAI

from gateway.entrypoints.api.common import NO_FILTER, Filters, Limit, Offset, answer, page, scoped_list, visible_doc
from gateway.entrypoints.deps import CommandCtx, ContainerDep, PrincipalDep, ReadPosition
from gateway.entrypoints.schemas import Accepted, DispatchIn, IncidentIn, LevelIn, NoteIn, ReasonIn, SituationIn, SummaryIn
from gateway.entrypoints.xlsx import Sheet, download
from gateway.service_layer import commands as c
from projections.store import ListFilter

router = APIRouter(prefix="/incidents", tags=["incidents"])



@router.get("")
def list_incidents(
    container: ContainerDep,
    principal: PrincipalDep,
    position: ReadPosition,
    status: Annotated[list[str] | None, Query()] = None,
    limit: Limit = 100,
    offset: Offset = 0,
    filters: Filters = NO_FILTER,
    format: Literal["json", "xlsx"] = "json",
) -> Any:
    """Incidents in the caller's scope, newest change first: by status, text, street or village, category, level, dates.

    `format=xlsx`: every incident the filters select (up to EXPORT_LIMIT), as a workbook in Chinese."""
    if format == "xlsx":
        items, _ = scoped_list(container.store, principal, "incident", statuses=status, limit=EXPORT_LIMIT, filters=filters)
        names = {u["code"]: u["name"] for u in container.store.list("unit", limit=100_000)[0]}
        return download([incident_sheet(items, names)], "incidents.xlsx")
    items, total = scoped_list(container.store, principal, "incident", statuses=status, limit=limit, offset=offset, filters=filters)
    return page(items, total, position, limit, offset, container.store, "incident")


EXPORT_LIMIT = 10_000  # rows of one export; a narrower filter for more


def incident_sheet(items: list[dict[str, Any]], unit_names: dict[str, str]) -> Sheet:
    """The incident list as filed: place, type, level and status in words, casualty figures, the 2-hour report."""
    local = lambda v: datetime.fromisoformat(v).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if v else ""  # noqa: E731
    in_time = {True: term("statistic", "yes"), False: term("statistic", "no"), None: ""}
    rows = [[local(i["occurred_at"]), i["title"], unit_names.get(i["unit_code"], i["unit_code"]), i.get("address", ""),
             f"{term('category', i['category'])} · {term('subtype', i['subtype'])}", term("levelShort", i["level"]),
             term("incidentStatus", i["status"]), *[int((i.get("situation") or {}).get(k) or 0) for k in SITUATION_FIELDS],
             in_time[i.get("reported_upward_in_time")]] for i in items]
    return Sheet("sheet_incidents", ["occurred", "title", term("eventField", "unit_code"), "address", "type", "level", "status",
                                     *[term("situation", k) for k in SITUATION_FIELDS], "reported_upward_in_time"], rows)


@router.get("/{incident_id}")
def get_incident(incident_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    return visible_doc(container.store, principal, "incident", str(incident_id), "incident")


@router.post("", status_code=201, response_model=Accepted)
def report_incident(body: IncidentIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    command = c.ReportIncident(**{**body.model_dump(), "category": body.category.value, "level": body.level.value})
    return answer(container.service.handle(ctx, command), created=True)


@router.post("/{incident_id}/verify", response_model=Accepted)
def verify(incident_id: UUID, ctx: CommandCtx, container: ContainerDep, body: NoteIn | None = None) -> Any:
    return answer(container.service.handle(ctx, c.VerifyIncident(incident_id, body.note if body else "")))


@router.post("/{incident_id}/level", response_model=Accepted)
def change_level(incident_id: UUID, body: LevelIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.ChangeIncidentLevel(incident_id, body.level.value, body.reason)))


@router.post("/{incident_id}/situation", response_model=Accepted)
def update_situation(incident_id: UUID, body: SituationIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.UpdateSituation(incident_id, body.figures(), body.notes)))


@router.post("/{incident_id}/control", response_model=Accepted)
def control(incident_id: UUID, ctx: CommandCtx, container: ContainerDep, body: NoteIn | None = None) -> Any:
    return answer(container.service.handle(ctx, c.ControlIncident(incident_id, body.note if body else "")))


@router.post("/{incident_id}/close", response_model=Accepted)
def close(incident_id: UUID, body: SummaryIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.CloseIncident(incident_id, body.summary)))


@router.post("/{incident_id}/dismiss", response_model=Accepted)
def dismiss(incident_id: UUID, body: ReasonIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.DismissIncident(incident_id, body.reason)))


@router.get("/{incident_id}/dispatches")
def incident_dispatches(incident_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    visible_doc(container.store, principal, "incident", str(incident_id), "incident")
    # The same rule as GET /dispatches: a field account sees its own team's dispatches here too.
    items, total = scoped_list(container.store, principal, "dispatch", limit=1000, filters=ListFilter(ref_id=str(incident_id)))
    return page(items, total, position, 1000, 0)


@router.post("/{incident_id}/dispatches", status_code=201, response_model=Accepted)
def order_dispatch(incident_id: UUID, body: DispatchIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.OrderDispatch(incident_id, body.team_id, body.task, body.ack_minutes)), created=True)
