"""The plan's acceptance standards as data: "1+4" (street offices), "1+3" (villages and communities)
and "六有" (street offices), one versioned definition, and the pure scorecard over a unit's facts.

Each item names its standard, the unit levels it applies to, what it requires (in words, Chinese
and English), its evidence, and the evaluator that judges it: a pure function of `UnitFacts` and
the moment asked, answering green or red with its reason in words ("综合应急救援队 19 人，差 1 人").
Nothing here is typed by a person: the facts come from the read models (teams, warehouses,
people, plans, drills, trainings, and the accounts' sign-ins), so a scorecard is derived, never set.
The old `Unit.parts` counts are not read by any evaluator.

A new version of the standard is a new entry in `STANDARDS`; a campaign records the version it
checked against, so its findings keep their meaning when the standard changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.common import InvalidValue
from domain.glossary import term
from domain.policy import SHANGHAI, local_day

# -- the facts a scorecard is judged from ----------------------------------------------------


@dataclass(frozen=True)
class TeamFact:
    name: str
    kind: str  # domain.teams.TeamKind
    members: int


@dataclass(frozen=True)
class WarehouseFact:
    name: str
    minimums: int  # materials with a minimum level set
    short: tuple[tuple[str, int, int], ...] = ()  # (material, available, minimum) below their minimum


@dataclass(frozen=True)
class PersonFact:
    name: str
    posts: tuple[str, ...]  # the people register's post codes
    trained_on: tuple[date, ...] = ()  # days of the training sessions the person attended


@dataclass(frozen=True)
class PlanFact:
    title: str
    kind: str  # overall / special
    filed: bool  # 备案
    revised_on: date | None
    revise_by: date | None  # the revision cycle's lapse: revised_on + cycle
    last_drill: date | None = None
    drill_by: date | None = None  # when the plan must next be drilled (the plans register's 2-year rule)


@dataclass(frozen=True)
class UnitFacts:
    unit_code: str
    unit_kind: str  # domain.units.UnitKind
    unit_name: str = ""
    teams: tuple[TeamFact, ...] = ()
    warehouses: tuple[WarehouseFact, ...] = ()
    people: tuple[PersonFact, ...] = ()
    plans: tuple[PlanFact, ...] = ()
    mechanisms: tuple[str, ...] = ()  # the six mechanisms recorded as documents (codes of MECHANISMS)
    drills: tuple[date, ...] = ()  # days the unit drilled (drills and exercise-marked incidents)
    trainings: tuple[date, ...] = ()  # days of training sessions the unit held or its people attended
    # The latest sign-in of an active account of this unit. Sign-ins are kept beside the log, not in it:
    # `signins_known` is False where they cannot be known (replay), and the item is then not evaluated.
    last_signin: datetime | None = None
    signins_known: bool = True


# -- verdicts --------------------------------------------------------------------------------
class ItemStatus(StrEnum):
    GREEN = "green"  # 达标
    RED = "red"  # 未达标
    UNKNOWN = "unknown"  # 未评估 (the facts are not in the log: replay of the platform item)


@dataclass(frozen=True)
class Verdict:
    status: str
    zh: str
    en: str
    # When a green item turns red by the passing of time alone (a drill, a training, a plan's cycle,
    # a sign-in ages out), and the reason it will then carry: the board judges that moment itself.
    until: datetime | None = None
    lapse_zh: str = ""
    lapse_en: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reason": {"zh": self.zh, "en": self.en},
                "until": self.until.isoformat() if self.until else None,
                "lapse": {"zh": self.lapse_zh, "en": self.lapse_en} if self.until else None}


def green(zh: str, en: str, until: datetime | None = None, lapse: tuple[str, str] = ("", "")) -> Verdict:
    return Verdict(ItemStatus.GREEN, zh, en, until, *lapse)


def red(zh: str, en: str) -> Verdict:
    return Verdict(ItemStatus.RED, zh, en)


# -- the numbers of the plan (one place) -------------------------------------------------------
COMPREHENSIVE_TEAM_MIN = 20  # 1支不少于20人的专兼职综合性应急救援队伍
OFFICE_STAFF_MIN = 5  # 应急管理办公室（专职5人）
COMMITTEE_DIRECTORS = 2  # 双主任制
PERSUADERS_MIN = 3  # 安全劝导员队伍: a team, not one person
MILITIA_MIN = 10  # 民兵连 recorded as people, when no militia team is registered
SIGNIN_WITHIN = timedelta(days=30)  # 平台互联互通: an account of the unit signed in within 30 days
DRILL_WITHIN_YEARS = 2  # 每2年至少开展1次演练
MECHANISMS = ("warning", "consultation", "linkage", "coordination", "support", "investigation")  # 预警、会商、联动、协调、保障、调查评估
# The people register's posts each item counts (helper `people`'s codes).
POSTS = {
    "committee_director": "committee_director", "committee_deputy": "committee_deputy",
    "office_head": "office_head", "office_staff": "office_staff", "office_deputy": "office_deputy",
    "station_head": "station_head", "station_deputy": "station_deputy", "persuader": "persuader",
    "info_reporter": "info_reporter", "militia": "militia",
}


def _posts(f: UnitFacts, post: str) -> list[PersonFact]:
    return [p for p in f.people if post in p.posts]


def _end_of_local_year(now: datetime) -> datetime:
    return datetime(local_day(now).year + 1, 1, 1, tzinfo=SHANGHAI)


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# -- evaluators: (facts, now) -> Verdict -------------------------------------------------------
def committee(f: UnitFacts, now: datetime) -> Verdict:
    directors = len(_posts(f, POSTS["committee_director"]))
    deputies = len(_posts(f, POSTS["committee_deputy"]))
    if directors >= COMMITTEE_DIRECTORS and deputies >= 1:
        return green(f"应急管理委员会：主任 {directors} 人（双主任制），副主任 {deputies} 人",
                     f"Committee: {directors} directors (dual directorship), {deputies} deputy")
    gaps_zh, gaps_en = [], []
    if directors < COMMITTEE_DIRECTORS:
        gaps_zh.append(f"主任 {directors} 人，差 {COMMITTEE_DIRECTORS - directors} 人")
        gaps_en.append(f"{directors} director(s), {COMMITTEE_DIRECTORS - directors} short")
    if deputies < 1:
        gaps_zh.append("无副主任")
        gaps_en.append("no deputy director")
    return red("应急管理委员会：" + "；".join(gaps_zh), "Committee: " + "; ".join(gaps_en))


def office(f: UnitFacts, now: datetime) -> Verdict:
    staff = len(_posts(f, POSTS["office_staff"]))
    deputy = len(_posts(f, POSTS["office_deputy"]))
    if staff >= OFFICE_STAFF_MIN and deputy >= 1:
        return green(f"应急管理办公室：专职 {staff} 人，专职副主任 {deputy} 人",
                     f"Office: {staff} full-time staff, {deputy} full-time deputy")
    gaps_zh, gaps_en = [], []
    if staff < OFFICE_STAFF_MIN:
        gaps_zh.append(f"专职 {staff} 人，差 {OFFICE_STAFF_MIN - staff} 人")
        gaps_en.append(f"{staff} full-time staff, {OFFICE_STAFF_MIN - staff} short")
    if deputy < 1:
        gaps_zh.append("无专职副主任")
        gaps_en.append("no full-time deputy")
    return red("应急管理办公室：" + "；".join(gaps_zh), "Office: " + "; ".join(gaps_en))


def comprehensive_team(f: UnitFacts, now: datetime) -> Verdict:
    teams = sorted((t for t in f.teams if t.kind == "comprehensive"), key=lambda t: -t.members)
    if not teams:
        return red("无综合应急救援队", "No comprehensive rescue team")
    best = teams[0]
    if best.members >= COMPREHENSIVE_TEAM_MIN:
        return green(f"{best.name} {best.members} 人", f"{best.name}: {best.members} members")
    short = COMPREHENSIVE_TEAM_MIN - best.members
    return red(f"综合应急救援队 {best.members} 人，差 {short} 人", f"Comprehensive rescue team has {best.members}, {short} short")


def warehouse(f: UnitFacts, now: datetime) -> Verdict:
    if not f.warehouses:
        return red("无应急物资仓库", "No materials warehouse")
    stocked = [w for w in f.warehouses if w.minimums and not w.short]
    if stocked:
        return green(f"{stocked[0].name}：{stocked[0].minimums} 种物资均达最低储备",
                     f"{stocked[0].name}: all {stocked[0].minimums} materials at or above their minimum")
    w = f.warehouses[0]
    if not w.minimums:
        return red(f"{w.name}：未设最低储备", f"{w.name}: no minimum levels set")
    lines = "、".join(f"{m} {a}/{n}" for m, a, n in w.short[:3])
    return red(f"{w.name}：{len(w.short)} 种物资低于最低储备（{lines}）",
               f"{w.name}: {len(w.short)} materials below their minimum ({lines})")


def platform(f: UnitFacts, now: datetime) -> Verdict:
    if not f.signins_known:
        return Verdict(ItemStatus.UNKNOWN, "登录记录不在事件日志中，回放不评估此项",
                       "Sign-ins are kept beside the event log, so replay does not judge this item")
    if f.last_signin is None:
        return red("无本单位账号登录平台记录", "No account of this unit has signed in")
    if now - f.last_signin > SIGNIN_WITHIN:
        days = (now - f.last_signin).days
        return red(f"本单位账号 {days} 天未登录平台（应在 30 天内）", f"No sign-in for {days} days (within 30 required)")
    return green(f"已接入平台：最近登录 {local_day(f.last_signin).isoformat()}",
                 f"Connected: last sign-in {local_day(f.last_signin).isoformat()}",
                 until=f.last_signin + SIGNIN_WITHIN, lapse=("本单位账号 30 天未登录平台", "No sign-in for 30 days"))


def station(f: UnitFacts, now: datetime) -> Verdict:
    heads = len(_posts(f, POSTS["station_head"]))
    deputies = len(_posts(f, POSTS["station_deputy"]))
    if heads >= 1 and deputies >= 1:
        return green(f"安全劝导站：站长 {heads} 人，副站长 {deputies} 人", f"Persuasion station: {heads} head, {deputies} deputies")
    gaps_zh = ([] if heads else ["无站长"]) + ([] if deputies else ["无副站长"])
    gaps_en = ([] if heads else ["no head"]) + ([] if deputies else ["no deputy"])
    return red("安全劝导站：" + "、".join(gaps_zh), "Persuasion station: " + ", ".join(gaps_en))


def persuaders(f: UnitFacts, now: datetime) -> Verdict:
    n = len(_posts(f, POSTS["persuader"]))
    team = [t for t in f.teams if t.kind == "persuader"]
    if n >= PERSUADERS_MIN or team:
        size = n or team[0].members
        return green(f"安全劝导员队伍 {size} 人", f"Persuader team of {size}")
    return red(f"安全劝导员 {n} 人，差 {PERSUADERS_MIN - n} 人成队", f"{n} persuaders, {PERSUADERS_MIN - n} short of a team")


def reporter(f: UnitFacts, now: datetime) -> Verdict:
    reporters = _posts(f, POSTS["info_reporter"])
    if not reporters:
        return red("未指定灾害信息员", "No disaster information reporter designated")
    trained = [p for p in reporters if any(d <= local_day(now) for d in p.trained_on)]
    if trained:
        return green(f"灾害信息员 {trained[0].name} 已参加培训", f"Reporter {trained[0].name} has been trained")
    return red(f"灾害信息员 {reporters[0].name} 未参加培训", f"Reporter {reporters[0].name} has not been trained")


def militia(f: UnitFacts, now: datetime) -> Verdict:
    teams = [t for t in f.teams if t.kind == "militia"]
    if teams:
        return green(f"{teams[0].name} {teams[0].members} 人", f"{teams[0].name}: {teams[0].members} members")
    n = len(_posts(f, POSTS["militia"]))
    if n >= MILITIA_MIN:
        return green(f"民兵应急救援队伍 {n} 人", f"Militia rescue team of {n}")
    return red(f"无民兵为主的应急救援队伍（民兵 {n} 人）", f"No militia-based rescue team ({n} militia)")


def mechanisms(f: UnitFacts, now: datetime) -> Verdict:
    missing = [m for m in MECHANISMS if m not in f.mechanisms]
    if not missing:
        return green("六项工作机制均已建立", "All six mechanisms recorded")
    return red("缺少机制：" + "、".join(term("mechanism", m) for m in missing),
               "Missing mechanisms: " + ", ".join(term("mechanism", m, "en") for m in missing))


def plans(f: UnitFacts, now: datetime) -> Verdict:
    today = local_day(now)
    if not f.plans:
        return red("无应急预案", "No emergency plan on file")
    unfiled = [p for p in f.plans if not p.filed]
    lapsed = [p for p in f.plans if p.revise_by is not None and p.revise_by < today]
    if unfiled:
        return red(f"《{unfiled[0].title}》未备案", f"“{unfiled[0].title}” is not filed")
    if lapsed:
        return red(f"《{lapsed[0].title}》超过修订周期（应于 {lapsed[0].revise_by} 前修订）",
                   f"“{lapsed[0].title}” is past its revision cycle (due {lapsed[0].revise_by})")
    due = [p.revise_by for p in f.plans if p.revise_by is not None]
    first = min(due) if due else None
    return green(f"预案 {len(f.plans)} 部，均已备案且在修订周期内", f"{len(f.plans)} plans, all filed and within their cycle",
                 until=_local_midnight(first + timedelta(days=1)) if first else None,
                 lapse=("预案超过修订周期", "A plan is past its revision cycle"))


def training_and_drills(f: UnitFacts, now: datetime) -> Verdict:
    today = local_day(now)
    drills = [d for d in f.drills if d <= today]
    plan_drills = [p.last_drill for p in f.plans if p.last_drill and p.last_drill <= today]
    last_drill = max(drills + plan_drills, default=None)
    drill_ok = last_drill is not None and _add_years(last_drill, DRILL_WITHIN_YEARS) >= today
    trained = [d for d in f.trainings if d.year == today.year and d <= today]
    undrilled = [p for p in f.plans if p.drill_by is not None and p.drill_by < today]
    gaps_zh, gaps_en = [], []
    if undrilled:
        gaps_zh.append(f"《{undrilled[0].title}》超过演练期限（应于 {undrilled[0].drill_by} 前演练）")
        gaps_en.append(f"“{undrilled[0].title}” is past its drill date ({undrilled[0].drill_by})")
    if not drill_ok:
        gaps_zh.append(f"两年内无演练（最近 {last_drill}）" if last_drill else "无演练记录")
        gaps_en.append(f"no drill within 2 years (last {last_drill})" if last_drill else "no drill recorded")
    if not trained:
        gaps_zh.append(f"{today.year} 年无培训")
        gaps_en.append(f"no training in {today.year}")
    if gaps_zh:
        return red("培训演练：" + "；".join(gaps_zh), "Training and drills: " + "; ".join(gaps_en))
    assert last_drill is not None
    drill_lapses = _local_midnight(_add_years(last_drill, DRILL_WITHIN_YEARS) + timedelta(days=1))
    plan_lapses = [_local_midnight(p.drill_by + timedelta(days=1)) for p in f.plans if p.drill_by is not None]
    until = min([drill_lapses, _end_of_local_year(now), *plan_lapses])
    return green(f"最近演练 {last_drill}，{today.year} 年培训 {len(trained)} 次",
                 f"Last drill {last_drill}; {len(trained)} training session(s) in {today.year}",
                 until=until, lapse=("演练或年度培训已过期", "The drill or this year's training has lapsed"))


EVALUATORS: dict[str, Callable[[UnitFacts, datetime], Verdict]] = {
    f.__name__: f for f in (committee, office, comprehensive_team, warehouse, platform, station, persuaders, reporter, militia,
                            mechanisms, plans, training_and_drills)
}


# -- the standard, as data ----------------------------------------------------------------------
class Standard(StrEnum):
    STREET_1_4 = "s1_4"  # "1+4"
    VILLAGE_1_3 = "v1_3"  # "1+3"
    SIX_HAVES = "six"  # "六有"


STREET_KINDS = ("street", "cluster")
VILLAGE_KINDS = ("village", "community")
STANDARD_KINDS = {Standard.STREET_1_4: STREET_KINDS, Standard.SIX_HAVES: STREET_KINDS, Standard.VILLAGE_1_3: VILLAGE_KINDS}


@dataclass(frozen=True)
class Item:
    id: str
    standard: str
    evaluator: str
    requires: tuple[str, str]  # (中文, English)
    evidence: tuple[str, str]

    def applies_to(self, unit_kind: str) -> bool:
        return unit_kind in STANDARD_KINDS[self.standard]  # type: ignore[index] - a StrEnum member hashes as its value


@dataclass(frozen=True)
class StandardVersion:
    version: str
    items: tuple[Item, ...] = field(default_factory=tuple)

    def item(self, item_id: str) -> Item | None:
        return next((i for i in self.items if i.id == item_id), None)


S, V, L = Standard.STREET_1_4, Standard.VILLAGE_1_3, Standard.SIX_HAVES
STANDARDS: dict[str, StandardVersion] = {
    "2022.1": StandardVersion("2022.1", (
        Item("s1_4.committee", S, "committee",
             ("应急管理委员会：党政主要负责人任主任的双主任制，领导副职任副主任", "Emergency committee: two directors (party and government heads) and a deputy"),
             ("人员名册中的主任、副主任职务", "Directors and deputies in the people register")),
        Item("s1_4.office", S, "office",
             ("应急管理办公室：专职 5 人，设专职副主任", "Emergency office: 5 full-time staff and a full-time deputy"),
             ("人员名册中的办公室专职人员", "Full-time office staff in the people register")),
        Item("s1_4.team", S, "comprehensive_team",
             ("1 支不少于 20 人的专兼职综合性应急救援队伍", "A comprehensive rescue team of at least 20"),
             ("救援队伍登记的人数", "The team's registered strength")),
        Item("s1_4.warehouse", S, "warehouse",
             ("至少 1 个应急物资仓库，储备达到最低储备量", "At least one materials warehouse stocked to its minimums"),
             ("仓库库存与最低储备", "The warehouse's stock and minimum levels")),
        Item("s1_4.platform", S, "platform",
             ("接入上下贯通的应急指挥平台（本单位账号 30 天内登录）", "Connected to the command platform (an account of the unit signed in within 30 days)"),
             ("平台账号的登录记录", "The accounts' sign-ins")),
        Item("v1_3.station", V, "station",
             ("安全劝导站（应急管理站）：站长、副站长", "Safety persuasion station with a head and deputies"),
             ("人员名册中的站长、副站长", "Station head and deputies in the people register")),
        Item("v1_3.persuaders", V, "persuaders",
             ("1 支安全劝导员队伍", "A team of safety persuaders"),
             ("人员名册中的安全劝导员", "Persuaders in the people register")),
        Item("v1_3.reporter", V, "reporter",
             ("1 名灾害信息员，且至少参加 1 次培训", "One disaster information reporter, trained at least once"),
             ("灾害信息员及其培训记录", "The reporter and their training record")),
        Item("v1_3.militia", V, "militia",
             ("1 支民兵为主的应急救援队伍", "A militia-based rescue team"),
             ("民兵应急连队伍登记或民兵名册", "The militia team or militia in the people register")),
        Item("six.leadership", L, "committee",
             ("有班子：应急管理委员会健全", "Leadership: the emergency committee in place"),
             ("人员名册中的委员会职务", "Committee posts in the people register")),
        Item("six.mechanism", L, "mechanisms",
             ("有机制：预警、会商、联动、协调、保障、调查评估六项机制", "Mechanisms: warning, consultation, linkage, coordination, support, investigation"),
             ("机制文件", "The mechanism documents")),
        Item("six.plan", L, "plans",
             ("有预案：预案备案并在修订周期内", "Plans: on file and revised within their cycle"),
             ("预案、备案与修订记录", "Plans, filings and revisions")),
        Item("six.team", L, "comprehensive_team",
             ("有队伍：综合性应急救援队伍不少于 20 人", "Teams: a comprehensive rescue team of at least 20"),
             ("救援队伍登记的人数", "The team's registered strength")),
        Item("six.materials", L, "warehouse",
             ("有物资：应急物资仓库储备达标", "Materials: a warehouse stocked to its minimums"),
             ("仓库库存与最低储备", "The warehouse's stock and minimum levels")),
        Item("six.training", L, "training_and_drills",
             ("有培训演练：2 年内有演练，本年度有培训", "Training and drills: a drill within 2 years and training this year"),
             ("演练与培训记录", "Drill and training records")),
    )),
}
CURRENT_STANDARD = "2022.1"
# Items judged from facts kept beside the log (the accounts' sign-ins): the stored scorecard leaves them `unknown`,
# the API and the board's snapshot judge them at the moment asked, replay cannot.
OUTSIDE_THE_LOG = ("s1_4.platform",)
ITEM_IDS = tuple(i.id for i in STANDARDS[CURRENT_STANDARD].items)


def standard(version: str = CURRENT_STANDARD) -> StandardVersion:
    try:
        return STANDARDS[version]
    except KeyError:
        raise InvalidValue(f"standard version must be one of {sorted(STANDARDS)}", field="standard_version") from None


def scorecard(facts: UnitFacts, now: datetime, version: str = CURRENT_STANDARD) -> dict[str, Any]:
    """Every item of `version` that applies to the unit's kind, judged now; with per-standard counts."""
    items = []
    counts: dict[str, dict[str, int]] = {}
    for item in standard(version).items:
        if not item.applies_to(facts.unit_kind):
            continue
        verdict = EVALUATORS[item.evaluator](facts, now)
        items.append({"id": item.id, "standard": item.standard, **verdict.as_dict()})
        row = counts.setdefault(item.standard, {"green": 0, "total": 0})
        row["total"] += 1
        row["green"] += verdict.status == ItemStatus.GREEN
    return {"unit_code": facts.unit_code, "unit_kind": facts.unit_kind, "unit_name": facts.unit_name, "version": version,
            "at": now.isoformat(), "items": items, "counts": counts,
            "complete": bool(items) and all(i["status"] == ItemStatus.GREEN for i in items)}


def item_verdict(facts: UnitFacts, item_id: str, now: datetime, version: str = CURRENT_STANDARD) -> Verdict:
    item = standard(version).item(item_id)
    if item is None or not item.applies_to(facts.unit_kind):
        raise InvalidValue(f"item {item_id} is not in standard {version} for a {facts.unit_kind}", field="item_id")
    return EVALUATORS[item.evaluator](facts, now)
