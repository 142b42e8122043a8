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
from domain.policy import SHANGHAI
from gateway.entrypoints.api.common import unit_prefix, visible_doc
from gateway.entrypoints.deps import ContainerDep, PrincipalDep
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
        return HTMLResponse(to_html(report))
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


def to_html(report: dict[str, Any]) -> str:
    i, f = report["incident"], report["figures"]
    e = html.escape
    fig = lambda v: "—" if v is None else f"{v} 分钟"  # noqa: E731
    rows = "".join(
        f"<tr><td>{_local(t['time'])}</td><td>{e(term('eventKind', t['aggregate']))}</td>"
        f"<td>{e(term('eventType', t['aggregate'] + '.' + t['event'].lower()))}</td><td>{e(t['actor'].get('user', ''))}</td>"
        f"<td class=data>{e(json.dumps(t['data'], ensure_ascii=False))[:300]}</td></tr>"
        for t in report["timeline"]
    )
    drows = "".join(
        f"<tr><td>{e(d['task'] or '')}</td><td>{_local(d['ordered_at'])}</td><td>{fig(d['minutes_to_acknowledge'])}</td>"
        f"<td>{fig(d['minutes_to_depart'])}</td><td>{fig(d['minutes_to_arrive'])}</td><td>{fig(d['minutes_to_complete'])}</td>"
        f"<td>{e(d['outcome'])}</td></tr>"
        for d in report["dispatches"]
    )
    mats = "".join(
        f"<tr><td>{e(code)}</td>" + "".join(f"<td>{report['materials'][k].get(code, 0)}</td>" for k in ("reserved", "issued", "returned", "cancelled")) + "</tr>"
        for code in sorted({c for m in report["materials"].values() for c in m})
    )
    upward = {True: "按时（2小时内）", False: "超时", None: "尚未报送"}[f["upward_report_within_2h"]]
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>事件复盘 {e(i.get('title', ''))}</title>
<style>body{{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:24px;color:#111}}table{{border-collapse:collapse;width:100%;margin:8px 0 20px}}
td,th{{border:1px solid #999;padding:4px 6px;font-size:13px;text-align:left}}th{{background:#eee}}td.data{{font-family:monospace;font-size:11px}}
h1{{font-size:22px}}h2{{font-size:16px;margin-top:20px}}@media print{{body{{margin:0}}}}</style></head><body>
<h1>事件复盘报告：{e(i.get('title', ''))}</h1>
<p>级别 {e(i.get('level', ''))}　类别 {e(i.get('category', ''))}/{e(i.get('subtype', ''))}　地点 {e(i.get('address', ''))}（{e(i.get('unit_code', ''))}）　发生时间 {_local(i.get('occurred_at'))}</p>
<h2>响应时间</h2><table><tr><th>发生→上报</th><th>上报→核实</th><th>上报→首次调度</th><th>向市级报送</th></tr>
<tr><td>{fig(f['minutes_occurrence_to_report'])}</td><td>{fig(f['minutes_report_to_verification'])}</td><td>{fig(f['minutes_report_to_first_dispatch'])}</td>
<td>{_local(f['reported_upward_at'])}　{upward}</td></tr></table>
<h2>队伍调度</h2><table><tr><th>任务</th><th>下达</th><th>收到</th><th>出发</th><th>到达</th><th>完成</th><th>结果</th></tr>{drows}</table>
<h2>物资</h2><table><tr><th>物资</th><th>预留</th><th>出库</th><th>归还</th><th>取消</th></tr>{mats}</table>
<h2>时间线</h2><table><tr><th>时间（北京时间）</th><th>对象</th><th>事件</th><th>操作人</th><th>内容</th></tr>{rows}</table>
<p style="font-size:11px;color:#666">生成于 {_local(datetime.now(timezone.utc).isoformat())}</p></body></html>"""


@router.get("/reports/summary")
def summary(
    container: ContainerDep,
    principal: PrincipalDep,
    start: Annotated[datetime, Query(description="ISO-8601 with time zone")],
    end: Annotated[datetime, Query(description="ISO-8601 with time zone")],
) -> dict[str, Any]:
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        from domain.common import InvalidValue

        raise InvalidValue("start and end need time zones and end must be after start", field="start")
    prefix = unit_prefix(principal)
    incidents, _ = container.store.list("incident", unit_prefix=prefix, limit=1_000_000)
    dispatches, _ = container.store.list("dispatch", unit_prefix=prefix, limit=1_000_000)
    allocations, _ = container.store.list("allocation", unit_prefix=prefix, limit=1_000_000)
    return district_summary(incidents, dispatches, allocations, start, end)
