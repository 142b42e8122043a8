"""Demo people register (人员 / 通讯录) and this year's training (培训).

Every street office and the cluster: its emergency committee (two directors under the 双主任制, two
deputies, members), its emergency office (head, full-time deputy, five full-time staff), its
comprehensive team's leader and a street reporter. Every village and community: its persuasion station
(head, deputy), persuaders, its disaster information reporter and a militia company of ten (where no
militia team is registered). Names and 138 phones are made up, the same on every seeding.

The mix the readiness scorecards show: 祖师街道 has 4 of its 5 full-time office staff (SHORT_OFFICE_STREET);
the reporters of 榆林社区 and 清潩社区 (UNTRAINED_VILLAGES) have not been trained; every other reporter attended
the district's training this year, and every street trained its office and its villages' stations.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from uuid import UUID

from domain.policy import local_day
from gateway.container import Container
from gateway.context import CommandContext, Principal
from gateway.service_layer import commands as cmd

SHORT_OFFICE_STREET = "004"  # 祖师街道: 4 full-time staff of 5
UNTRAINED_VILLAGES = ("002003", "005006")  # street and village numbers: 榆林社区 (东城街道), 清潩社区 (丁庄街道)
MILITIA_STRENGTH = 10  # domain.readiness.MILITIA_MIN: a militia company on the register

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = ["建国", "卫东", "志强", "海燕", "立新", "红梅", "文斌", "国庆", "秀英", "桂兰", "振华", "春生", "玉兰", "德胜", "淑珍",
         "晓东", "丽娟", "明辉", "建华", "俊杰", "学军", "凤英", "永刚", "爱华", "新民", "静", "磊", "婷", "凯", "雪", "涛",
         "敏", "军", "丽", "鹏", "玲", "峰", "芳", "杰", "勇", "宁", "亮", "琳", "超", "洋", "帅", "浩然", "子涵", "宇航",
         "晨阳", "梦瑶", "家豪", "思远", "国栋", "瑞霞", "保安", "长河", "满仓", "金锁", "小燕", "铁柱", "水生", "春花"]


class Names:
    """Realistic, distinct names and 138 numbers, the same on every seeding."""

    def __init__(self, seed: int = 20260601):
        self.rnd = random.Random(seed)
        self.used_names: set[str] = set()
        self.used_phones: set[str] = set()

    def name(self, surname: str | None = None) -> str:
        while True:
            n = (surname or self.rnd.choice(SURNAMES)) + self.rnd.choice(GIVEN)
            if n not in self.used_names:
                self.used_names.add(n)
                return n
            surname = None  # the village's common surname is used up: anyone

    def phone(self) -> str:
        while True:
            p = "138" + "".join(str(self.rnd.randrange(10)) for _ in range(8))
            if p not in self.used_phones:
                self.used_phones.add(p)
                return p


def this_year(today: date, days_ago: int) -> date:
    """A day `days_ago` before today, but not before this year's 1 January (training 'this year')."""
    return max(date(today.year, 1, 1), today - timedelta(days=days_ago))


def seed_people(c: Container, now: datetime, team_ids: dict[str, str]) -> dict[str, int]:
    district = c.settings.district_code
    prefix = district[:6]
    desk = CommandContext(Principal("seed", "admin", district, name="区应急管理局"), request_id="seed")
    names = Names()
    today = local_day(now)
    c.projector.catch_up()  # the unit tree and the teams, from the read models
    units = {u["code"]: u for u in c.store.list("unit", limit=10_000)[0]}

    def person(unit: str, posts: list[str], name: str | None = None, team: str | None = None) -> str:
        return c.service.handle(desk, cmd.RegisterPerson(unit_code=unit, name=name or names.name(), phone=names.phone(),
                                                          posts=posts, team_id=UUID(team) if team else None)).id

    people = 0
    district_reporters_course: list[UUID] = []
    street_offices: dict[str, list[UUID]] = {}
    station_staff: dict[str, list[UUID]] = {}
    # The district's own office (区应急管理局应急指挥科).
    for posts in (["office_head"], ["office_deputy"], ["office_staff"], ["office_staff"]):
        person(district, posts)
        people += 1
    streets = sorted(code for code, u in units.items() if u["kind"] in ("street", "cluster"))
    for street in streets:
        no = street[6:9]
        office: list[UUID] = []
        for posts in (["committee_director"], ["committee_director"], ["committee_deputy"], ["committee_deputy"],
                      ["committee_member"], ["committee_member"], ["committee_member"],
                      ["office_head", "committee_member"], ["office_deputy"],
                      *[["office_staff"]] * (4 if no == SHORT_OFFICE_STREET else 5)):
            pid = UUID(person(street, list(posts)))
            people += 1
            if {"office_head", "office_deputy", "office_staff"} & set(posts):
                office.append(pid)
        if no in team_ids:
            person(street, ["team_leader"], team=team_ids[no])
            people += 1
        reporter = UUID(person(street, ["info_reporter"]))
        people += 1
        district_reporters_course.append(reporter)
        street_offices[street] = office + [reporter]
    militia_teams = {t["unit_code"] for t in c.store.list("team", limit=10_000)[0] if t["kind"] == "militia"}
    for village in sorted(code for code, u in units.items() if u["kind"] in ("village", "community")):
        street = village[:9] + "000"
        family = names.rnd.choice(SURNAMES[:40])  # villages share a surname or two
        head = UUID(person(village, ["station_head"], names.name(family)))
        deputy = UUID(person(village, ["station_deputy", "persuader"], names.name(family)))
        stations = [head, deputy]
        militia_n = 0 if village in militia_teams else MILITIA_STRENGTH
        for _ in range(2):  # young persuaders who also serve in the militia company
            stations.append(UUID(person(village, ["persuader", "militia"] if militia_n else ["persuader"], names.name(family))))
        militia_n = max(0, militia_n - 2)
        # The reporter's own village: 赵敏, who signs in as `reporter` on the phone page.
        first = village == f"{prefix}001001"
        reporter = UUID(person(village, ["info_reporter"], "赵敏" if first else names.name(family)))
        if first:
            c.service.handle(desk, cmd.LinkPersonAccount(person_id=reporter, username="reporter"))
        for _ in range(militia_n):
            person(village, ["militia"], names.name(family if names.rnd.random() < 0.5 else None))
        people += 5 + militia_n
        if village[6:] not in UNTRAINED_VILLAGES:
            district_reporters_course.append(reporter)
        station_staff.setdefault(street, []).extend(stations[:2])
    # This year's training: the district's course for reporters, each street's for its office and its villages' stations.
    sessions = 1
    c.service.handle(desk, cmd.RecordTraining(
        unit_code=district, day=this_year(today, 75), topic="全区灾害信息员业务培训（灾情报送系统操作与报灾规范）", hours=6,
        attendees=district_reporters_course, notes="区应急管理局组织，集中授课与上机操作"))
    for n, street in enumerate(streets):
        street_desk = CommandContext(Principal("seed", "commander", street, name=units[street]["name"]), request_id="seed")
        c.service.handle(street_desk, cmd.RecordTraining(
            unit_code=street, day=this_year(today, 40 + 3 * n), topic="防汛应急预案与应急值守业务培训", hours=3,
            attendees=street_offices[street]))
        if station_staff.get(street):
            c.service.handle(street_desk, cmd.RecordTraining(
                unit_code=street, day=this_year(today, 20 + 2 * n), topic="安全劝导站站长、副站长培训（汛期安全劝导）", hours=2.5,
                attendees=station_staff[street]))
            sessions += 1
        sessions += 1
    return {"people": people, "trainings": sessions}
