"""Early warnings (预警信息): drafted, issued (签发), updated (a new version superseding), lifted (解除).

A `Warning` carries what the public and the villages must know: hazard (the incident categories and
subtypes, GB/T 35561), level 四级/三级/二级/一级 shown as 蓝/黄/橙/红, headline, description,
instruction (防御指南), onset and expiry, the target units (the whole district, streets, villages),
the issuing unit and person, and whether it is an exercise (演练). Each issue, update and lift is one
CAP message with its own national identifier (GB/T 35965.1), kept in `messages` so that every later
message references every earlier one.

Issuing creates one `WarningReceipt` per receiving unit (the targets expanded to every street and
village under them). Each receipt is its own aggregate, so 400 villages signing at once never contend
on one record: acknowledged (签收) once, escalated once when its deadline passes unsigned, and any
number of response reports (响应措施) whose latest figures count.

A warning past its expiry is expired without anyone acting: `in_force(now)` judges it from time, as
the 2-hour report rule is judged (domain.policy).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidTransition, InvalidValue, event_versions, natural_id, parse_enum, require_state
from domain.incidents import SUBTYPES, Category
from domain.policy import SHANGHAI
from domain.units import CODE_RE, code_level, within


class WarningLevel(StrEnum):
    """Lowest first: 四级 蓝色 … 一级 红色 (the highest)."""

    BLUE = "blue"  # 四级 蓝色
    YELLOW = "yellow"  # 三级 黄色
    ORANGE = "orange"  # 二级 橙色
    RED = "red"  # 一级 红色


LEVELS_HIGH_FIRST = (WarningLevel.RED, WarningLevel.ORANGE, WarningLevel.YELLOW, WarningLevel.BLUE)


def raises_level(old: str, new: str) -> bool:
    """An upgrade (蓝→黄→橙→红): the targets must sign for the new version again."""
    return LEVELS_HIGH_FIRST.index(WarningLevel(new)) < LEVELS_HIGH_FIRST.index(WarningLevel(old))


class WarningStatus(StrEnum):
    DRAFT = "draft"  # 待签发
    ISSUED = "issued"  # 已发布 (in force until its expiry, when it reads as expired)
    LIFTED = "lifted"  # 已解除


class ReceiptStatus(StrEnum):
    PENDING = "pending"  # 待签收
    SIGNED = "signed"  # 已签收


# What a target reports it did (响应措施), each a count.
RESPONSE_MEASURES = ("patrols", "people_moved", "roads_closed", "danger_points", "persuaders")
# The fields an update may change; anything else needs a new warning.
UPDATABLE = ("level", "headline", "description", "instruction", "onset", "expires")
MAX_TEXT = {"headline": 200, "description": 4000, "instruction": 2000}
ESCALATION_RECEIPT_OVERDUE = "receipt_overdue"  # 超时未签收


def receipt_id(warning_id: UUID | str, unit_code: str) -> UUID:
    """One receipt per warning and receiving unit: a second delivery is a version clash, not a duplicate."""
    return natural_id("warning-receipt", f"{warning_id}:{unit_code}")


def counter_id(unit_code: str) -> UUID:
    return natural_id("warning-counter", unit_code)


def city_warning_id(sender: str, identifier: str) -> UUID:
    """The city's CAP message names the district's copy, so a re-sent alert is recognised."""
    return natural_id("city-warning", f"{sender}\n{identifier}")


def _text(fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    for name, limit in MAX_TEXT.items():
        if name in out:
            value = str(out[name]).strip()
            if name == "headline" and not value:
                raise InvalidValue("a warning needs a headline", field="headline")
            if len(value) > limit:
                raise InvalidValue(f"{name} is longer than {limit} characters", field=name)
            out[name] = value
    return out


def _times(onset: datetime, expires: datetime) -> None:
    if onset.tzinfo is None or expires.tzinfo is None:
        raise InvalidValue("onset and expires need a time zone", field="expires")
    if expires <= onset:
        raise InvalidValue("a warning expires after its onset", field="expires")


def check_targets(targets: list[str], issuer_unit: str) -> list[str]:
    if not targets:
        raise InvalidValue("a warning names at least one target unit", field="targets")
    out: list[str] = []
    for code in targets:
        if not isinstance(code, str) or not CODE_RE.fullmatch(code):
            raise InvalidValue("target units are 12-digit unit codes", field="targets")
        if not within(issuer_unit, code):
            raise InvalidValue(f"target {code} is outside the issuing unit {issuer_unit}", field="targets")
        if code not in out:
            out.append(code)
    # A target under another target adds nothing: keep the widest.
    return [c for c in out if not any(o != c and within(o, c) for o in out)]


class Warning(Aggregate):  # noqa: A001  (the domain's word; the builtin is not used here)
    class_version = 1  # its state as kept in snapshots; its events' versions are declared below the class

    @staticmethod
    def create_id(upstream: dict[str, str] | None = None, **_: Any) -> UUID:
        """A copy of the city's alert is named by the city's message; the district's own get a random id."""
        if upstream and upstream.get("identifier"):
            return city_warning_id(upstream.get("sender", ""), upstream["identifier"])
        return uuid4()

    @event("Drafted")
    def __init__(
        self,
        category: str,
        subtype: str,
        level: str,
        headline: str,
        description: str,
        instruction: str,
        onset: datetime,
        expires: datetime,
        targets: list[str],
        issuer_unit: str,
        issuer_name: str,
        exercise: bool,
        source: str,
        upstream: dict[str, str] | None,
        by: Actor,
    ) -> None:
        self.category = category
        self.subtype = subtype
        self.level = level
        self.headline = headline
        self.description = description
        self.instruction = instruction
        self.onset = onset
        self.expires = expires
        self.targets = list(targets)
        self.issuer_unit = issuer_unit
        self.issuer_name = issuer_name
        self.exercise = exercise
        self.source = source
        self.upstream = dict(upstream or {})
        self.status = WarningStatus.DRAFT.value
        self.revision = 0  # 1 when issued, +1 per update (the aggregate's own `version` counts its events)
        self.messages: list[dict[str, str]] = []  # every CAP message sent: identifier, sent, msg_type
        self.upstream_messages: list[str] = []  # the city's CAP identifiers applied to this copy
        self.receivers: list[str] = []  # the units it was delivered to, one receipt each

    @property
    def unit_code(self) -> str:
        """The issuing unit: who drafts and signs it off (scope of a draft)."""
        return self.issuer_unit

    @classmethod
    def draft(
        cls,
        *,
        category: str,
        subtype: str,
        level: str,
        headline: str,
        onset: datetime,
        expires: datetime,
        targets: list[str],
        issuer_unit: str,
        by: Actor,
        description: str = "",
        instruction: str = "",
        issuer_name: str = "",
        exercise: bool = False,
        source: str = "district",
        upstream: dict[str, str] | None = None,
    ) -> Warning:
        category = parse_enum(Category, category, "category")
        if subtype not in SUBTYPES[category]:
            raise InvalidValue(f"subtype {subtype!r} is not a kind of {category}", field="subtype")
        code_level(issuer_unit)
        _times(onset, expires)
        text = _text({"headline": headline, "description": description, "instruction": instruction})
        kwargs: dict[str, Any] = dict(
            category=category, subtype=subtype, level=parse_enum(WarningLevel, level, "level"), onset=onset, expires=expires,
            targets=check_targets(targets, issuer_unit), issuer_unit=issuer_unit, issuer_name=issuer_name or by.name or by.user,
            exercise=bool(exercise), source=source, upstream=upstream, by=by, **text,
        )
        return cls(**kwargs)

    def in_force(self, now: datetime) -> bool:
        return self.status == WarningStatus.ISSUED and now < self.expires

    def _message(self, identifier: str, sent: datetime, msg_type: str) -> dict[str, str]:
        if not identifier or sent.tzinfo is None:
            raise InvalidValue("a CAP message needs an identifier and a sent time with its zone", field="identifier")
        return {"identifier": identifier, "sent": sent.isoformat(), "msg_type": msg_type}

    def issue(self, identifier: str, sent: datetime, receipt_deadline: datetime, receivers: list[str], by: Actor,
              forwarded_from: str = "") -> None:
        """The commander signs off: in force from now, one receipt per receiver (made by the caller)."""
        require_state(self.status, {WarningStatus.DRAFT}, "issue", "warning")
        if sent >= self.expires:
            raise InvalidValue("the warning has already expired; change its expiry first", field="expires")
        if receipt_deadline.tzinfo is None:
            raise InvalidValue("receipt_deadline needs a time zone", field="receipt_deadline")
        if not receivers:
            raise InvalidValue("the targets hold no unit to receive the warning", field="targets")
        self._issued(message=self._message(identifier, sent, "Alert"), receipt_deadline=receipt_deadline,
                     receivers=list(receivers), forwarded_from=forwarded_from, by=by)

    @event("Issued")
    def _issued(self, message: dict[str, str], receipt_deadline: datetime, receivers: list[str], forwarded_from: str,
                by: Actor) -> None:
        self.status = WarningStatus.ISSUED.value
        self.revision = 1
        self.receivers = list(receivers)
        self.messages = [*self.messages, message]
        if forwarded_from:
            self.upstream_messages = [*self.upstream_messages, forwarded_from]

    def _checked_changes(self, changes: dict[str, Any]) -> dict[str, Any]:
        unknown = set(changes) - set(UPDATABLE)
        if unknown:
            raise InvalidValue(f"an update may change {list(UPDATABLE)}, not {sorted(unknown)}", field="changes")
        changes = _text(changes)
        if "level" in changes:
            changes["level"] = parse_enum(WarningLevel, changes["level"], "level")
        changes = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if not changes:
            raise InvalidValue("the update changes nothing", field="changes")
        _times(changes.get("onset", self.onset), changes.get("expires", self.expires))
        return changes

    def update(self, changes: dict[str, Any], reason: str, identifier: str, sent: datetime, by: Actor,
               upstream_message: str = "") -> None:
        """A new version that supersedes the last: what changed, and why (CAP msgType Update)."""
        require_state(self.status, {WarningStatus.ISSUED}, "update", "warning")
        if upstream_message and upstream_message in self.upstream_messages:
            raise InvalidTransition("this message from the city was already applied", identifier=upstream_message)
        changes = self._checked_changes(changes)
        previous = {k: getattr(self, k) for k in changes}
        self._updated(changes=changes, previous=previous, reason=reason.strip(), revision=self.revision + 1,
                      message=self._message(identifier, sent, "Update"), upstream_message=upstream_message, by=by)

    @event("Updated")
    def _updated(self, changes: dict[str, Any], previous: dict[str, Any], reason: str, revision: int, message: dict[str, str],
                 upstream_message: str, by: Actor) -> None:
        for k, v in changes.items():
            setattr(self, k, v)
        self.revision = revision
        self.messages = [*self.messages, message]
        if upstream_message:
            self.upstream_messages = [*self.upstream_messages, upstream_message]

    def lift(self, reason: str, identifier: str, sent: datetime, by: Actor, upstream_message: str = "") -> None:
        """解除: no longer in force (CAP msgType Cancel); pending receipts stop counting down."""
        require_state(self.status, {WarningStatus.ISSUED}, "lift", "warning")
        if not reason.strip():
            raise InvalidValue("a reason is required to lift a warning", field="reason")
        self._lifted(reason=reason.strip(), message=self._message(identifier, sent, "Cancel"), upstream_message=upstream_message, by=by)

    @event("Lifted")
    def _lifted(self, reason: str, message: dict[str, str], upstream_message: str, by: Actor) -> None:
        self.status = WarningStatus.LIFTED.value
        self.messages = [*self.messages, message]
        if upstream_message:
            self.upstream_messages = [*self.upstream_messages, upstream_message]


event_versions(Warning, Drafted=1, Issued=1, Updated=1, Lifted=1)


class WarningReceipt(Aggregate):
    """One receiving unit's copy of a warning: delivered, signed for (签收), escalated when late, its response reports."""

    class_version = 1

    @staticmethod
    def create_id(warning_id: UUID, unit_code: str, **_: Any) -> UUID:
        return receipt_id(warning_id, unit_code)

    @event("Delivered")
    def __init__(self, warning_id: UUID, unit_code: str, level: str, exercise: bool, deadline: datetime, by: Actor) -> None:
        self.warning_id = warning_id
        self.unit_code = unit_code
        self.level = level
        self.exercise = exercise
        self.deadline = deadline
        self.status = ReceiptStatus.PENDING.value
        self.escalated = False
        self.measures: dict[str, int] = {}
        self.revision = 1  # the warning's version this receipt is for

    def redeliver(self, revision: int, level: str, deadline: datetime, by: Actor) -> None:
        """The warning was raised to a higher level (a new version): signed or not, the target signs again,
        within the new level's deadline, and a missed deadline escalates again (once)."""
        if revision <= self.revision:
            raise InvalidTransition(f"the receipt is already for version {self.revision}")
        if deadline.tzinfo is None:
            raise InvalidValue("deadline needs a time zone", field="deadline")
        self._redelivered(revision=revision, level=parse_enum(WarningLevel, level, "level"), deadline=deadline, by=by)

    @event("Redelivered")
    def _redelivered(self, revision: int, level: str, deadline: datetime, by: Actor) -> None:
        self.revision = revision
        self.level = level
        self.deadline = deadline
        self.status = ReceiptStatus.PENDING.value
        self.escalated = False

    def acknowledge(self, now: datetime, by: Actor, note: str = "") -> None:
        """签收, once; after the deadline it is recorded as late."""
        require_state(self.status, {ReceiptStatus.PENDING}, "sign for", "warning receipt")
        self._acknowledged(late=now > self.deadline, note=note.strip()[:500], by=by)

    @event("Acknowledged")
    def _acknowledged(self, late: bool, note: str, by: Actor) -> None:
        self.status = ReceiptStatus.SIGNED.value

    def escalate(self, now: datetime, by: Actor) -> None:
        """One durable escalation when the deadline passes unsigned (the watchdog's exactly-once rule)."""
        if self.escalated:
            raise InvalidTransition("already escalated for a missed receipt")
        require_state(self.status, {ReceiptStatus.PENDING}, "escalate a missed receipt of", "warning receipt")
        if now < self.deadline:
            raise InvalidTransition("the deadline has not passed", deadline=self.deadline.isoformat())
        self._escalated(reason=ESCALATION_RECEIPT_OVERDUE, deadline=self.deadline, by=by)

    @event("Escalated")
    def _escalated(self, reason: str, deadline: datetime, by: Actor) -> None:
        self.escalated = True

    def report_response(self, measures: dict[str, int], note: str, by: Actor) -> None:
        """响应措施: what the unit did, with counts; the latest report's figures are the unit's."""
        unknown = set(measures) - set(RESPONSE_MEASURES)
        if unknown:
            raise InvalidValue(f"unknown measures {sorted(unknown)}; known: {list(RESPONSE_MEASURES)}", field="measures")
        for k, v in measures.items():
            if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v > 1_000_000:
                raise InvalidValue(f"{k} must be a count between 0 and 1000000", field=k)
        note = note.strip()
        if not measures and not note:
            raise InvalidValue("give at least one count or a note", field="measures")
        if len(note) > 2000:
            raise InvalidValue("note is longer than 2000 characters", field="note")
        self._responded(measures=dict(measures), note=note, by=by)

    @event("Responded")
    def _responded(self, measures: dict[str, int], note: str, by: Actor) -> None:
        self.measures = dict(measures)


event_versions(WarningReceipt, Delivered=1, Acknowledged=1, Escalated=1, Responded=1, Redelivered=1)


class WarningCounter(Aggregate):
    """The issuing unit's sequence of CAP messages: saved with each message, so two never share a number."""

    class_version = 1

    @staticmethod
    def create_id(unit_code: str, **_: Any) -> UUID:
        return counter_id(unit_code)

    @event("Started")
    def __init__(self, unit_code: str, by: Actor) -> None:
        self.unit_code = unit_code
        self.last = 0

    def next(self, by: Actor) -> int:
        self._advanced(number=self.last + 1, by=by)
        return self.last

    @event("Advanced")
    def _advanced(self, number: int, by: Actor) -> None:
        self.last = number


event_versions(WarningCounter, Started=1, Advanced=1)


def cap_identifier(issuer_unit: str, sector: str, extension: str, sent: datetime, sequence: int) -> str:
    """GB/T 35965.1 message identifier: 6-digit division + 3-digit sector + 3-digit unit + 2-digit extension,
    `_`, the issue time `YYYYMMDDhhmmss` in Beijing time, `_`, the issuing unit's sequence number.

    The unit part is the issuing unit's 3-digit township (street) code, 000 for the district itself.
    The sequence comes from the unit's `WarningCounter` in the log, so it never repeats for a unit.
    """
    if not (len(sector) == 3 and sector.isdigit() and len(extension) == 2 and extension.isdigit()):
        raise InvalidValue("sector is 3 digits and extension 2", field="sector")
    code_level(issuer_unit)
    local = sent.astimezone(SHANGHAI)
    return f"{issuer_unit[:6]}{sector}{issuer_unit[6:9]}{extension}_{local:%Y%m%d%H%M%S}_{sequence:04d}"
