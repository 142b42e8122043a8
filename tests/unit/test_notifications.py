"""The notification rules in given/when/then form: once per key, each attempt once, final states final; which
messages quiet hours hold back and until when; texts within one SMS segment; addresses masked in the log."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.common import SYSTEM, InvalidTransition, InvalidValue
from domain.notifications import Notification, is_urgent, mask, message_text, parse_quiet_hours, quiet_until
from domain.policy import SHANGHAI

T = datetime(2026, 7, 20, 2, 0, tzinfo=timezone.utc)


def queued(**kw: object) -> Notification:
    fields = dict(key="e:1|p|sms", purpose="dispatch", record_kind="dispatch", record_id="d1", unit_code="411099001000",
                  recipient={"name": "张队长", "post": "team_leader"}, channel="sms", address="13903740001",
                  text="【应急调度】请立即确认。", urgent=True, not_before=None, by=SYSTEM) | kw
    return Notification.queue(**fields)  # type: ignore[arg-type]


def test_a_message_is_retried_then_delivered_and_each_attempt_counts_once() -> None:
    n = queued()
    n.attempt_failed(1, "HTTP 503", T, SYSTEM)
    with pytest.raises(InvalidTransition):
        n.attempt_failed(1, "HTTP 503", T, SYSTEM)  # the same attempt again (a restart resending): nothing new
    n.deliver(2, "sms-1", SYSTEM)
    assert n.status == "delivered" and n.attempts == 2
    with pytest.raises(InvalidTransition):
        n.deliver(3, "sms-2", SYSTEM)
    with pytest.raises(InvalidTransition):
        n.fail(3, "late", SYSTEM)


def test_the_log_keeps_the_phone_masked_and_refuses_unknown_kinds() -> None:
    assert queued().collect_events()[0].address == "139****0001"
    assert mask("0374-6600001") == "037****0001"
    with pytest.raises(InvalidValue):
        queued(channel="fax")
    with pytest.raises(InvalidValue):
        queued(record_kind="incident")


def test_quiet_hours_hold_back_only_what_is_not_urgent() -> None:
    assert is_urgent("dispatch") and is_urgent("escalation") and is_urgent("report_deadline")
    assert is_urgent("warning", "red") and not is_urgent("warning", "orange") and not is_urgent("warning", "blue")
    assert not is_urgent("daily_missing")
    quiet = parse_quiet_hours("22:00-07:00")
    night = datetime(2026, 7, 20, 23, 30, tzinfo=SHANGHAI)
    assert quiet_until(night, quiet) == datetime(2026, 7, 21, 7, 0, tzinfo=SHANGHAI)
    assert quiet_until(night + timedelta(hours=3), quiet) == datetime(2026, 7, 21, 7, 0, tzinfo=SHANGHAI)
    assert quiet_until(datetime(2026, 7, 21, 7, 0, tzinfo=SHANGHAI), quiet) is None
    assert quiet_until(datetime(2026, 7, 21, 21, 59, tzinfo=SHANGHAI), quiet) is None
    assert quiet_until(datetime(2026, 7, 21, 13, 0, tzinfo=SHANGHAI), parse_quiet_hours("12:00-14:00")) == datetime(
        2026, 7, 21, 14, 0, tzinfo=SHANGHAI)
    assert parse_quiet_hours("") is None
    with pytest.raises(InvalidValue):
        parse_quiet_hours("late")


def test_texts_fit_one_sms_segment_where_the_values_allow() -> None:
    text = message_text("dispatch", {"team": "新兴街道综合应急救援队", "incident": "魏庄村低洼区域积水", "place": "魏庄村东组",
                                     "task": "转移被困群众，设置警戒，排查周边危房，清点人数并随时报告现场情况" * 2})
    assert len(text) <= 70 and text.startswith("【应急调度】新兴街道综合应急救援队") and "…" in text and text.endswith("请立即确认。")
    short = message_text("warning", {"level": "红色", "headline": "东城区暴雨红色预警"})
    assert short == "【红色预警】东城区暴雨红色预警。请及时签收并落实防范措施。"
