"""DailyReport (零报告): one per unit and day; filing the day again corrects it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.reports import DailyReport, daily_report_id
from tests.unit.helpers import ACTOR, VILLAGE, given, raises, then_events, then_one

TODAY = date(2026, 7, 20)


def new_report(**over: object) -> DailyReport:
    fields: dict[str, object] = {"unit_code": VILLAGE, "day": TODAY, "today": TODAY, "zero": True, "summary": "", "by": ACTOR}
    return DailyReport.file(**(fields | over))  # type: ignore[arg-type]


class TestFile:
    def test_a_zero_report_is_filed_for_the_unit_and_day(self):
        report = new_report()
        e = then_one(report, "DailyReport.Filed")
        assert (e.unit_code, e.day, e.zero, e.summary, e.by) == (VILLAGE, "2026-07-20", True, "", ACTOR)
        assert report.id == daily_report_id(VILLAGE, "2026-07-20")

    def test_the_same_unit_and_day_always_name_the_same_report(self):
        assert new_report().id == new_report(zero=False, summary="积水").id
        assert new_report().id != new_report(day=TODAY - timedelta(days=1)).id

    def test_a_report_with_something_to_say_needs_a_summary(self):
        with raises("validation_error") as info:
            new_report(zero=False, summary="   ")
        assert info.value.extra["field"] == "summary"
        assert then_one(new_report(zero=False, summary=" 低洼处积水 "), "DailyReport.Filed").summary == "低洼处积水"

    def test_a_day_that_has_not_come_is_refused(self):
        with raises("validation_error") as info:
            new_report(day=TODAY + timedelta(days=1))
        assert info.value.extra["field"] == "day"

    @pytest.mark.parametrize("days_ago,ok", [(1, True), (7, True), (8, False)])
    def test_a_missed_day_can_be_filed_late_for_a_week(self, days_ago, ok):
        if ok:
            assert then_events(new_report(day=TODAY - timedelta(days=days_ago))) == ["DailyReport.Filed"]
        else:
            with raises("validation_error"):
                new_report(day=TODAY - timedelta(days=days_ago))

    def test_an_overlong_summary_is_refused(self):
        with raises("validation_error"):
            new_report(zero=False, summary="水" * 2001)


class TestCorrect:
    def test_filing_the_day_again_with_news_is_a_correction(self):
        report = given(new_report)
        report.correct(False, "山体滑坡隐患，已转移3户", by=ACTOR)
        e = then_one(report, "DailyReport.Corrected")
        assert (e.zero, e.summary) == (False, "山体滑坡隐患，已转移3户")
        assert report.corrections == 1

    def test_the_same_report_again_records_nothing(self):
        report = given(new_report)
        report.correct(True, "  ", by=ACTOR)
        assert then_events(report) == []

    def test_a_correction_without_a_summary_is_refused_and_changes_nothing(self):
        report = given(new_report)
        with raises("validation_error", report):
            report.correct(False, "", by=ACTOR)
