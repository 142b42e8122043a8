"""双重预防: risk points graded and controlled (风险分级管控), inspections, and hidden dangers
rectified to 销号 (隐患排查治理).

- A risk point (风险点) belongs to a unit; each assessment is a new event (LEC: D = L × E × C, or a
  level given directly with its basis), so its history shows how the risk changed. Its level's
  review interval (domain.policy, settings) sets when it must be reassessed; the due moment is
  recorded in the assessment event.
- An inspection (排查) records a checklist result at one or several risk points or a site; each
  finding may raise a hidden danger in the same save.
- A hidden danger (隐患) runs found → rectifying (assigned) → reported (rectified) → verified (验收)
  → closed (销号); a rejected verification sends it back to rectifying with a new deadline. The
  account that verifies is never the one that reported it rectified. A missed deadline is one
  escalation (the watchdog), one per deadline.

Evidence files are named by their SHA-256 in the events (the bytes live beside the log).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidTransition, InvalidValue, event_versions, parse_enum, require_state


# -- risk levels ---------------------------------------------------------------
class RiskLevel(StrEnum):
    MAJOR = "major"  # 重大风险, 红
    LARGER = "larger"  # 较大风险, 橙
    GENERAL = "general"  # 一般风险, 黄
    LOW = "low"  # 低风险, 蓝


RISK_LEVELS = tuple(RiskLevel)  # gravest first
RISK_COLOUR = {RiskLevel.MAJOR: "red", RiskLevel.LARGER: "orange", RiskLevel.GENERAL: "yellow", RiskLevel.LOW: "blue"}
# LEC bands, defined once: D above 320 is 重大, 160 to 320 较大, 70 to 160 一般, below 70 低.
# Each row: (lower bound, whether the bound itself belongs to the band, level); the first that holds wins.
LEC_BANDS: tuple[tuple[float, bool, str], ...] = (
    (320, False, RiskLevel.MAJOR), (160, True, RiskLevel.LARGER), (70, True, RiskLevel.GENERAL), (0, True, RiskLevel.LOW),
)
# The values the LEC tables allow: likelihood, exposure, consequence.
LEC_L = (0.1, 0.2, 0.5, 1, 3, 6, 10)
LEC_E = (0.5, 1, 2, 3, 6, 10)
LEC_C = (1, 3, 7, 15, 40, 100)
CONTROL_TIERS = ("enterprise", "street", "district")  # 企业, 街道, 区行业部门


class AssessMethod(StrEnum):
    LEC = "lec"
    DIRECT = "direct"


def lec_level(d: float) -> str:
    """The level of an LEC score: > 320 major, 160–320 larger, 70–160 general, < 70 low."""
    for floor, inclusive, level in LEC_BANDS:
        if d > floor or (inclusive and d == floor):
            return str(level)
    return str(RiskLevel.LOW)


def lec_score(l: float, e: float, c: float) -> float:  # noqa: E741
    for name, value, allowed in (("l", l, LEC_L), ("e", e, LEC_E), ("c", c, LEC_C)):
        if value not in allowed:
            raise InvalidValue(f"{name.upper()} must be one of {list(allowed)}", field=name)
    return round(l * e * c, 2)


def _text(value: str, field: str, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidValue(f"{field} is required", field=field)
    return value


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidValue(f"{field} needs a time zone", field=field)
    return value


class RiskPoint(Aggregate):
    class_version = 1

    @event("Registered")
    def __init__(self, unit_code: str, name: str, subject: str, industry: str, address: str, hazard: str,
                 lat: float | None, lon: float | None, by: Actor) -> None:
        self.unit_code = unit_code
        self.name = name
        self.subject = subject
        self.industry = industry
        self.address = address
        self.hazard = hazard
        self.lat, self.lon = lat, lon
        self.level: str | None = None
        self.review_due: datetime | None = None
        self.controls: list[dict[str, str]] = []

    @classmethod
    def register(cls, *, unit_code: str, name: str, subject: str, hazard: str, by: Actor, industry: str = "", address: str = "",
                 lat: float | None = None, lon: float | None = None) -> RiskPoint:
        return cls(unit_code=unit_code, name=_text(name, "name"), subject=_text(subject, "subject"), industry=industry.strip(),
                   address=address.strip(), hazard=_text(hazard, "hazard"), lat=lat, lon=lon, by=by)

    def assess(self, *, method: str, now: datetime, review_days: dict[str, int], by: Actor, l: float | None = None,  # noqa: E741
               e: float | None = None, c: float | None = None, level: str | None = None, basis: str = "") -> None:
        """A (re)assessment: LEC from L, E and C, or a level given directly with its basis.

        The next review falls due `review_days[level]` days from `now` (domain.policy, settings)."""
        method = parse_enum(AssessMethod, method, "method")
        if method == AssessMethod.LEC:
            if l is None or e is None or c is None:
                raise InvalidValue("LEC needs l, e and c", field="l")
            d: float | None = lec_score(l, e, c)
            level = lec_level(d)  # type: ignore[arg-type]
        else:
            level = parse_enum(RiskLevel, level or "", "level")
            _text(basis, "basis")
            l = e = c = d = None  # noqa: E741
        review_due = _aware(now, "now") + timedelta(days=review_days[level])
        self._assessed(method=method, l=l, e=e, c=c, d=d, level=level, basis=basis.strip(), review_due=review_due, by=by)

    @event("Assessed")
    def _assessed(self, method: str, l: float | None, e: float | None, c: float | None, d: float | None, level: str,  # noqa: E741
                  basis: str, review_due: datetime, by: Actor) -> None:
        self.level = level
        self.review_due = review_due

    def set_controls(self, controls: list[dict[str, str]], by: Actor) -> None:
        """Control measures and the responsible person at each tier (enterprise, street, district)."""
        if not controls:
            raise InvalidValue("at least one tier's control measures are required", field="controls")
        seen: set[str] = set()
        clean = []
        for row in controls:
            tier = str(row.get("tier", ""))
            if tier not in CONTROL_TIERS:
                raise InvalidValue(f"tier must be one of {list(CONTROL_TIERS)}", field="controls")
            if tier in seen:
                raise InvalidValue(f"tier {tier} is given twice", field="controls")
            seen.add(tier)
            clean.append({"tier": tier, "measures": _text(str(row.get("measures", "")), "measures"),
                          "person": _text(str(row.get("person", "")), "person")})
        self._controls_set(controls=clean, by=by)

    @event("ControlsSet")
    def _controls_set(self, controls: list[dict[str, str]], by: Actor) -> None:
        self.controls = controls


# -- inspections ---------------------------------------------------------------
class InspectionKind(StrEnum):
    PLANNED = "planned"  # 计划排查
    AD_HOC = "ad_hoc"  # 专项/临时排查


class CheckResult(StrEnum):
    OK = "ok"  # 合格
    FAIL = "fail"  # 不合格
    NA = "na"  # 不适用


class Inspection(Aggregate):
    class_version = 1

    @event("Recorded")
    def __init__(self, unit_code: str, kind: str, risk_point_ids: list[UUID], site: str, inspected_at: datetime,
                 checklist: list[dict[str, str]], inspectors: str, by: Actor) -> None:
        self.unit_code = unit_code
        self.kind = kind
        self.risk_point_ids = risk_point_ids
        self.site = site
        self.checklist = checklist

    @classmethod
    def record(cls, *, unit_code: str, kind: str, inspected_at: datetime, checklist: list[dict[str, str]], by: Actor,
               risk_point_ids: list[UUID] | None = None, site: str = "", inspectors: str = "") -> Inspection:
        kind = parse_enum(InspectionKind, kind, "kind")
        if not risk_point_ids and not site.strip():
            raise InvalidValue("an inspection covers one or more risk points or a site", field="site")
        if not checklist:
            raise InvalidValue("the checklist has at least one item", field="checklist")
        items = [{"item": _text(str(r.get("item", "")), "item"), "result": parse_enum(CheckResult, str(r.get("result", "")), "result"),
                  "note": str(r.get("note", "")).strip()} for r in checklist]
        return cls(unit_code=unit_code, kind=kind, risk_point_ids=list(risk_point_ids or []), site=site.strip(),
                   inspected_at=_aware(inspected_at, "inspected_at"), checklist=items, inspectors=inspectors.strip(), by=by)


# -- hidden dangers --------------------------------------------------------------
class DangerGrade(StrEnum):
    GENERAL = "general"  # 一般隐患
    MAJOR = "major"  # 重大隐患


class DangerStatus(StrEnum):
    FOUND = "found"  # 待整改 (not yet assigned)
    RECTIFYING = "rectifying"  # 整改中
    REPORTED = "reported"  # 整改完成待验收
    VERIFIED = "verified"  # 已验收
    CLOSED = "closed"  # 已销号


D = DangerStatus
DANGER_OPEN = frozenset({D.FOUND, D.RECTIFYING, D.REPORTED, D.VERIFIED})
DANGER_FLOW = (D.FOUND, D.RECTIFYING, D.REPORTED, D.VERIFIED, D.CLOSED)
# The steps of a hidden danger: the status each leads to and the statuses it applies in. The aggregate
# enforces it; the desk and phone pages show their buttons from it (through gateway.vocab).
DANGER_STEPS: dict[str, tuple[str, frozenset[str]]] = {
    "assign": (D.RECTIFYING, frozenset({D.FOUND})),
    "progress": (D.RECTIFYING, frozenset({D.RECTIFYING})),
    "deadline": (D.RECTIFYING, frozenset({D.RECTIFYING})),
    "report": (D.REPORTED, frozenset({D.RECTIFYING})),
    "verify": (D.VERIFIED, frozenset({D.REPORTED})),
    "reject": (D.RECTIFYING, frozenset({D.REPORTED})),
    "close": (D.CLOSED, frozenset({D.VERIFIED})),
}
# The deadline that runs, and whose miss is escalated, while a hidden danger is being rectified.
DANGER_RUNNING = frozenset({D.RECTIFYING})
# 重大隐患 "五落实": responsibility, measures, funds, time limit, contingency plan.
FIVE_IN_PLACE = ("responsibility", "measures", "funds", "time_limit", "plan")
MAX_EVIDENCE = 6  # files per step


def _evidence(files: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    files = list(files or [])
    if len(files) > MAX_EVIDENCE:
        raise InvalidValue(f"at most {MAX_EVIDENCE} files per step", field="evidence")
    out = []
    for f in files:
        sha = str(f.get("sha256", ""))
        if len(sha) != 64 or any(ch not in "0123456789abcdef" for ch in sha):
            raise InvalidValue("evidence is named by its SHA-256 (64 hex digits)", field="evidence")
        out.append({"sha256": sha, "media_type": str(f.get("media_type", "")), "size": int(f.get("size", 0)), "name": str(f.get("name", ""))})
    return out


def review_overdue(review_due: datetime | None, now: datetime) -> bool:
    """A risk point whose reassessment is past due: an alarm until it is reassessed."""
    return review_due is not None and now > review_due


def danger_overdue(status: str, deadline: datetime | None, now: datetime) -> bool:
    return status in DANGER_RUNNING and deadline is not None and now > deadline


class HiddenDanger(Aggregate):
    class_version = 1

    @event("Found")
    def __init__(self, unit_code: str, grade: str, title: str, description: str, risk_point_id: UUID | None, site: str,
                 inspection_id: UUID | None, evidence: list[dict[str, Any]], by: Actor) -> None:
        self.unit_code = unit_code
        self.grade = grade
        self.title = title
        self.status = D.FOUND.value
        self.deadline: datetime | None = None
        self.reported_by: str | None = None
        self.escalated: list[str] = []  # the deadlines (ISO) already escalated

    @classmethod
    def find(cls, *, unit_code: str, grade: str, title: str, by: Actor, description: str = "", risk_point_id: UUID | None = None,
             site: str = "", inspection_id: UUID | None = None, evidence: list[dict[str, Any]] | None = None) -> HiddenDanger:
        grade = parse_enum(DangerGrade, grade, "grade")
        if risk_point_id is None and not site.strip():
            raise InvalidValue("a hidden danger is at a risk point or a site", field="site")
        return cls(unit_code=unit_code, grade=grade, title=_text(title, "title"), description=description.strip(),
                   risk_point_id=risk_point_id, site=site.strip(), inspection_id=inspection_id, evidence=_evidence(evidence), by=by)

    def _require(self, step: str, action: str) -> None:
        require_state(self.status, DANGER_STEPS[step][1], action, "hidden danger")

    def assign(self, *, rectifier: str, responsible: str, deadline: datetime, measures: str, now: datetime, by: Actor,
               five: dict[str, str] | None = None, supervision: str = "") -> None:
        """Who rectifies, by when, how; a 重大 one also needs the five in place and the district's 挂牌督办."""
        self._require("assign", "assign")
        _aware(deadline, "deadline")
        if deadline <= now:
            raise InvalidValue("the deadline must be in the future", field="deadline")
        five_clean: dict[str, str] = {}
        if self.grade == DangerGrade.MAJOR:
            five = five or {}
            missing = [k for k in FIVE_IN_PLACE if not str(five.get(k, "")).strip()]
            if missing:
                raise InvalidValue(f"a major hidden danger needs the five in place; missing {missing}", field="five", missing=missing)
            five_clean = {k: str(five[k]).strip() for k in FIVE_IN_PLACE}
            _text(supervision, "supervision")
        self._assigned(rectifier=_text(rectifier, "rectifier"), responsible=_text(responsible, "responsible"), deadline=deadline,
                       measures=_text(measures, "measures"), five=five_clean, supervision=supervision.strip(), by=by)

    @event("Assigned")
    def _assigned(self, rectifier: str, responsible: str, deadline: datetime, measures: str, five: dict[str, str],
                  supervision: str, by: Actor) -> None:
        self.status = D.RECTIFYING.value
        self.deadline = deadline

    def note_progress(self, note: str, by: Actor, evidence: list[dict[str, Any]] | None = None) -> None:
        self._require("progress", "note progress on")
        self._progress_noted(note=_text(note, "note"), evidence=_evidence(evidence), by=by)

    @event("ProgressNoted")
    def _progress_noted(self, note: str, evidence: list[dict[str, Any]], by: Actor) -> None:
        pass

    def move_deadline(self, deadline: datetime, reason: str, now: datetime, by: Actor) -> None:
        """A deadline moves only with a reason, and only to a future moment other than the current one."""
        self._require("deadline", "move the deadline of")
        _aware(deadline, "deadline")
        reason = _text(reason, "reason")
        if deadline == self.deadline:
            raise InvalidValue("the deadline is already that", field="deadline")
        if deadline <= now:
            raise InvalidValue("the deadline must be in the future", field="deadline")
        self._deadline_moved(deadline=deadline, previous=self.deadline, reason=reason, by=by)

    @event("DeadlineMoved")
    def _deadline_moved(self, deadline: datetime, previous: datetime | None, reason: str, by: Actor) -> None:
        self.deadline = deadline

    def report_rectified(self, note: str, evidence: list[dict[str, Any]], by: Actor) -> None:
        self._require("report", "report rectified")
        files = _evidence(evidence)
        if not files:
            raise InvalidValue("a rectification is reported with at least one photo or document", field="evidence")
        self._rectification_reported(note=note.strip(), evidence=files, by=by)

    @event("RectificationReported")
    def _rectification_reported(self, note: str, evidence: list[dict[str, Any]], by: Actor) -> None:
        self.status = D.REPORTED.value
        self.reported_by = by.user

    def verify(self, note: str, by: Actor) -> None:
        """验收: by an account other than the one that reported the rectification."""
        self._require("verify", "verify")
        if by.user == self.reported_by:
            raise InvalidTransition("the account that reported the rectification cannot verify it", reason="same_account")
        self._verified(note=note.strip(), by=by)

    @event("Verified")
    def _verified(self, note: str, by: Actor) -> None:
        self.status = D.VERIFIED.value

    def reject(self, reason: str, deadline: datetime, now: datetime, by: Actor) -> None:
        """Verification failed: back to rectifying, with a new deadline and the reason."""
        self._require("reject", "reject")
        if by.user == self.reported_by:
            raise InvalidTransition("the account that reported the rectification cannot judge it", reason="same_account")
        reason = _text(reason, "reason")
        _aware(deadline, "deadline")
        if deadline <= now:
            raise InvalidValue("the new deadline must be in the future", field="deadline")
        self._rejected(reason=reason, deadline=deadline, by=by)

    @event("Rejected")
    def _rejected(self, reason: str, deadline: datetime, by: Actor) -> None:
        self.status = D.RECTIFYING.value
        self.deadline = deadline
        self.reported_by = None

    def close(self, note: str, by: Actor) -> None:
        """销号: only once verified."""
        self._require("close", "close")
        self._closed(note=note.strip(), by=by)

    @event("Closed")
    def _closed(self, note: str, by: Actor) -> None:
        self.status = D.CLOSED.value

    def escalate(self, now: datetime, by: Actor) -> None:
        """One escalation per missed deadline (a moved or renewed deadline can be missed again)."""
        if not danger_overdue(self.status, self.deadline, now):
            raise InvalidTransition("no rectification deadline has passed", status=self.status)
        assert self.deadline is not None
        if self.deadline.isoformat() in self.escalated:
            raise InvalidTransition("already escalated for this deadline")
        self._escalated(deadline=self.deadline, by=by)

    @event("Escalated")
    def _escalated(self, deadline: datetime, by: Actor) -> None:
        self.escalated = [*self.escalated, deadline.isoformat()]


event_versions(RiskPoint, Registered=1, Assessed=1, ControlsSet=1)
event_versions(Inspection, Recorded=1)
event_versions(HiddenDanger, Found=1, Assigned=1, ProgressNoted=1, DeadlineMoved=1, RectificationReported=1, Verified=1,
               Rejected=1, Closed=1, Escalated=1)
