"""After-action review: one incident's timeline and response figures (JSON, printable HTML, CSV), and a district summary."""

from __future__ import annotations

import csv
import html
import io
import json
from datetime import datetime, timezone
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from domain.glossary import term
from domain.incidents import SITUATION_FIELDS, Level
from domain.materials import CATALOGUE
from domain.policy import SHANGHAI
from gateway.entrypoints.api.common import unit_prefix, visible_doc
from gateway.entrypoints.deps import ContainerDep, PrincipalDep
from gateway.entrypoints.xlsx import Sheet, download, heading
from projections.columns import utc_key
from domain.warnings import LEVELS_HIGH_FIRST
from projections.warnings import warning_statistics
from projections.afteraction import district_summary, incident_report
from projections.store import ListFilter

router = APIRouter(tags=["after-action"])


def _local(value: str | None) -> str:
    if not value:
        return "—"
    return datetime.fromisoformat(value).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def build_report(container: Any, incident_id: str) -> dict[str, Any]:
    of_incident = ListFilter(ref_id=incident_id)
    dispatches, _ = container.store.list("dispatch", limit=10_000, filters=of_incident)
    allocations, _ = container.store.list("allocation", limit=10_000, filters=of_incident)
    ids = [UUID(incident_id)] + [UUID(d["id"]) for d in dispatches] + [UUID(a["id"]) for a in allocations]
    events = [e for i in ids for e in container.log.events.get(i)]
    events.sort(key=lambda e: e.timestamp)
    return incident_report(events)


@router.get("/incidents/{incident_id}/after-action", response_model=None)
def after_action(
    incident_id: UUID,
    container: ContainerDep,
    principal: PrincipalDep,
    format: Annotated[Literal["json", "html", "csv"], Query()] = "json",
) -> Response:
    visible_doc(container.store, principal, "incident", str(incident_id), "incident")
    report = build_report(container, str(incident_id))
    if format == "csv":
        return Response(to_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="after-action-{incident_id}.csv"'})
    if format == "html":
        unit = container.store.get("unit", report["incident"].get("unit_code", ""))
        return HTMLResponse(to_html(report, (unit or {}).get("name", "")))
    return JSONResponse(report)


def to_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # so spreadsheet programs read the Chinese correctly
    w = csv.writer(out)
    w.writerow(["time_asia_shanghai", "time_utc", "aggregate", "aggregate_id", "event", "actor", "role", "data"])
    for t in report["timeline"]:
        w.writerow([_local(t["time"]), t["time"], t["aggregate"], t["aggregate_id"], t["event"], t["actor"].get("user", ""),
                    t["actor"].get("role", ""), json.dumps(t["data"], ensure_ascii=False)])
    return out.getvalue()


# Fields a reader has no use for in a timeline: record ids, map positions, transport details.
_UNSHOWN = frozenset({"incident_id", "team_id", "warehouse_id", "batch_id", "lat", "lon", "unit_code", "plan_id"})


def describe(data: dict[str, Any]) -> str:
    """An event's data in words: glossary names for fields and codes, local times, material names; no ids."""
    parts = []
    for key, value in data.items():
        if key in _UNSHOWN or value in (None, "", {}, []) or (key == "exercise" and value is False):
            continue  # (a real incident's or dispatch's `exercise: false` says nothing worth printing)
        name = term("eventField", key)
        if key == "level":
            text = term("levelShort", value)
        elif key == "category":
            text = term("category", value)
        elif key == "subtype":
            text = term("subtype", value)
        elif key == "reason" and value in ("ack_overdue", "arrival_overdue"):
            text = term("escalationReason", value)
        elif key == "figures" and isinstance(value, dict):
            text = " ".join(f"{term('situation', k)}{v}" for k, v in value.items())
        elif key == "lines" and isinstance(value, dict):
            text = "、".join(f"{material_name(k)}×{v}" for k, v in value.items())
        elif isinstance(value, bool):
            text = "是" if value else "否"
        elif isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
            text = _local(value)
        else:
            text = str(value)
        parts.append(f"{name}：{text}")
    return "；".join(parts)


def to_html(report: dict[str, Any], unit_name: str = "") -> str:
    """The report as a bureau prints it: A4, in words (no codes, no JSON), one incident to a page."""
    i, f = report["incident"], report["figures"]
    e = html.escape
    fig = lambda v: "—" if v is None else f"{v} 分钟"  # noqa: E731
    rows = "".join(
        f"<tr><td class=n>{_local(t['time'])}</td><td class=n>{e(term('eventKind', t['aggregate']))}</td>"
        f"<td class=n>{e(term('eventType', t['aggregate'] + '.' + t['event'].lower()))}</td>"
        f"<td class=n>{e(t['actor'].get('name') or t['actor'].get('user', ''))}</td><td>{e(describe(t['data']))[:400]}</td></tr>"
        for t in report["timeline"]
    )
    drows = "".join(
        f"<tr><td>{e(d['task'] or '')}</td><td>{_local(d['ordered_at'])}</td><td>{fig(d['minutes_to_acknowledge'])}</td>"
        f"<td>{fig(d['minutes_to_depart'])}</td><td>{fig(d['minutes_to_arrive'])}</td><td>{fig(d['minutes_to_complete'])}</td>"
        f"<td>{e(term('dispatchOutcome', d['outcome']))}</td></tr>"
        for d in report["dispatches"]
    )
    mats = "".join(
        f"<tr><td>{e(material_name(code))}</td>" + "".join(f"<td>{report['materials'][k].get(code, 0)}</td>" for k in ("reserved", "issued", "returned", "cancelled")) + "</tr>"
        for code in sorted({c for m in report["materials"].values() for c in m})
    )
    upward = {True: "按时（2小时内）", False: "超时", None: "尚未报送"}[f["upward_report_within_2h"]]
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>事件复盘 {e(i.get('title', ''))}</title>
<style>body{{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:24px;color:#111}}table{{border-collapse:collapse;width:100%;margin:8px 0 20px}}
td,th{{border:1px solid #999;padding:4px 6px;font-size:13px;text-align:left}}th{{background:#eee}}.n{{white-space:nowrap}}
h1{{font-size:22px}}h2{{font-size:16px;margin-top:20px}}section{{break-after:page}}
@page{{size:A4;margin:12mm}}@media print{{body{{margin:0}}td,th{{font-size:10px;padding:2px 4px}}h1{{font-size:17px}}h2{{font-size:13px;margin:10px 0 4px}}
table{{margin:4px 0 8px}}p{{font-size:11px;margin:4px 0}}}}</style></head><body><section>
<h1>事件复盘报告：{'【演练】' if i.get('exercise') else ''}{e(i.get('title', ''))}</h1>
<p>级别 {e(term('levelShort', i.get('level', '')))}　类别 {e(term('category', i.get('category', '')))}·{e(term('subtype', i.get('subtype', '')))}　地点 {e(i.get('address', ''))}（{e(unit_name or i.get('unit_name') or '')}）　发生时间 {_local(i.get('occurred_at'))}</p>
<h2>响应时间</h2><table><tr><th>发生→上报</th><th>上报→核实</th><th>上报→首次调度</th><th>向市级报送</th></tr>
<tr><td>{fig(f['minutes_occurrence_to_report'])}</td><td>{fig(f['minutes_report_to_verification'])}</td><td>{fig(f['minutes_report_to_first_dispatch'])}</td>
<td>{_local(f['reported_upward_at'])}　{upward}</td></tr></table>
<h2>队伍调度</h2><table><tr><th>任务</th><th>下达</th><th>收到</th><th>出发</th><th>到达</th><th>完成</th><th>结果</th></tr>{drows}</table>
<h2>物资</h2><table><tr><th>物资</th><th>预留</th><th>出库</th><th>归还</th><th>取消</th></tr>{mats}</table>
<h2>时间线</h2><table><tr><th>时间（北京时间）</th><th>对象</th><th>事件</th><th>操作人</th><th>内容</th></tr>{rows}</table>
<p style="font-size:11px;color:#666">生成于 {_local(datetime.now(timezone.utc).isoformat())}</p></section></body></html>"""


@router.get("/reports/summary")
def summary(
    container: ContainerDep,
    principal: PrincipalDep,
    start: Annotated[datetime, Query(description="ISO-8601 with time zone")],
    end: Annotated[datetime, Query(description="ISO-8601 with time zone")],
    format: Literal["json", "xlsx"] = "json",
) -> Any:
    """Incidents occurring in [start, end) in the caller's scope, the work done for them, and per street."""
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        from domain.common import InvalidValue

        raise InvalidValue("start and end need time zones and end must be after start", field="start")
    prefix = unit_prefix(principal)
    # Only the window is read (the indexed `at` column): incidents occurring in it, and the work
    # ordered since it began (nothing for an incident in the window is ordered before it).
    window = ListFilter(since=utc_key(start.isoformat()), until=utc_key(end.isoformat()))
    incidents, _ = container.store.list("incident", unit_prefix=prefix, limit=1_000_000, filters=window)
    since = ListFilter(since=window.since)
    dispatches, _ = container.store.list("dispatch", unit_prefix=prefix, limit=1_000_000, filters=since)
    allocations, _ = container.store.list("allocation", unit_prefix=prefix, limit=1_000_000, filters=since)
    result = district_summary(incidents, dispatches, allocations, start, end)
    # Early warnings issued in the window (real ones; exercises are counted apart), read by the warnings' scope rule.
    warnings, _ = container.store.list("warning", statuses=["issued", "lifted"], limit=100_000)
    receipts, _ = container.store.list("warning_receipt", unit_prefix=prefix, limit=10_000_000)
    result["warnings"] = warning_statistics([w for w in warnings if principal.can_read_doc("warning", w)], receipts, start, end)
    if format == "xlsx":
        names = {u["code"]: u["name"] for u in container.store.list("unit", limit=100_000)[0]}
        return download(summary_sheets(result, names), f"summary-{start.date()}-{end.date()}.xlsx")
    return result


LEVELS = [str(lv) for lv in Level]
WARNING_LEVELS = [str(lv) for lv in LEVELS_HIGH_FIRST]


def material_name(code: str) -> str:
    """A material's Chinese name and counting unit, never its catalogue code."""
    m = CATALOGUE.get(code)
    return f"{m.name_zh}（{m.unit}）" if m else code


def summary_sheets(s: dict[str, Any], unit_names: dict[str, str]) -> list[Sheet]:
    """The summary as the bureau files it: overview, per street, per type, materials used."""
    timing = ("minutes_occurrence_to_report", "minutes_to_acknowledge", "minutes_to_arrive")
    overview = [[heading("window_start"), _local(s["window"]["start"])], [heading("window_end"), _local(s["window"]["end"])],
                [heading("incidents"), s["incidents"]], [heading("dispatches"), s["dispatches"]], [heading("teams_used"), s["teams_used"]]]
    overview += [[f"{term('level', lv)}（{term('levelShort', lv)}）", s["by_level"].get(lv, 0)] for lv in LEVELS]
    overview += [[f"{heading(k)} · {heading('median_minutes')}", s[k]["median"]] for k in timing]
    overview += [[f"{heading(k)} · {heading('p90_minutes')}", s[k]["p90"]] for k in timing]
    streets = [[unit_names.get(code, code), row["incidents"], *[row["by_level"].get(lv, 0) for lv in LEVELS],
                *[row["situation"][k] for k in SITUATION_FIELDS], row["dispatches"], row["reported_upward_in_time"],
                row["reported_upward_late"]] for code, row in s["by_street"].items()]
    types = [[f"{term('category', t.split('/')[0])} · {term('subtype', t.split('/')[1])}", n] for t, n in sorted(s["by_type"].items())]
    w = s.get("warnings")
    if w:
        overview += [[heading("warnings_issued"), w["issued"]], [heading("warning_exercises"), w["exercises"]]]
        overview += [[f"{heading('warnings_issued')} · {term('warningLevel', lv)}", w["by_level"].get(lv, 0)] for lv in WARNING_LEVELS]
    receipt_keys = ("receipts", "signed_in_time", "signed_late", "unsigned", "escalated")
    warning_rows = [[unit_names.get(code, code), *[row[k] for k in receipt_keys]] for code, row in (w or {}).get("by_street", {}).items()]
    return [
        Sheet("sheet_summary", ["type", "count"], overview),
        Sheet("sheet_streets", ["street", "incidents", *[term("levelShort", lv) for lv in LEVELS],
                                *[term("situation", k) for k in SITUATION_FIELDS], "dispatches", "reported_upward_in_time",
                                "reported_upward_late"], streets),
        Sheet("sheet_types", ["type", "count"], types),
        Sheet("sheet_materials", ["material", "quantity_used"],
              [[material_name(code), qty] for code, qty in s["materials_used"].items()]),
        Sheet("sheet_warnings", ["street", "warning_receipts", "signed_in_time", "signed_late", "unsigned", "escalated"], warning_rows),
    ]
