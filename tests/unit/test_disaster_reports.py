"""Staged disaster reports (初报/续报/核报) and their deadlines, as pure domain rules with an injected clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from domain.disaster_reports import DisasterReport, ReportDeadline, check_figures, reports_due
from domain.policy import SHANGHAI, duty_day
from tests.unit.helpers import ACTOR, VILLAGE, given, raises, then_events, then_one

OCCURRED = datetime(2026, 7, 20, 1, 30, tzinfo=timezone.utc)  # 09:30 in Shanghai
FIGS = {"affected_population": 1200, "deaths": 1, "relocated": 300, "needing_assistance": 80, "houses_collapsed": 3,
        "crops_affected_ha": 45.5, "crops_failed_ha": 6.25, "economic_loss_10k": 320.5}


def new_report(stage: str = "initial", **kw) -> DisasterReport:  # type: ignore[no-untyped-def]
    fields = dict(incident_id=uuid4(), unit_code=VILLAGE, category="natural_disaster", incident_status="verified", stage=stage,
                  day=date(2026, 7, 20), figures=FIGS, sectors={"agriculture": 120.0}, by=ACTOR)
    fields.update(kw)
    return DisasterReport.draft(**fields)


def local(d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 7, d, hh, mm, tzinfo=SHANGHAI)


# -- the form's figures --------------------------------------------------------
def test_figures_are_completed_with_zeros_and_kept_in_their_units() -> None:
    figures, sectors = check_figures({"deaths": 2, "crops_affected_ha": 12.345, "economic_loss_10k": 10})
    assert figures["affected_population"] == 0 and figures["deaths"] == 2
    assert figures["crops_affected_ha"] == 12.35 and isinstance(figures["economic_loss_10k"], float)
    assert sectors == {}


@pytest.mark.parametrize("figures, sectors, field", [
    ({"deaths": -1}, None, "deaths"),
    ({"deaths": 1.5}, None, "deaths"),
    ({"deaths": True}, None, "deaths"),
    ({"affected_population": 3_000_000}, None, "affected_population"),  # above any district's plausible figure
    ({"crops_affected_ha": float("nan")}, None, "crops_affected_ha"),
    ({"wounded": 1}, None, "figures"),
    ({"affected_population": 10, "relocated": 11}, None, "relocated"),  # part of the affected
    ({"crops_affected_ha": 5, "crops_failed_ha": 6}, None, "crops_failed_ha"),
    ({"economic_loss_10k": 100}, {"agriculture": 60, "transport": 50}, "sectors"),  # lines above the total
    ({"economic_loss_10k": 100}, {"fisheries": 1}, "sectors"),
])
def test_implausible_figures_are_refused(figures, sectors, field) -> None:  # type: ignore[no-untyped-def]
    with raises("validation_error") as info:
        check_figures(figures, sectors)
    assert info.value.extra["field"] == field


def test_only_natural_disasters_take_staged_reports_and_the_verified_one_follows_control() -> None:
    with raises("validation_error"):
        new_report(category="accident")
    with raises("validation_error"):
        new_report(incident_status="dismissed")
    with raises("validation_error"):
        new_report(stage="verified")
    assert new_report(stage="verified", controlled=True).stage == "verified"


# -- draft, sign off, submit, acknowledged ---------------------------------------
def test_a_report_goes_draft_signed_submitted_acknowledged() -> None:
    r = given(new_report)
    r.revise({**FIGS, "deaths": 2}, {"agriculture": 100.0}, "更新", by=ACTOR)
    assert then_events(r) == ["DisasterReport.Revised"] and r.figures["deaths"] == 2
    r.sign_off("同意报送", by=ACTOR)
    assert r.status == "signed"
    r.revise(FIGS, None, "", by=ACTOR)  # revising a signed report voids its sign-off
    assert r.status == "draft"
    r.sign_off("", by=ACTOR)
    due = OCCURRED + timedelta(hours=2)
    r.collect_events()
    r.submit(due, due, by=ACTOR)  # at the deadline is in time
    assert then_one(r, "DisasterReport.Submitted").in_time is True
    with raises("invalid_transition", r):
        r.revise(FIGS, None, "", by=ACTOR)
    r.record_acknowledged(due + timedelta(seconds=3), "batch-1", by=ACTOR)
    assert then_events(r) == ["DisasterReport.CityAcknowledged"] and r.status == "acknowledged"
    with raises("invalid_transition", r):
        r.record_acknowledged(due, "batch-2", by=ACTOR)


def test_a_draft_cannot_be_submitted_unsigned_and_a_late_submission_says_so() -> None:
    r = given(new_report)
    with raises("invalid_transition", r):
        r.submit(OCCURRED, OCCURRED, by=ACTOR)
    r.sign_off("", by=ACTOR)
    r.collect_events()
    r.submit(OCCURRED + timedelta(hours=2), OCCURRED + timedelta(hours=2, seconds=1), by=ACTOR)
    assert then_one(r, "DisasterReport.Submitted").in_time is False


# -- when each stage falls due ------------------------------------------------------
def due_at(level: str = "II", status: str = "verified", controlled: datetime | None = None, now: datetime = OCCURRED,
           days: int = 5, category: str = "natural_disaster") -> dict[str, datetime]:
    return {d.key: d.due_at for d in reports_due(category=category, level=level, status=status, occurred_at=OCCURRED,
                                                  controlled_at=controlled, now=now, verified_days=days)}


def test_the_initial_report_is_due_two_hours_after_occurrence() -> None:
    assert due_at() == {"initial": OCCURRED + timedelta(hours=2)}
    assert due_at(category="accident") == {} and due_at(status="dismissed") == {}


def test_a_continuing_report_is_due_by_nine_each_day_after_occurrence_for_levels_one_and_two() -> None:
    assert "2026-07-20" not in due_at(now=local(20, 23, 59))  # the day it occurred: the 初报 covers it
    assert due_at(now=local(21, 0, 1))["2026-07-21"] == local(21, 9)
    assert due_at(now=local(22, 12))["2026-07-22"] == local(22, 9)
    assert due_at(level="I", status="controlled", now=local(22, 12))["2026-07-22"] == local(22, 9)
    assert list(due_at(level="III", now=local(22, 12))) == ["initial"]
    assert list(due_at(status="closed", now=local(22, 12))) == ["initial"]


def test_past_days_continuing_reports_stay_owed_for_the_watchdog_within_its_lookback() -> None:
    owed = {d.key for d in reports_due(category="natural_disaster", level="II", status="verified", occurred_at=OCCURRED,
                                        controlled_at=None, now=local(30, 10), lookback_days=3)}
    assert owed == {"initial", "2026-07-27", "2026-07-28", "2026-07-29", "2026-07-30"}


def test_the_verified_report_is_due_n_days_after_control() -> None:
    controlled = OCCURRED + timedelta(hours=30)
    assert due_at(level="IV", status="controlled", controlled=controlled)["verified"] == controlled + timedelta(days=5)
    assert due_at(level="IV", status="closed", controlled=controlled, days=3)["verified"] == controlled + timedelta(days=3)


def test_a_missed_deadline_is_recorded_only_once_it_has_passed() -> None:
    deadline = OCCURRED + timedelta(hours=2)
    kw = dict(incident_id=uuid4(), unit_code=VILLAGE, stage="initial", key="initial", deadline=deadline, by=ACTOR)
    with raises("invalid_transition"):
        ReportDeadline.miss(now=deadline - timedelta(seconds=1), **kw)  # type: ignore[arg-type]
    a = ReportDeadline.miss(now=deadline, **kw)  # type: ignore[arg-type]
    b = ReportDeadline.miss(now=deadline + timedelta(hours=1), **kw)  # type: ignore[arg-type]
    assert a.id == b.id  # the same miss names the same aggregate: the log keeps one


def test_a_duty_day_runs_from_half_past_eight_to_half_past_eight() -> None:
    assert duty_day(local(21, 8, 29)) == date(2026, 7, 20)
    assert duty_day(local(21, 8, 30)) == date(2026, 7, 21)
