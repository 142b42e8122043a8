"""Daily reports (24小时零报告): each village and community files one a day, a zero report when nothing happened.

`GET /reports/daily?day=` answers for every reporting unit in the caller's scope,
filed or not, so that a street office sees at once who is still silent.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
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


@router.get("/month")
def daily_reports_month(container: ContainerDep, principal: PrincipalDep, position: ReadPosition,
                        month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                                                           description="YYYY-MM in Asia/Shanghai; this month by default")] = None,
                        format: Literal["json", "xlsx"] = "json",
                        ) -> Any:
    """A month of daily reports: every reporting unit in scope × every day of the month up to today.

    Each cell is the day's state as `GET /reports/daily?day=` gives it (filed in time, late, missing, or
    still due today); days after today are not in the month yet. The workbook is what a bureau files:
    one matrix (village × day) with each village's totals, and the day-by-day totals on a second sheet.
    """
    now = container.service.clock().astimezone(SHANGHAI)
    first = date.fromisoformat(f"{month}-01") if month else now.date().replace(day=1)
    last = min(first.replace(day=calendar.monthrange(first.year, first.month)[1]), now.date())
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    units, _ = container.store.list("unit", unit_prefix=unit_prefix(principal), limit=100_000)
    reporting = sorted((u for u in units if u["kind"] in REPORTING_KINDS), key=lambda u: u["code"])
    ids = {(u["code"], d): ("daily_report", str(daily_report_id(u["code"], d.isoformat()))) for u in reporting for d in days}
    reports = container.store.get_many(ids.values())
    items = []
    for u in reporting:
        cells = [cell(day_row(u, reports.get(ids[u["code"], d]), d, now)) for d in days]
        items.append({"unit_code": u["code"], "unit_name": u["name"], "parent_code": u["parent_code"], "days": cells,
                      **{s: cells.count(s) for s in MONTH_CELLS}})
    by_day = [{"day": d.isoformat(), "units": len(items), **{s: sum(1 for i in items if i["days"][n] == s) for s in MONTH_CELLS}}
              for n, d in enumerate(days)]
    result = page(items, len(items), position, len(items), 0) | {"month": first.strftime("%Y-%m"), "days": [d.isoformat() for d in days],
                                                                 "by_day": by_day}
    if format == "xlsx":
        return download(month_sheets(result, {u["code"]: u["name"] for u in units}), f"daily-reports-{result['month']}.xlsx")
    return result


# A unit's day in the month: filed in time, filed late, missing (past the cut-off) or due (today, before it).
MONTH_CELLS = ("filed", "late", "missing", "due")


def cell(row: dict[str, Any]) -> str:
    return "late" if row["status"] == "filed" and row["late"] else row["status"]


def month_sheets(month: dict[str, Any], names: dict[str, str]) -> list[Sheet]:
    """The month as a bureau files it: village × day in words, then the totals of each day."""
    day_heads = [f"{int(d[5:7])}月{int(d[8:])}日" for d in month["days"]]
    matrix = [[names.get(i["parent_code"], i["parent_code"]), i["unit_name"], *(term("dailyStatus", c) for c in i["days"]),
               *(i[s] for s in MONTH_CELLS)] for i in month["items"]]
    totals = [[d["day"], d["units"], *(d[s] for s in MONTH_CELLS)] for d in month["by_day"]]
    counts = ["filed_in_time", "late", "missing_count", "due_count"]
    return [Sheet("sheet_daily_month", ["street", "unit", *day_heads, *counts], matrix),
            Sheet("sheet_daily_by_day", ["day", "units_due", *counts], totals)]


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
