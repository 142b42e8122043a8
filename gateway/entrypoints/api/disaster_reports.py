"""Staged disaster reports (灾情报告 初报/续报/核报): draft, revise, sign off, submit; what is due; the .xlsx export.

The printable standard form is a page (ui/report-form.html) drawn from `GET /disaster-reports/{id}`
with the glossary's words; the .xlsx export carries the same figures with the same words.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import Response

from domain.disaster_reports import FIGURES, SECTORS
from domain.glossary import term
from domain.policy import SHANGHAI
from gateway.entrypoints.api.common import Limit, Offset, answer, page, scoped_list, visible_doc
from gateway.entrypoints.deps import CommandCtx, ContainerDep, PrincipalDep, ReadPosition
from gateway.entrypoints.schemas import Accepted, DisasterFiguresIn, DisasterReportIn, NoteIn
from gateway.service_layer import commands as c
from projections.disaster_reports import owing
from projections.store import ListFilter

router = APIRouter(tags=["disaster reports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _figures(body: DisasterFiguresIn) -> tuple[dict[str, Any], dict[str, Any]]:
    return body.figures.model_dump(), dict(body.sectors)  # type: ignore[attr-defined]


@router.post("/incidents/{incident_id}/disaster-reports", status_code=201, response_model=Accepted)
def draft(incident_id: UUID, body: DisasterReportIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    """Draft the incident's 初报, today's 续报 or its 核报 (once controlled)."""
    figures, sectors = _figures(body)
    command = c.DraftDisasterReport(incident_id, body.stage.value, figures, sectors, body.notes)
    return answer(container.service.handle(ctx, command), created=True)


@router.post("/disaster-reports/{report_id}/revise", response_model=Accepted)
def revise(report_id: UUID, body: DisasterFiguresIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    """New figures for a draft, or for a signed report (its sign-off is void: it is a draft again)."""
    figures, sectors = _figures(body)
    return answer(container.service.handle(ctx, c.ReviseDisasterReport(report_id, figures, sectors, body.notes)))


@router.post("/disaster-reports/{report_id}/sign-off", response_model=Accepted)
def sign_off(report_id: UUID, ctx: CommandCtx, container: ContainerDep, body: NoteIn | None = None) -> Any:
    return answer(container.service.handle(ctx, c.SignOffDisasterReport(report_id, body.note if body else "")))


@router.post("/disaster-reports/{report_id}/submit", response_model=Accepted)
def submit(report_id: UUID, ctx: CommandCtx, container: ContainerDep) -> Any:
    """Submit upward: the event goes to the city with the relay; the city's acknowledgement is recorded on the report."""
    return answer(container.service.handle(ctx, c.SubmitDisasterReport(report_id)))


@router.get("/disaster-reports")
def list_reports(container: ContainerDep, principal: PrincipalDep, position: ReadPosition,
                 incident_id: UUID | None = None, status: Annotated[list[str] | None, Query()] = None,
                 limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
    filters = ListFilter(ref_id=str(incident_id)) if incident_id else None
    items, total = scoped_list(container.store, principal, "disaster_report", statuses=status, limit=limit, offset=offset,
                               filters=filters)
    return page(items, total, position, limit, offset)


@router.get("/disaster-reports/due")
def due(container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    """What each natural-disaster incident in scope owes now: stage, deadline, overdue, and its report if drafted."""
    now = container.service.clock()
    schedules, _ = scoped_list(container.store, principal, "report_schedule", statuses=["open"], limit=100_000)
    items = [{**o, "incident_title": s["title"], "unit_code": s["unit_code"], "level": s["level"]}
             for s in schedules for o in owing(s, now, container.settings.verified_report_days)]
    items.sort(key=lambda o: o["due_at"])
    result = page(items, len(items), position, len(items), 0)
    return result | {"at": now.isoformat(), "overdue": sum(1 for o in items if o["overdue"])}


@router.get("/disaster-reports/{report_id}")
def get_report(report_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    return visible_doc(container.store, principal, "disaster_report", str(report_id), "disaster report")


def _local(value: str | None) -> str:
    return datetime.fromisoformat(value).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else ""


def workbook(report: dict[str, Any], unit_name: str) -> bytes:
    """The report as the standard form's table, in Chinese: the figures exactly as the API holds them."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "灾情报告"
    ws.append([f"自然灾害情况统计 · {term('reportStage', report['stage'])}"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["填报单位", unit_name])
    ws.append(["灾害事件", report["incident_title"]])
    ws.append(["报告类型", term("reportStage", report["stage"])])
    ws.append(["报告日期", report["day"]])
    ws.append(["状态", term("reportStatus", report["status"])])
    ws.append(["签发", (report.get("signed_by") or {}).get("name") or (report.get("signed_by") or {}).get("user", ""),
               _local(report.get("signed_at"))])
    ws.append(["报送时间", _local(report.get("submitted_at"))])
    ws.append([])
    ws.append(["指标", "数值", "计量单位"])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for code, kind in FIGURES:
        ws.append([term("reportFigure", code), report["figures"][code], term("figureUnit", kind)])
    if report.get("sectors"):
        ws.append([])
        ws.append(["分行业直接经济损失", "数值", "计量单位"])
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        for code in SECTORS:
            if code in report["sectors"]:
                ws.append([term("reportSector", code), report["sectors"][code], term("figureUnit", "money")])
    ws.append([])
    ws.append(["情况说明", report.get("notes", "")])
    ws.cell(ws.max_row, 2).alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 40
    ws.column_dimensions["C"].width = 12
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@router.get("/disaster-reports/{report_id}/xlsx", response_class=Response)
def export_xlsx(report_id: UUID, container: ContainerDep, principal: PrincipalDep) -> Response:
    report = visible_doc(container.store, principal, "disaster_report", str(report_id), "disaster report")
    unit = container.store.get("unit", report["unit_code"]) or {}
    name = f"disaster-report-{report['day']}-{report['stage']}.xlsx"
    return Response(workbook(report, unit.get("name", report["unit_code"])), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
