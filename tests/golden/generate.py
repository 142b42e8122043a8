"""The golden log's generator: the demo district, then ten days of district life touching every event type.

Run deliberately, never in the test run:

    .venv/bin/python -m tests.golden.generate
    .venv/bin/python -m tests.golden.generate --views-only   # a read model changed on purpose: the log stays

It rewrites tests/golden/district.jsonl.gz (a `yingji export` of the log, gzipped) and
tests/golden/expected/ (the views of tests/golden/views.py after importing it). Regenerate only
on purpose and say why in the commit: every later version must import this log as it is and
rebuild to the expected files; a new event type is added to the history here, old ones never leave.

Deterministic: aggregate ids come from a seeded generator instead of uuid4, event timestamps and
the command service's clock from a simulated clock, and one seeded random decides everything else.
Commands go through the command service, as the gateway's would, so every invariant holds.
"""

from __future__ import annotations

import gzip
import heapq
import io
import json
import random
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from unittest import mock
from uuid import UUID

import eventsourcing.domain

from dataclasses import replace

from domain.common import DomainError
from domain.units import within
from domain.warnings import receipt_id
from gateway.container import Container
from gateway.context import CommandContext, Principal
from gateway.errors import Conflict, Forbidden, NotFound
from gateway.service_layer import commands as cmd
from gateway.service_layer.commands import CityAlert
from gateway.settings import Settings
from gateway.tools import seed, seed_plans
from gateway.tools.backup import export_log, import_log
from projections.board import SHANGHAI
from tests.golden.views import EXPECTED, FIXTURE, NOW, SOURCE, dump, views

T0 = datetime(2026, 6, 1, 1, 30, tzinfo=timezone.utc)  # 09:30 in Asia/Shanghai: the demo is seeded
DAYS = 10
SECRET = "golden-secret-of-at-least-32-bytes!"


class Clock:
    """The simulated wall clock: commands read `now`; each event stamped within a command is 1 ms later."""

    def __init__(self, start: datetime):
        self.t = start
        self.n = 0

    def now(self) -> datetime:
        return self.t

    def stamp(self) -> datetime:
        self.n += 1
        return self.t + timedelta(milliseconds=self.n)

    def set(self, t: datetime) -> None:
        assert t >= self.t, (t, self.t)
        if t > self.t:
            self.t, self.n = t, 0


class Ids:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def __call__(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)


def p(username: str, role: str, unit: str, name: str, team_id: str | None = None) -> Principal:
    return Principal(username, role, unit, team_id=team_id, name=name)


DISTRICT = "411099000000"
COMMANDER = p("commander", "commander", DISTRICT, "指挥长 王强")
OPERATOR = p("operator", "operator", DISTRICT, "值班员 李静")
OPERATOR2 = p("operator2", "operator", DISTRICT, "值班员 张伟")
NIGHT = p("night-operator", "operator", DISTRICT, "值班员 王磊")
WATCHDOG = p("watchdog", "system", "", "")
RELAY = p("relay", "system", "", "")
NOTIFIER = p("notifier", "system", "", "")
CITY = p("city", "system", DISTRICT, "")

SUBTYPES = [("natural_disaster", "flood", "村内低洼处积水", "III"), ("natural_disaster", "rainstorm", "强降雨致道路积水", "IV"),
            ("natural_disaster", "geological", "边坡落石", "IV"), ("natural_disaster", "strong_wind", "大风刮倒树木", "IV"),
            ("accident", "fire", "民房火情", "IV"), ("accident", "traffic", "交通事故人员被困", "IV"),
            ("accident", "gas_leak", "燃气管道泄漏", "III"), ("accident", "hazmat", "危化品运输车侧翻", "II"),
            ("accident", "building_collapse", "废弃厂房局部坍塌", "III"), ("public_health", "food_poisoning", "聚餐疑似食物中毒", "IV"),
            ("social_security", "crowd_stampede", "集市人员拥挤", "IV"), ("accident", "production_safety", "企业车间机械伤人", "IV")]
TASKS = ["现场警戒，疏散群众", "排水抢险", "搜救被困人员", "清理倒伏树木，恢复通行", "初期火灾扑救", "转运伤员", "设置警戒区，协助处置"]
SUMMARIES = ["村内道路积水已排除，无人员伤亡", "一处房屋漏雨，已安排修缮", "沟渠水位上涨，已安排巡查", "树木倒伏一处，已清理"]
MATERIALS = list(seed.STOCK)


class History:
    def __init__(self, c: Container, clock: Clock, rng: random.Random):
        self.c, self.s, self.clock, self.rng = c, c.service, clock, rng
        self.queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self.seq = 0
        self.refused: Counter[str] = Counter()
        self.requests = 0
        self.units: dict[str, str] = {}  # code -> kind
        self.teams: dict[str, dict[str, Any]] = {}  # id -> {unit_code, name, busy, off}
        self.warehouses: dict[str, str] = {}  # id -> unit code
        self.incidents: list[str] = []
        self.seeded_dispatches: list[str] = []
        self.reporters: dict[str, Principal] = {}
        self.dangers: list[str] = []  # hidden dangers the demo seeded
        self.plans: dict[str, tuple[str, str]] = {}  # plan id -> (unit code, title), as the demo registered them
        self.rectifications: list[str] = []  # the demo's self-inspection's rectification items
        self.people: dict[str, dict[str, Any]] = {}  # id -> {unit_code, posts}: the demo's people register
        self.trainings: dict[str, dict[str, Any]] = {}  # id -> {unit_code, attendees}

    # -- plumbing ------------------------------------------------------------
    def at(self, t: datetime, action: Callable[[], None]) -> None:
        """Do `action` at `t`: nothing before the clock (the demo's first morning) or after the views' moment."""
        if self.clock.t <= t <= NOW:
            self.seq += 1
            heapq.heappush(self.queue, (t, self.seq, action))

    def ctx(self, principal: Principal, key: bool = False) -> CommandContext:
        self.requests += 1
        return CommandContext(principal, request_id=f"golden-{self.requests:05d}",
                              idempotency_key=f"golden-key-{self.requests:05d}" if key else "")

    def run(self) -> None:
        while self.queue:
            t, _, action = heapq.heappop(self.queue)
            self.clock.set(t)
            action()

    def attempt(self, what: str, command: Callable[[], Any]) -> Any:
        """A command the simulation may send at a moment it no longer fits (as people do): refused, nothing written."""
        try:
            return command()
        except (DomainError, Forbidden, NotFound, Conflict) as e:
            self.refused[f"{what}: {getattr(e, 'code', type(e).__name__)}"] += 1
            return None

    def minutes(self, lo: float, hi: float) -> timedelta:
        return timedelta(minutes=round(self.rng.uniform(lo, hi), 2))

    # -- what the demo made ------------------------------------------------------
    def learn_demo(self) -> None:
        for n in self.c.log.read(0, 100_000):
            e = self.c.log.decode(n)
            name = type(e).__qualname__
            if name == "Unit.Registered":
                self.units[e.code] = e.kind
            elif name == "Team.Registered":
                self.teams[str(e.originator_id)] = {"unit_code": e.unit_code, "name": e.name, "busy": None, "off": False}
            elif name == "Team.Assigned":
                self.teams[str(e.originator_id)]["busy"] = str(e.dispatch_id)
            elif name == "Warehouse.Registered":
                self.warehouses[str(e.originator_id)] = e.unit_code
            elif name == "Incident.Reported" and not e.exercise:  # the demo's drills (演练) are over
                self.incidents.append(str(e.originator_id))
            elif name == "Dispatch.Ordered":
                self.seeded_dispatches.append(str(e.originator_id))
            elif name == "HiddenDanger.Found":
                self.dangers.append(str(e.originator_id))
            elif name == "Plan.Registered":
                self.plans[str(e.originator_id)] = (e.unit_code, e.title)
            elif name == "Rectification.Raised":
                self.rectifications.append(str(e.originator_id))
            elif name == "Person.Registered":
                self.people[str(e.originator_id)] = {"unit_code": e.unit_code, "posts": list(e.posts)}
            elif name == "TrainingSession.Recorded":
                self.trainings[str(e.originator_id)] = {"unit_code": e.unit_code, "attendees": {str(a) for a in e.attendees}}
        for code, kind in self.units.items():
            if kind in ("village", "community"):
                self.reporters[code] = p(f"reporter-{code[-6:]}", "reporter", code, f"灾害信息员 {code[-3:]}号")

    def field(self, team_id: str) -> Principal:
        t = self.teams[team_id]
        return p(f"team-{team_id[:8]}", "field", t["unit_code"], f"{t['name']} 队长", team_id=team_id)

    # -- the days ------------------------------------------------------------------
    def plan(self) -> None:
        start_day = T0.astimezone(SHANGHAI).date()
        # The seeded incidents: the flood is worked through; the fire's team never acknowledges (escalated).
        flood, fire, slope = self.incidents[:3]
        self.dispatch_flow(flood, self.seeded_dispatches[0], T0 + self.minutes(3, 6), outcome="complete")
        self.at(T0 + timedelta(minutes=6), lambda: self.s.escalate_dispatch(self.ctx(WATCHDOG), UUID(self.seeded_dispatches[1]), "ack_overdue"))
        self.at(T0 + timedelta(minutes=40), lambda: self.s.cancel_dispatch(self.ctx(COMMANDER), UUID(self.seeded_dispatches[1]), "改派就近队伍"))
        self.at(T0 + timedelta(minutes=20), lambda: self.s.verify_incident(self.ctx(OPERATOR), UUID(slope), "现场核实"))
        # 双重预防: the levee's rectification (due in 8 days) is missed late in the history: the watchdog escalates it once
        for did in self.dangers:
            self.at(T0 + timedelta(days=8, hours=1), lambda did=did: self.attempt("escalate hidden danger", lambda: self.s.escalate_hidden_danger(
                self.ctx(WATCHDOG), UUID(did))))
        self.plans_life(start_day)
        # Readiness: the self-inspection's item still open at its deadline (7 days) is escalated once by the watchdog.
        for rid in self.rectifications:
            self.at(T0 + timedelta(days=7, hours=1), lambda rid=rid: self.attempt("escalate rectification", lambda: self.s.handle(
                self.ctx(WATCHDOG), cmd.EscalateRectification(UUID(rid)))))
        for d in range(DAYS):
            day = start_day + timedelta(days=d)
            local0 = datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI)
            if d > 0:
                self.daily_reports(day, local0)
            for _ in range(self.rng.randint(16, 20)):
                t = local0 + timedelta(hours=self.rng.uniform(7, 23.5))
                if t > T0:
                    self.at(t, self.new_incident)
            t = local0 + timedelta(hours=self.rng.uniform(8, 11))
            self.at(t, lambda d=d: self.directive(d))
            self.at(local0 + timedelta(hours=self.rng.uniform(10, 12)), self.duty_rotation)
            self.at(local0 + timedelta(hours=self.rng.uniform(14, 16)), self.stock_keeping)
            if d % 3 == 1:
                self.at(local0 + timedelta(hours=15), self.unit_parts)
            if d > 0:
                self.at(local0 + timedelta(hours=8, minutes=self.rng.uniform(5, 25)), lambda d=d: self.handover(d))
                self.at(local0 + timedelta(hours=17), lambda day=day: self.roster(day))
        # The seed's submitted 初报 reaches the city; its drafted 续报 is revised.
        self.at(T0 + timedelta(minutes=4), lambda: self.s.handle(self.ctx(RELAY), cmd.RecordReportsAcknowledged(
            [UUID(r) for r in self.submitted_reports()], self.clock.now(), "msg_golden_seed")))
        self.at(NOW - timedelta(minutes=70), self.last_hour)
        # Early warnings (预警): a red one to the whole district on day 2, one from the city (CAP Alert, Update,
        # Cancel) on day 5, an exercise on day 7.
        day = lambda d: datetime.combine(start_day + timedelta(days=d), datetime.min.time(), tzinfo=SHANGHAI)  # noqa: E731
        self.at(day(1) + timedelta(hours=7, minutes=40), lambda: self.district_warning("red", [DISTRICT], False))
        self.at(day(4) + timedelta(hours=9, minutes=10), self.city_warning)
        self.at(day(6) + timedelta(hours=10), lambda: self.district_warning("blue", [DISTRICT[:6] + "005000"], True))
        # The people register: a new phone, a persuader made deputy head of the station, a militiaman leaving and his
        # replacement, a street training's late sign-in sheet (attendees added).
        self.at(day(1) + timedelta(hours=10, minutes=5), self.people_contact)
        self.at(day(2) + timedelta(hours=15, minutes=30), self.people_posts)
        self.at(day(4) + timedelta(hours=11), self.people_turnover)
        self.at(day(5) + timedelta(hours=16), self.training_late_sheet)

    # -- the people register and training ------------------------------------------------------
    def _someone(self, post: str) -> str:
        return self.rng.choice(sorted(pid for pid, p in self.people.items() if post in p["posts"] and not p.get("left")))

    def people_contact(self) -> None:
        pid = self._someone("station_head")
        person = self.c.log.repository.get(UUID(pid))
        self.s.handle(self.ctx(COMMANDER), cmd.UpdatePersonContact(UUID(pid), person.name, "1380374" + f"{self.rng.randrange(10_000):04d}"))

    def people_posts(self) -> None:
        pid = self._someone("persuader")
        self.s.handle(self.ctx(COMMANDER), cmd.ChangePersonPosts(UUID(pid), ["station_deputy", "persuader"]))
        self.people[pid]["posts"] = ["station_deputy", "persuader"]

    def people_turnover(self) -> None:
        pid = self._someone("militia")
        self.s.handle(self.ctx(COMMANDER), cmd.MarkPersonLeft(UUID(pid), "外出务工，退出民兵应急连"))
        self.people[pid]["left"] = True
        unit = self.people[pid]["unit_code"]
        new = self.s.handle(self.ctx(COMMANDER), cmd.RegisterPerson(unit_code=unit, name="韩新民", phone="13803741234", posts=["militia"]))
        self.people[new.id] = {"unit_code": unit, "posts": ["militia"]}

    def training_late_sheet(self) -> None:
        tid = sorted(t for t, v in self.trainings.items() if v["unit_code"] != DISTRICT)[0]
        session = self.trainings[tid]
        missing = sorted(pid for pid, p in self.people.items() if within(session["unit_code"], p["unit_code"])
                         and pid not in session["attendees"] and not p.get("left") and "office_staff" not in p["posts"])
        add = [UUID(pid) for pid in missing[:2]]
        self.s.handle(self.ctx(COMMANDER), cmd.AddTrainingAttendees(UUID(tid), add))
        session["attendees"] |= {str(a) for a in add}

    # -- 预案与演练 ------------------------------------------------------------------------------
    def plans_life(self, start_day: date) -> None:
        """The demo's lapsed plan escalated by the watchdog; a revision filed again; a plan retired; a village's plan
        entered with a registration two years back (its unit record lapses and escalates); a drill whose finding is
        rectified; an exercise incident linked to a plan."""
        day = lambda d, h: datetime.combine(start_day + timedelta(days=d), datetime.min.time(), tzinfo=SHANGHAI) + timedelta(hours=h)  # noqa: E731
        by_title = {title: pid for pid, (_, title) in self.plans.items()}
        lapsed = next(pid for title, pid in by_title.items() if "危险化学品" in title)
        self.at(day(0, 10), lambda: self.s.escalate_plan(self.ctx(WATCHDOG), UUID(lapsed), "drill_lapsed"))
        overall = by_title["东城区突发事件总体应急预案"]

        def revise() -> None:
            sha = self.c.evidence.put(seed_plans.demo_pdf("Dongcheng overall plan 2026"), unit_code=DISTRICT, name="总体预案2026.pdf",
                                      uploaded_by="operator")["sha256"]
            today = self.clock.now().astimezone(SHANGHAI).date()
            self.s.handle(self.ctx(OPERATOR), cmd.RevisePlan(UUID(overall), "2026版", today, sha, "按新修订的突发事件应对法调整响应分级"))
            self.s.handle(self.ctx(OPERATOR), cmd.FilePlan(UUID(overall), "许昌市应急管理局", today, "许应急备〔2026〕021号"))

        self.at(day(1, 15), revise)
        waterlog = next(pid for title, pid in by_title.items() if "城市内涝" in title)
        self.at(day(2, 11), lambda: self.s.handle(self.ctx(COMMANDER), cmd.RetirePlan(UUID(waterlog), "并入街道防汛应急预案")))
        village = DISTRICT[:6] + "003004"
        entered: dict[str, str] = {}

        def late_entry() -> None:
            sha = self.c.evidence.put(seed_plans.demo_pdf("village flood plan 2023"), unit_code=village, name="村防汛预案.pdf",
                                      uploaded_by="operator")["sha256"]
            real = self.s.clock
            self.s.clock = lambda: real() - timedelta(days=800)  # entered with the register's first filling, two years back
            try:
                entered["id"] = self.s.handle(self.ctx(OPERATOR), cmd.RegisterPlan(
                    village, "special", "尚集村防汛应急预案", "2023版", (real() - timedelta(days=900)).date(), sha, hazard="防汛")).id
            finally:
                self.s.clock = real

        self.at(day(3, 9), late_entry)
        self.at(day(3, 9.5), lambda: self.s.handle(self.ctx(WATCHDOG), cmd.EscalateUnitDrills(village)))
        flood_plan = next(pid for title, pid in by_title.items() if title.startswith("新兴街道防汛"))
        drill: dict[str, str] = {}

        def record() -> None:
            today = self.clock.now().astimezone(SHANGHAI).date()
            drill["id"] = self.s.handle(self.ctx(OPERATOR), cmd.RecordDrill(
                UUID(flood_plan), "comprehensive", today, "汛前综合演练：河道水位超警戒，魏庄村群众转移", 126, [DISTRICT[:6] + "001000"],
                findings=[{"finding": "转移集合点照明不足", "owner": "魏庄村民委员会", "deadline": (today + timedelta(days=7)).isoformat()}])).id

        self.at(day(4, 9), record)

        def exercise() -> None:  # an exercise incident (演练) drilling the plan, with a dispatch: out of statistics
            occurred = self.clock.now() - timedelta(minutes=5)
            iid = self.s.report_incident(self.ctx(OPERATOR), category="natural_disaster", subtype="flood", level="III",
                                         title="汛期防汛应急演练", unit_code=DISTRICT[:6] + "001003", address="河堤", occurred_at=occurred,
                                         source="街道应急办", exercise=True, plan_id=UUID(flood_plan)).id
            idle = next((t for t, v in sorted(self.teams.items()) if not v["busy"] and not v["off"]), None)
            if idle is not None:
                did = self.attempt("exercise dispatch", lambda: self.s.order_dispatch(self.ctx(OPERATOR), UUID(iid), UUID(idle), "演练：转移群众"))
                if did is not None:
                    self.teams[idle]["busy"] = did.id
                    self.dispatch_flow(iid, did.id, self.clock.now(), "complete")
            self.at(self.clock.now() + timedelta(minutes=3), lambda: self.attempt("exercise verify", lambda: self.s.verify_incident(
                self.ctx(OPERATOR), UUID(iid), "演练开始")))

        self.at(day(5, 10), exercise)
        self.at(day(7, 16), lambda: self.s.handle(self.ctx(OPERATOR), cmd.ResolveDrillFinding(UUID(drill["id"]), 1, "已加装太阳能照明灯")))

    # -- the duty desk: a handover each morning, the roster kept a week ahead --------------------
    def handover(self, d: int) -> None:
        """The night officer hands the district's desk over at about 08:15; the day officer confirms, late on day 3."""
        r = self.attempt("handover", lambda: self.s.handle(self.ctx(NIGHT), cmd.SignHandover(
            DISTRICT, [], "夜间平稳，续报按时报送。" if d % 2 else "夜间有降雨，请白班跟进各街道巡查。",
            self.clock.now().astimezone(SHANGHAI).date() - timedelta(days=1))))
        if r is None:
            return
        if d == 3:  # nobody confirms in time: the watchdog escalates it once, then it is confirmed
            self.at(self.clock.now() + timedelta(minutes=31), lambda: self.s.handle(self.ctx(WATCHDOG), cmd.EscalateHandover(UUID(r.id))))
            self.at(self.clock.now() + timedelta(minutes=50), lambda: self.s.handle(self.ctx(OPERATOR), cmd.ConfirmHandover(UUID(r.id), "迟到接班")))
        else:
            self.at(self.clock.now() + self.minutes(5, 20), lambda: self.s.handle(self.ctx(OPERATOR), cmd.ConfirmHandover(UUID(r.id), "已接班")))

    def roster(self, day: date) -> None:
        """A week ahead for the district; on even days tomorrow's officer is swapped."""
        ahead = day + timedelta(days=7)
        self.s.handle(self.ctx(OPERATOR), cmd.ScheduleDuty(DISTRICT, ahead, {"name": seed.LEADERS[ahead.day % 7], "phone": "13903740000"},
                                                          [{"name": seed.OFFICERS[ahead.day % 14], "phone": "13803740000"}]))
        if day.day % 2 == 0:
            tomorrow = day + timedelta(days=1)
            self.attempt("roster", lambda: self.s.handle(self.ctx(OPERATOR), cmd.ScheduleDuty(
                DISTRICT, tomorrow, {"name": seed.LEADERS[0], "phone": "13903740000"}, [{"name": "替班 周明", "phone": "13803749999"}])))

    def submitted_reports(self) -> list[str]:
        found = [self.c.log.decode(n) for n in self.c.log.read(0, 100_000) if n.topic.endswith("DisasterReport.Submitted")]
        return [str(e.originator_id) for e in found]

    def staged_reports(self, iid: str, verified: datetime, level: str) -> None:
        """A natural disaster's 初报: mostly drafted, signed off, submitted and acknowledged within 2 hours; else escalated."""
        occurred = self.c.log.repository.get(UUID(iid)).occurred_at
        figures = {"affected_population": self.rng.randint(20, 400), "relocated": self.rng.randint(0, 20),
                   "houses_generally_damaged": self.rng.randint(0, 6), "crops_affected_ha": round(self.rng.uniform(0, 30), 2),
                   "economic_loss_10k": round(self.rng.uniform(1, 80), 2)}
        if self.rng.random() < 0.25:  # nobody reports it: the watchdog records the miss once
            self.at(occurred + timedelta(hours=2, minutes=1), lambda: self.attempt("escalate report", lambda: self.s.handle(
                self.ctx(WATCHDOG), cmd.EscalateReportDeadline(UUID(iid), "initial", "initial"))))
            return
        rid: list[str] = []
        drafted = verified + self.minutes(2, 10)

        def draft() -> None:
            r = self.attempt("draft report", lambda: self.s.handle(self.ctx(OPERATOR), cmd.DraftDisasterReport(
                UUID(iid), "initial", figures, {"agriculture": round(figures["economic_loss_10k"] / 2, 2)}, "初步统计")))
            if r is not None:
                rid.append(r.id)

        def then(what: str, command: Callable[[str], Any], principal: Principal) -> Callable[[], None]:
            return lambda: rid and self.attempt(what, lambda: self.s.handle(self.ctx(principal), command(rid[0])))

        self.at(drafted, draft)
        if self.rng.random() < 0.3:
            self.at(drafted + self.minutes(1, 5), then("revise report", lambda r: cmd.ReviseDisasterReport(
                UUID(r), figures | {"affected_population": figures["affected_population"] + 10}, {}, "核对修正"), OPERATOR))
        self.at(drafted + self.minutes(6, 12), then("sign off report", lambda r: cmd.SignOffDisasterReport(UUID(r), "同意"), COMMANDER))
        self.at(drafted + self.minutes(13, 20), then("submit report", lambda r: cmd.SubmitDisasterReport(UUID(r)), OPERATOR))
        self.at(drafted + self.minutes(21, 30), then("report acknowledged", lambda r: cmd.RecordReportsAcknowledged(
            [UUID(r)], self.clock.now(), f"msg_golden_{self.requests:05d}"), RELAY))

    def daily_reports(self, day: date, local0: datetime) -> None:
        last = day == NOW.astimezone(SHANGHAI).date()
        for code in sorted(self.reporters):
            silent = self.rng.random() < (0.12 if last else 0.04)
            if silent:
                if not last and self.rng.random() < 0.6:  # filed late the next morning
                    self.at(local0 + timedelta(hours=self.rng.uniform(31, 33)),
                            lambda code=code, day=day: self.file(code, day, True, ""))
                continue
            zero = self.rng.random() > 0.12
            summary = "" if zero else self.rng.choice(SUMMARIES)
            t = local0 + timedelta(hours=self.rng.uniform(7.5, 15.5))
            self.at(t, lambda code=code, day=day, zero=zero, summary=summary: self.file(code, day, zero, summary))
            if self.rng.random() < 0.05:  # corrected later the same day
                self.at(t + timedelta(hours=self.rng.uniform(0.5, 2)),
                        lambda code=code, day=day, zero=zero: self.file(code, day, not zero, "" if not zero else "补报：村东沟渠漫溢，已处置"))

    def file(self, code: str, day: date, zero: bool, summary: str) -> None:
        self.attempt("daily report", lambda: self.s.file_daily_report(self.ctx(self.reporters[code], key=True), code, day, zero, summary))

    def directive(self, d: int) -> None:
        now = self.clock.now()
        r = self.s.receive_directive(
            self.ctx(CITY), upstream_id=f"XC-2026-{d + 1:03d}", title=["关于做好强降雨防范应对工作的通知", "关于开展汛期隐患排查的通知",
                                                                     "关于加强值班值守的通知"][d % 3],
            content="请各区按照市防指部署，加强巡查，及时报送灾情。", level=["orange", "yellow", "blue"][d % 3],
            issuer="许昌市应急指挥中心", issued_at=now - timedelta(minutes=5), unit_code=DISTRICT)
        if d < DAYS - 1:
            self.at(now + self.minutes(5, 60), lambda: self.s.acknowledge_directive(self.ctx(COMMANDER), UUID(r.id), "已部署落实"))

    def desk(self, code: str) -> Principal:
        """Whoever signs for a unit: its reporter (village, community) or its street desk."""
        return self.reporters.get(code) or p(f"desk-{code[6:9]}", "operator", code, f"街道值班员 {code[6:9]}号")

    def receivers(self, targets: list[str]) -> list[str]:
        return sorted(code for code, kind in self.units.items() if kind != "district" and any(within(t, code) for t in targets))

    def warning_receipts(self, wid: str, targets: list[str], issued: datetime, minutes: int) -> None:
        """Most sign in time, some late, a few never; the watchdog escalates every receipt still unsigned at the deadline."""
        deadline = issued + timedelta(minutes=minutes)
        for code in self.receivers(targets):
            roll = self.rng.random()
            signed = None if roll < 0.08 else issued + self.minutes(1, minutes * 0.9) if roll < 0.8 else deadline + self.minutes(1, 40)
            if signed is not None:
                self.at(signed, lambda code=code: self.attempt("warning receipt", lambda: self.s.acknowledge_warning(
                    self.ctx(self.desk(code), key=True), UUID(wid), code, "")))
                if self.rng.random() < 0.4:
                    measures = {"patrols": self.rng.randint(1, 12), "people_moved": self.rng.randint(0, 60),
                                "danger_points": self.rng.randint(0, 5)}
                    self.at(signed + self.minutes(30, 180), lambda code=code, m=measures: self.attempt("warning response", lambda: (
                        self.s.report_warning_response(self.ctx(self.desk(code), key=True), UUID(wid), code, m, "已落实防御措施"))))
            if signed is None or signed > deadline:
                self.at(deadline + timedelta(minutes=1), lambda code=code: self.attempt("warning escalation", lambda: (
                    self.s.escalate_warning_receipt(self.ctx(WATCHDOG), receipt_id(wid, code)))))

    def district_warning(self, level: str, targets: list[str], exercise: bool) -> None:
        now = self.clock.now()
        subtype, headline = ("rainstorm", "东城区暴雨红色预警") if level == "red" else ("strong_wind", "丁庄街道大风蓝色预警（演练）")
        wid = self.s.draft_warning(self.ctx(OPERATOR), category="natural_disaster", subtype=subtype, level=level, headline=headline,
                                   description="预计未来6小时降雨量将达100毫米以上，可能引发城乡积涝和山洪地质灾害。",
                                   instruction="转移低洼地带和危旧房屋群众，停止户外作业和集会。", onset=now,
                                   expires=now + timedelta(hours=12), targets=targets, exercise=exercise).id
        issued = now + self.minutes(4, 10)
        minutes = {"red": 15, "orange": 30, "yellow": 60, "blue": 120}[level]
        self.at(issued, lambda: self.s.issue_warning(self.ctx(COMMANDER, key=True), UUID(wid)))
        self.warning_receipts(wid, targets, issued, minutes)
        if not exercise:
            self.at(issued + timedelta(hours=2), lambda: self.s.update_warning(
                self.ctx(COMMANDER), UUID(wid), {"level": "orange", "headline": "东城区暴雨橙色预警"}, "雨势减弱，降级为橙色"))
        self.at(issued + timedelta(hours=6), lambda: self.s.lift_warning(self.ctx(COMMANDER), UUID(wid), "降雨过程结束"))

    def city_warning(self) -> None:
        now = self.clock.now()
        street = DISTRICT[:6] + "003000"
        alert = CityAlert(sender="xuchang-qxt", identifier="41100041600000_20260605091000_0001", sent=now, exercise=False,
                          msg_type="Alert", references=[], category="natural_disaster", subtype="strong_wind", level="yellow",
                          headline="许昌市大风黄色预警", description="预计今天下午半截河街道有6～8级阵风。", instruction="加固临时搭建物。",
                          onset=now, expires=now + timedelta(hours=8), sender_name="许昌市气象台", area_codes=[street])
        wid = self.s.receive_city_warning(self.ctx(CITY), alert).id
        self.warning_receipts(wid, [street], now, 60)
        later = now + timedelta(hours=1)
        update = replace(alert, identifier="41100041600000_20260605101000_0002", sent=later, msg_type="Update",
                         references=[alert.identifier], level="orange", headline="许昌市大风橙色预警")
        self.at(later, lambda: self.s.receive_city_warning(self.ctx(CITY), update))
        # The same update again, and a stale one that does not reference it: both refused, nothing written.
        self.at(later + timedelta(minutes=5), lambda: self.attempt("city update", lambda: self.s.receive_city_warning(self.ctx(CITY), update)))
        cancel = replace(alert, identifier="41100041600000_20260605131000_0003", sent=now + timedelta(hours=4), msg_type="Cancel",
                         references=[alert.identifier, update.identifier])
        self.at(now + timedelta(hours=4), lambda: self.s.receive_city_warning(self.ctx(CITY), cancel))

    def duty_rotation(self) -> None:
        idle = [tid for tid, t in sorted(self.teams.items()) if not t["busy"] and not t["off"]]
        if not idle:
            return
        tid = self.rng.choice(idle)
        self.teams[tid]["off"] = True
        self.s.set_team_duty(self.ctx(COMMANDER), UUID(tid), False)

        def back() -> None:
            self.teams[tid]["off"] = False
            self.s.set_team_duty(self.ctx(self.field(tid), key=True), UUID(tid), True)

        self.at(self.clock.now() + timedelta(hours=self.rng.uniform(3, 8)), back)

    def stock_keeping(self) -> None:
        wid = self.rng.choice(sorted(self.warehouses))
        w = self.c.log.repository.get(UUID(wid))
        low = [m for m in MATERIALS if w.available(m) < w.minimum.get(m, 0) * 2]
        lines = {m: w.minimum.get(m, 10) * 2 for m in (low or [self.rng.choice(MATERIALS)])}
        self.s.receive_stock(self.ctx(OPERATOR), UUID(wid), lines, note="补充储备")
        m = self.rng.choice(MATERIALS)
        w = self.c.log.repository.get(UUID(wid))
        counted = max(w.reserved.get(m, 0), w.on_hand.get(m, 0) + self.rng.randint(-3, 2))
        self.s.count_stock(self.ctx(OPERATOR), UUID(wid), m, counted, note="月度盘点")
        if self.rng.random() < 0.4:
            m = self.rng.choice(MATERIALS)
            self.s.set_minimum(self.ctx(COMMANDER), UUID(wid), m, seed.STOCK[m][1] + self.rng.choice([-5, 5, 10]) if seed.STOCK[m][1] > 5 else 2)

    def unit_parts(self) -> None:
        code = self.rng.choice(sorted(c for c, k in self.units.items() if k in ("village", "community")))
        self.parts_updated(code, {"persuader_team": 1, "militia_team": self.rng.choice([1, 2])})
        street = self.rng.choice(sorted(c for c, k in self.units.items() if k in ("street", "cluster")))
        self.parts_updated(street, {"rescue_team_size": self.rng.randint(22, 30)})

    def parts_updated(self, code: str, parts: dict[str, int]) -> None:
        """Unit.PartsUpdated as the retired POST /units/{code}/parts recorded it: the history keeps the event type."""
        ctx = self.ctx(COMMANDER)

        def decide() -> tuple[UUID, list[Any]]:
            unit = self.s._unit(code)
            ctx.principal.check_unit(unit.code, "the unit")
            unit.update_parts(parts, by=ctx.actor)
            return unit.id, [unit]

        self.s._execute(ctx, decide)

    # -- one incident, from report to close --------------------------------------------
    def new_incident(self) -> None:
        now = self.clock.now()
        category, subtype, title, level = self.rng.choice(SUBTYPES)
        code = self.rng.choice(sorted(self.reporters))
        by_reporter = self.rng.random() < 0.5
        who = self.reporters[code] if by_reporter else OPERATOR
        occurred = now - self.minutes(5, 100)
        r = self.s.report_incident(self.ctx(who, key=by_reporter), category=category, subtype=subtype, level=level,
                                   title=f"{title}", description=f"{title}，请求处置。", unit_code=code,
                                   address=f"{code[-3:]}组", occurred_at=occurred, source="灾害信息员" if by_reporter else "110联动")
        iid = r.id
        self.incidents.append(iid)
        # The relay: the city acknowledges the batch holding the report, mostly within minutes.
        roll = self.rng.random()
        if roll < 0.85:
            self.at(now + self.minutes(0.5, 20), lambda: self.upward([iid]))
        elif roll < 0.92:
            self.at(occurred + timedelta(hours=2) + self.minutes(5, 60), lambda: self.upward([iid]))
        if self.rng.random() < 0.1:
            self.at(now + self.minutes(10, 40), lambda: self.attempt("dismiss", lambda: self.s.dismiss_incident(
                self.ctx(OPERATOR), UUID(iid), "核实为误报")))
            return
        verified = now + self.minutes(5, 30)
        self.at(verified, lambda: self.attempt("verify", lambda: self.s.verify_incident(self.ctx(OPERATOR), UUID(iid), "电话核实")))
        if category == "natural_disaster":
            self.staged_reports(iid, verified, level)
        if self.rng.random() < 0.2:
            new_level = {"IV": "III", "III": "II", "II": "III"}[level]
            self.at(verified + self.minutes(10, 60), lambda: self.attempt("level", lambda: self.s.change_incident_level(
                self.ctx(COMMANDER), UUID(iid), new_level, "灾情发展，调整响应级别")))
        for k in range(self.rng.randint(0, 3)):
            figures = {"evacuated": self.rng.randint(0, 80) * (k + 1), "affected": self.rng.randint(0, 300)}
            if self.rng.random() < 0.2:
                figures["injured"] = self.rng.randint(1, 4)
            self.at(verified + self.minutes(15, 120) * (k + 1), lambda figures=figures: self.attempt(
                "situation", lambda: self.s.update_situation(self.ctx(OPERATOR), UUID(iid), figures, "现场续报")))
        done = verified + self.minutes(120, 300)
        for _ in range(self.rng.choice([1, 1, 1, 2])):
            self.at(verified + self.minutes(1, 10), lambda: self.order(iid))
        if self.rng.random() < 0.5:
            self.at(verified + self.minutes(5, 20), lambda: self.allocate(iid))
        if self.rng.random() < 0.85:
            if self.rng.random() < 0.7:
                self.at(done, lambda: self.attempt("control", lambda: self.s.control_incident(self.ctx(COMMANDER), UUID(iid), "险情得到控制")))
            self.at(done + self.minutes(30, 240), lambda: self.attempt("close", lambda: self.s.close_incident(
                self.ctx(COMMANDER), UUID(iid), "处置完毕，现场恢复正常")))

    def last_hour(self) -> None:
        """Two dispatches nobody acknowledged: one the watchdog escalated, one it has not reached (the board says so from `now`)."""
        for minutes, escalated in ((15, True), (20, False)):
            r = self.s.report_incident(self.ctx(OPERATOR), category="accident", subtype="traffic", level="IV", title="货车与电动车相撞",
                                       unit_code=sorted(self.reporters)[minutes], address="国道G311路口",
                                       occurred_at=self.clock.now() - timedelta(minutes=10), source="110联动")
            tid = next(t for t, v in sorted(self.teams.items()) if not v["busy"] and not v["off"])
            d = self.s.order_dispatch(self.ctx(OPERATOR), UUID(r.id), UUID(tid), "救援被困人员", ack_minutes=minutes)
            self.teams[tid]["busy"] = d.id
            self.notices(d.id)
            if escalated:
                self.at(self.clock.now() + timedelta(minutes=minutes + 1), lambda did=d.id: self.s.escalate_dispatch(
                    self.ctx(WATCHDOG), UUID(did), "ack_overdue"))

    def notices(self, did: str) -> None:
        """What the notifier records of a dispatch's messages: the team leader's SMS, through one 503, delivered;
        a push to a phone whose subscription had expired (410), failed."""
        from domain.notifications import message_text

        d = self.c.log.repository.get(UUID(did))
        team = self.c.log.repository.get(d.team_id)
        incident = self.c.log.repository.get(d.incident_id)
        text = message_text("dispatch", {"team": team.name, "incident": incident.title, "place": incident.address, "task": d.task})

        def queue(channel: str, who: str, address: str, post: str) -> str:
            return self.s.handle(self.ctx(NOTIFIER), cmd.QueueNotification(
                key=f"{did}:1|{who}|{channel}", purpose="dispatch", record_kind="dispatch", record_id=did, unit_code=d.unit_code,
                recipient={"name": who, "post": post}, channel=channel, address=address, text=text, urgent=True)).id

        sms = UUID(queue("sms", team.leader, team.phone, "team_leader"))
        push = UUID(queue("webpush", "field", "5f0c2a9e41d7b3c8", "account"))
        now = self.clock.now()
        self.at(now + timedelta(seconds=5), lambda: self.s.handle(self.ctx(NOTIFIER), cmd.RecordNotificationAttempt(
            sms, 1, "retry", "HTTP 503 provider_error", now + timedelta(seconds=7))))
        self.at(now + timedelta(seconds=6), lambda: self.s.handle(self.ctx(NOTIFIER), cmd.RecordNotificationAttempt(
            push, 1, "failed", "HTTP 410: subscription expired, removed")))
        self.at(now + timedelta(seconds=8), lambda: self.s.handle(self.ctx(NOTIFIER), cmd.RecordNotificationAttempt(
            sms, 2, "delivered", "sms-1")))

    def upward(self, ids: list[str]) -> None:
        now = self.clock.now()
        self.s.record_reported_upward(self.ctx(RELAY), [UUID(i) for i in ids], now, f"msg_golden_{self.requests:05d}")

    def order(self, iid: str, tried: int = 0) -> None:
        street = self.c.log.repository.get(UUID(iid)).unit_code[:9]
        free = [tid for tid, t in sorted(self.teams.items()) if not t["busy"] and not t["off"]]
        near = [tid for tid in free if self.teams[tid]["unit_code"].startswith(street)] or free
        if not near:
            self.refused["order: no idle team"] += 1
            return
        tid = self.rng.choice(near)
        r = self.attempt("order", lambda: self.s.order_dispatch(self.ctx(OPERATOR), UUID(iid), UUID(tid), self.rng.choice(TASKS)))
        if r is None:
            return
        self.teams[tid]["busy"] = r.id
        roll = self.rng.random()
        outcome = ("decline" if roll < 0.08 else "cancel" if roll < 0.14 else "late_ack" if roll < 0.24
                   else "late_arrival" if roll < 0.32 else "complete")
        if outcome == "decline" and tried < 1:
            self.at(self.clock.now() + self.minutes(4, 9), lambda: self.order(iid, tried + 1))
        self.dispatch_flow(iid, r.id, self.clock.now(), outcome)

    def dispatch_flow(self, iid: str, did: str, ordered: datetime, outcome: str) -> None:
        d = self.c.log.repository.get(UUID(did))
        tid = str(d.team_id)
        team = self.field(tid)

        def step(what: str, command: Callable[[CommandContext], Any], principal: Principal = team) -> Callable[[], None]:
            return lambda: self.attempt(what, lambda: command(self.ctx(principal, key=principal.role == "field")))

        def free() -> None:
            self.teams[tid]["busy"] = None

        if outcome == "decline":
            self.at(ordered + self.minutes(1, 4), lambda: (step("decline", lambda c: self.s.decline_dispatch(c, UUID(did), "队伍正在处置其他险情"))(), free()))
            return
        ack_deadline = d.ack_deadline
        if outcome == "late_ack":
            ack = ack_deadline + self.minutes(3, 15)
            self.at(ack_deadline + timedelta(minutes=1), step("escalate", lambda c: self.s.escalate_dispatch(c, UUID(did), "ack_overdue"), WATCHDOG))
        else:
            ack = ordered + (ack_deadline - ordered) * self.rng.uniform(0.1, 0.8)
        def acknowledged() -> None:
            if step("acknowledge", lambda c: self.s.acknowledge_dispatch(c, UUID(did)))() is None:
                return
            depart = self.clock.now() + self.minutes(1, 5)
            self.at(depart, step("depart", lambda c: self.s.depart_dispatch(c, UUID(did))))
            if outcome == "cancel":
                self.at(depart + self.minutes(2, 10), lambda: (step("cancel", lambda c: self.s.cancel_dispatch(
                    c, UUID(did), "险情已由属地处置，队伍返回"), COMMANDER)(), free()))
                return
            deadline = self.c.log.repository.get(UUID(did)).arrive_deadline
            if outcome == "late_arrival":
                arrive = deadline + self.minutes(3, 25)
                self.at(deadline + timedelta(minutes=1), step(
                    "escalate", lambda c: self.s.escalate_dispatch(c, UUID(did), "arrival_overdue"), WATCHDOG))
            else:
                arrive = depart + (deadline - depart) * self.rng.uniform(0.2, 0.9)
            self.at(arrive, step("arrive", lambda c: self.s.arrive_dispatch(c, UUID(did))))
            self.at(arrive + self.minutes(30, 150), lambda: (step("complete", lambda c: self.s.complete_dispatch(
                c, UUID(did), "任务完成"))(), free()))

        self.at(ack, acknowledged)

    def allocate(self, iid: str) -> None:
        street = self.c.log.repository.get(UUID(iid)).unit_code[:9]
        wid = next((w for w, code in sorted(self.warehouses.items()) if code.startswith(street)), sorted(self.warehouses)[0])
        lines = {m: self.rng.randint(2, 20) for m in self.rng.sample(["WATER-550", "INSTANT-FOOD", "QUILT", "RAINCOAT", "SANDBAG",
                                                                       "LIFE-JACKET", "FLASHLIGHT", "FIRST-AID"], self.rng.randint(1, 3))}
        r = self.attempt("allocate", lambda: self.s.request_allocation(self.ctx(OPERATOR), UUID(iid), UUID(wid), lines,
                                                                        destination="事发地村委会"))
        if r is None:
            return
        aid = UUID(r.id)
        now = self.clock.now()
        if self.rng.random() < 0.12:
            self.at(now + self.minutes(5, 30), lambda: self.attempt("cancel allocation", lambda: self.s.cancel_allocation(
                self.ctx(OPERATOR), aid, "需求已由属地解决")))
            return
        shipped = now + self.minutes(10, 30)
        self.at(shipped, lambda: self.attempt("ship", lambda: self.s.ship_allocation(self.ctx(OPERATOR), aid, "豫K·A1234")))
        delivered = shipped + self.minutes(20, 60)
        self.at(delivered, lambda: self.attempt("deliver", lambda: self.s.deliver_allocation(self.ctx(OPERATOR2), aid, "村委会 刘主任")))
        roll = self.rng.random()
        if roll < 0.35:
            back = {m: q if roll < 0.15 else max(1, q // 2) for m, q in lines.items()}
            self.at(delivered + self.minutes(60, 360), lambda: self.attempt("return", lambda: self.s.return_allocation(
                self.ctx(OPERATOR2), aid, back, "未使用物资归还入库")))


def build(directory: Path) -> tuple[Container, History]:
    """The demo district and its history, in a new SQLite store under `directory`."""
    rng = random.Random(20260601)
    clock = Clock(T0)

    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return clock.now() if tz is None else clock.now().astimezone(tz)

    settings = Settings(data_dir=directory, secret_key=SECRET)
    c = Container.build(settings)
    c.service.clock = clock.now
    with mock.patch.object(eventsourcing.domain, "uuid4", Ids(rng)), \
            mock.patch.object(eventsourcing.domain, "datetime_now_with_tzinfo", clock.stamp), \
            mock.patch.object(seed, "datetime", FrozenDatetime):
        seed.seed_demo(c)
        history = History(c, clock, rng)
        history.learn_demo()
        history.plan()
        history.run()
    return c, history


def manifest_of(c: Container, history: History) -> dict[str, Any]:
    """Which incidents' after-action reports, which days' daily reports and which replay positions the views show."""
    head = c.log.max_position()
    events = Counter(type(c.log.decode(n)).__qualname__ for n in c.log.read(0, 1_000_000))
    picks = [history.incidents[0], history.incidents[1], history.incidents[len(history.incidents) // 2], history.incidents[-1]]
    return {
        "head": head,
        "now": NOW.isoformat(),
        "days": [(NOW.astimezone(SHANGHAI).date() - timedelta(days=k)).isoformat() for k in (0, 4)],
        "after_action": picks,
        "replay_positions": [head // 10, head // 2, head],
        "event_counts": dict(sorted(events.items())),
        "refused_commands": dict(sorted(history.refused.items())),
    }


def write_expected(manifest: dict[str, Any], expected: dict[str, Any]) -> None:
    shutil.rmtree(EXPECTED, ignore_errors=True)
    EXPECTED.mkdir()
    (EXPECTED / "manifest.json").write_text(dump(manifest), encoding="utf-8")
    for name, view in expected.items():
        (EXPECTED / f"{name}.json").write_text(dump(view), encoding="utf-8")


def views_only() -> int:
    """Rewrite only the expected views from the committed log (a read model changed on purpose; the log stays)."""
    work = Path(tempfile.mkdtemp(prefix="yingji-golden-"))
    try:
        manifest = json.loads((EXPECTED / "manifest.json").read_text(encoding="utf-8"))
        restored = Container.build(Settings(data_dir=work / "restored", secret_key=SECRET))
        with gzip.open(FIXTURE, "rt", encoding="utf-8") as lines:
            import_log(restored.log, lines)
        restored.rebuild()
        expected = views(restored, manifest)
        restored.close()
        write_expected(manifest, expected)
        print(json.dumps({"views": len(expected)}))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    if "--views-only" in sys.argv[1:]:
        return views_only()
    work = Path(tempfile.mkdtemp(prefix="yingji-golden-"))
    try:
        c, history = build(work / "original")
        manifest = manifest_of(c, history)
        buffer = io.StringIO()
        count = export_log(c.log, SOURCE, buffer)
        c.rebuild()
        original = views(c, manifest)
        c.close()
        with open(FIXTURE, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            gz.write(buffer.getvalue().encode("utf-8"))
        # The expected views are those of the log as restored, which the test does again.
        restored = Container.build(Settings(data_dir=work / "restored", secret_key=SECRET))
        with gzip.open(FIXTURE, "rt", encoding="utf-8") as lines:
            import_log(restored.log, lines)
        restored.rebuild()
        expected = views(restored, manifest)
        restored.close()
        assert expected == original, "the restored log does not rebuild to the original's views"
        write_expected(manifest, expected)
        print(json.dumps({"events": count, "fixture_bytes": FIXTURE.stat().st_size, "views": len(expected),
                          "refused_commands": sum(history.refused.values())}, ensure_ascii=False))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
