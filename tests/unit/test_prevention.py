"""双重预防 in the domain: risk grading (LEC bands, direct levels, reassessment) and every transition and
refusal of a hidden danger, given / when / then."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.common import Actor
from domain.policy import DEFAULT_RISK_REVIEW_DAYS
from domain.prevention import HiddenDanger, Inspection, RiskPoint, danger_overdue, lec_level, review_overdue
from tests.unit.helpers import ACTOR, T0, VILLAGE, given, raises, then_events, then_one

INSPECTOR = Actor(user="xinxing", role="operator", unit="411099001000")
DESK = Actor(user="operator", role="operator", unit="411099000000")
SHA = "ab" * 32
PHOTO = {"sha256": SHA, "media_type": "image/jpeg", "size": 1234, "name": "p.jpg"}
FIVE = {"responsibility": "厂长张三", "measures": "更换储罐阀门", "funds": "5万元已到位", "time_limit": "30日内", "plan": "泄漏专项预案"}
DEADLINE = T0 + timedelta(days=10)


def new_point(**kw: Any) -> RiskPoint:
    fields: dict[str, Any] = dict(unit_code=VILLAGE, name="液氨储罐区", subject="许昌某冷链公司", hazard="液氨泄漏中毒", by=ACTOR)
    fields.update(kw)
    return RiskPoint.register(**fields)


def lec(l: float, e: float, c: float):  # type: ignore[no-untyped-def]  # noqa: E741
    return lambda p: p.assess(method="lec", l=l, e=e, c=c, now=T0, review_days=DEFAULT_RISK_REVIEW_DAYS, by=ACTOR)


@pytest.mark.parametrize("d,level", [(321, "major"), (320, "larger"), (160, "larger"), (159.9, "general"), (70, "general"),
                                     (69.9, "low"), (0.5, "low")])
def test_lec_bands(d: float, level: str) -> None:
    assert lec_level(d) == level


def test_an_lec_assessment_grades_the_point_and_sets_its_review() -> None:
    p = given(new_point)
    lec(6, 6, 15)(p)  # D = 540
    e = then_one(p, "RiskPoint.Assessed")
    assert (e.d, e.level, p.level) == (540, "major", "major")
    assert e.review_due == T0 + timedelta(days=DEFAULT_RISK_REVIEW_DAYS["major"])


def test_reassessment_is_a_new_event_and_history_keeps_the_old_one() -> None:
    p = given(new_point, lec(6, 6, 15))
    lec(1, 6, 7)(p)  # D = 42: low after the repair
    assert then_events(p) == ["RiskPoint.Assessed"] and p.level == "low"


def test_lec_values_outside_the_tables_are_refused() -> None:
    p = given(new_point)
    with raises("validation_error", p):
        lec(4, 6, 15)(p)


def test_a_direct_level_needs_its_basis() -> None:
    p = given(new_point)
    with raises("validation_error", p):
        p.assess(method="direct", level="major", basis=" ", now=T0, review_days=DEFAULT_RISK_REVIEW_DAYS, by=ACTOR)
    p.assess(method="direct", level="major", basis="构成危险化学品重大危险源", now=T0, review_days=DEFAULT_RISK_REVIEW_DAYS, by=ACTOR)
    assert then_one(p, "RiskPoint.Assessed").level == "major"


def test_controls_per_tier() -> None:
    p = given(new_point)
    with raises("validation_error", p):
        p.set_controls([{"tier": "village", "measures": "x", "person": "y"}], by=ACTOR)
    with raises("validation_error", p):
        p.set_controls([{"tier": "street", "measures": "巡查", "person": ""}], by=ACTOR)
    p.set_controls([{"tier": "enterprise", "measures": "每班巡检", "person": "张三"}, {"tier": "street", "measures": "每月检查", "person": "李四"}],
                   by=ACTOR)
    assert then_events(p) == ["RiskPoint.ControlsSet"]


def test_review_overdue_after_the_due_moment() -> None:
    assert not review_overdue(T0, T0) and review_overdue(T0, T0 + timedelta(seconds=1)) and not review_overdue(None, T0)


def test_an_inspection_covers_points_or_a_site_with_a_checklist() -> None:
    with pytest.raises(Exception) as info:
        Inspection.record(unit_code=VILLAGE, kind="planned", inspected_at=T0, checklist=[{"item": "消防通道", "result": "ok"}], by=ACTOR)
    assert getattr(info.value, "code", "") == "validation_error"
    i = Inspection.record(unit_code=VILLAGE, kind="ad_hoc", inspected_at=T0, site="纬三路仓库",
                          checklist=[{"item": "消防通道", "result": "fail", "note": "堆放杂物"}], by=ACTOR)
    assert then_events(i) == ["Inspection.Recorded"]


# -- hidden dangers ---------------------------------------------------------------
def found(grade: str = "general"):  # type: ignore[no-untyped-def]
    return lambda: HiddenDanger.find(unit_code=VILLAGE, grade=grade, title="消防通道堵塞", site="纬三路仓库", evidence=[PHOTO], by=INSPECTOR)


def assign(d: HiddenDanger) -> None:
    d.assign(rectifier="仓储公司", responsible="王经理", deadline=DEADLINE, measures="清理通道", now=T0, by=DESK)


def report(d: HiddenDanger) -> None:
    d.report_rectified("已清理", [PHOTO], by=INSPECTOR)


def verify(d: HiddenDanger) -> None:
    d.verify("现场验收合格", by=DESK)


def test_found_needs_a_grade_and_a_place() -> None:
    with pytest.raises(Exception) as info:
        HiddenDanger.find(unit_code=VILLAGE, grade="huge", title="x", site="y", by=INSPECTOR)
    assert getattr(info.value, "code", "") == "validation_error"
    with pytest.raises(Exception) as info:
        HiddenDanger.find(unit_code=VILLAGE, grade="general", title="x", by=INSPECTOR)
    assert getattr(info.value, "code", "") == "validation_error"
    d = found()()
    assert then_events(d) == ["HiddenDanger.Found"] and d.status == "found"


def test_assign_moves_to_rectifying() -> None:
    d = given(found())
    assign(d)
    assert then_events(d) == ["HiddenDanger.Assigned"] and d.status == "rectifying" and d.deadline == DEADLINE


def test_a_major_danger_needs_the_five_in_place_and_supervision_before_it_is_assigned() -> None:
    d = given(found("major"))
    with raises("validation_error", d) as info:
        d.assign(rectifier="公司", responsible="王", deadline=DEADLINE, measures="整改", now=T0, by=DESK,
                 five={**FIVE, "funds": ""}, supervision="东应急督〔2026〕3号")
    assert info.value.extra["missing"] == ["funds"]
    with raises("validation_error", d):
        d.assign(rectifier="公司", responsible="王", deadline=DEADLINE, measures="整改", now=T0, by=DESK, five=FIVE, supervision="")
    d.assign(rectifier="公司", responsible="王", deadline=DEADLINE, measures="整改", now=T0, by=DESK, five=FIVE,
             supervision="东应急督〔2026〕3号")
    e = then_one(d, "HiddenDanger.Assigned")
    assert e.five == FIVE and e.supervision


def test_a_deadline_in_the_past_is_refused() -> None:
    d = given(found())
    with raises("validation_error", d):
        d.assign(rectifier="公司", responsible="王", deadline=T0, measures="整改", now=T0, by=DESK)


def test_progress_notes_while_rectifying_only() -> None:
    d = given(found())
    with raises("invalid_transition", d):
        d.note_progress("已采购材料", by=INSPECTOR)
    assign(d)
    d.collect_events()
    d.note_progress("已采购材料", by=INSPECTOR, evidence=[PHOTO])
    assert then_events(d) == ["HiddenDanger.ProgressNoted"]


def test_a_deadline_moves_only_with_a_reason() -> None:
    d = given(found(), assign)
    with raises("validation_error", d):
        d.move_deadline(DEADLINE + timedelta(days=5), "  ", now=T0, by=DESK)
    with raises("validation_error", d):
        d.move_deadline(DEADLINE, "同一期限", now=T0, by=DESK)
    d.move_deadline(DEADLINE + timedelta(days=5), "设备到货延迟", now=T0, by=DESK)
    e = then_one(d, "HiddenDanger.DeadlineMoved")
    assert (e.previous, e.deadline, d.deadline) == (DEADLINE, DEADLINE + timedelta(days=5), DEADLINE + timedelta(days=5))


def test_reported_rectified_needs_evidence() -> None:
    d = given(found(), assign)
    with raises("validation_error", d):
        d.report_rectified("已清理", [], by=INSPECTOR)
    report(d)
    assert then_events(d) == ["HiddenDanger.RectificationReported"] and d.status == "reported"


def test_the_account_that_reported_rectified_cannot_verify_it() -> None:
    d = given(found(), assign, report)
    with raises("invalid_transition", d) as info:
        d.verify("我验收我自己", by=INSPECTOR)
    assert info.value.extra["reason"] == "same_account"
    verify(d)
    assert then_events(d) == ["HiddenDanger.Verified"] and d.status == "verified"


def test_rejected_goes_back_to_rectifying_with_a_new_deadline() -> None:
    d = given(found(), assign, report)
    with raises("validation_error", d):
        d.reject("", DEADLINE + timedelta(days=3), now=T0, by=DESK)
    with raises("invalid_transition", d):
        d.reject("通道仍有杂物", DEADLINE + timedelta(days=3), now=T0, by=INSPECTOR)
    d.reject("通道仍有杂物", DEADLINE + timedelta(days=3), now=T0, by=DESK)
    assert then_events(d) == ["HiddenDanger.Rejected"] and d.status == "rectifying" and d.deadline == DEADLINE + timedelta(days=3)
    report(d)
    verify(d)
    assert then_events(d) == ["HiddenDanger.RectificationReported", "HiddenDanger.Verified"]


def test_closed_only_from_verified() -> None:
    for steps in [(), (assign,), (assign, report)]:
        d = given(found(), *steps)
        with raises("invalid_transition", d):
            d.close("销号", by=DESK)
    d = given(found(), assign, report, verify)
    d.close("对标销号", by=DESK)
    assert then_events(d) == ["HiddenDanger.Closed"] and d.status == "closed"
    with raises("invalid_transition", d):
        d.close("again", by=DESK)


def test_verify_and_reject_only_from_reported() -> None:
    d = given(found(), assign)
    with raises("invalid_transition", d):
        verify(d)
    with raises("invalid_transition", d):
        d.reject("x", DEADLINE, now=T0, by=DESK)


def test_one_escalation_per_missed_deadline() -> None:
    d = given(found(), assign)
    with raises("invalid_transition", d):
        d.escalate(DEADLINE, by=DESK)  # not yet past
    late = DEADLINE + timedelta(minutes=1)
    d.escalate(late, by=DESK)
    assert then_one(d, "HiddenDanger.Escalated").deadline == DEADLINE
    with raises("invalid_transition", d):
        d.escalate(late + timedelta(days=1), by=DESK)
    d.move_deadline(late + timedelta(days=3), "延期", now=late, by=DESK)
    d.collect_events()
    d.escalate(late + timedelta(days=4), by=DESK)  # the new deadline missed too: a second escalation
    assert then_events(d) == ["HiddenDanger.Escalated"]
    assert danger_overdue("rectifying", DEADLINE, late) and not danger_overdue("reported", DEADLINE, late)
