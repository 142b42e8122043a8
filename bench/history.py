"""A synthetic district history, written fast into an embedded (SQLite) store, for the benchmarks.

The district of the demo (411099000000: 6 street offices, 7 villages or
communities each), 12 rescue teams, 6 stocked warehouses, then incidents one
after another, several open at a time: reported, verified (a few dismissed),
re-levelled, situation updates, dispatches (ordered, acknowledged, departed,
arrived, completed; some declined or cancelled; missed deadlines escalated as
the watchdog would), allocations (requested, shipped, delivered, durable
items returned; some cancelled), controlled, closed. Around them: directives
from the city, stocktakes, restocking, minimum levels, teams going off and on
duty, unit parts updated.

The plan's reporting duties are kept as a district keeps them, so that the board at any moment holds
what a real one would (open incidents and what they still owe), not every incident ever reported:
the city acknowledges each incident's report upward (the 2-hour rule), and a natural disaster has
its 初报 drafted, signed off, submitted and acknowledged, and its 核报 once it is controlled; every
village and community files its daily report (日报, mostly 零报告) each day, now and then corrected.

Aggregates are built with their own domain methods (the invariants hold:
a team serves one dispatch at a time and is released on completion, stock
never goes below what is reserved), not through HTTP nor the command service;
the events of many commands are saved together, in command order, ~1000 per
`log.save(...)`. Event times come from a simulated clock (one command every
~25 s on average), so the history spans months.

    python -m bench.history --events 100000 --out /tmp/h     # writes /tmp/h/events.sqlite3

`ensure_history(events)` keeps generated stores in a cache (keyed by size,
seed and generator version) and copies one into a fresh data dir.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import eventsourcing.domain as es_domain
from eventsourcing.domain import Aggregate

from domain.allocations import Allocation
from domain.common import Actor
from domain.directives import Directive
from domain.disaster_reports import STAGED_CATEGORIES, DisasterReport, Stage
from domain.dispatches import Dispatch, Escalation
from domain.incidents import SUBTYPES, Incident
from domain.policy import initial_report_due_at, local_day, verified_report_due_at
from domain.reports import DailyReport
from domain.teams import Team
from domain.units import Unit
from domain.warehouses import Warehouse
from gateway.settings import DEFAULT_ACK_MINUTES, DEFAULT_ARRIVE_MINUTES, Settings

GENERATOR_VERSION = 2  # 2: reports upward, staged disaster reports and daily reports, as the plan requires
DISTRICT = "411099000000"
PREFIX = DISTRICT[:6]
START = datetime(2025, 6, 1, tzinfo=timezone.utc)
DEFAULT_CACHE = Path(os.environ.get("YINGJI_BENCH_CACHE", Path(tempfile.gettempdir()) / "yingji-bench-cache"))

STREETS = [
    ("001", "新兴街道", "street"),
    ("002", "东城街道", "street"),
    ("003", "半截河街道", "street"),
    ("004", "祖师街道", "street"),
    ("005", "丁庄街道", "street"),
    ("006", "东城产业集聚区", "cluster"),
]
VILLAGES = ["魏庄", "许田", "后河", "尚集", "张潘", "灵井", "椹涧", "蒋李", "河街", "榆林", "陈曹", "将官池", "小召", "桂村",
            "苏桥", "五女店", "邓庄", "长村张", "石固", "繁城", "大周", "灞陵", "宋庄", "王店", "双庙", "盆刘", "谢庄", "八里桥",
            "七里店", "塔湾", "柏庄", "大路", "古槐", "清潩", "文峰", "莲城", "春秋", "芙蓉", "学院", "天宝", "毓秀", "瑞贝"]
EXTRA_TEAMS = [  # street, village, name, kind, members
    ("001", "001", "新兴民兵应急连", "militia", 30),
    ("002", "000", "区消防救援大队东城中队", "fire", 25),
    ("003", "000", "半截河防汛抢险队", "flood", 40),
    ("004", "000", "祖师医疗救护队", "medical", 12),
    ("006", "000", "集聚区危化品处置队", "hazmat", 16),
    ("005", "002", "丁庄民兵应急连", "militia", 24),
]
STOCK = {  # code: (initial quantity, minimum)
    "TENT-12": (60, 20), "TENT-36": (4, 1), "QUILT": (300, 100), "COTTON-COAT": (200, 50), "FOLD-BED": (120, 40),
    "WATER-550": (400, 100), "INSTANT-FOOD": (300, 100), "LIFE-JACKET": (250, 80), "LIFE-BUOY": (80, 20),
    "SANDBAG": (5000, 2000), "GEOTEXTILE": (800, 200), "BOAT-INFL": (3, 1), "PUMP": (8, 2), "ROPE": (60, 20),
    "GENERATOR": (6, 2), "LIGHT-TOWER": (4, 1), "FLASHLIGHT": (150, 40), "CHAINSAW": (6, 2), "FIRE-EXT": (80, 20),
    "FIRE-BEATER": (10, 3), "HELMET": (120, 40), "RAINCOAT": (200, 60), "RUBBER-BOOTS": (150, 40),
    "FIRST-AID": (100, 30), "STRETCHER": (20, 6), "MEGAPHONE": (30, 10), "SAT-PHONE": (4, 1),
}
# Durable items come back after the incident (some lost or damaged); the rest is used up.
DURABLE = {"TENT-12", "TENT-36", "FOLD-BED", "LIFE-JACKET", "LIFE-BUOY", "BOAT-INFL", "PUMP", "ROPE", "GENERATOR",
           "LIGHT-TOWER", "FLASHLIGHT", "CHAINSAW", "FIRE-BEATER", "HELMET", "STRETCHER", "MEGAPHONE", "SAT-PHONE"}
NEEDS = {  # material choices (and a typical quantity) per kind of incident
    "flood": [("SANDBAG", 400), ("LIFE-JACKET", 30), ("PUMP", 2), ("BOAT-INFL", 1), ("GEOTEXTILE", 100), ("TENT-12", 8)],
    "fire": [("FIRE-EXT", 12), ("FIRE-BEATER", 2), ("HELMET", 10), ("FIRST-AID", 5), ("LIGHT-TOWER", 1)],
    "quake": [("TENT-12", 10), ("TENT-36", 1), ("QUILT", 40), ("STRETCHER", 4), ("GENERATOR", 1), ("CHAINSAW", 2)],
    "cold": [("COTTON-COAT", 30), ("QUILT", 40), ("INSTANT-FOOD", 20), ("WATER-550", 20), ("FOLD-BED", 10)],
    "general": [("WATER-550", 30), ("INSTANT-FOOD", 20), ("FIRST-AID", 6), ("FLASHLIGHT", 10), ("MEGAPHONE", 2),
                ("RAINCOAT", 20), ("RUBBER-BOOTS", 15), ("ROPE", 4), ("SAT-PHONE", 1)],
}
NEED_OF_SUBTYPE = {"flood": "flood", "rainstorm": "flood", "fire": "fire", "forest_fire": "fire", "hazmat": "fire",
                   "gas_leak": "fire", "earthquake": "quake", "building_collapse": "quake", "geological": "quake",
                   "snow_ice": "cold", "strong_wind": "cold"}
LEVEL_WEIGHTS = {"I": 1, "II": 4, "III": 20, "IV": 75}
CATEGORY_WEIGHTS = {"natural_disaster": 55, "accident": 35, "public_health": 6, "social_security": 4}

COMMANDER = Actor("commander", "commander", DISTRICT, name="指挥长 王强")
OPERATOR = Actor("operator", "operator", DISTRICT, name="值班员 李静")
WATCHDOG = Actor("watchdog", "system", "")
CITY = Actor("relay", "system", "")


# ---------------------------------------------------------------------------
# The simulated clock: every event's timestamp
# ---------------------------------------------------------------------------


class SimClock:
    def __init__(self, start: datetime):
        self.now = start

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@contextmanager
def simulated_time(clock: SimClock) -> Iterator[None]:
    """Event timestamps from `clock` (the library asks `create_timestamp()` for every new event)."""
    base = es_domain.CanCreateTimestamp
    original = base.__dict__["create_timestamp"]
    base.create_timestamp = staticmethod(lambda: clock.now)  # type: ignore[method-assign]
    try:
        yield
    finally:
        base.create_timestamp = original  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# The world: long-lived aggregates, and flows (generators) that act on them
# ---------------------------------------------------------------------------

Step = list[Aggregate] | None  # the aggregates one command changed, or None: waiting, nothing done


@dataclass
class Spawn:
    flow: Iterator[Any]


@dataclass
class Parent:
    children: int = 0


@dataclass
class World:
    rng: random.Random
    clock: SimClock
    villages: list[str] = field(default_factory=list)
    streets: list[str] = field(default_factory=list)
    units: dict[str, Unit] = field(default_factory=dict)
    teams: list[Team] = field(default_factory=list)
    warehouses: list[Warehouse] = field(default_factory=list)
    warehouse_of_street: dict[str, Warehouse] = field(default_factory=dict)
    incidents_open: int = 0
    directives: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def idle_teams(self) -> list[Team]:
        return [t for t in self.teams if t.on_duty and not t.is_busy]


def field_actor(team: Team) -> Actor:
    return Actor(f"team-{team.id.hex[:8]}", "field", team.unit_code, name=f"{team.name} 队长")


def reporter_of(village: str) -> Actor:
    return Actor(f"reporter-{village[-6:]}", "reporter", village, name=f"灾害信息员{village[-3:]}")


def keeper_of(w: Warehouse) -> Actor:
    return Actor(f"keeper-{w.unit_code[6:9]}", "operator", w.unit_code, name=f"{w.name[:2]}保管员")


def setup(world: World) -> Iterator[Step]:
    """Units, teams and stocked warehouses: one command each, as `yingji seed demo` does."""
    rng = world.rng
    admin = Actor("admin", "admin", DISTRICT, name="系统管理员")
    district = Unit.register(code=DISTRICT, name="东城区", kind="district", lat=34.036, lon=113.852, by=admin)
    world.units[DISTRICT] = district
    yield [district]
    names = iter(VILLAGES)
    for street_no, name, kind in STREETS:
        code = f"{PREFIX}{street_no}000"
        lat, lon = 34.036 + rng.uniform(-0.03, 0.03), 113.852 + rng.uniform(-0.04, 0.07)
        street = Unit.register(code=code, name=name, kind=kind, lat=lat, lon=lon, by=admin,
                               parts={"committee": 1, "office_staff": 5, "rescue_team_size": 24, "warehouses": 1,
                                      "command_platform": 1})
        world.units[code] = street
        world.streets.append(code)
        yield [street]
        for v in range(1, 8):
            vcode = f"{PREFIX}{street_no}{v:03d}"
            vkind = "community" if v % 3 == 0 else "village"
            village = Unit.register(code=vcode, name=next(names) + ("社区" if vkind == "community" else "村"), kind=vkind,
                                    lat=lat + rng.uniform(-0.01, 0.01), lon=lon + rng.uniform(-0.01, 0.01), by=admin,
                                    parts={"persuasion_station": 1, "persuader_team": 1, "info_reporter": 1, "militia_team": 1})
            world.units[vcode] = village
            world.villages.append(vcode)
            yield [village]
        team = Team.register(name=f"{name}综合应急救援队", kind="comprehensive", unit_code=code, members=20 + int(street_no) * 2,
                             leader=f"{name[:2]}队长", phone=f"1390374{int(street_no):04d}", by=admin)
        world.teams.append(team)
        yield [team]
        w = Warehouse.register(name=f"{name}应急物资仓库", unit_code=code, address=f"{name}办事处院内", manager=f"{name[:2]}保管员",
                               phone=f"0374-66{int(street_no):05d}", lat=lat - 0.002, lon=lon + 0.003, by=admin)
        world.warehouses.append(w)
        world.warehouse_of_street[code] = w
        yield [w]
        scale = 1 + (int(street_no) % 3)
        w.receive({c: q * scale // 2 + q // 2 for c, (q, _) in STOCK.items()}, "初始储备", by=admin)
        yield [w]
        for c, (_, minimum) in STOCK.items():
            w.set_minimum(c, minimum, by=admin)
            yield [w]
    for street_no, village_no, name, kind, members in EXTRA_TEAMS:
        team = Team.register(name=name, kind=kind, unit_code=f"{PREFIX}{street_no}{village_no}", members=members,
                             leader="队长", phone="13900000000", by=admin)
        world.teams.append(team)
        yield [team]


def weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def incident_flow(world: World, n: int) -> Iterator[Any]:
    """Counted in `world.incidents_open` by whoever starts it, until it ends."""
    rng, clock = world.rng, world.clock
    village = rng.choice(world.villages)
    category = weighted(rng, CATEGORY_WEIGHTS)
    subtype = rng.choice(SUBTYPES[category])
    level = weighted(rng, LEVEL_WEIGHTS)
    unit = world.units[village]
    incident = Incident.report(
        category=category, subtype=subtype, level=level, title=f"{unit.name}{subtype}事件#{n}",
        description=f"群众报告：{unit.name}发生{subtype}，现场情况待核实。", unit_code=village, address=f"{unit.name}第{rng.randint(1, 9)}组",
        lat=(unit.lat or 34.0) + rng.uniform(-0.003, 0.003), lon=(unit.lon or 113.8) + rng.uniform(-0.003, 0.003),
        occurred_at=clock.now - timedelta(minutes=rng.randint(3, 100)), source="灾害信息员电话", by=reporter_of(village),
    )
    world.count("incidents")
    try:
        yield [incident]
        for _ in range(rng.randint(0, 2)):  # the relay's batch reaches the city; its acknowledgement is recorded
            yield None
        incident.record_reported_upward(clock.now, f"batch-{n}", by=CITY)
        yield [incident]
        if rng.random() < 0.06:
            incident.dismiss("核实为误报", by=OPERATOR)
            yield [incident]
            return
        incident.verify(by=OPERATOR, note="现场核实属实")
        yield [incident]
        staged = category in STAGED_CATEGORIES
        if staged:
            yield from staged_report(world, incident, Stage.INITIAL, initial_report_due_at(incident.occurred_at))
        if rng.random() < 0.1:
            new_level = rng.choice([lv for lv in LEVEL_WEIGHTS if lv != incident.level])
            incident.change_level(new_level, "灾情发展", by=COMMANDER)
            yield [incident]
        parent = Parent()
        for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
            parent.children += 1
            yield Spawn(tracked(dispatch_flow(world, incident), parent))
        for _ in range(rng.choice([0, 1, 1, 1, 2])):
            parent.children += 1
            yield Spawn(tracked(allocation_flow(world, incident), parent))
        figures = {"deaths": 0, "injured": 0, "missing": 0, "evacuated": 0, "affected": 0}
        for _ in range(rng.randint(1, 4)):
            for _ in range(rng.randint(0, 3)):
                yield None
            for k in rng.sample(list(figures), rng.randint(1, 3)):
                figures[k] += rng.randint(0, 40 if k in ("evacuated", "affected") else 3)
            incident.update_situation(dict(figures), notes=f"截至{clock.now:%H:%M}情况更新", by=OPERATOR)
            yield [incident]
        while parent.children:
            yield None
        if rng.random() < 0.7:
            incident.control(by=COMMANDER, note="险情已得到控制")
            yield [incident]
            if staged:
                yield from staged_report(world, incident, Stage.VERIFIED, verified_report_due_at(clock.now))
        incident.close("处置完毕，现场恢复正常，无次生灾害。", by=COMMANDER)
        yield [incident]
    finally:
        world.incidents_open -= 1


def staged_report(world: World, incident: Incident, stage: Stage, due_at: datetime) -> Iterator[Step]:
    """A staged disaster report as the desk files it: drafted, signed off by the commander, submitted, and the
    city's acknowledgement of the relay's batch recorded."""
    rng, clock = world.rng, world.clock
    affected = rng.randint(0, 400)
    report = DisasterReport.draft(incident_id=incident.id, unit_code=incident.unit_code, category=incident.category,
                                  incident_status=incident.status, stage=stage.value, day=local_day(clock.now),
                                  figures={"affected_population": affected, "relocated": affected // 4,
                                           "economic_loss_10k": round(rng.uniform(0, 80), 2)},
                                  notes="现场核查，数据据实填报。", controlled=stage == Stage.VERIFIED, by=OPERATOR)
    world.count(f"reports_{stage.value}")
    yield [report]
    report.sign_off("同意报送", by=COMMANDER)
    yield [report]
    report.submit(due_at, clock.now, by=OPERATOR)
    yield [report]
    yield None
    report.record_acknowledged(clock.now, f"batch-{report.id.hex[:8]}", by=CITY)
    yield [report]


def daily_reports_flow(world: World) -> Iterator[Step]:
    """Each village's daily report of the local day that has just begun, filed at some point in it."""
    rng = world.rng
    day = local_day(world.clock.now)
    for village in rng.sample(world.villages, len(world.villages)):
        for _ in range(rng.randint(0, 8)):
            yield None
        zero = rng.random() < 0.9
        report = DailyReport.file(unit_code=village, day=day, today=day, zero=zero, summary="" if zero else "村内道路积水已排除",
                                  by=reporter_of(village))
        world.count("daily_reports")
        yield [report]
        if rng.random() < 0.03:
            report.correct(False, "补报：村东一处房屋漏雨，已转移一户", by=reporter_of(village))
            yield [report]


def tracked(flow: Iterator[Any], parent: Parent) -> Iterator[Any]:
    try:
        yield from flow
    finally:
        parent.children -= 1


def dispatch_flow(world: World, incident: Incident) -> Iterator[Step]:
    rng, clock = world.rng, world.clock
    while True:
        idle = world.idle_teams()
        if idle:
            break
        yield None
    nearby = [t for t in idle if t.unit_code[:9] == incident.unit_code[:9]]
    team = rng.choice(nearby or idle)
    dispatch = Dispatch.order(incident_id=incident.id, team_id=team.id, unit_code=incident.unit_code,
                              task=rng.choice(["转移被困群众", "设置警戒区域", "抢险排涝", "现场搜救", "火情扑救", "医疗救护"]),
                              ack_deadline=clock.now + timedelta(minutes=DEFAULT_ACK_MINUTES[incident.level]), by=COMMANDER)
    team.assign(dispatch.id, by=COMMANDER)
    world.count("dispatches")
    yield [dispatch, team]
    crew = field_actor(team)
    if rng.random() < 0.05:
        dispatch.decline("队伍正在处置其他险情", by=crew)
        team.release(dispatch.id, by=crew)
        yield [dispatch, team]
        return
    if clock.now >= dispatch.ack_deadline:
        dispatch.escalate(Escalation.ACK_OVERDUE, clock.now, by=WATCHDOG)
        yield [dispatch]
    dispatch.acknowledge(by=crew, arrive_deadline=clock.now + timedelta(minutes=DEFAULT_ARRIVE_MINUTES[incident.level]))
    yield [dispatch]
    dispatch.depart(by=crew)
    yield [dispatch]
    if rng.random() < 0.03:
        dispatch.cancel("险情已排除，队伍返回", by=COMMANDER)
        team.release(dispatch.id, by=COMMANDER)
        yield [dispatch, team]
        return
    if dispatch.arrive_deadline and clock.now >= dispatch.arrive_deadline:
        dispatch.escalate(Escalation.ARRIVAL_OVERDUE, clock.now, by=WATCHDOG)
        yield [dispatch]
    dispatch.arrive(by=crew)
    yield [dispatch]
    for _ in range(rng.randint(0, 4)):
        yield None
    dispatch.complete(by=crew, note="任务完成")
    team.release(dispatch.id, by=crew)
    yield [dispatch, team]


def allocation_flow(world: World, incident: Incident) -> Iterator[Step]:
    rng = world.rng
    street = incident.unit_code[:9] + "000"
    w = world.warehouse_of_street.get(street) if rng.random() < 0.8 else None
    w = w or rng.choice(world.warehouses)
    keeper = keeper_of(w)
    needs = NEEDS[NEED_OF_SUBTYPE.get(incident.subtype, "general")]
    lines = {c: max(1, int(q * rng.uniform(0.3, 1.5))) for c, q in rng.sample(needs, rng.randint(1, min(3, len(needs))))}
    short = {c: q for c, q in lines.items() if w.available(c) < q}
    if short:  # restock first
        w.receive({c: max(q, STOCK[c][0]) for c, q in short.items()}, "补充储备", by=keeper)
        world.count("restocks")
        yield [w]
        if any(w.available(c) < q for c, q in lines.items()):  # taken meanwhile: order less
            lines = {c: min(q, w.available(c)) for c, q in lines.items() if w.available(c) > 0}
            if not lines:
                return
    team = rng.choice(world.teams) if rng.random() < 0.3 else None
    allocation = Allocation.request(incident_id=incident.id, warehouse_id=w.id, unit_code=incident.unit_code, lines=lines,
                                    destination=f"{world.units[incident.unit_code].name}村委会",
                                    team_id=team.id if team else None, by=COMMANDER)
    w.reserve(allocation.id, allocation.lines, by=COMMANDER)
    world.count("allocations")
    yield [allocation, w]
    if rng.random() < 0.08:
        allocation.cancel("现场已无需此批物资", by=COMMANDER)
        w.release(allocation.id, by=COMMANDER)
        yield [allocation, w]
        return
    yield None
    allocation.ship(by=keeper, vehicle=f"豫K{rng.randint(10000, 99999)}")
    w.issue(allocation.id, by=keeper)
    yield [allocation, w]
    for _ in range(rng.randint(0, 3)):
        yield None
    allocation.deliver("现场负责人", by=field_actor(team) if team else COMMANDER)
    yield [allocation]
    back = {c: q - (rng.randint(0, max(q // 5, 0)) if rng.random() < 0.3 else 0) for c, q in lines.items() if c in DURABLE}
    back = {c: q for c, q in back.items() if q > 0}
    if back:
        for _ in range(rng.randint(1, 6)):
            yield None
        allocation.give_back(back, by=keeper, note="用后归还")
        w.take_back(allocation.id, back, by=keeper)
        yield [allocation, w]


def directive_flow(world: World) -> Iterator[Step]:
    rng, clock = world.rng, world.clock
    world.directives += 1
    d = Directive.receive(upstream_id=f"XC-{clock.now:%Y%m%d}-{world.directives:05d}", title="关于做好近期防汛工作的通知",
                          content="各单位要加强值班值守，落实24小时值班和领导带班制度，及时报送险情。", level=rng.choice(["urgent", "normal"]),
                          issuer="许昌市应急管理局", issued_at=clock.now - timedelta(minutes=rng.randint(1, 30)),
                          unit_code=DISTRICT, by=CITY)
    yield [d]
    for _ in range(rng.randint(2, 20)):
        yield None
    d.acknowledge("已传达至各街道", by=COMMANDER)
    yield [d]


def housekeeping_flow(world: World) -> Iterator[Step]:
    """Now and then: a stocktake, a minimum level, a team off duty for a while, a unit's parts."""
    rng = world.rng
    r = rng.random()
    if r < 0.4:
        w = rng.choice(world.warehouses)
        code = rng.choice(list(STOCK))
        counted = max(w.reserved.get(code, 0), w.on_hand.get(code, 0) - rng.randint(0, 2))
        w.count(code, counted, "月度盘点", by=keeper_of(w))
        yield [w]
    elif r < 0.55:
        w = rng.choice(world.warehouses)
        code = rng.choice(list(STOCK))
        w.set_minimum(code, max(1, int(STOCK[code][1] * rng.uniform(0.8, 1.3))), by=OPERATOR)
        yield [w]
    elif r < 0.85:
        idle = world.idle_teams()
        if not idle:
            return
        team = rng.choice(idle)
        team.set_duty(False, by=OPERATOR)
        yield [team]
        for _ in range(rng.randint(5, 40)):
            yield None
        team.set_duty(True, by=OPERATOR)
        yield [team]
    else:
        code = rng.choice(world.villages)
        unit = world.units[code]
        unit.update_parts({"persuader_team": rng.randint(1, 3), "info_reporter": rng.randint(1, 2)}, by=OPERATOR)
        yield [unit]


# ---------------------------------------------------------------------------
# Driving the flows and saving their events
# ---------------------------------------------------------------------------


def generate(data_dir: Path, events: int, seed: int = 411099, per_save: int = 1000, concurrency: int = 10,
             mean_gap_seconds: float = 25.0, progress: bool = True) -> dict[str, Any]:
    """Write a history of about `events` events (stops at the first command boundary at or past it)."""
    from gateway.adapters.eventstore import DistrictLog

    settings = Settings(data_dir=data_dir, create_schema=True)
    log = DistrictLog(settings.eventstore_env())
    if log.max_position():
        raise SystemExit(f"{data_dir} already holds events")
    rng = random.Random(seed)
    clock = SimClock(START)
    world = World(rng, clock)
    buffer: list[Any] = []
    written = 0
    saves = 0
    t0 = time.perf_counter()
    last_report = t0

    # Snapshots as the product takes them (`DistrictLog.snapshotting_intervals`): the library takes them only for
    # aggregates handed to save(), and events are saved here, so they are taken after each save, from the store.
    intervals: dict[type, int] = dict(getattr(type(log), "snapshotting_intervals", None) or {})
    snapshots_due: list[tuple[Any, int]] = []
    snapshots_taken = 0

    def take(step: list[Aggregate]) -> None:
        for agg in step:
            events = agg.collect_events()
            buffer.extend(events)
            interval = intervals.get(type(agg))
            if interval:
                snapshots_due.extend((e.originator_id, e.originator_version) for e in events if e.originator_version % interval == 0)

    def flush() -> None:
        nonlocal written, saves, last_report, snapshots_taken
        if buffer:
            log.save(*buffer)
            written += len(buffer)
            saves += 1
            buffer.clear()
            for aggregate_id, version in snapshots_due:
                log.take_snapshot(aggregate_id, version=version)
            snapshots_taken += len(snapshots_due)
            snapshots_due.clear()
        now = time.perf_counter()
        if progress and (now - last_report > 2 or written >= events):
            last_report = now
            rate = written / max(now - t0, 1e-9)
            print(f"\rhistory: {written:,}/{events:,} events ({rate:,.0f}/s, sim {clock.now:%Y-%m-%d})", end="",
                  file=sys.stderr, flush=True)

    with simulated_time(clock):
        for step in setup(world):
            take(step)
            clock.advance(rng.uniform(5, 60))
        flush()
        pool: list[Iterator[Any]] = []
        n_incidents = 0
        day = local_day(clock.now)
        total = lambda: written + len(buffer)  # noqa: E731
        while total() < events:
            while world.incidents_open < concurrency:
                n_incidents += 1
                world.incidents_open += 1
                pool.append(incident_flow(world, n_incidents))
            if rng.random() < 0.002:
                pool.append(directive_flow(world))
            if rng.random() < 0.01:
                pool.append(housekeeping_flow(world))
            if local_day(clock.now) != day:
                day = local_day(clock.now)
                pool.append(daily_reports_flow(world))
            i = rng.randrange(len(pool))
            try:
                step = next(pool[i])
            except StopIteration:
                pool[i] = pool[-1]
                pool.pop()
                continue
            if step is None:
                continue
            if isinstance(step, Spawn):
                pool.append(step.flow)
                continue
            take(step)
            clock.advance(rng.expovariate(1 / mean_gap_seconds))
            if len(buffer) >= per_save:
                flush()
        flush()
    elapsed = time.perf_counter() - t0
    if progress:
        print(file=sys.stderr)
    head = log.max_position()
    log.close()
    return {"events": head, "saves": saves, "snapshots": snapshots_taken, "seconds": round(elapsed, 2), "events_per_second": round(head / elapsed),
            "simulated_from": START.isoformat(), "simulated_to": clock.now.isoformat(), "seed": seed,
            "generator_version": GENERATOR_VERSION, **world.counts}


# ---------------------------------------------------------------------------
# The cache
# ---------------------------------------------------------------------------


def source_fingerprint() -> str:
    """A hash of this generator, the domain it drives and the event store it writes to: a cached history is reused
    only while they are unchanged."""
    import hashlib

    h = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for path in [Path(__file__).resolve(), root / "gateway" / "adapters" / "eventstore.py", *sorted((root / "domain").glob("*.py"))]:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def cached_history(events: int, seed: int = 411099, cache_dir: Path = DEFAULT_CACHE, progress: bool = True) -> tuple[Path, dict[str, Any]]:
    """The path of a cached events.sqlite3 of about `events` events, generated on first use."""
    stem = f"history-{events}-s{seed}-v{GENERATOR_VERSION}"
    key = cache_dir / f"{stem}-{source_fingerprint()}"
    meta_path = key / "meta.json"
    if meta_path.exists():
        return key / "events.sqlite3", json.loads(meta_path.read_text())
    cache_dir.mkdir(parents=True, exist_ok=True)
    for stale in cache_dir.glob(stem + "-*"):  # the same history from older sources
        if stale.is_dir() and "." not in stale.name:
            shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=key.name + ".", dir=cache_dir))
    try:
        meta = generate(tmp, events, seed=seed, progress=progress)
        _checkpoint_wal(tmp / "events.sqlite3")
        meta["fingerprint"] = key.name.rsplit("-", 1)[1]
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        if key.exists():
            shutil.rmtree(key)
        tmp.rename(key)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    meta["generated_now"] = True
    return key / "events.sqlite3", meta


def ensure_history(data_dir: Path, events: int, seed: int = 411099, cache_dir: Path = DEFAULT_CACHE,
                   progress: bool = True) -> dict[str, Any]:
    """Put a copy of the cached history of `events` events into `data_dir` (a fresh embedded store)."""
    src, meta = cached_history(events, seed, cache_dir, progress)
    data_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    shutil.copyfile(src, data_dir / "events.sqlite3")
    meta = {**meta, "copy_seconds": round(time.perf_counter() - t0, 2), "cache": str(src)}
    return meta


def _checkpoint_wal(path: Path) -> None:
    """Fold the WAL into the database file, so one file is the whole store."""
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# Shared by the benchmarks: where results go, what machine made them
# ---------------------------------------------------------------------------

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    import platform

    import sqlite3
    from importlib.metadata import version

    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "eventsourcing": version("eventsourcing"), "sqlalchemy": version("sqlalchemy"), "httpx": version("httpx"),
            "uvicorn": version("uvicorn"), "sqlite": sqlite3.sqlite_version}


def emit(name: str, doc: dict[str, Any]) -> Path:
    """Print the result document to stdout and write it to bench/results/<name>.json."""
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text + "\n")
    tmp.replace(path)
    print(text, flush=True)
    return path


def say(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=411099)
    p.add_argument("--out", type=Path, default=None, help="a data dir to write into (default: the cache)")
    args = p.parse_args(argv)
    if args.out:
        meta = generate(args.out, args.events, seed=args.seed)
    else:
        path, meta = cached_history(args.events, args.seed)
        meta["path"] = str(path)
    print(json.dumps(meta, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
