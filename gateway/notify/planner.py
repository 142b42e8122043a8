"""What each event calls for: the messages, to whom, over which channel (the plan's duties).

    Dispatch.Ordered                 → the team's leader (SMS); the team's phones (push)
    WarningReceipt.Delivered/Redelivered → each target's head and disaster information reporter (SMS);
                                       the target's phone pages (push)
    Dispatch/WarningReceipt/Handover/HiddenDanger.Escalated → the leader on duty (SMS); the desk's phones (push)
    ReportDeadline.Missed            → the duty officers on duty (SMS); the desk's phones (push)
    a zero report missing at 16:00   → the village's reporter (SMS); the reporter's phone (push) — `daily_missing`

Each message is keyed by its source, recipient and channel, so reading an event again plans nothing new.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain.glossary import term
from domain.notifications import Purpose, is_urgent, message_text, notification_id
from gateway.notify.directory import Directory, Person, PushTarget
from projections.board import street_of
from projections.reducer import event_name
from projections.store import DocStore

DESK_ROLES = ("operator", "commander")


@dataclass(frozen=True)
class Intent:
    key: str
    purpose: str
    record_kind: str
    record_id: str
    unit_code: str
    recipient_name: str
    recipient_post: str
    channel: str
    address: str
    text: str
    urgent: bool

    @property
    def notification_id(self) -> str:
        return str(notification_id(self.key))


class Planner:
    def __init__(self, store: DocStore, directory: Directory, sms: bool, push: bool):
        self.store = store
        self.directory = directory
        self.sms = sms  # channels configured: messages are planned only for those
        self.push = push
        self._plans: dict[str, Callable[[str, Any], list[Intent]]] = {
            "Dispatch.Ordered": self._dispatch,
            "WarningReceipt.Delivered": self._warning,
            "WarningReceipt.Redelivered": self._warning,
            "Dispatch.Escalated": self._escalation,
            "WarningReceipt.Escalated": self._escalation,
            "Handover.Escalated": self._escalation,
            "HiddenDanger.Escalated": self._escalation,
            "ReportDeadline.Missed": self._report_deadline,
        }

    def handles(self, topic: str) -> bool:
        return topic.rsplit(":", 1)[-1] in self._plans

    def plan(self, source: str, event: Any) -> list[Intent]:
        fn = self._plans.get(event_name(event))
        return fn(source, event) if fn else []

    # -- helpers ------------------------------------------------------------------
    def _to(self, source: str, purpose: str, record: tuple[str, str], unit_code: str, people: list[Person],
            pushes: list[PushTarget], text: str, urgent: bool) -> list[Intent]:
        out: list[Intent] = []
        seen: set[str] = set()
        if self.sms:
            for p in people:
                if p.phone and p.phone not in seen:  # one person holding two posts gets one message
                    seen.add(p.phone)
                    out.append(Intent(f"{source}|{p.key}|sms", purpose, record[0], record[1], unit_code, p.name, p.post, "sms",
                                      p.phone, text, urgent))
        if self.push:
            for t in pushes:
                out.append(Intent(f"{source}|{t.key}|webpush", purpose, record[0], record[1], unit_code, t.name, "account",
                                  "webpush", t.subscription_id, text, urgent))
        return out

    def _unit_name(self, code: str) -> str:
        return (self.store.get("unit", code) or {}).get("name", code)

    # -- the plans ------------------------------------------------------------------
    def _dispatch(self, source: str, e: Any) -> list[Intent]:
        team = self.store.get("team", str(e.team_id)) or {}
        incident = self.store.get("incident", str(e.incident_id)) or {}
        place = incident.get("address") or self._unit_name(incident.get("unit_code", e.unit_code))
        text = message_text("dispatch", {"team": team.get("name", ""), "incident": incident.get("title", ""), "place": place,
                                         "task": e.task})
        leader = self.directory.team_leader(str(e.team_id))
        pushes = self.directory.push(team_id=str(e.team_id), roles=("field",))
        return self._to(source, Purpose.DISPATCH, ("dispatch", str(e.originator_id)), e.unit_code, [leader] if leader else [],
                        pushes, text, urgent=True)

    def _warning(self, source: str, e: Any) -> list[Intent]:
        receipt = self.store.get("warning_receipt", str(e.originator_id)) or {}
        if receipt.get("signed_at") and receipt.get("revision", 1) == getattr(e, "revision", 1):
            return []  # signed for before the notifier reached it (a notifier catching up): nobody to remind
        warning_id = str(getattr(e, "warning_id", "") or receipt.get("warning_id", ""))
        unit_code = getattr(e, "unit_code", None) or receipt.get("unit_code", "")
        warning = self.store.get("warning", warning_id) or {}
        headline = ("演练：" if warning.get("exercise") else "") + warning.get("headline", "")
        text = message_text("warning", {"level": term("warningLevel", e.level).removesuffix("预警"), "headline": headline})
        people = self.directory.unit_heads(unit_code, e.timestamp) + self.directory.unit_reporters(unit_code)
        pushes = self.directory.push(unit_code=unit_code, roles=("reporter", "operator"))
        return self._to(source, Purpose.WARNING, ("warning", warning_id), unit_code, people, pushes, text,
                        urgent=is_urgent(Purpose.WARNING, e.level))

    def _escalation(self, source: str, e: Any) -> list[Intent]:
        name = event_name(e).split(".")[0]
        if name == "Dispatch":
            doc = self.store.get("dispatch", str(e.originator_id)) or {}
            record, what = ("dispatch", str(e.originator_id)), term("escalationReason", e.reason)
            title = f"{doc.get('team_name', '')}→{doc.get('incident_title', '')}"
        elif name == "WarningReceipt":
            doc = self.store.get("warning_receipt", str(e.originator_id)) or {}
            warning = self.store.get("warning", str(doc.get("warning_id", ""))) or {}
            record, what = ("warning_receipt", str(e.originator_id)), term("notifyText", "receipt")
            title = f"{self._unit_name(doc.get('unit_code', ''))}·{warning.get('headline', '')}"
        elif name == "Handover":
            doc = self.store.get("handover", str(e.originator_id)) or {}
            record, what = ("handover", str(e.originator_id)), term("notifyText", "handover")
            title = f"{self._unit_name(doc.get('unit_code', ''))} {doc.get('day', '')}"
        else:
            doc = self.store.get("hidden_danger", str(e.originator_id)) or {}
            record, what = ("hidden_danger", str(e.originator_id)), term("eventType", "hiddendanger.escalated")
            title = doc.get("title", "")
        unit_code = doc.get("unit_code", "")
        if not unit_code:
            return []
        leader, _ = self.directory.on_duty(unit_code, e.timestamp)
        text = message_text("escalation", {"what": what, "title": title})
        pushes = self.directory.push(unit_code=street_of(unit_code), roles=DESK_ROLES)
        return self._to(source, Purpose.ESCALATION, record, unit_code, [leader] if leader else [], pushes, text, urgent=True)

    def _report_deadline(self, source: str, e: Any) -> list[Intent]:
        schedule = self.store.get("report_schedule", str(e.incident_id)) or {}
        _, officers = self.directory.on_duty(e.unit_code, e.timestamp)
        text = message_text("report_deadline", {"title": schedule.get("title", ""), "stage": term("reportStage", e.stage)})
        pushes = self.directory.push(unit_code=street_of(e.unit_code), roles=DESK_ROLES)
        return self._to(source, Purpose.REPORT_DEADLINE, ("report_schedule", str(e.incident_id)), e.unit_code, officers, pushes,
                        text, urgent=True)

    def daily_missing(self, unit: dict[str, Any], day: str) -> list[Intent]:
        """A village's zero report missing at the cut-off: its reporter, once per day."""
        text = message_text("daily_missing", {"unit": unit["name"]})
        people = self.directory.unit_reporters(unit["code"])
        pushes = self.directory.push(unit_code=unit["code"], roles=("reporter",))
        return self._to(f"daily-missing:{unit['code']}:{day}", Purpose.DAILY_MISSING, ("unit", unit["code"]), unit["code"],
                        people, pushes, text, urgent=False)

