"""Daily reports (24小时零报告): each village and community files one a day, a zero report when nothing happened.

`GET /reports/daily?day=` answers for every reporting unit in the caller's scope,
filed or not, so that a street office sees at once who is still silent.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from domain.glossary import term
from domain.policy import SHANGHAI, daily_report_due_at
from domain.reports import REPORTING_KINDS, daily_report_id
from gateway.entrypoints.api.common import answer, page, unit_prefix
from gateway.entrypoints.deps import CommandCtx, ContainerDep, PrincipalDep, ReadPosition
from gateway.entrypoints.schemas import Accepted, DailyReportIn
from gateway.entrypoints.xlsx import Sheet, download
from gateway.service_layer import commands as c
from projections.reports import day_row

router = APIRouter(prefix="/reports/daily", tags=["daily reports"])


@router.post("", status_code=201, response_model=Accepted)
def file_daily_report(body: DailyReportIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    """File the day's report for a village or community; filing the same day again corrects it."""
    return answer(container.service.handle(ctx, c.FileDailyReport(body.unit_code, body.day, body.zero, body.summary)), created=True)


@router.get("")
def daily_reports(container: ContainerDep, principal: PrincipalDep, position: ReadPosition,
                  day: Annotated[date | None, Query(description="YYYY-MM-DD in Asia/Shanghai; today by default")] = None,
                  format: Literal["json", "xlsx"] = "json",
                  ) -> Any:
    now = container.service.clock().astimezone(SHANGHAI)
    day = day or now.date()
    due = daily_report_due_at(day)
    units, _ = container.store.list("unit", unit_prefix=unit_prefix(principal), limit=100_000)
    reporting = sorted((u for u in units if u["kind"] in REPORTING_KINDS), key=lambda u: u["code"])
    ids = {u["code"]: ("daily_report", str(daily_report_id(u["code"], day.isoformat()))) for u in reporting}
    reports = container.store.get_many(ids.values())
    items = [day_row(u, reports.get(ids[u["code"]]), day, now) for u in reporting]
    result = page(items, len(items), position, len(items), 0)
    result |= {"day": day.isoformat(), "due_at": due.isoformat(),
               "filed": sum(1 for i in items if i["status"] == "filed"), "missing": sum(1 for i in items if i["status"] == "missing")}
    if format == "xlsx":
        return download([daily_sheet(items, {u["code"]: u["name"] for u in units})], f"daily-reports-{day.isoformat()}.xlsx")
    return result


def daily_sheet(items: list[dict[str, Any]], names: dict[str, str]) -> Sheet:
    """The day's reports as filed: every reporting unit in scope, filed or not, in Chinese."""
    yes_no = lambda v: "" if v is None else term("statistic", "yes" if v else "no")  # noqa: E731
    local = lambda v: datetime.fromisoformat(v).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if v else ""  # noqa: E731
    rows = [[names.get(i["parent_code"], i["parent_code"]), i["unit_name"], i["day"], term("dailyStatus", i["status"]),
             yes_no(i["zero"]), i.get("summary", ""), local(i.get("filed_at")), (i.get("filed_by") or {}).get("name", ""),
             yes_no(i["late"]) if i["status"] == "filed" else ""] for i in items]
    return Sheet("sheet_daily", ["street", "unit", "day", "report_status", "zero", "summary", "filed_at", "filed_by", "late"], rows)
