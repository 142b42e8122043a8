"""Notifications (通知): one message to one person over one channel about one record, and how its delivery went.

One aggregate per (source, recipient, channel): its id derives from that key, so planning the
same message twice is the same aggregate (a second `queue` is a version clash) and a delivery
recorded twice is refused (`already delivered`). The events say which record the message
concerns (`record_kind`, `record_id`: a dispatch, a warning, a warning receipt, a handover, a
report schedule, the village whose daily report is missing), so the record's read model shows each message's
state and replay shows it as it stood. Addresses are kept masked (a phone's middle digits, a
push subscription's id): the message reached someone, the log need not carry their number.

Which messages are urgent is decided here (`is_urgent`): quiet hours (`quiet_until`) defer the
others to the end of the quiet spell, never a dispatch, an escalation or a red warning.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidTransition, InvalidValue, event_versions, natural_id, parse_enum
from domain.policy import SHANGHAI


class Channel(StrEnum):
    SMS = "sms"  # 短信
    WEBPUSH = "webpush"  # 推送 (Web Push to a phone page)


class Purpose(StrEnum):
    DISPATCH = "dispatch"  # 调度指令 → the team leader
    WARNING = "warning"  # 预警 → each target's head and reporter
    ESCALATION = "escalation"  # 超时升级 → the leader on duty
    DAILY_MISSING = "daily_missing"  # 零报告未报 → the village reporter
    REPORT_DEADLINE = "report_deadline"  # 灾情报告超时 → the duty officers


class NotificationStatus(StrEnum):
    QUEUED = "queued"  # 待发送
    DEFERRED = "deferred"  # 静默顺延 (quiet hours)
    RETRYING = "retrying"  # 重试中
    DELIVERED = "delivered"  # 已送达
    FAILED = "failed"  # 失败


FINAL = frozenset({NotificationStatus.DELIVERED, NotificationStatus.FAILED})
# The kinds of record a notification may concern (their read models carry its state).
RECORD_KINDS = frozenset({"dispatch", "warning", "warning_receipt", "handover", "report_schedule", "unit", "hidden_danger"})
SMS_SEGMENT = 70  # characters of one SMS segment holding Chinese text (UCS-2)
MAX_TEXT = 500


def notification_id(key: str) -> UUID:
    return natural_id("notification", key)


def is_urgent(purpose: str, warning_level: str | None = None) -> bool:
    """Quiet hours never hold back a dispatch (its acknowledgement clock is running), an escalation, a missed
    report deadline or a red warning; they defer the rest (other warnings, a missing zero report)."""
    if purpose in (Purpose.DISPATCH, Purpose.ESCALATION, Purpose.REPORT_DEADLINE):
        return True
    return purpose == Purpose.WARNING and warning_level == "red"


def parse_quiet_hours(spec: str) -> tuple[time, time] | None:
    """'22:00-07:00' (Asia/Shanghai) → (start, end); '' → no quiet hours."""
    spec = spec.strip()
    if not spec:
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in spec.split("-"))
    except ValueError:
        raise InvalidValue("quiet hours are HH:MM-HH:MM", field="quiet_hours") from None
    return (start, end) if start != end else None


def quiet_until(now: datetime, quiet: tuple[time, time] | None) -> datetime | None:
    """When the quiet spell `now` falls in ends, or None when `now` is not quiet (judged in Asia/Shanghai)."""
    if quiet is None:
        return None
    start, end = quiet
    local = now.astimezone(SHANGHAI)
    t = local.time()
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    day = local.date() if (start < end or t < end) else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=SHANGHAI)


def mask(address: str) -> str:
    """What the log keeps of an address: a phone's first 3 and last 4 digits, an opaque id as it is."""
    digits = address.replace(" ", "").replace("-", "")
    if digits.lstrip("+").isdigit() and len(digits) >= 8:
        return digits[:3] + "****" + digits[-4:]
    return address[:40]


class Notification(Aggregate):
    class_version = 1

    @staticmethod
    def create_id(key: str, **_: Any) -> UUID:
        return notification_id(key)

    @event("Queued")
    def __init__(self, key: str, purpose: str, record_kind: str, record_id: str, unit_code: str, recipient: dict[str, str],
                 channel: str, address: str, text: str, urgent: bool, not_before: datetime | None, by: Actor) -> None:
        self.key = key
        self.record_kind = record_kind
        self.record_id = record_id
        self.channel = channel
        self.status = NotificationStatus.DEFERRED if not_before else NotificationStatus.QUEUED
        self.attempts = 0

    @classmethod
    def queue(cls, *, key: str, purpose: str, record_kind: str, record_id: str, unit_code: str, recipient: dict[str, str],
              channel: str, address: str, text: str, urgent: bool, not_before: datetime | None, by: Actor) -> Notification:
        purpose = parse_enum(Purpose, purpose, "purpose")
        channel = parse_enum(Channel, channel, "channel")
        if record_kind not in RECORD_KINDS:
            raise InvalidValue("a notification concerns a dispatch, warning, receipt, handover, report or daily report",
                               field="record_kind")
        if not text.strip() or len(text) > MAX_TEXT:
            raise InvalidValue(f"a message has 1 to {MAX_TEXT} characters", field="text")
        who = {"name": str(recipient.get("name", ""))[:50], "post": str(recipient.get("post", ""))[:40]}
        return cls(key=key, purpose=purpose, record_kind=record_kind, record_id=record_id, unit_code=unit_code,
                   recipient=who, channel=channel, address=mask(address), text=text, urgent=urgent, not_before=not_before, by=by)

    def _open(self, attempt: int) -> None:
        if self.status in FINAL:
            raise InvalidTransition(f"the notification is already {self.status}")
        if attempt <= self.attempts:
            raise InvalidTransition(f"attempt {attempt} is already recorded")

    def attempt_failed(self, attempt: int, error: str, retry_at: datetime, by: Actor) -> None:
        self._open(attempt)
        self._attempt_failed(record_kind=self.record_kind, record_id=self.record_id, attempt=attempt, error=error[:300],
                             retry_at=retry_at, by=by)

    @event("AttemptFailed")
    def _attempt_failed(self, record_kind: str, record_id: str, attempt: int, error: str, retry_at: datetime, by: Actor) -> None:
        self.attempts = attempt
        self.status = NotificationStatus.RETRYING

    def deliver(self, attempt: int, receipt: str, by: Actor) -> None:
        self._open(attempt)
        self._delivered(record_kind=self.record_kind, record_id=self.record_id, attempt=attempt, receipt=receipt[:100], by=by)

    @event("Delivered")
    def _delivered(self, record_kind: str, record_id: str, attempt: int, receipt: str, by: Actor) -> None:
        self.attempts = attempt
        self.status = NotificationStatus.DELIVERED

    def fail(self, attempt: int, error: str, by: Actor) -> None:
        """Given up: a permanent refusal (an expired push subscription, a number the provider rejects) or retried too long."""
        self._open(attempt)
        self._failed(record_kind=self.record_kind, record_id=self.record_id, attempt=attempt, error=error[:300], by=by)

    @event("Failed")
    def _failed(self, record_kind: str, record_id: str, attempt: int, error: str, by: Actor) -> None:
        self.attempts = attempt
        self.status = NotificationStatus.FAILED


# The version of each stored event type (see domain.common.event_versions): a new shape is a new version.
event_versions(Notification, Queued=1, AttemptFailed=1, Delivered=1, Failed=1)


def message_text(template: str, values: dict[str, str], limit: int = SMS_SEGMENT) -> str:
    """A message from the glossary's template (`notifyText`), within one SMS segment where the values allow:
    the longest value is shortened (with …) until the text fits or every value is down to 6 characters."""
    from domain.glossary import term

    pattern = term("notifyText", template)
    vals = {k: " ".join(str(v).split()) for k, v in values.items()}
    text = pattern.format(**vals)
    while len(text) > limit:
        name = max(vals, key=lambda k: len(vals[k]), default=None)
        if name is None or len(vals[name]) <= 6:
            break
        over = len(text) - limit
        keep = max(len(vals[name]) - over - 1, 5)
        vals[name] = vals[name][:keep] + "…"
        text = pattern.format(**vals)
    return text
