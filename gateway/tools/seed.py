"""`yingji seed demo`: an illustrative district (东城区) for demos and manual testing.

Everything goes through the command service, as an operator's commands would.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from gateway.container import Container
from gateway.context import CommandContext, Principal
from gateway.service_layer import commands as cmd
from domain.disaster_reports import STAGED_CATEGORIES
from domain.policy import REPORT_UPWARD_WITHIN, duty_day, local_day
from projections.duty import open_items

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
    return {"units": 1 + len(STREETS) + len(villages), "teams": len(team_ids) + len(TEAM_EXTRAS), "warehouses": len(warehouses)}


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
    # This week's roster: the district and every street, from today (the roster is not kept for past days).
    today = local_day(now)
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
