"""`yingji seed demo`: an illustrative district (东城区) for demos and manual testing.

Everything goes through the command service, as an operator's commands would.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from uuid import UUID

import eventsourcing.domain as es_domain

from gateway.container import Container
from gateway.context import CommandContext, Principal
from gateway.settings import Settings
from gateway.service_layer import commands as cmd
from gateway.tools.seed_plans import seed_plans
from domain.disaster_reports import STAGED_CATEGORIES
from domain.policy import REPORT_UPWARD_WITHIN, duty_day, local_day
from projections.duty import open_items
from gateway.tools.seed_people import seed_people
from gateway.tools.seed_readiness import seed_readiness

log = logging.getLogger("yingji.seed")

DEMO_PASSWORD = "yingji2026"
BASE_LAT, BASE_LON = 34.036, 113.852  # 许昌

STREETS = [
    ("001", "新兴街道", "street", (0.020, -0.030)),
    ("002", "东城街道", "street", (0.022, 0.012)),
    ("003", "半截河街道", "street", (-0.004, 0.040)),
    ("004", "祖师街道", "street", (-0.026, 0.018)),
    ("005", "丁庄街道", "street", (-0.020, -0.026)),
    ("006", "东城产业集聚区", "cluster", (0.000, 0.070)),
]
VILLAGE_NAMES = [
    "魏庄", "许田", "后河", "尚集", "张潘", "灵井", "椹涧", "蒋李", "河街", "榆林", "陈曹", "将官池", "小召", "桂村",
    "苏桥", "五女店", "邓庄", "长村张", "石固", "繁城", "大周", "灞陵", "宋庄", "王店", "双庙", "盆刘", "谢庄", "八里桥",
    "七里店", "塔湾", "柏庄", "大路", "古槐", "清潩", "文峰", "莲城", "春秋", "芙蓉", "学院", "天宝", "毓秀", "瑞贝", "曹魏",
]
TEAM_EXTRAS = [
    ("001", "001", "新兴民兵应急连", "militia", 30),
    ("002", "000", "区消防救援大队东城中队", "fire", 25),
    ("003", "000", "半截河防汛抢险队", "flood", 40),
    ("004", "000", "祖师医疗救护队", "medical", 12),
    ("006", "000", "集聚区危化品处置队", "hazmat", 16),
    ("005", "002", "丁庄民兵应急连", "militia", 24),
]
STOCK = {  # code: (quantity, minimum)
    "TENT-12": (60, 20), "TENT-36": (4, 1), "QUILT": (300, 100), "COTTON-COAT": (200, 50), "FOLD-BED": (120, 40),
    "WATER-550": (400, 100), "INSTANT-FOOD": (300, 100), "LIFE-JACKET": (250, 80), "LIFE-BUOY": (80, 20),
    "SANDBAG": (5000, 2000), "BOAT-INFL": (3, 1), "PUMP": (8, 2), "ROPE": (60, 20), "GENERATOR": (6, 2),
    "LIGHT-TOWER": (4, 1), "FLASHLIGHT": (150, 40), "FIRST-AID": (100, 30), "HELMET": (120, 40), "RAINCOAT": (200, 60),
}


def seed_demo_store(settings: Settings) -> dict[str, int]:
    """`yingji seed demo`: the demo district into the new store `settings` name, projected before it returns."""
    c = Container.build(settings)
    try:
        counts = seed_demo(c)
        c.projector.catch_up()
    finally:
        c.close()
    return counts


def seed_demo(c: Container) -> dict[str, int]:
    if c.log.max_position() > 0:
        raise SystemExit("the event log is not empty; `seed demo` only fills a new store")
    district = c.settings.district_code
    prefix = district[:6]
    admin = CommandContext(Principal("seed", "admin", district), request_id="seed")
    s = c.service
    s.register_unit(admin, code=district, name=c.settings.district_name, kind="district", lat=BASE_LAT, lon=BASE_LON)
    names = iter(VILLAGE_NAMES)
    team_ids: dict[str, str] = {}
    warehouses: list[str] = []
    villages: list[str] = []
    for street_no, name, kind, (dlat, dlon) in STREETS:
        code = f"{prefix}{street_no}000"
        lat, lon = BASE_LAT + dlat, BASE_LON + dlon
        s.register_unit(admin, code=code, name=name, kind=kind, lat=lat, lon=lon,
                        parts={"committee": 1, "office_staff": 5, "rescue_team_size": 24, "warehouses": 1, "command_platform": 1})
        for v in range(1, 8):
            vname = next(names)
            vkind = "community" if v % 3 == 0 else "village"
            vcode = f"{prefix}{street_no}{v:03d}"
            angle_lat = 0.008 * ((v % 3) - 1) + 0.002 * v
            angle_lon = 0.009 * ((v % 4) - 1.5)
            s.register_unit(admin, code=vcode, name=vname + ("社区" if vkind == "community" else "村"), kind=vkind,
                            lat=lat + angle_lat, lon=lon + angle_lon,
                            parts={"persuasion_station": 1, "persuader_team": 1, "info_reporter": 1, "militia_team": 1})
            villages.append(vcode)
        t = s.register_team(admin, name=f"{name}综合应急救援队", kind="comprehensive", unit_code=code,
                            members=20 + int(street_no) * 2, leader=f"{name[:2]}队长", phone=f"1390374{int(street_no):04d}")
        team_ids[street_no] = t.id
        w = s.register_warehouse(admin, name=f"{name}应急物资仓库", unit_code=code, address=f"{name}办事处院内",
                                 manager=f"{name[:2]}保管员", phone=f"0374-66{int(street_no):05d}", lat=lat - 0.002, lon=lon + 0.003)
        warehouses.append(w.id)
        scale = 1 + (int(street_no) % 3)
        s.receive_stock(admin, w.id, {code_: qty * scale // 2 + qty // 2 for code_, (qty, _) in STOCK.items()}, note="初始储备")
        for code_, (_, minimum) in STOCK.items():
            s.set_minimum(admin, w.id, code_, minimum)
    for street_no, village_no, tname, tkind, members in TEAM_EXTRAS:
        s.register_team(admin, name=tname, kind=tkind, unit_code=f"{prefix}{street_no}{village_no}", members=members)

    # Accounts, one per role.
    accounts = [
        ("admin", "admin", district, None, "系统管理员"),
        ("commander", "commander", district, None, "指挥长 王强"),
        ("operator", "operator", district, None, "值班员 李静"),
        ("field", "field", f"{prefix}001000", team_ids["001"], "新兴综合队 队长"),
        ("reporter", "reporter", villages[0], None, "灾害信息员 赵敏"),
        ("observer", "observer", district, None, "观察员"),
        ("xinxing", "operator", f"{prefix}001000", None, "新兴街道值班员 周杰"),  # a street desk: signs for its street
    ]
    for username, role, unit, team, display in accounts:
        if c.accounts.get(username) is None:
            c.accounts.add(username, DEMO_PASSWORD, role, unit, team, display)

    # Plans, drills and the exercises (演练) held before today's live situation (which stays the newest change).
    planned = seed_plans(c, admin, datetime.now(timezone.utc), STREETS)

    # A little live situation, so the board is not empty.
    now = datetime.now(timezone.utc)
    flood = s.report_incident(admin, category="natural_disaster", subtype="flood", level="III", title="魏庄村低洼区域积水",
                              description="连续强降雨，村东低洼处积水深约0.8米，部分群众被困。", unit_code=villages[0],
                              address="魏庄村东组", occurred_at=now - timedelta(minutes=50), source="灾害信息员电话")
    s.verify_incident(admin, flood.id, "现场核实")
    s.update_situation(admin, flood.id, {"evacuated": 46, "affected": 210}, "已转移群众46人")
    s.order_dispatch(admin, flood.id, team_ids["001"], "转移被困群众，设置警戒")
    s.request_allocation(admin, flood.id, warehouses[0], {"LIFE-JACKET": 40, "PUMP": 2, "TENT-12": 10}, destination="魏庄村委会")
    fire = s.report_incident(admin, category="accident", subtype="fire", level="IV", title="仓储厂房火情",
                             unit_code=f"{prefix}006001", address="集聚区纬三路", occurred_at=now - timedelta(minutes=12))
    s.order_dispatch(admin, fire.id, team_ids["006"], "初期火灾扑救，疏散人员", ack_minutes=5)
    s.report_incident(admin, category="natural_disaster", subtype="geological", level="IV", title="道路边坡小面积滑塌",
                      unit_code=villages[20], address="乡道X012", occurred_at=now - timedelta(hours=3))
    # Today's daily reports (零报告): most villages have filed; the reporter's own village and two others have not.
    today = local_day(now)
    silent = {villages[0], villages[20], villages[33]}
    for vcode in villages:
        if vcode not in silent:
            news = vcode == villages[8]
            s.file_daily_report(admin, vcode, today, zero=not news, summary="村北道路积水已排除，无人员伤亡" if news else "")
    # An early warning in force (预警): drafted at the desk, signed off by the commander, half of its targets signed for.
    c.projector.catch_up()  # issuing reads the unit tree from the read models
    operator = CommandContext(Principal("operator", "operator", district, name="值班员 李静"), request_id="seed")
    commander = CommandContext(Principal("commander", "commander", district, name="指挥长 王强"), request_id="seed")
    warning = s.draft_warning(
        operator, category="natural_disaster", subtype="rainstorm", level="orange", headline="东城区暴雨橙色预警",
        description="受强对流天气影响，预计今天夜间到明天白天新兴街道、东城街道累计降雨量将达80～120毫米，局地伴有短时强降水和雷暴大风。",
        instruction="1. 各街道、村（社区）加强值守，做好防汛抢险准备；2. 转移低洼地带、危旧房屋群众；3. 停止户外作业，切断危险地带电源。",
        onset=now, expires=now + timedelta(hours=12), targets=[f"{prefix}001000", f"{prefix}002000"], exercise=False)
    s.issue_warning(commander, warning.id)
    street_desk = CommandContext(Principal("xinxing", "operator", f"{prefix}001000", name="新兴街道值班员 周杰"), request_id="seed")
    s.acknowledge_warning(street_desk, warning.id, f"{prefix}001000", "已转发各村（社区）")
    for vcode in villages[1:5]:
        reporter = CommandContext(Principal(f"reporter-{vcode[-3:]}", "reporter", vcode), request_id="seed")
        s.acknowledge_warning(reporter, warning.id, vcode)
    s.report_warning_response(CommandContext(Principal("reporter-002", "reporter", villages[1]), request_id="seed"), warning.id,
                              villages[1], {"patrols": 6, "people_moved": 18, "danger_points": 3}, "已转移村西低洼处群众")
    seed_duty_desk(c, villages)
    counts = seed_prevention(c, admin, now)
    counts |= seed_people(c, now, team_ids)
    counts |= planned
    counts |= seed_readiness(c, now, team_ids, warehouses)
    return {"units": 1 + len(STREETS) + len(villages), "teams": len(team_ids) + len(TEAM_EXTRAS), "warehouses": len(warehouses), **counts}


LEADERS = ["张建国", "刘卫东", "陈志强", "杨海燕", "赵立新", "孙红梅", "周文斌"]
OFFICERS = ["李静", "王磊", "吴婷", "郑凯", "冯雪", "何涛", "高敏", "罗军", "马丽", "朱鹏", "胡玲", "林峰", "谢芳", "宋杰"]


def seed_duty_desk(c: Container, villages: list[str]) -> None:
    """Staged disaster reports (a 初报 submitted, a 续报 drafted), this week's roster, and one shift handover."""
    district = c.settings.district_code
    prefix = district[:6]
    commander = CommandContext(Principal("commander", "commander", district, name="指挥长 王强"), request_id="seed")
    operator = CommandContext(Principal("operator", "operator", district, name="值班员 李静"), request_id="seed")
    night = CommandContext(Principal("night-operator", "operator", district, name="值班员 王磊"), request_id="seed")
    handle = c.service.handle
    now = datetime.now(timezone.utc)
    # A level II rainstorm 80 minutes ago: its 初报 signed off and submitted within the 2 hours, a 续报 drafted with newer figures.
    storm = handle(operator, cmd.ReportIncident(
        category="natural_disaster", subtype="rainstorm", level="II", title="许田村暴雨内涝", unit_code=villages[1],
        address="许田村南组", occurred_at=now - timedelta(minutes=80), description="短时强降雨，村南低洼处房屋进水。")).id
    handle(operator, cmd.VerifyIncident(storm, "电话核实"))
    first = {"affected_population": 860, "relocated": 120, "needing_assistance": 45, "houses_generally_damaged": 12,
             "crops_affected_ha": 38.5, "crops_failed_ha": 4.2, "economic_loss_10k": 96.5}
    initial = handle(operator, cmd.DraftDisasterReport(storm, "initial", first, {"agriculture": 52.0, "public_services": 18.5},
                                                       "村南低洼处约40户进水，已转移群众120人。")).id
    handle(commander, cmd.SignOffDisasterReport(initial, "同意报送"))
    handle(operator, cmd.SubmitDisasterReport(initial))
    later = first | {"affected_population": 1040, "relocated": 156, "houses_severely_damaged": 2, "economic_loss_10k": 131.0}
    handle(operator, cmd.DraftDisasterReport(storm, "continuing", later, {"agriculture": 70.0, "public_services": 22.0},
                                             "降雨持续，转移人数增至156人。"))
    # A natural disaster already past its 2 hours at seeding (the slope): its 初报 went in late, so the demo does not
    # start with a deadline for the watchdog to record the moment it boots.
    c.projector.catch_up()
    for doc in c.store.list("incident", statuses=["reported", "verified"], limit=100_000)[0]:
        if doc["category"] in STAGED_CATEGORIES and datetime.fromisoformat(doc["occurred_at"]) + REPORT_UPWARD_WITHIN < now:
            late = handle(operator, cmd.DraftDisasterReport(doc["id"], "initial", {"affected_population": 35, "economic_loss_10k": 4.5},
                                                            {}, "道路边坡滑塌约30立方米，已设置警戒，无人员伤亡。")).id
            handle(commander, cmd.SignOffDisasterReport(late))
            handle(operator, cmd.SubmitDisasterReport(late))
    # This week's roster: the district and every street, from the duty day on shift now (before 08:30 that is
    # yesterday's; the roster is not kept for past days).
    today = duty_day(now)
    desks = [district] + [f"{prefix}{street_no}000" for street_no, *_ in STREETS]
    for n, unit in enumerate(desks):
        for day in range(7):
            leader = LEADERS[(n + day) % len(LEADERS)]
            officers = [OFFICERS[(n * 2 + day) % len(OFFICERS)], OFFICERS[(n * 2 + day + 7) % len(OFFICERS)]]
            handle(operator, cmd.ScheduleDuty(unit, today + timedelta(days=day), {"name": leader, "phone": f"139037{n:02d}{day:03d}"},
                                              [{"name": o, "phone": f"138037{n:02d}{i}{day:02d}"} for i, o in enumerate(officers)]))
    # The last shift handed over by the night officer, what is open generated from the read models, not yet confirmed.
    c.projector.catch_up()
    incidents, _ = c.store.list("incident", statuses=["reported", "verified", "controlled"], limit=100_000)
    dispatches, _ = c.store.list("dispatch", statuses=["ordered"], limit=100_000)
    schedules, _ = c.store.list("report_schedule", statuses=["open"], limit=100_000)
    items = open_items(incidents, dispatches, schedules, now, c.settings.verified_report_days)
    handle(night, cmd.SignHandover(district, items, "夜间强降雨，许田村已转移群众；集聚区火情待队伍确认。请白班继续跟进续报。",
                                   duty_day(now) - timedelta(days=1)))




# -- 双重预防: risk points at all four levels, hidden dangers at every stage --------------------------
INSPECTOR = ("xinxing", "operator", "新兴街道值班员 周杰")  # the street desk (main seed), also its safety inspector on the phone page


def demo_png(rgb: tuple[int, int, int], stripe: tuple[int, int, int] = (255, 255, 255), w: int = 96, h: int = 64) -> bytes:
    """A small striped PNG standing in for a site photo (made here: no image library needed)."""
    import struct
    import zlib

    rows = b"".join(b"\x00" + b"".join(bytes(stripe if (x + y) // 8 % 4 == 0 else rgb) for x in range(w)) for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + \
        chunk(b"IEND", b"")


def seed_prevention(c: Container, admin: CommandContext, now: datetime) -> dict[str, int]:
    district = c.settings.district_code
    prefix = district[:6]
    s = c.service
    xinxing = f"{prefix}001000"
    user, role, display = INSPECTOR
    if c.accounts.get(user) is None:
        c.accounts.add(user, DEMO_PASSWORD, role, xinxing, None, display)
    officer = CommandContext(Principal(user, role, xinxing, name=display), request_id="seed")
    clock = s.clock
    stamp = es_domain.datetime_now_with_tzinfo

    def back(days: float) -> None:
        """Records made `days` ago: the service's clock and the events' timestamps set back for them."""
        s.clock = lambda: clock() - timedelta(days=days)
        es_domain.datetime_now_with_tzinfo = s.clock

    def present() -> None:
        s.clock = clock
        es_domain.datetime_now_with_tzinfo = stamp

    def photo(unit: str, rgb: tuple[int, int, int], name: str) -> str:
        return c.evidence.put(demo_png(rgb), unit_code=unit, name=name, uploaded_by=user)["sha256"]

    points: dict[str, str] = {}
    try:
        for key, unit, name, subject, industry, hazard, assess, days_ago in [
            ("ammonia", f"{prefix}006001", "液氨制冷机房", "许昌瑞冷冷链物流有限公司", "冷链物流", "液氨泄漏，中毒、爆炸",
             {"method": "lec", "l": 3, "e": 6, "c": 40}, 0),  # D = 720: 重大
            ("pit", f"{prefix}001002", "综合楼深基坑", "东城建工集团（许田安置房项目）", "建筑施工", "基坑坍塌、高处坠落",
             {"method": "lec", "l": 3, "e": 3, "c": 40}, 45),  # D = 360: 重大, review overdue
            ("fuel", f"{prefix}001001", "储油罐区", "中石化东城加油站", "成品油零售", "油气泄漏，火灾爆炸",
             {"method": "lec", "l": 1, "e": 6, "c": 40}, 0),  # D = 240: 较大
            ("gas", f"{prefix}004003", "老旧小区燃气管线", "祖师街道芙蓉社区", "城镇燃气", "管线老化泄漏，燃爆",
             {"method": "lec", "l": 3, "e": 6, "c": 7}, 0),  # D = 126: 一般
            ("levee", f"{prefix}001003", "清潩河魏庄段堤防", "魏庄村", "防汛", "汛期漫堤、管涌",
             {"method": "direct", "level": "general", "basis": "汛期重点部位，近十年无险情，按一般风险管控"}, 0),
            ("switch", f"{prefix}002001", "配电室", "东城纺织有限公司", "纺织", "触电、电气火灾",
             {"method": "lec", "l": 1, "e": 3, "c": 15}, 0),  # D = 45: 低
        ]:
            back(days_ago)
            points[key] = s.register_risk_point(admin, unit_code=unit, name=name, subject=subject, industry=industry, hazard=hazard,
                                                **assess).id
            s.set_risk_controls(admin, UUID(points[key]), [
                {"tier": "enterprise", "measures": "每班巡检，隐患当班上报", "person": f"{subject[:4]}安全员"},
                {"tier": "street", "measures": "每月检查一次，汛期加密", "person": "街道安监站 孙磊"},
                {"tier": "district", "measures": "行业部门季度督查", "person": "区应急管理局 王强"}])
        present()
        # A planned inspection of the cold store: one finding, a 重大 hidden danger under the district's 挂牌督办.
        back(6)
        ammonia_unit = f"{prefix}006001"
        valve = photo(ammonia_unit, (150, 60, 40), "阀门锈蚀.png")
        inspection = s.record_inspection(admin, unit_code=ammonia_unit, kind="planned", inspected_at=s.clock(),
                                         risk_point_ids=[UUID(points["ammonia"])], inspectors="区应急管理局 王强、街道安监站 孙磊",
                                         checklist=[{"item": "液氨储罐压力表校验", "result": "ok", "note": ""},
                                                    {"item": "氨气泄漏报警装置", "result": "ok", "note": ""},
                                                    {"item": "管道阀门完好", "result": "fail", "note": "主管道阀门锈蚀"},
                                                    {"item": "应急喷淋装置", "result": "na", "note": "改造中"}],
                                         findings=[{"grade": "major", "title": "液氨主管道阀门锈蚀，存在泄漏风险",
                                                    "description": "机房主管道两处阀门锈蚀严重，密封件老化。", "evidence": [valve]}])
        major = c.log.repository.get(UUID(inspection.id)).id
        major_id = next(str(n.originator_id) for n in c.log.read(0, 1_000_000)
                        if n.topic.endswith("HiddenDanger.Found") and c.log.decode(n).inspection_id == major)
        s.assign_hidden_danger(admin, UUID(major_id), rectifier="许昌瑞冷冷链物流有限公司", responsible="总经理 陈建国",
                               deadline=now + timedelta(days=24), measures="更换主管道阀门及密封件，整改期间降低运行压力",
                               five={"responsibility": "企业主要负责人陈建国牵头，设备部具体实施", "measures": "更换阀门、密封件，加装泄漏检测",
                                     "funds": "企业自筹18万元，已到位", "time_limit": "30日内完成", "plan": "液氨泄漏专项应急预案（已演练）"},
                               supervision="东应急督〔2026〕7号 区安委办挂牌督办")
        present()
        s.note_danger_progress(admin, UUID(major_id), "新阀门已到货，计划周末停机更换")

        def found(unit: str, title: str, rgb: tuple[int, int, int], grade: str = "general", point: str | None = None,
                  site: str = "", by: CommandContext = officer) -> UUID:
            sha = photo(unit, rgb, f"{title[:6]}.png")
            return UUID(s.report_hidden_danger(by, unit_code=unit, grade=grade, title=title, site=site,
                                               risk_point_id=UUID(points[point]) if point else None, evidence=[sha]).id)

        def assign(d: UUID, days: float, rectifier: str) -> None:
            s.assign_hidden_danger(admin, d, rectifier=rectifier, responsible=f"{rectifier[:4]}负责人", deadline=s.clock() + timedelta(days=days),
                                   measures="限期整改，整改完成后报街道验收")

        v1, v2, v3 = f"{prefix}001001", f"{prefix}001002", f"{prefix}001003"
        # found (not yet assigned)
        found(v1, "加油站卸油口静电接地线断开", (90, 90, 110), point="fuel")
        found(f"{prefix}006002", "仓储厂房消防通道堆放货物", (120, 100, 60), site="集聚区纬三路仓储厂房", by=admin)
        # rectifying, in time
        d = found(v3, "堤防护坡局部塌陷", (70, 110, 70), point="levee")
        assign(d, 5, "魏庄村民委员会")
        s.move_danger_deadline(admin, d, s.clock() + timedelta(days=8), "需待河道清淤完成后施工，延期3天")
        # two overdue: assigned earlier, deadlines passed, each escalated by the watchdog when it was missed
        back(12)
        pit = found(v2, "基坑临边防护栏杆缺失", (140, 120, 40), point="pit")
        assign(pit, 7, "东城建工集团项目部")
        back(9)
        gas = found(f"{prefix}004003", "燃气调压箱锈蚀未更换", (110, 80, 80), point="gas", by=admin)
        assign(gas, 6, "许昌新奥燃气东城分公司")
        watchdog = CommandContext(Principal("watchdog", "system", ""), request_id="watchdog")
        back(4.9)
        s.escalate_hidden_danger(watchdog, pit)
        back(2.9)
        s.escalate_hidden_danger(watchdog, gas)
        present()
        # reported rectified, awaiting verification
        back(4)
        d = found(v1, "站房灭火器压力不足", (160, 40, 40), point="fuel")
        assign(d, 10, "中石化东城加油站")
        present()
        s.report_danger_rectified(officer, d, [photo(v1, (40, 140, 60), "更换后灭火器.png")], "已更换8具灭火器")
        # verified, awaiting 销号
        back(8)
        d = found(v2, "施工现场临时用电私拉乱接", (100, 100, 40), point="pit")
        assign(d, 5, "东城建工集团项目部")
        back(4)
        s.report_danger_rectified(officer, d, [photo(v2, (60, 120, 160), "规范布线.png")], "已按规范重新布线")
        s.verify_hidden_danger(admin, d, "街道复查合格")
        # closed (销号), once rejected on the way
        back(20)
        d = found(v3, "村委会应急物资库漏雨", (80, 80, 140), site="魏庄村委会物资库")
        assign(d, 7, "魏庄村民委员会")
        back(15)
        s.report_danger_rectified(officer, d, [photo(v3, (90, 90, 160), "屋面修补.png")], "屋面已修补")
        s.reject_hidden_danger(admin, d, "雨后复查仍有渗漏", s.clock() + timedelta(days=5))
        back(12)
        s.report_danger_rectified(officer, d, [photo(v3, (100, 150, 170), "防水层.png")], "重新做防水层")
        s.verify_hidden_danger(admin, d, "雨后复查无渗漏")
        s.close_hidden_danger(admin, d, "对标销号")
    finally:
        present()
    return {"risk_points": len(points), "hidden_dangers": 9}

