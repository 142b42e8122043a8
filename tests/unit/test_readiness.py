"""The readiness standard, item by item: for each, the fact that turns it green and the one that turns it red,
and the reason it gives in words. Then the scorecard's counts, its `until` (when time alone turns an item red)
and the rectification item's rules (销号 only when green; one escalation)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest

from domain.campaigns import Campaign, Rectification
from domain.common import Actor, DomainError
from domain.readiness import (
    CURRENT_STANDARD, MECHANISMS, STANDARDS, PersonFact, PlanFact, TeamFact, UnitFacts, WarehouseFact, item_verdict, scorecard,
)
from tests.unit.helpers import then_events

NOW = datetime(2026, 7, 20, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
TODAY = date(2026, 7, 20)
STREET, VILLAGE = "411099001000", "411099001001"
BY = Actor(user="xinxing", role="operator", unit=STREET)


def people(*rows: tuple[str, tuple[str, ...]] | tuple[str, tuple[str, ...], tuple[date, ...]]) -> tuple[PersonFact, ...]:
    return tuple(PersonFact(r[0], r[1], r[2] if len(r) > 2 else ()) for r in rows)  # type: ignore[misc]


def committee_people(directors: int = 2, deputies: int = 1) -> tuple[PersonFact, ...]:
    return people(*[(f"主任{n}", ("committee_director",)) for n in range(directors)],
                  *[(f"副主任{n}", ("committee_deputy",)) for n in range(deputies)])


def office_people(staff: int = 5, deputy: int = 1) -> tuple[PersonFact, ...]:
    return people(*[(f"干事{n}", ("office_staff",)) for n in range(staff)], *[(f"副主任{n}", ("office_deputy",)) for n in range(deputy)])


def complete_street() -> UnitFacts:
    return UnitFacts(
        unit_code=STREET, unit_kind="street", unit_name="新兴街道",
        teams=(TeamFact("新兴街道综合应急救援队", "comprehensive", 22),),
        warehouses=(WarehouseFact("新兴街道应急物资仓库", 19),),
        people=committee_people() + office_people(),
        plans=(PlanFact("新兴街道突发事件总体应急预案", "overall", True, date(2025, 3, 1), date(2028, 3, 1), date(2025, 6, 10)),),
        mechanisms=MECHANISMS, drills=(date(2025, 6, 10),), trainings=(date(2026, 4, 2),),
        last_signin=NOW - timedelta(days=2))


def complete_village() -> UnitFacts:
    return UnitFacts(
        unit_code=VILLAGE, unit_kind="village", unit_name="魏庄村",
        teams=(TeamFact("魏庄民兵应急连", "militia", 24),),
        people=people(("魏站长", ("station_head",)), ("魏副站长", ("station_deputy",)),
                      *[(f"劝导员{n}", ("persuader",)) for n in range(4)], ("赵敏", ("info_reporter",), (date(2026, 3, 5),))))


def verdict(facts: UnitFacts, item: str):  # type: ignore[no-untyped-def]
    return item_verdict(facts, item, NOW)


def test_complete_units_are_green_on_every_item_of_their_standards() -> None:
    street = scorecard(complete_street(), NOW)
    village = scorecard(complete_village(), NOW)
    assert street["complete"] and village["complete"], [i for i in street["items"] + village["items"] if i["status"] != "green"]
    assert street["counts"] == {"s1_4": {"green": 5, "total": 5}, "six": {"green": 6, "total": 6}}
    assert village["counts"] == {"v1_3": {"green": 4, "total": 4}}


# (item, the fact that turns it red, the words the reason holds); each starts from a complete unit.
RED = [
    ("s1_4.committee", lambda f: replace(f, people=committee_people(directors=1) + office_people()), "主任 1 人，差 1 人"),
    ("s1_4.committee", lambda f: replace(f, people=committee_people(deputies=0) + office_people()), "无副主任"),
    ("s1_4.office", lambda f: replace(f, people=committee_people() + office_people(staff=4)), "专职 4 人，差 1 人"),
    ("s1_4.office", lambda f: replace(f, people=committee_people() + office_people(deputy=0)), "无专职副主任"),
    ("s1_4.team", lambda f: replace(f, teams=(TeamFact("新兴街道综合应急救援队", "comprehensive", 19),)), "综合应急救援队 19 人，差 1 人"),
    ("s1_4.team", lambda f: replace(f, teams=(TeamFact("新兴民兵应急连", "militia", 40),)), "无综合应急救援队"),
    ("s1_4.warehouse", lambda f: replace(f, warehouses=(WarehouseFact("仓库", 19, (("救生衣", 30, 80),)),)), "救生衣 30/80"),
    ("s1_4.warehouse", lambda f: replace(f, warehouses=(WarehouseFact("仓库", 0),)), "未设最低储备"),
    ("s1_4.warehouse", lambda f: replace(f, warehouses=()), "无应急物资仓库"),
    ("s1_4.platform", lambda f: replace(f, last_signin=NOW - timedelta(days=31)), "31 天未登录"),
    ("s1_4.platform", lambda f: replace(f, last_signin=None), "无本单位账号登录"),
    ("six.leadership", lambda f: replace(f, people=office_people()), "主任 0 人，差 2 人"),
    ("six.mechanism", lambda f: replace(f, mechanisms=MECHANISMS[:5]), "缺少机制：调查评估"),
    ("six.plan", lambda f: replace(f, plans=()), "无应急预案"),
    ("six.plan", lambda f: replace(f, plans=(replace(f.plans[0], filed=False),)), "未备案"),
    ("six.plan", lambda f: replace(f, plans=(replace(f.plans[0], revise_by=date(2026, 7, 19)),)), "超过修订周期"),
    ("six.team", lambda f: replace(f, teams=(TeamFact("队", "comprehensive", 12),)), "差 8 人"),
    ("six.materials", lambda f: replace(f, warehouses=()), "无应急物资仓库"),
    ("six.training", lambda f: replace(f, drills=(date(2024, 7, 19),), plans=()), "两年内无演练"),
    ("six.training", lambda f: replace(f, trainings=(date(2025, 12, 30),)), "2026 年无培训"),
    ("six.training", lambda f: replace(f, plans=(replace(f.plans[0], drill_by=date(2026, 7, 19)),)), "超过演练期限"),
]
RED_VILLAGE = [
    ("v1_3.station", lambda f: replace(f, people=tuple(p for p in f.people if "station_deputy" not in p.posts)), "无副站长"),
    ("v1_3.station", lambda f: replace(f, people=tuple(p for p in f.people if "station_head" not in p.posts)), "无站长"),
    ("v1_3.persuaders", lambda f: replace(f, people=tuple(p for p in f.people if "persuader" not in p.posts)), "安全劝导员 0 人"),
    ("v1_3.reporter", lambda f: replace(f, people=people(("赵敏", ("info_reporter",)))), "赵敏 未参加培训"),
    ("v1_3.reporter", lambda f: replace(f, people=()), "未指定灾害信息员"),
    ("v1_3.militia", lambda f: replace(f, teams=()), "无民兵为主的应急救援队伍"),
]


@pytest.mark.parametrize(("item", "change", "words"), RED, ids=[f"{r[0]}:{r[2]}" for r in RED])
def test_each_street_item_turns_red_on_its_fact_with_its_reason(item, change, words) -> None:  # type: ignore[no-untyped-def]
    assert verdict(complete_street(), item).status == "green"
    v = verdict(change(complete_street()), item)
    assert v.status == "red" and words in v.zh, v.zh
    assert v.en  # and in English


@pytest.mark.parametrize(("item", "change", "words"), RED_VILLAGE, ids=[f"{r[0]}:{r[2]}" for r in RED_VILLAGE])
def test_each_village_item_turns_red_on_its_fact_with_its_reason(item, change, words) -> None:  # type: ignore[no-untyped-def]
    assert verdict(complete_village(), item).status == "green"
    v = verdict(change(complete_village()), item)
    assert v.status == "red" and words in v.zh, v.zh


# The facts that turn a red item green (the other side of each rule).
GREEN = [
    ("s1_4.team", lambda f: replace(f, teams=(TeamFact("综合队", "comprehensive", 20),))),
    ("s1_4.office", lambda f: replace(f, people=committee_people() + office_people(staff=5))),
    ("v1_3.reporter", lambda f: replace(f, people=people(("赵敏", ("info_reporter",), (date(2026, 7, 20),))))),
    ("v1_3.militia", lambda f: replace(f, teams=(), people=people(*[(f"民兵{n}", ("militia",)) for n in range(10)]))),
    ("v1_3.persuaders", lambda f: replace(f, people=(), teams=(TeamFact("魏庄安全劝导队", "persuader", 8),))),
]


@pytest.mark.parametrize(("item", "change"), GREEN, ids=[g[0] for g in GREEN])
def test_the_fact_that_turns_an_item_green(item, change) -> None:  # type: ignore[no-untyped-def]
    base = complete_street() if item.startswith(("s1_4", "six")) else complete_village()
    assert verdict(change(base), item).status == "green"


def test_every_item_of_the_standard_is_tried_red_here() -> None:
    tried = {r[0] for r in RED + RED_VILLAGE}
    assert tried == {i.id for i in STANDARDS[CURRENT_STANDARD].items}


def test_a_team_of_exactly_twenty_is_green_and_nineteen_is_red_by_one() -> None:
    f = complete_street()
    assert verdict(replace(f, teams=(TeamFact("综合队", "comprehensive", 20),)), "s1_4.team").zh == "综合队 20 人"
    assert verdict(replace(f, teams=(TeamFact("综合队", "comprehensive", 19),)), "s1_4.team").en == \
        "Comprehensive rescue team has 19, 1 short"


def test_time_alone_turns_green_items_red_at_their_until() -> None:
    f = complete_street()
    platform = verdict(f, "s1_4.platform")
    assert platform.until == f.last_signin + timedelta(days=30)  # type: ignore[operator]
    assert item_verdict(f, "s1_4.platform", platform.until + timedelta(seconds=1)).status == "red"  # type: ignore[operator]
    training = verdict(f, "six.training")
    assert training.until == datetime(2027, 1, 1, tzinfo=training.until.tzinfo)  # this year's training lapses at New Year
    assert item_verdict(f, "six.training", training.until).status == "red"  # type: ignore[arg-type]


def test_replay_leaves_the_platform_item_unevaluated() -> None:
    v = verdict(replace(complete_street(), signins_known=False), "s1_4.platform")
    assert v.status == "unknown" and "回放" in v.zh


def test_items_of_another_level_do_not_apply() -> None:
    with pytest.raises(DomainError):
        verdict(complete_village(), "s1_4.team")


# -- rectification items ----------------------------------------------------------------------
def campaign(results: list[dict]) -> Campaign:  # type: ignore[type-arg]
    return Campaign.open(kind="self", unit_code=STREET, title="新兴街道自查", standard_version=CURRENT_STANDARD, units=[STREET],
                         deadline=NOW + timedelta(days=14), now=NOW, results=results, by=BY)


def test_a_campaign_records_each_red_item_as_a_finding_and_refuses_the_wrong_runner() -> None:
    card = scorecard(replace(complete_street(), teams=(TeamFact("综合队", "comprehensive", 19),)), NOW)
    results = [{"unit_code": STREET, "item_id": i["id"], "standard": i["standard"], "status": i["status"], "reason": i["reason"],
                "responsible": "主任0"} for i in card["items"]]
    c = campaign(results)
    assert [f["item_id"] for f in c.findings] == ["s1_4.team", "six.team"]
    with pytest.raises(DomainError):
        Campaign.open(kind="self", unit_code="411099000000", title="x", standard_version=CURRENT_STANDARD, units=[STREET],
                      deadline=NOW + timedelta(days=1), now=NOW, results=results, by=BY)
    with pytest.raises(DomainError):
        Campaign.open(kind="supervision", unit_code=STREET, title="x", standard_version=CURRENT_STANDARD, units=[STREET],
                      deadline=NOW + timedelta(days=1), now=NOW, results=results, by=BY)


def item() -> Rectification:
    r = Rectification.raise_item(campaign_id=uuid4(), finding={
        "unit_code": STREET, "item_id": "s1_4.team", "standard": "s1_4", "reason": {"zh": "综合应急救援队 19 人，差 1 人", "en": ""},
        "responsible": "主任0"}, deadline=NOW + timedelta(days=1), by=BY)
    r.collect_events()
    return r


def test_sign_off_only_when_green_with_the_green_reason_as_evidence() -> None:
    r = item()
    red = verdict(replace(complete_street(), teams=(TeamFact("综合队", "comprehensive", 19),)), "s1_4.team")
    with pytest.raises(DomainError) as info:
        r.sign_off(red, NOW, "", by=BY)
    assert info.value.code == "invalid_transition" and "19 人" in info.value.detail
    assert then_events(r) == []
    r.sign_off(verdict(complete_street(), "s1_4.team"), NOW, "补充 3 人", by=BY)
    (event,) = r.collect_events()
    assert event.evidence["zh"] == "新兴街道综合应急救援队 22 人" and event.on_time
    with pytest.raises(DomainError):
        r.sign_off(verdict(complete_street(), "s1_4.team"), NOW, "", by=BY)


def test_an_open_item_escalates_once_after_its_deadline() -> None:
    r = item()
    with pytest.raises(DomainError):
        r.escalate(NOW, by=BY)  # not yet due
    r.escalate(NOW + timedelta(days=2), by=BY)
    assert then_events(r) == ["Rectification.Escalated"]
    with pytest.raises(DomainError):
        r.escalate(NOW + timedelta(days=3), by=BY)


# -- the facts come from the registers: folded through the readiness read model ---------------------------
def fold_card(*aggregates_events: list) -> dict:  # type: ignore[type-arg]
    from projections.fold import MemoryDocs

    docs = MemoryDocs()
    for events in aggregates_events:
        docs.fold(events)
    return docs


def test_the_registers_feed_the_scorecard_and_a_person_leaving_turns_it_red() -> None:
    from domain.people import Person
    from domain.plans import Plan
    from domain.training import TrainingSession
    from domain.units import Unit
    from projections.readiness import card_of

    admin = Actor(user="a", role="admin", unit="411099000000")
    unit = Unit.register(code=VILLAGE, name="魏庄村", kind="village", by=admin)
    street = Unit.register(code=STREET, name="新兴街道", kind="street", by=admin)
    reporter = Person.register(unit_code=VILLAGE, name="赵敏", phone="13900000000", posts=["info_reporter"], by=admin)
    head = Person.register(unit_code=VILLAGE, name="魏站长", phone="13900000001", posts=["station_head"], by=admin)
    docs = fold_card(unit.collect_events(), street.collect_events(), reporter.collect_events(), head.collect_events())
    item = {i["id"]: i for i in card_of(docs.get("readiness", VILLAGE), NOW)["items"]}
    assert item["v1_3.reporter"]["reason"]["zh"] == "灾害信息员 赵敏 未参加培训"
    session = TrainingSession.record(unit_code=VILLAGE, day=TODAY - timedelta(days=3), today=TODAY, topic="灾情报送", hours=2,
                                     attendees=[(reporter.id, VILLAGE, "active")], by=admin)
    docs.fold(session.collect_events())
    item = {i["id"]: i for i in docs.get("readiness", VILLAGE)["card"]["items"]}
    assert item["v1_3.reporter"]["status"] == "green" and "赵敏" in item["v1_3.reporter"]["reason"]["zh"]
    reporter.mark_left("调离", by=admin)
    docs.fold(reporter.collect_events())
    item = {i["id"]: i for i in docs.get("readiness", VILLAGE)["card"]["items"]}
    assert item["v1_3.reporter"]["reason"]["zh"] == "未指定灾害信息员"
    # Plans: an overall plan on file makes 有预案 green; a mechanism document counts towards 有机制.
    doc = {"sha256": "a" * 64, "media_type": "application/pdf", "size": 10, "name": "plan.pdf"}
    plan = Plan.register(unit_code=STREET, kind="overall", title="新兴街道总体应急预案", version="2026", revised_on=TODAY,
                         document=doc, today=TODAY, revision_years=3, by=admin)
    docs.fold(plan.collect_events())
    assert "未备案" in {i["id"]: i for i in docs.get("readiness", STREET)["card"]["items"]}["six.plan"]["reason"]["zh"]
    plan.file(filed_with="区应急管理局", filed_on=TODAY, today=TODAY, by=admin)
    mech = Plan.register(unit_code=STREET, kind="mechanism", mechanism="warning", title="应急预警机制", version="1", revised_on=TODAY,
                         document=doc, today=TODAY, revision_years=3, by=admin)
    docs.fold([*plan.collect_events(), *mech.collect_events()])
    street_items = {i["id"]: i for i in card_of(docs.get("readiness", STREET), NOW)["items"]}
    assert street_items["six.plan"]["status"] == "green"
    assert "应急预警" not in street_items["six.mechanism"]["reason"]["zh"] and "应急会商" in street_items["six.mechanism"]["reason"]["zh"]



def test_readiness_reads_the_followed_read_models_changes_and_must_be_folded_after_them() -> None:
    """Readiness derives its facts from the teams', warehouses', ... changes to the same event; it used to fold
    them a second time (a fifth of the golden log's fold). Their changes are passed on (`earlier`): once an event."""
    from domain.teams import Team
    from domain.units import Unit
    from projections import catalog
    from projections.fold import apply_event

    admin = Actor(user="a", role="admin", unit="411099000000")
    unit = Unit.register(code=VILLAGE, name="魏庄村", kind="village", by=admin)
    team = Team.register(unit_code=VILLAGE, name="魏庄村民兵应急班", kind="militia", members=20, by=admin)
    calls: list[str] = []

    def counting(name: str, handler: Any) -> Any:
        return lambda get, e: (calls.append(name), handler(get, e))[1]

    teams = replace(catalog.TEAMS, handlers={n: counting(n, h) for n, h in catalog.TEAMS.handlers.items()})
    readiness = catalog.readiness_reducer(tuple(teams if r is catalog.TEAMS else r for r in catalog.FOLLOWED_BY_READINESS))
    models = tuple(teams if r is catalog.TEAMS else readiness if r is catalog.READINESS else r for r in catalog.READ_MODELS)
    docs: dict[tuple[str, str], Any] = {}
    for e in [*unit.collect_events(), *team.collect_events()]:
        docs.update({(k, i): d for k, i, d in apply_event(lambda k, i: docs.get((k, i)), e, models) if d is not None})
    assert calls == ["Team.Registered"]  # once: readiness took the team's change from `earlier`
    [fact] = docs[("readiness", VILLAGE)]["facts"]["teams"].values()
    assert fact == {"name": "魏庄村民兵应急班", "kind": "militia", "members": 20}
    with pytest.raises(AssertionError, match="must be folded before it"):
        catalog._check_followers((readiness, *(r for r in models if r is not readiness)))
