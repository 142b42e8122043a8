"""The demo's 预案与演练: each street's overall plan and special plans, filed with the district; the six mechanism
documents for most streets; drills within the last two years for every plan but one (the cluster's 危险化学品
plan, last drilled in 2024: past its drill date), with findings, some rectified; two exercise incidents (演练).

Called by `seed_demo`; everything goes through the command service, as a desk's commands would. The documents are
small one-page PDFs in the evidence store, one per plan and version.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from domain.plans import MECHANISMS
from domain.policy import local_day
from gateway.container import Container
from gateway.context import CommandContext
from gateway.service_layer import commands as cmd


def demo_pdf(text: str) -> bytes:
    """A valid one-page PDF whose page names the document (ASCII: the demo needs no embedded font)."""
    safe = "".join(ch if 32 <= ord(ch) < 127 and ch not in "()\\" else "?" for ch in text)
    stream = f"BT /F1 14 Tf 56 780 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


MECHANISM_TITLES = {
    "warning": "预警信息发布与响应机制", "consultation": "灾害风险会商研判机制", "linkage": "应急联动机制",
    "coordination": "应急协调联络机制", "support": "应急物资与队伍保障机制", "investigation": "灾害调查评估机制",
}
SPECIALS = {  # street number: (hazard, title suffix)
    "001": [("防汛", "防汛应急预案"), ("地质灾害", "地质灾害应急预案"), ("城市内涝", "城市内涝应急预案")],
    "002": [("防汛", "防汛应急预案"), ("火灾", "高层建筑火灾应急预案")],
    "003": [("防汛", "防汛应急预案"), ("地质灾害", "地质灾害应急预案"), ("森林防火", "森林火灾应急预案")],
    "004": [("防汛", "防汛应急预案"), ("燃气", "城镇燃气事故应急预案")],
    "005": [("防汛", "防汛应急预案"), ("森林防火", "森林火灾应急预案")],
    "006": [("危险化学品", "危险化学品事故应急预案"), ("生产安全", "生产安全事故应急预案")],
}
LAPSED = ("006", "危险化学品")  # the one plan past its drill date
NO_MECHANISMS = {"005": ("support", "investigation")}  # 丁庄街道 has not recorded these two yet
SCENARIOS = {
    "防汛": "强降雨致河道水位超警戒，低洼区域群众转移安置", "地质灾害": "连续降雨后乡道边坡滑塌，受威胁群众撤离",
    "城市内涝": "短时强降水致下穿通道积水，车辆人员被困", "火灾": "高层住宅楼火灾，人员疏散与初期火灾扑救",
    "森林防火": "清明祭扫期间林地起火，扑救与周边群众疏散", "燃气": "老旧小区燃气管线泄漏，关阀、警戒与疏散",
    "危险化学品": "液氨储罐阀门泄漏，企业先期处置与周边疏散", "生产安全": "企业车间机械伤害事故，救援与善后",
    "总体": "多灾种叠加情景下的指挥部启动、信息报送与分级响应",
}
FINDINGS = [
    ("转移路线指示牌不清晰，部分群众走错集合点", "村（社区）两委"),
    ("应急广播覆盖不到村北片区", "街道应急办"),
    ("物资仓库夜间取用钥匙管理不明确", "仓库保管员"),
    ("队伍集结用时超过预案要求15分钟", "综合应急救援队"),
]


def seed_plans(c: Container, admin: CommandContext, now: datetime, streets: list[tuple[str, str, str, Any]]) -> dict[str, int]:
    s = c.service
    district = c.settings.district_code
    prefix = district[:6]
    today = local_day(now)
    desk = admin
    counts = {"plans": 0, "drills": 0}
    titles: dict[str, tuple[str, str]] = {}  # plan id -> (unit, title)
    n = 0

    def register(unit: str, kind: str, title: str, revised_on: date, mechanism: str | None = None, hazard: str = "") -> str:
        nonlocal n
        n += 1
        sha = c.evidence.put(demo_pdf(f"Yingji demo plan {unit} #{n} ({revised_on.isoformat()})"), unit_code=unit,
                             name=f"{title}.pdf", uploaded_by="seed")["sha256"]
        pid = s.handle(desk, cmd.RegisterPlan(unit_code=unit, kind=kind, title=title, version=f"{revised_on.year}版",
                                              revised_on=revised_on, document=sha, mechanism=mechanism, hazard=hazard)).id
        s.handle(desk, cmd.FilePlan(plan_id=pid, filed_with="东城区应急管理局" if unit != district else "许昌市应急管理局",
                                    filed_on=revised_on + timedelta(days=12), reference=f"东应急备〔{revised_on.year}〕{n:03d}号"))
        counts["plans"] += 1
        titles[pid] = (unit, title)
        return pid

    def drill(pid: str, unit: str, hazard: str, days_ago: int, kind: str, people: int, findings: int = 0, resolved: int = 0) -> None:
        held = today - timedelta(days=days_ago)
        rows = [{"finding": f, "owner": o, "deadline": (held + timedelta(days=30)).isoformat()} for f, o in FINDINGS[:findings]]
        did = s.handle(desk, cmd.RecordDrill(plan_id=pid, kind=kind, held_on=held, scenario=SCENARIOS[hazard], participants=people,
                                             participant_units=[unit], findings=rows)).id
        for k in range(1, min(resolved, findings) + 1):
            s.handle(desk, cmd.ResolveDrillFinding(drill_id=did, n=k, note="已整改并复查"))
        counts["drills"] += 1

    overall = register(district, "overall", "东城区突发事件总体应急预案", date(today.year - 1, 3, 18))
    drill(overall, district, "总体", 140, "comprehensive", 320, findings=2, resolved=1)
    for i, (no, name, _kind, _pos) in enumerate(streets):
        code = f"{prefix}{no}000"
        revised = date(today.year - 1, 2 + i, 10 + i)
        pid = register(code, "overall", f"{name}突发事件总体应急预案", revised)
        drill(pid, code, "总体", 200 + 37 * i, "tabletop", 35 + 4 * i, findings=1 if i % 2 else 0)
        for j, (hazard, suffix) in enumerate(SPECIALS[no]):
            pid = register(code, "special", f"{name}{suffix}", date(today.year - 1, 4 + j, 8 + i), hazard=hazard)
            if (no, hazard) == LAPSED:
                drill(pid, code, hazard, 2 * 365 + 140, "special", 60, findings=2, resolved=2)  # 2024: past its drill date now
            else:
                drill(pid, code, hazard, 45 + 61 * j + 23 * i, "comprehensive" if hazard == "防汛" else "special", 80 + 10 * j,
                      findings=(i + j) % 3, resolved=(i + j) % 2)
        for m in MECHANISMS:
            if m not in NO_MECHANISMS.get(no, ()):
                register(code, "mechanism", f"{name}{MECHANISM_TITLES[m]}", date(today.year - 1, 6, 1 + i), mechanism=m)
        if no == "003":
            geo = next(p for p, (u, t) in titles.items() if u == code and "地质灾害" in t)
    # Two exercise incidents (演练), both over (the board keeps the demo's four real incidents): a slope-collapse drill
    # of 半截河街道's geological plan last week, and a flood exercise in a village of 东城街道 yesterday (not linked to a
    # plan: it counts as the village's drill). Both are out of the statistics and the 2-hour rule.
    drill_inc = s.report_incident(desk, category="natural_disaster", subtype="geological", level="IV", title="边坡滑塌避险转移演练",
                                  description="模拟强降雨后村后边坡滑塌，组织受威胁群众转移。", unit_code=f"{prefix}003002",
                                  address="村后山坡", occurred_at=now - timedelta(days=6), source="街道应急办", exercise=True,
                                  plan_id=geo).id
    s.verify_incident(desk, drill_inc, "演练开始")
    s.control_incident(desk, drill_inc, "群众转移完毕")
    s.close_incident(desk, drill_inc, "演练结束，转移群众86人，用时25分钟")
    flood_inc = s.report_incident(desk, category="natural_disaster", subtype="flood", level="IV", title="防汛应急演练：低洼区域群众转移",
                                  description="模拟河道水位超警戒，转移低洼区域群众。", unit_code=f"{prefix}002003", address="村东低洼片区",
                                  occurred_at=now - timedelta(days=1, hours=2), source="街道应急办", exercise=True).id
    s.verify_incident(desk, flood_inc, "演练开始")
    s.close_incident(desk, flood_inc, "演练结束，转移群众120人")
    counts["exercise_incidents"] = 2
    return counts

