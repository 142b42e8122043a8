"""Daily reports (24小时零报告): every village and community files one a day, "nothing happened" included.

One aggregate per unit and day (its id derives from both), so a second filing of
the same day is a correction of the first, never a second report. The day is the
reporting unit's calendar day in Asia/Shanghai, kept as an ISO date string.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidValue, event_versions, natural_id
from domain.policy import LATE_FILING_DAYS

REPORTING_KINDS = frozenset({"village", "community"})  # each has its disaster information reporter (1+3)
MAX_SUMMARY = 2000


def daily_report_id(unit_code: str, day: str) -> UUID:
    return natural_id("daily-report", f"{unit_code}:{day}")


def _checked(zero: bool, summary: str) -> str:
    summary = summary.strip()
    if not zero and not summary:
        raise InvalidValue("a report that is not a zero report says what happened", field="summary")
    if len(summary) > MAX_SUMMARY:
        raise InvalidValue(f"summary is longer than {MAX_SUMMARY} characters", field="summary")
    return summary


class DailyReport(Aggregate):
    class_version = 1  # its state as kept in snapshots; its events' versions are declared below the class

    @staticmethod
    def create_id(unit_code: str, day: str, **_: Any) -> UUID:
        return daily_report_id(unit_code, day)

    @event("Filed")
    def __init__(self, unit_code: str, day: str, zero: bool, summary: str, by: Actor) -> None:
        self.unit_code = unit_code
        self.day = day
        self.zero = zero
        self.summary = summary
        self.corrections = 0

    @classmethod
    def file(cls, *, unit_code: str, day: date, today: date, zero: bool, summary: str, by: Actor) -> DailyReport:
        if day > today:
            raise InvalidValue("a daily report cannot be filed for a day that has not come", field="day")
        if day < today - timedelta(days=LATE_FILING_DAYS):
            raise InvalidValue(f"a daily report can be filed late for {LATE_FILING_DAYS} days at most", field="day")
        return cls(unit_code=unit_code, day=day.isoformat(), zero=zero, summary=_checked(zero, summary), by=by)

    def correct(self, zero: bool, summary: str, by: Actor) -> None:
        """Filing the same day again corrects the report; the same report again records nothing."""
        summary = _checked(zero, summary)
        if (zero, summary) != (self.zero, self.summary):
            self._corrected(zero=zero, summary=summary, by=by)

    @event("Corrected")
    def _corrected(self, zero: bool, summary: str, by: Actor) -> None:
        self.zero = zero
        self.summary = summary
        self.corrections += 1


# The version of each stored event type (see domain.common.event_versions): a new shape is a new version.
event_versions(DailyReport, Filed=1, Corrected=1)
