"""Commands as data: one small frozen dataclass per thing a caller may ask of the district's log.

A command names what is wanted and carries its values, nothing else: no principal, no key
(those travel in the `CommandContext`). `ROUTE_OF` says which row of the role × route table
(`gateway/authz.py`) decides who may send it, so the HTTP routers, the CLI, the seed, the relay
and the watchdog are all authorised by the same table: `CommandService.handle` checks it
before anything is loaded, then runs the command's handler through the one pipeline
(scope, load, decide, save with its Idempotency-Key). Commands without a route are the
platform's own (the watchdog's escalations, the relay's record of the city's acknowledgement,
the city's directives) and only a system principal may send them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any
from uuid import UUID


class Command:
    """Base of every command; `values()` are the handler's keyword arguments."""

    def values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]


# -- units -------------------------------------------------------------------
@dataclass(frozen=True)
class RegisterUnit(Command):
    code: str
    name: str
    kind: str
    lat: float | None = None
    lon: float | None = None
    parts: dict[str, int] | None = None


# -- incidents ---------------------------------------------------------------
@dataclass(frozen=True)
class ReportIncident(Command):
    category: str
    subtype: str
    level: str
    title: str
    unit_code: str
    occurred_at: datetime
    description: str = ""
    address: str = ""
    lat: float | None = None
    lon: float | None = None
    source: str = ""
    exercise: bool = False  # 演练: shown as such, left out of statistics and the 2-hour rule, counted as a drill
    plan_id: UUID | None = None  # the plan an exercise drills (it counts for that plan's 2-year rule)


@dataclass(frozen=True)
class VerifyIncident(Command):
    incident_id: UUID
    note: str = ""


@dataclass(frozen=True)
class ChangeIncidentLevel(Command):
    incident_id: UUID
    level: str
    reason: str = ""


@dataclass(frozen=True)
class UpdateSituation(Command):
    incident_id: UUID
    figures: dict[str, int]
    notes: str = ""


@dataclass(frozen=True)
class ControlIncident(Command):
    incident_id: UUID
    note: str = ""


@dataclass(frozen=True)
class CloseIncident(Command):
    incident_id: UUID
    summary: str


@dataclass(frozen=True)
class DismissIncident(Command):
    incident_id: UUID
    reason: str


@dataclass(frozen=True)
class RecordReportedUpward(Command):
    incident_ids: list[UUID]
    acknowledged_at: datetime
    batch_id: str


# -- directives from the city ------------------------------------------------
@dataclass(frozen=True)
class ReceiveDirective(Command):
    upstream_id: str
    title: str
    content: str
    level: str
    issuer: str
    issued_at: datetime
    unit_code: str


@dataclass(frozen=True)
class AcknowledgeDirective(Command):
    directive_id: UUID
    note: str = ""


# -- teams -------------------------------------------------------------------
@dataclass(frozen=True)
class RegisterTeam(Command):
    name: str
    kind: str
    unit_code: str
    members: int
    leader: str = ""
    phone: str = ""


@dataclass(frozen=True)
class SetTeamDuty(Command):
    team_id: UUID
    on_duty: bool


# -- dispatches --------------------------------------------------------------
@dataclass(frozen=True)
class ChangeTeamStrength(Command):
    team_id: UUID
    members: int
    reason: str


@dataclass(frozen=True)
class OrderDispatch(Command):
    incident_id: UUID
    team_id: UUID
    task: str
    ack_minutes: int | None = None


@dataclass(frozen=True)
class AcknowledgeDispatch(Command):
    dispatch_id: UUID


@dataclass(frozen=True)
class DepartDispatch(Command):
    dispatch_id: UUID


@dataclass(frozen=True)
class ArriveDispatch(Command):
    dispatch_id: UUID


@dataclass(frozen=True)
class CompleteDispatch(Command):
    dispatch_id: UUID
    note: str = ""


@dataclass(frozen=True)
class DeclineDispatch(Command):
    dispatch_id: UUID
    reason: str


@dataclass(frozen=True)
class CancelDispatch(Command):
    dispatch_id: UUID
    reason: str


@dataclass(frozen=True)
class EscalateDispatch(Command):
    dispatch_id: UUID
    reason: str


# -- warehouses --------------------------------------------------------------
@dataclass(frozen=True)
class RegisterWarehouse(Command):
    name: str
    unit_code: str
    address: str = ""
    manager: str = ""
    phone: str = ""
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class ReceiveStock(Command):
    warehouse_id: UUID
    lines: dict[str, int]
    note: str = ""


@dataclass(frozen=True)
class CountStock(Command):
    warehouse_id: UUID
    code: str
    counted: int
    note: str = ""


@dataclass(frozen=True)
class SetMinimum(Command):
    warehouse_id: UUID
    code: str
    minimum: int


# -- allocations -------------------------------------------------------------
@dataclass(frozen=True)
class RequestAllocation(Command):
    incident_id: UUID
    warehouse_id: UUID
    lines: dict[str, int]
    destination: str = ""
    team_id: UUID | None = None


@dataclass(frozen=True)
class ShipAllocation(Command):
    allocation_id: UUID
    vehicle: str = ""


@dataclass(frozen=True)
class DeliverAllocation(Command):
    allocation_id: UUID
    received_by: str = ""


@dataclass(frozen=True)
class ReturnAllocation(Command):
    allocation_id: UUID
    lines: dict[str, int] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class CancelAllocation(Command):
    allocation_id: UUID
    reason: str


# -- daily reports (零报告) --------------------------------------------------
@dataclass(frozen=True)
class FileDailyReport(Command):
    unit_code: str
    day: date
    zero: bool
    summary: str = ""


# -- early warnings (预警) -----------------------------------------------------
@dataclass(frozen=True)
class DraftWarning(Command):
    category: str
    subtype: str
    level: str
    headline: str
    onset: datetime
    expires: datetime
    targets: list[str]
    description: str = ""
    instruction: str = ""
    exercise: bool = False


@dataclass(frozen=True)
class IssueWarning(Command):
    warning_id: UUID


@dataclass(frozen=True)
class UpdateWarning(Command):
    warning_id: UUID
    changes: dict[str, Any]
    reason: str = ""


@dataclass(frozen=True)
class LiftWarning(Command):
    warning_id: UUID
    reason: str


@dataclass(frozen=True)
class AcknowledgeWarning(Command):
    warning_id: UUID
    unit_code: str
    note: str = ""


@dataclass(frozen=True)
class ReportWarningResponse(Command):
    warning_id: UUID
    unit_code: str
    measures: dict[str, int]
    note: str = ""


@dataclass(frozen=True)
class EscalateWarningReceipt(Command):
    receipt_id: UUID


@dataclass(frozen=True)
class CityAlert:
    """A CAP 1.2 alert from the city, verified and read (gateway.citylink.cap.read_alert): plain values only."""

    sender: str
    identifier: str
    sent: datetime
    exercise: bool  # status Exercise
    msg_type: str  # Alert | Update | Cancel
    references: list[str]  # the identifiers of the earlier messages it names
    category: str
    subtype: str
    level: str
    headline: str
    description: str
    instruction: str
    onset: datetime
    expires: datetime
    sender_name: str
    area_codes: list[str]  # 12-digit division codes of its areas' geocodes


@dataclass(frozen=True)
class ReceiveCityWarning(Command):
    alert: CityAlert


# -- staged disaster reports (灾情报告) ----------------------------------------
@dataclass(frozen=True)
class DraftDisasterReport(Command):
    incident_id: UUID
    stage: str
    figures: dict[str, Any]
    sectors: dict[str, Any] = field(default_factory=dict)
    notes: str = ""


@dataclass(frozen=True)
class ReviseDisasterReport(Command):
    report_id: UUID
    figures: dict[str, Any]
    sectors: dict[str, Any] = field(default_factory=dict)
    notes: str = ""


@dataclass(frozen=True)
class SignOffDisasterReport(Command):
    report_id: UUID
    note: str = ""


@dataclass(frozen=True)
class SubmitDisasterReport(Command):
    report_id: UUID


@dataclass(frozen=True)
class RecordReportsAcknowledged(Command):
    report_ids: list[UUID]
    acknowledged_at: datetime
    batch_id: str


@dataclass(frozen=True)
class EscalateReportDeadline(Command):
    incident_id: UUID
    stage: str
    key: str


# -- the duty desk (值班表, 交接班) --------------------------------------------
@dataclass(frozen=True)
class ScheduleDuty(Command):
    unit_code: str
    day: date
    leader: dict[str, str]
    officers: list[dict[str, str]]


@dataclass(frozen=True)
class SignHandover(Command):
    unit_code: str
    open_items: list[dict[str, Any]]  # generated from the read models by the gateway (never typed by a caller)
    notes: str = ""
    day: date | None = None


@dataclass(frozen=True)
class ConfirmHandover(Command):
    handover_id: UUID
    note: str = ""


@dataclass(frozen=True)
class EscalateHandover(Command):
    handover_id: UUID


# -- accounts (kept beside the log, not in it) -----------------------------------
class AccountCommand:
    """Marks a command on the accounts kept beside the log (credentials are revocable and never mirrored to
    the city): the same pipeline, its Idempotency-Key kept with the account, its answer the account itself."""


@dataclass(frozen=True)
class AddUser(Command, AccountCommand):
    username: str
    password: str = field(repr=False)
    role: str
    unit_code: str
    team_id: UUID | None = None
    display_name: str = ""


@dataclass(frozen=True)
class IssueTeamAccount(Command, AccountCommand):
    """A field account for a team's phone; its password is made here and shown once, in the answer."""

    team_id: UUID
    username: str | None = None  # made up from the team's id when absent
    display_name: str = ""  # the team's name when empty


@dataclass(frozen=True)
class RevokeAccount(Command, AccountCommand):
    username: str
# -- notifications (通知): the notifier's record of each message and each attempt to deliver it ------------
@dataclass(frozen=True)
class QueueNotification(Command):
    key: str  # source event, recipient and channel: the same key is the same notification
    purpose: str
    record_kind: str
    record_id: str
    unit_code: str
    recipient: dict[str, str]
    channel: str
    address: str
    text: str
    urgent: bool
    not_before: datetime | None = None


@dataclass(frozen=True)
class RecordNotificationAttempt(Command):
    notification_id: UUID
    attempt: int
    outcome: str  # "delivered" | "retry" | "failed"
    detail: str = ""  # the provider's receipt when delivered, the error otherwise
    retry_at: datetime | None = None


# Which row of the role × route table authorises each command (None: the platform's own).
ROUTE_OF: dict[type[Command], str | None] = {
    RegisterUnit: "POST /units",
    ReportIncident: "POST /incidents",
    VerifyIncident: "POST /incidents/{incident_id}/verify",
    ChangeIncidentLevel: "POST /incidents/{incident_id}/level",
    UpdateSituation: "POST /incidents/{incident_id}/situation",
    ControlIncident: "POST /incidents/{incident_id}/control",
    CloseIncident: "POST /incidents/{incident_id}/close",
    DismissIncident: "POST /incidents/{incident_id}/dismiss",
    RecordReportedUpward: None,  # the relay, when the city acknowledges a batch
    ReceiveDirective: None,  # the city, through its signed route
    AcknowledgeDirective: "POST /directives/{directive_id}/acknowledge",
    RegisterTeam: "POST /teams",
    SetTeamDuty: "POST /teams/{team_id}/duty",
    OrderDispatch: "POST /incidents/{incident_id}/dispatches",
    AcknowledgeDispatch: "POST /dispatches/{dispatch_id}/acknowledge",
    DepartDispatch: "POST /dispatches/{dispatch_id}/depart",
    ArriveDispatch: "POST /dispatches/{dispatch_id}/arrive",
    CompleteDispatch: "POST /dispatches/{dispatch_id}/complete",
    DeclineDispatch: "POST /dispatches/{dispatch_id}/decline",
    CancelDispatch: "POST /dispatches/{dispatch_id}/cancel",
    EscalateDispatch: None,  # the watchdog, when a deadline passes
    RegisterWarehouse: "POST /warehouses",
    ReceiveStock: "POST /warehouses/{warehouse_id}/receipts",
    CountStock: "POST /warehouses/{warehouse_id}/counts",
    SetMinimum: "POST /warehouses/{warehouse_id}/minimums",
    RequestAllocation: "POST /allocations",
    ShipAllocation: "POST /allocations/{allocation_id}/ship",
    DeliverAllocation: "POST /allocations/{allocation_id}/deliver",
    ReturnAllocation: "POST /allocations/{allocation_id}/return",
    CancelAllocation: "POST /allocations/{allocation_id}/cancel",
    FileDailyReport: "POST /reports/daily",
    DraftDisasterReport: "POST /incidents/{incident_id}/disaster-reports",
    ReviseDisasterReport: "POST /disaster-reports/{report_id}/revise",
    SignOffDisasterReport: "POST /disaster-reports/{report_id}/sign-off",
    SubmitDisasterReport: "POST /disaster-reports/{report_id}/submit",
    RecordReportsAcknowledged: None,  # the relay, when the city acknowledges the batch holding a submission
    EscalateReportDeadline: None,  # the watchdog, when a report's deadline passes
    ScheduleDuty: "POST /roster",
    SignHandover: "POST /handovers",
    ConfirmHandover: "POST /handovers/{handover_id}/confirm",
    EscalateHandover: None,  # the watchdog, when a handover is not confirmed in time
    DraftWarning: "POST /warnings",
    IssueWarning: "POST /warnings/{warning_id}/issue",
    UpdateWarning: "POST /warnings/{warning_id}/update",
    LiftWarning: "POST /warnings/{warning_id}/lift",
    AcknowledgeWarning: "POST /warnings/{warning_id}/receipts/{unit_code}/acknowledge",
    ReportWarningResponse: "POST /warnings/{warning_id}/receipts/{unit_code}/response",
    EscalateWarningReceipt: None,  # the watchdog, when a receipt deadline passes
    ReceiveCityWarning: None,  # the city, through its signed route
    AddUser: "POST /users",
    IssueTeamAccount: "POST /teams/{team_id}/accounts",
    RevokeAccount: "POST /users/{username}/revoke",
    QueueNotification: None,  # the notifier, for each message an event calls for
    RecordNotificationAttempt: None,  # the notifier, after each attempt to deliver one
}


# -- 双重预防: risk points, inspections, hidden dangers ----------------------------
# Evidence is named by SHA-256: files uploaded first (POST /evidence), then named in a command.
@dataclass(frozen=True)
class RegisterRiskPoint(Command):
    unit_code: str
    name: str
    subject: str
    hazard: str
    method: str
    industry: str = ""
    address: str = ""
    lat: float | None = None
    lon: float | None = None
    l: float | None = None  # noqa: E741
    e: float | None = None
    c: float | None = None
    level: str | None = None
    basis: str = ""


@dataclass(frozen=True)
class AssessRiskPoint(Command):
    risk_point_id: UUID
    method: str
    l: float | None = None  # noqa: E741
    e: float | None = None
    c: float | None = None
    level: str | None = None
    basis: str = ""


@dataclass(frozen=True)
class SetRiskControls(Command):
    risk_point_id: UUID
    controls: list[dict[str, str]]


@dataclass(frozen=True)
class RecordInspection(Command):
    unit_code: str
    kind: str
    inspected_at: datetime
    checklist: list[dict[str, str]]
    risk_point_ids: list[UUID] = field(default_factory=list)
    site: str = ""
    inspectors: str = ""
    findings: list[dict[str, Any]] = field(default_factory=list)  # each raises a hidden danger: grade, title, ...


@dataclass(frozen=True)
class ReportHiddenDanger(Command):
    unit_code: str
    grade: str
    title: str
    description: str = ""
    risk_point_id: UUID | None = None
    site: str = ""
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AssignHiddenDanger(Command):
    danger_id: UUID
    rectifier: str
    responsible: str
    deadline: datetime
    measures: str
    five: dict[str, str] | None = None
    supervision: str = ""


@dataclass(frozen=True)
class NoteDangerProgress(Command):
    danger_id: UUID
    note: str
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MoveDangerDeadline(Command):
    danger_id: UUID
    deadline: datetime
    reason: str


@dataclass(frozen=True)
class ReportDangerRectified(Command):
    danger_id: UUID
    evidence: list[str]
    note: str = ""


@dataclass(frozen=True)
class VerifyHiddenDanger(Command):
    danger_id: UUID
    note: str = ""


@dataclass(frozen=True)
class RejectHiddenDanger(Command):
    danger_id: UUID
    reason: str
    deadline: datetime


@dataclass(frozen=True)
class CloseHiddenDanger(Command):
    danger_id: UUID
    note: str = ""


@dataclass(frozen=True)
class EscalateHiddenDanger(Command):
    danger_id: UUID


ROUTE_OF.update({
    RegisterRiskPoint: "POST /risk-points",
    AssessRiskPoint: "POST /risk-points/{risk_point_id}/assessments",
    SetRiskControls: "POST /risk-points/{risk_point_id}/controls",
    RecordInspection: "POST /inspections",
    ReportHiddenDanger: "POST /hidden-dangers",
    AssignHiddenDanger: "POST /hidden-dangers/{danger_id}/assign",
    NoteDangerProgress: "POST /hidden-dangers/{danger_id}/progress",
    MoveDangerDeadline: "POST /hidden-dangers/{danger_id}/deadline",
    ReportDangerRectified: "POST /hidden-dangers/{danger_id}/rectified",
    VerifyHiddenDanger: "POST /hidden-dangers/{danger_id}/verify",
    RejectHiddenDanger: "POST /hidden-dangers/{danger_id}/reject",
    CloseHiddenDanger: "POST /hidden-dangers/{danger_id}/close",
    EscalateHiddenDanger: None,  # the watchdog, when a rectification deadline passes
})


# -- 预案与演练: plans, mechanism documents, drills --------------------------------------
# The plan's document is a file uploaded first (POST /evidence), named here by its SHA-256.
@dataclass(frozen=True)
class RegisterPlan(Command):
    unit_code: str
    kind: str
    title: str
    version: str
    revised_on: date
    document: str
    mechanism: str | None = None
    hazard: str = ""


@dataclass(frozen=True)
class RevisePlan(Command):
    plan_id: UUID
    version: str
    revised_on: date
    document: str
    note: str = ""
    title: str = ""


@dataclass(frozen=True)
class FilePlan(Command):
    plan_id: UUID
    filed_with: str
    filed_on: date
    reference: str = ""


@dataclass(frozen=True)
class RetirePlan(Command):
    plan_id: UUID
    reason: str


@dataclass(frozen=True)
class RecordDrill(Command):
    plan_id: UUID
    kind: str
    held_on: date
    scenario: str
    participants: int
    participant_units: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)  # each: finding, owner, deadline (a rectification item)


@dataclass(frozen=True)
class ResolveDrillFinding(Command):
    drill_id: UUID
    n: int
    note: str


@dataclass(frozen=True)
class EscalatePlan(Command):
    plan_id: UUID
    reason: str  # domain.plans.Lapse


@dataclass(frozen=True)
class EscalateUnitDrills(Command):
    unit_code: str


ROUTE_OF.update({
    RegisterPlan: "POST /plans",
    RevisePlan: "POST /plans/{plan_id}/revise",
    FilePlan: "POST /plans/{plan_id}/file",
    RetirePlan: "POST /plans/{plan_id}/retire",
    RecordDrill: "POST /plans/{plan_id}/drills",
    ResolveDrillFinding: "POST /drills/{drill_id}/findings/{n}/resolve",
    EscalatePlan: None,  # the watchdog, when a plan's drill or revision lapses
    EscalateUnitDrills: None,  # the watchdog, when a unit has not drilled within 2 years
})


# -- readiness: inspection campaigns (自查 / 督查) and their rectification items to 对标销号 ----------
@dataclass(frozen=True)
class OpenCampaign(Command):
    kind: str  # self (自查, a street over its own units) or supervision (督查, the district)
    unit_code: str  # the unit running it
    title: str
    deadline: datetime | None = None  # for rectification; by default domain.campaigns.RECTIFY_DAYS from now
    units: list[str] | None = None  # the units checked; by default every scored unit in the runner's subtree
    items: list[str] | None = None  # a special inspection (专项检查) of these standard items; by default every item


@dataclass(frozen=True)
class SignOffRectification(Command):
    rectification_id: UUID
    note: str = ""


@dataclass(frozen=True)
class EscalateRectification(Command):
    rectification_id: UUID


ROUTE_OF.update({
    ChangeTeamStrength: "POST /teams/{team_id}/strength",
    OpenCampaign: "POST /campaigns",
    SignOffRectification: "POST /rectifications/{rectification_id}/sign-off",
    EscalateRectification: None,  # the watchdog, when a rectification deadline passes with the item open
})


# -- the people register (人员 / 通讯录) and training (培训) -------------------------------------------
@dataclass(frozen=True)
class RegisterPerson(Command):
    unit_code: str
    name: str
    phone: str
    posts: list[str]
    team_id: UUID | None = None  # the team a team leader or member serves in


@dataclass(frozen=True)
class UpdatePersonContact(Command):
    person_id: UUID
    name: str
    phone: str


@dataclass(frozen=True)
class ChangePersonPosts(Command):
    person_id: UUID
    posts: list[str]
    team_id: UUID | None = None


@dataclass(frozen=True)
class LinkPersonAccount(Command):
    person_id: UUID
    username: str  # the person's platform account (a reporter's login) of the same unit; "" unlinks


@dataclass(frozen=True)
class MarkPersonLeft(Command):
    person_id: UUID
    reason: str


@dataclass(frozen=True)
class RecordTraining(Command):
    unit_code: str  # the organising unit; the session's level is its level
    day: date
    topic: str
    hours: float
    attendees: list[UUID]
    notes: str = ""


@dataclass(frozen=True)
class AddTrainingAttendees(Command):
    training_id: UUID
    attendees: list[UUID]


ROUTE_OF.update({
    RegisterPerson: "POST /people",
    UpdatePersonContact: "POST /people/{person_id}/contact",
    ChangePersonPosts: "POST /people/{person_id}/posts",
    LinkPersonAccount: "POST /people/{person_id}/account",
    MarkPersonLeft: "POST /people/{person_id}/left",
    RecordTraining: "POST /trainings",
    AddTrainingAttendees: "POST /trainings/{training_id}/attendees",
})
