"""The command tier: every command through the one pipeline, against an in-memory event log.

Given a small district (two streets, their villages, incidents, teams, dispatches in every
state, a warehouse and allocations), when a command is handled as some principal, then it is
accepted, or refused with a stable code and nothing written. Every command is tried as every
role (the role × route table decides), out of scope (another street's account, another team's
phone) and in scope. It runs in milliseconds per command because the log is SQLite in memory:
the same recorder as the embedded default, no file, no server.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.common import DomainError
from domain.policy import DEFAULT_ACK_MINUTES, DEFAULT_ARRIVE_MINUTES, DEFAULT_RECEIPT_MINUTES, local_day
from domain.warnings import receipt_id
from gateway.adapters.accounts import Accounts, dump_accounts, restore_accounts
from gateway.adapters.eventstore import DistrictLog
from gateway.adapters.evidence import EvidenceStore
from gateway.authz import MATRIX, ROLES
from gateway.context import CommandContext, Principal
from gateway.service_layer import commands as c
from gateway.service_layer.service import HANDLERS, CommandService
from domain.campaigns import rectification_id
from projections.fold import MemoryDocs
from projections.readiness import facts_of

DISTRICT, STREET_A, STREET_B = "411099000000", "411099001000", "411099002000"
VILLAGE_A, VILLAGE_B = "411099001001", "411099002001"
T0 = datetime(2026, 7, 20, 1, 30, tzinfo=timezone.utc)  # 09:30 in Shanghai
SYSTEM = Principal("watchdog", "system", "")
ADMIN = Principal("admin", "admin", DISTRICT)
INSPECTOR_A = Principal("xinxing", "operator", STREET_A)  # a street's safety officer at the desk of street A
PASSWORD = "long-password-1"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def memory_evidence() -> EvidenceStore:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    store = EvidenceStore(create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}), None)
    store.create_schema()
    return store


EVIDENCE = memory_evidence()  # uploads are kept beside the log: every copy of the world shares them
PHOTO = EVIDENCE.put(PNG, unit_code=VILLAGE_A, name="photo.png", uploaded_by="xinxing")["sha256"]
PLAN_PDF = EVIDENCE.put(b"%PDF-1.4 plan", unit_code=VILLAGE_A, name="预案.pdf", uploaded_by="xinxing")["sha256"]
STREET_PDF = EVIDENCE.put(b"%PDF-1.4 plan", unit_code=STREET_A, name="预案.pdf", uploaded_by="xinxing")["sha256"]


def memory_accounts() -> Accounts:
    """Accounts kept beside the log, in memory: the same adapter as the gateway's, no file."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    accounts = Accounts(create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}))
    accounts.create_schema()
    return accounts


def memory_log() -> DistrictLog:
    return DistrictLog({
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "APPLICATION_RECORDER_TOPIC": "gateway.adapters.eventstore:SQLiteRecorder",
        "SQLITE_DBNAME": f"file:{uuid4().hex}?mode=memory&cache=shared",
        "CREATE_TABLE": "y",
    })


class World:
    """The given: a district built through the same pipeline, its ids by name."""

    def __init__(self, log: DistrictLog | None = None, ids: dict[str, UUID] | None = None, accounts: Accounts | None = None) -> None:
        self.now = T0
        self.log = log or memory_log()
        self.accounts = accounts or memory_accounts()
        self.service = CommandService(self.log, dict(DEFAULT_ACK_MINUTES), clock=lambda: self.now,
                                      arrive_minutes=dict(DEFAULT_ARRIVE_MINUTES), evidence=EVIDENCE)
        self.service.accounts = self.accounts
        self.service.account_secret = lambda: b"test-secret-of-at-least-32-bytes!"
        self.service.receipt_minutes = {**DEFAULT_RECEIPT_MINUTES, "red": 1}  # the red warning's receipts are overdue by now
        self.service.readiness_facts = self.readiness_facts
        self.ids: dict[str, UUID] = dict(ids or {})
        if ids is None:
            self._build()
        self.now = T0 + timedelta(minutes=5)  # the 1-minute acknowledgement of "ordered" has passed

    def copy(self) -> World:
        """The same history in a fresh log (its stored events copied, not decided again): a clean given per test."""
        log = memory_log()
        log.recorder.insert_events(list(self.log.read(0, 100_000)))
        accounts = memory_accounts()
        restore_accounts(accounts, dump_accounts(self.accounts))
        return World(log, self.ids, accounts)

    def _build(self) -> None:
        do = self.as_admin
        for code, name, kind in [(DISTRICT, "东城区", "district"), (STREET_A, "新兴街道", "street"), (STREET_B, "半截河街道", "street"),
                                 (VILLAGE_A, "魏庄村", "village"), (VILLAGE_B, "尚集村", "village")]:
            do(c.RegisterUnit(code=code, name=name, kind=kind))
        for n in range(6):
            self.ids[f"team_a{n}"] = do(c.RegisterTeam(name=f"新兴街道救援{n}队", kind="comprehensive", unit_code=STREET_A, members=22))
        self.ids["team_b"] = do(c.RegisterTeam(name="半截河街道救援队", kind="comprehensive", unit_code=STREET_B, members=21))
        occurred = T0 - timedelta(minutes=20)
        self.ids["incident"] = do(c.ReportIncident(category="natural_disaster", subtype="flood", level="IV", title="低洼积水",
                                                   unit_code=VILLAGE_A, occurred_at=occurred))
        self.ids["verified"] = do(c.ReportIncident(category="accident", subtype="fire", level="III", title="厂房火情",
                                                   unit_code=VILLAGE_A, occurred_at=occurred))
        do(c.VerifyIncident(incident_id=self.ids["verified"]))
        inc = self.ids["incident"]
        self.ids["ordered"] = do(c.OrderDispatch(incident_id=inc, team_id=self.ids["team_a0"], task="排水", ack_minutes=1))
        self.ids["acknowledged"] = do(c.OrderDispatch(incident_id=inc, team_id=self.ids["team_a1"], task="转移群众"))
        do(c.AcknowledgeDispatch(dispatch_id=self.ids["acknowledged"]))
        self.ids["departed"] = do(c.OrderDispatch(incident_id=inc, team_id=self.ids["team_a2"], task="巡查"))
        do(c.AcknowledgeDispatch(dispatch_id=self.ids["departed"]))
        do(c.DepartDispatch(dispatch_id=self.ids["departed"]))
        self.ids["arrived"] = do(c.OrderDispatch(incident_id=inc, team_id=self.ids["team_a3"], task="警戒"))
        for step in (c.AcknowledgeDispatch, c.DepartDispatch, c.ArriveDispatch):
            do(step(dispatch_id=self.ids["arrived"]))
        self.ids["warehouse"] = do(c.RegisterWarehouse(name="新兴街道应急物资仓库", unit_code=STREET_A))
        do(c.ReceiveStock(warehouse_id=self.ids["warehouse"], lines={"SANDBAG": 500}))
        alloc = {"incident_id": inc, "warehouse_id": self.ids["warehouse"], "lines": {"SANDBAG": 20}, "team_id": self.ids["team_a0"]}
        self.ids["reserved"] = do(c.RequestAllocation(**alloc))
        self.ids["shipped"] = do(c.RequestAllocation(**alloc))
        do(c.ShipAllocation(allocation_id=self.ids["shipped"]))
        self.ids["delivered"] = do(c.RequestAllocation(**alloc))
        do(c.ShipAllocation(allocation_id=self.ids["delivered"]))
        do(c.DeliverAllocation(allocation_id=self.ids["delivered"]))
        self.ids["directive"] = self.handle(SYSTEM, c.ReceiveDirective(
            upstream_id="XC-2026-0720", title="做好强降雨防范", content="加强巡查", level="high", issuer="许昌市应急管理局",
            issued_at=T0, unit_code=DISTRICT)).id
        warning = {"category": "natural_disaster", "subtype": "rainstorm", "level": "red", "headline": "暴雨红色预警",
                   "onset": T0, "expires": T0 + timedelta(hours=6), "targets": [STREET_A]}
        self.ids["warning"] = do(c.DraftWarning(**warning))
        do(c.IssueWarning(warning_id=self.ids["warning"]))
        self.ids["receipt_a"] = receipt_id(self.ids["warning"], STREET_A)
        self.ids["warning_draft"] = do(c.DraftWarning(**warning))
        # Staged disaster reports: a draft, a signed one and a submitted one; an incident 3 hours old with no 初报.
        self.ids["flood"] = do(c.ReportIncident(category="natural_disaster", subtype="rainstorm", level="II", title="强降雨内涝",
                                                unit_code=VILLAGE_A, occurred_at=occurred))
        self.ids["old_flood"] = do(c.ReportIncident(category="natural_disaster", subtype="flood", level="IV", title="河堤渗水",
                                                    unit_code=VILLAGE_A, occurred_at=T0 - timedelta(hours=3)))
        self.ids["rep_draft"] = do(c.DraftDisasterReport(incident_id=self.ids["flood"], stage="initial", figures={"affected_population": 120}))
        self.ids["rep_signed"] = do(c.DraftDisasterReport(incident_id=self.ids["flood"], stage="continuing", figures={"affected_population": 150}))
        do(c.SignOffDisasterReport(report_id=self.ids["rep_signed"]))
        self.ids["rep_submitted"] = do(c.DraftDisasterReport(incident_id=inc, stage="initial", figures={"affected_population": 30}))
        do(c.SignOffDisasterReport(report_id=self.ids["rep_submitted"]))
        do(c.SubmitDisasterReport(report_id=self.ids["rep_submitted"]))
        # The duty desk: street A's shift handed over by its night officer, not yet confirmed.
        self.service.handover_grace = timedelta(minutes=1)
        self.ids["handover"] = UUID(self.handle(Principal("night-officer", "operator", STREET_A),
                                                c.SignHandover(unit_code=STREET_A, open_items=[], notes="夜班平稳")).id)
        self._build_prevention()
        self._build_plans()
        # Accounts beside the log: a team phone of street A (for a commander to revoke).
        self.handle(ADMIN, c.AddUser(username="phone-a0", password=PASSWORD, role="field", unit_code=STREET_A,
                                     team_id=self.ids["team_a0"]))
        self._build_readiness()
        self._build_people()

    def _build_plans(self) -> None:
        """预案与演练: street A's old plan (its drill and revision lapsed, its unit's record 800 days old), village A's
        plan with a drill and one open finding."""
        do = self.as_admin
        self.now = T0 - timedelta(days=800)
        self.ids["plan_old"] = do(c.RegisterPlan(unit_code=STREET_A, kind="overall", title="新兴街道突发事件总体应急预案",
                                                 version="2019版", revised_on=(T0 - timedelta(days=2000)).date(), document=STREET_PDF))
        self.now = T0
        self.ids["plan"] = do(c.RegisterPlan(unit_code=VILLAGE_A, kind="special", hazard="防汛", title="魏庄村防汛应急预案",
                                             version="2026版", revised_on=T0.date(), document=PLAN_PDF))
        self.ids["drill"] = do(c.RecordDrill(plan_id=self.ids["plan"], kind="tabletop", held_on=T0.date(), scenario="村东低洼处积水",
                                             participants=12, findings=[{"finding": "转移路线标识不清", "owner": "村委会",
                                                                         "deadline": (T0 + timedelta(days=30)).date().isoformat()}]))

    def _build_prevention(self) -> None:
        """双重预防: a risk point and a hidden danger at each stage, in village A."""
        do = self.as_admin
        self.ids["risk_point"] = do(c.RegisterRiskPoint(unit_code=VILLAGE_A, name="液氨储罐区", subject="冷链公司", hazard="液氨泄漏",
                                                       method="lec", l=3, e=6, c=15))
        for name in ("found", "rectifying", "reported", "verified", "overdue"):
            self.ids["hd_" + name] = do(c.ReportHiddenDanger(unit_code=VILLAGE_A, grade="general", title=f"隐患{name}", site="仓库",
                                                     evidence=[PHOTO]))
        for name in ("rectifying", "reported", "verified"):
            do(c.AssignHiddenDanger(danger_id=self.ids["hd_" + name], rectifier="公司", responsible="王经理",
                                    deadline=T0 + timedelta(days=7), measures="清理"))
        do(c.AssignHiddenDanger(danger_id=self.ids["hd_overdue"], rectifier="公司", responsible="王经理",
                                deadline=T0 + timedelta(minutes=1), measures="清理"))
        for name in ("reported", "verified"):
            self.handle(INSPECTOR_A, c.ReportDangerRectified(danger_id=self.ids["hd_" + name], evidence=[PHOTO]))
        do(c.VerifyHiddenDanger(danger_id=self.ids["hd_verified"]))
        self.ids["notification"] = UUID(self.handle(SYSTEM, notice("setup")).id)

    def readiness_facts(self, codes: list[str] | None) -> dict[str, Any]:
        """The read side's facts builder over this world's log folded in memory (every account signed in at T0)."""
        docs = MemoryDocs().fold(self.log.decode(n) for n in self.log.read(0, 1_000_000))
        return {d["unit_code"]: facts_of(d, T0, signins_known=True) for d in docs.of_kind("readiness")
                if codes is None or d["unit_code"] in codes}

    def _build_readiness(self) -> None:
        """A self-inspection of street A that found its warehouse without minimums (then set: green, ready for 销号)
        and its committee unrecorded (still red, past the campaign's one-minute deadline)."""
        self.ids["campaign"] = self.as_admin(c.OpenCampaign(kind="self", unit_code=STREET_A, title="新兴街道自查",
                                                            deadline=T0 + timedelta(minutes=1)))
        self.ids["rect_green"] = rectification_id(self.ids["campaign"], STREET_A, "s1_4.warehouse")
        self.ids["rect_red"] = rectification_id(self.ids["campaign"], STREET_A, "s1_4.committee")
        self.as_admin(c.SetMinimum(warehouse_id=self.ids["warehouse"], code="SANDBAG", minimum=100))

    def _build_people(self) -> None:
        """The register: village A's reporter and a persuader, and a street A training the reporter attended."""
        do = self.as_admin
        self.accounts.add("reporter", PASSWORD, "reporter", VILLAGE_A, None, "灾害信息员 魏红霞")  # beside the log
        self.ids["person_a"] = do(c.RegisterPerson(unit_code=VILLAGE_A, name="魏红霞", phone="13803740011", posts=["info_reporter"]))
        self.ids["person_a2"] = do(c.RegisterPerson(unit_code=VILLAGE_A, name="魏国强", phone="13803740012", posts=["persuader"]))
        self.ids["training"] = do(c.RecordTraining(unit_code=STREET_A, day=local_day(T0), topic="灾情信息报送培训", hours=3,
                                                   attendees=[self.ids["person_a"]]))

    def handle(self, who: Principal, command: c.Command) -> Any:
        return self.service.handle(CommandContext(who, request_id="test"), command)

    def as_admin(self, command: c.Command) -> UUID:
        return UUID(self.handle(ADMIN, command).id)

    def head(self) -> int:
        return self.log.max_position()


@dataclass(frozen=True)
class Case:
    """A command aimed at street A's records, and the team whose phone may send it (for field accounts)."""

    command: Callable[[World], c.Command]
    team: str = "team_a0"
    scoped: bool = True  # False: no unit to be out of (admin-only or platform-only commands)
    unit: str | None = None  # the in-scope account's unit when it must be that very unit (a target signing its warning)


def notice(key: str) -> c.QueueNotification:
    return c.QueueNotification(key=key, purpose="dispatch", record_kind="dispatch", record_id="d", unit_code=STREET_A,
                               recipient={"name": "张队长", "post": "team_leader"}, channel="sms", address="13903740009",
                               text="【应急调度】请立即确认。", urgent=True)


CASES: dict[type[c.Command], Case] = {
    c.QueueNotification: Case(lambda w: notice("another"), scoped=False),
    c.RecordNotificationAttempt: Case(lambda w: c.RecordNotificationAttempt(notification_id=w.ids["notification"], attempt=1,
                                                                            outcome="delivered", detail="sms-1"), scoped=False),
    c.RegisterUnit: Case(lambda w: c.RegisterUnit(code="411099001009", name="新村社区", kind="community"), scoped=False),
    c.ReportIncident: Case(lambda w: c.ReportIncident(category="natural_disaster", subtype="rainstorm", level="IV", title="道路积水",
                                                      unit_code=VILLAGE_A, occurred_at=T0)),
    c.VerifyIncident: Case(lambda w: c.VerifyIncident(incident_id=w.ids["incident"])),
    c.ChangeIncidentLevel: Case(lambda w: c.ChangeIncidentLevel(incident_id=w.ids["incident"], level="III", reason="积水扩大")),
    c.UpdateSituation: Case(lambda w: c.UpdateSituation(incident_id=w.ids["incident"], figures={"evacuated": 46})),
    c.ControlIncident: Case(lambda w: c.ControlIncident(incident_id=w.ids["verified"])),
    c.CloseIncident: Case(lambda w: c.CloseIncident(incident_id=w.ids["verified"], summary="明火扑灭，无人员伤亡")),
    c.DismissIncident: Case(lambda w: c.DismissIncident(incident_id=w.ids["incident"], reason="重复上报")),
    c.RecordReportedUpward: Case(lambda w: c.RecordReportedUpward(incident_ids=[w.ids["incident"]], acknowledged_at=w.now,
                                                                  batch_id="batch-1"), scoped=False),
    c.ReceiveDirective: Case(lambda w: c.ReceiveDirective(upstream_id="XC-2026-0721", title="启动防汛Ⅳ级应急响应", content="",
                                                          level="high", issuer="许昌市", issued_at=T0, unit_code=DISTRICT), scoped=False),
    c.AcknowledgeDirective: Case(lambda w: c.AcknowledgeDirective(directive_id=w.ids["directive"], note="已部署")),
    c.RegisterTeam: Case(lambda w: c.RegisterTeam(name="新兴街道民兵连", kind="militia", unit_code=STREET_A, members=30)),
    c.SetTeamDuty: Case(lambda w: c.SetTeamDuty(team_id=w.ids["team_a4"], on_duty=False), team="team_a4"),
    c.OrderDispatch: Case(lambda w: c.OrderDispatch(incident_id=w.ids["incident"], team_id=w.ids["team_a4"], task="清淤")),
    c.AcknowledgeDispatch: Case(lambda w: c.AcknowledgeDispatch(dispatch_id=w.ids["ordered"])),
    c.DepartDispatch: Case(lambda w: c.DepartDispatch(dispatch_id=w.ids["acknowledged"]), team="team_a1"),
    c.ArriveDispatch: Case(lambda w: c.ArriveDispatch(dispatch_id=w.ids["departed"]), team="team_a2"),
    c.CompleteDispatch: Case(lambda w: c.CompleteDispatch(dispatch_id=w.ids["arrived"], note="排水完毕"), team="team_a3"),
    c.DeclineDispatch: Case(lambda w: c.DeclineDispatch(dispatch_id=w.ids["ordered"], reason="车辆故障")),
    c.CancelDispatch: Case(lambda w: c.CancelDispatch(dispatch_id=w.ids["ordered"], reason="改派")),
    c.EscalateDispatch: Case(lambda w: c.EscalateDispatch(dispatch_id=w.ids["ordered"], reason="ack_overdue"), scoped=False),
    c.RegisterWarehouse: Case(lambda w: c.RegisterWarehouse(name="新兴街道第二仓库", unit_code=STREET_A)),
    c.ReceiveStock: Case(lambda w: c.ReceiveStock(warehouse_id=w.ids["warehouse"], lines={"SANDBAG": 100})),
    c.CountStock: Case(lambda w: c.CountStock(warehouse_id=w.ids["warehouse"], code="SANDBAG", counted=440)),
    c.SetMinimum: Case(lambda w: c.SetMinimum(warehouse_id=w.ids["warehouse"], code="SANDBAG", minimum=200)),
    c.RequestAllocation: Case(lambda w: c.RequestAllocation(incident_id=w.ids["incident"], warehouse_id=w.ids["warehouse"],
                                                            lines={"SANDBAG": 10})),
    c.ShipAllocation: Case(lambda w: c.ShipAllocation(allocation_id=w.ids["reserved"], vehicle="豫K·A1234")),
    c.DeliverAllocation: Case(lambda w: c.DeliverAllocation(allocation_id=w.ids["shipped"], received_by="王队长")),
    c.ReturnAllocation: Case(lambda w: c.ReturnAllocation(allocation_id=w.ids["delivered"], lines={"SANDBAG": 5})),
    c.CancelAllocation: Case(lambda w: c.CancelAllocation(allocation_id=w.ids["reserved"], reason="需求取消")),
    c.FileDailyReport: Case(lambda w: c.FileDailyReport(unit_code=VILLAGE_A, day=local_day(w.now), zero=True)),
    c.DraftWarning: Case(lambda w: c.DraftWarning(category="natural_disaster", subtype="strong_wind", level="yellow", headline="大风黄色预警",
                                                  onset=w.now, expires=w.now + timedelta(hours=3), targets=[STREET_A])),
    c.IssueWarning: Case(lambda w: c.IssueWarning(warning_id=w.ids["warning_draft"])),
    c.UpdateWarning: Case(lambda w: c.UpdateWarning(warning_id=w.ids["warning"], changes={"level": "orange"}, reason="雨势减弱")),
    c.LiftWarning: Case(lambda w: c.LiftWarning(warning_id=w.ids["warning"], reason="降雨结束")),
    c.AcknowledgeWarning: Case(lambda w: c.AcknowledgeWarning(warning_id=w.ids["warning"], unit_code=STREET_A), unit=STREET_A),
    c.ReportWarningResponse: Case(lambda w: c.ReportWarningResponse(warning_id=w.ids["warning"], unit_code=STREET_A,
                                                                    measures={"patrols": 4}, note="已巡查"), unit=STREET_A),
    c.EscalateWarningReceipt: Case(lambda w: c.EscalateWarningReceipt(receipt_id=w.ids["receipt_a"]), scoped=False),
    c.ReceiveCityWarning: Case(lambda w: c.ReceiveCityWarning(alert=c.CityAlert(
        sender="xuchang-yjj", identifier="41100041600000_20260720090000_0001", sent=T0, exercise=False, msg_type="Alert",
        references=[], category="natural_disaster", subtype="rainstorm", level="orange", headline="许昌市暴雨橙色预警",
        description="", instruction="", onset=T0, expires=T0 + timedelta(hours=6), sender_name="许昌市气象台",
        area_codes=[STREET_A])), scoped=False),
    c.DraftDisasterReport: Case(lambda w: c.DraftDisasterReport(incident_id=w.ids["incident"], stage="continuing",
                                                                figures={"affected_population": 40, "relocated": 12})),
    c.ReviseDisasterReport: Case(lambda w: c.ReviseDisasterReport(report_id=w.ids["rep_draft"], figures={"affected_population": 130})),
    c.SignOffDisasterReport: Case(lambda w: c.SignOffDisasterReport(report_id=w.ids["rep_draft"], note="同意报送")),
    c.SubmitDisasterReport: Case(lambda w: c.SubmitDisasterReport(report_id=w.ids["rep_signed"])),
    c.RecordReportsAcknowledged: Case(lambda w: c.RecordReportsAcknowledged(report_ids=[w.ids["rep_submitted"]], acknowledged_at=w.now,
                                                                            batch_id="batch-2"), scoped=False),
    c.EscalateReportDeadline: Case(lambda w: c.EscalateReportDeadline(incident_id=w.ids["old_flood"], stage="initial", key="initial"),
                                   scoped=False),
    c.ScheduleDuty: Case(lambda w: c.ScheduleDuty(unit_code=STREET_A, day=local_day(w.now) + timedelta(days=1),
                                                  leader={"name": "张局长", "phone": "13903740001"},
                                                  officers=[{"name": "李静", "phone": "13903740002"}])),
    c.SignHandover: Case(lambda w: c.SignHandover(unit_code=DISTRICT, open_items=[], notes="无")),
    c.ConfirmHandover: Case(lambda w: c.ConfirmHandover(handover_id=w.ids["handover"], note="已接班")),
    c.EscalateHandover: Case(lambda w: c.EscalateHandover(handover_id=w.ids["handover"]), scoped=False),
    c.RegisterRiskPoint: Case(lambda w: c.RegisterRiskPoint(unit_code=VILLAGE_A, name="加油站", subject="某加油站", hazard="火灾爆炸",
                                                            method="direct", level="larger", basis="重点监管")),
    c.AssessRiskPoint: Case(lambda w: c.AssessRiskPoint(risk_point_id=w.ids["risk_point"], method="lec", l=1, e=6, c=7)),
    c.SetRiskControls: Case(lambda w: c.SetRiskControls(risk_point_id=w.ids["risk_point"],
                                                        controls=[{"tier": "enterprise", "measures": "巡检", "person": "张三"}])),
    c.RecordInspection: Case(lambda w: c.RecordInspection(unit_code=VILLAGE_A, kind="planned", inspected_at=T0,
                                                          checklist=[{"item": "消防通道", "result": "fail"}],
                                                          risk_point_ids=[w.ids["risk_point"]],
                                                          findings=[{"grade": "general", "title": "通道堵塞", "evidence": [PHOTO]}])),
    c.ReportHiddenDanger: Case(lambda w: c.ReportHiddenDanger(unit_code=VILLAGE_A, grade="general", title="灭火器过期", site="村委会",
                                                              evidence=[PHOTO])),
    c.AssignHiddenDanger: Case(lambda w: c.AssignHiddenDanger(danger_id=w.ids["hd_found"], rectifier="村委会", responsible="村主任",
                                                              deadline=T0 + timedelta(days=3), measures="更换灭火器")),
    c.NoteDangerProgress: Case(lambda w: c.NoteDangerProgress(danger_id=w.ids["hd_rectifying"], note="已采购", evidence=[PHOTO])),
    c.MoveDangerDeadline: Case(lambda w: c.MoveDangerDeadline(danger_id=w.ids["hd_rectifying"], deadline=T0 + timedelta(days=9),
                                                              reason="材料延迟")),
    c.ReportDangerRectified: Case(lambda w: c.ReportDangerRectified(danger_id=w.ids["hd_rectifying"], evidence=[PHOTO])),
    c.VerifyHiddenDanger: Case(lambda w: c.VerifyHiddenDanger(danger_id=w.ids["hd_reported"], note="合格")),
    c.RejectHiddenDanger: Case(lambda w: c.RejectHiddenDanger(danger_id=w.ids["hd_reported"], reason="未彻底",
                                                              deadline=T0 + timedelta(days=2))),
    c.CloseHiddenDanger: Case(lambda w: c.CloseHiddenDanger(danger_id=w.ids["hd_verified"])),
    c.EscalateHiddenDanger: Case(lambda w: c.EscalateHiddenDanger(danger_id=w.ids["hd_overdue"]), scoped=False),
    c.RegisterPlan: Case(lambda w: c.RegisterPlan(unit_code=VILLAGE_A, kind="mechanism", mechanism="warning", title="魏庄村预警信息发布机制",
                                                  version="1.0", revised_on=T0.date(), document=PLAN_PDF)),
    c.RevisePlan: Case(lambda w: c.RevisePlan(plan_id=w.ids["plan"], version="2026修订", revised_on=T0.date(), document=PLAN_PDF,
                                              note="更新转移路线")),
    c.FilePlan: Case(lambda w: c.FilePlan(plan_id=w.ids["plan"], filed_with="新兴街道办事处", filed_on=T0.date(), reference="备-2026-01")),
    c.RetirePlan: Case(lambda w: c.RetirePlan(plan_id=w.ids["plan"], reason="并入街道预案")),
    c.RecordDrill: Case(lambda w: c.RecordDrill(plan_id=w.ids["plan"], kind="special", held_on=T0.date(), scenario="山洪转移",
                                                participants=40, participant_units=[VILLAGE_A], people=[str(w.ids["person_a"])])),
    c.ResolveDrillFinding: Case(lambda w: c.ResolveDrillFinding(drill_id=w.ids["drill"], n=1, note="已设置标识牌")),
    c.EscalatePlan: Case(lambda w: c.EscalatePlan(plan_id=w.ids["plan_old"], reason="revision_lapsed"), scoped=False),
    c.EscalateUnitDrills: Case(lambda w: c.EscalateUnitDrills(unit_code=STREET_A), scoped=False),
    # Accounts, kept beside the log (answered with the account, not a position: tests/unit/test_account_commands.py).
    c.AddUser: Case(lambda w: c.AddUser(username="duty2", password=PASSWORD, role="operator", unit_code=STREET_A), scoped=False),
    c.IssueTeamAccount: Case(lambda w: c.IssueTeamAccount(team_id=w.ids["team_a1"], display_name="救援1队手机")),
    c.RevokeAccount: Case(lambda w: c.RevokeAccount(username="phone-a0")),
    c.ChangeTeamStrength: Case(lambda w: c.ChangeTeamStrength(team_id=w.ids["team_a5"], members=19, reason="2人调离，1人补入")),
    c.OpenCampaign: Case(lambda w: c.OpenCampaign(kind="self", unit_code=STREET_A, title="新兴街道二次自查")),
    c.SignOffRectification: Case(lambda w: c.SignOffRectification(rectification_id=w.ids["rect_green"], note="已设最低储备")),
    c.EscalateRectification: Case(lambda w: c.EscalateRectification(rectification_id=w.ids["rect_red"]), scoped=False),
    c.RegisterPerson: Case(lambda w: c.RegisterPerson(unit_code=VILLAGE_A, name="魏建军", phone="13803740013", posts=["militia"])),
    c.UpdatePersonContact: Case(lambda w: c.UpdatePersonContact(person_id=w.ids["person_a"], name="魏红霞", phone="13803740099")),
    c.ChangePersonPosts: Case(lambda w: c.ChangePersonPosts(person_id=w.ids["person_a"], posts=["info_reporter", "persuader"])),
    c.LinkPersonAccount: Case(lambda w: c.LinkPersonAccount(person_id=w.ids["person_a"], username="reporter")),
    c.MarkPersonLeft: Case(lambda w: c.MarkPersonLeft(person_id=w.ids["person_a2"], reason="外出务工")),
    c.RecordTraining: Case(lambda w: c.RecordTraining(unit_code=STREET_A, day=local_day(T0), topic="防汛避险培训", hours=2.5,
                                                      attendees=[w.ids["person_a2"]])),
    c.AddTrainingAttendees: Case(lambda w: c.AddTrainingAttendees(training_id=w.ids["training"], attendees=[w.ids["person_a2"]])),
}
COMMANDS = sorted(CASES, key=lambda t: t.__name__)


def allowed_roles(command: type[c.Command]) -> set[str]:
    route = c.ROUTE_OF[command]
    return set(MATRIX[route]) if route else set()  # type: ignore[arg-type]


def principal(world: World, role: str, case: Case, *, in_scope: bool) -> Principal:
    """An account of `role` whose scope covers street A's records (or, out of scope, street B's only)."""
    if role == "field":
        team = case.team if in_scope else "team_b"
        return Principal(f"{team}-phone", "field", STREET_A if in_scope else STREET_B, team_id=str(world.ids[team]))
    if role == "reporter":
        return Principal("reporter", "reporter", (case.unit or VILLAGE_A) if in_scope else VILLAGE_B)
    return Principal(role, role, (case.unit or DISTRICT) if in_scope else STREET_B)


def refused(world: World, who: Principal, command: c.Command) -> str:
    head, accounts = world.head(), dump_accounts(world.accounts)
    with pytest.raises(DomainError) as info:
        world.handle(who, command)
    assert world.head() == head, "a refused command wrote to the log"
    assert dump_accounts(world.accounts) == accounts, "a refused command changed an account"
    return info.value.code


GIVEN = World()


@pytest.fixture(scope="module")
def shared_world() -> World:
    """One world for the refusals: a refused command writes nothing, so they can share it."""
    return GIVEN.copy()


def test_every_command_has_one_handler_and_a_case_here() -> None:
    every = {cls for cls in vars(c).values() if inspect.isclass(cls) and issubclass(cls, c.Command) and cls is not c.Command}
    assert set(HANDLERS) == every == set(CASES) == set(c.ROUTE_OF)
    for command, handler in HANDLERS.items():
        params = set(itertools.islice(inspect.signature(handler).parameters, 2, None))
        names = {f.name for f in fields(command)}
        assert params == names or "fields" in params, f"{command.__name__}: fields {names} vs handler {params}"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda t: t.__name__)
def test_roles_outside_the_table_are_refused_before_anything_is_read(shared_world: World, command: type[c.Command]) -> None:
    case = CASES[command]
    for role in sorted(set(ROLES) - allowed_roles(command)):
        who = principal(shared_world, role, case, in_scope=True)
        assert refused(shared_world, who, case.command(shared_world)) == "forbidden", role


# Commands that name a place by its unit code: units are public, so refusing them reveals nothing. A commander
# revoking another street's team phone is refused as before the command pipeline took accounts (403).
AT_A_UNIT = {c.ReportIncident, c.RegisterTeam, c.RegisterWarehouse, c.FileDailyReport, c.DraftWarning,
             c.ScheduleDuty, c.SignHandover, c.RegisterRiskPoint, c.RecordInspection, c.ReportHiddenDanger, c.OpenCampaign,
             c.RevokeAccount, c.RegisterPlan, c.RegisterPerson, c.RecordTraining}


@pytest.mark.parametrize("command", [t for t in COMMANDS if CASES[t].scoped], ids=lambda t: t.__name__)
def test_accounts_of_another_street_or_team_are_refused(shared_world: World, command: type[c.Command]) -> None:
    """A record out of scope answers exactly as an unknown one (not_found), so ids and their units cannot be probed."""
    case = CASES[command]
    expected = "forbidden" if command in AT_A_UNIT else "not_found"
    for role in sorted(allowed_roles(command) - {"admin"}):
        who = principal(shared_world, role, case, in_scope=False)
        assert refused(shared_world, who, case.command(shared_world)) == expected, role


@pytest.mark.parametrize("command", [t for t in COMMANDS if not issubclass(t, c.AccountCommand)], ids=lambda t: t.__name__)
def test_every_allowed_role_in_scope_is_accepted(command: type[c.Command]) -> None:
    case = CASES[command]
    roles = sorted(allowed_roles(command)) or ["system"]
    for role in roles:
        world = GIVEN.copy()
        who = SYSTEM if role == "system" else principal(world, role, case, in_scope=True)
        head = world.head()
        answer = world.handle(who, case.command(world))
        assert answer.position > head and not answer.replayed, role


def test_a_retried_key_answers_the_first_time_and_writes_nothing() -> None:
    w = GIVEN.copy()
    ctx = CommandContext(ADMIN, request_id="r", idempotency_key="k-1", request_hash="h")
    first = w.service.handle(ctx, c.UpdateSituation(incident_id=w.ids["incident"], figures={"evacuated": 12}))
    again = w.service.handle(ctx, c.UpdateSituation(incident_id=w.ids["incident"], figures={"evacuated": 12}))
    assert (again.id, again.position, again.replayed) == (first.id, first.position, True)
    assert w.head() == first.position
    other = CommandContext(ADMIN, request_id="r", idempotency_key="k-1", request_hash="other")
    with pytest.raises(DomainError) as info:
        w.service.handle(other, c.UpdateSituation(incident_id=w.ids["incident"], figures={"evacuated": 13}))
    assert info.value.code == "idempotency_mismatch"


def test_cross_aggregate_rules_hold_in_the_pipeline() -> None:
    """A team serves one dispatch at a time; stock never goes below what is reserved."""
    w = GIVEN.copy()
    busy = c.OrderDispatch(incident_id=w.ids["verified"], team_id=w.ids["team_a0"], task="再派")
    assert refused(w, ADMIN, busy) == "team_unavailable"
    greedy = c.RequestAllocation(incident_id=w.ids["incident"], warehouse_id=w.ids["warehouse"], lines={"SANDBAG": 10_000})
    assert refused(w, ADMIN, greedy) == "insufficient_stock"
    closed = c.CloseIncident(incident_id=w.ids["verified"], summary="结案")
    w.handle(ADMIN, closed)
    assert refused(w, ADMIN, c.OrderDispatch(incident_id=w.ids["verified"], team_id=w.ids["team_a5"], task="x")) == "validation_error"


def test_a_retry_answers_as_the_first_time_even_when_the_decision_changed() -> None:
    """A key is not looked up before deciding (a fresh command would pay for nothing). A repeat whose decision is
    now refused (the receipt already signed, by the first send) looks its key up then and answers as the first did."""
    w = GIVEN.copy()
    ctx = CommandContext(Principal("desk", "operator", STREET_A), request_id="r", idempotency_key="k-sign", request_hash="h")
    command = c.AcknowledgeWarning(warning_id=w.ids["warning"], unit_code=STREET_A)
    real = w.log.find_answer
    looks: list[str] = []

    def counted(key: str) -> Any:
        looks.append(key)
        return real(key)

    w.log.find_answer = counted  # type: ignore[method-assign]
    first = w.service.handle(ctx, command)
    assert looks == [], "a fresh command does not look its key up"
    again = w.service.handle(ctx, command)
    assert (again.id, again.position, again.replayed) == (first.id, first.position, True) and len(looks) == 1
    other = CommandContext(Principal("desk", "operator", STREET_A), request_id="r", idempotency_key="k-other", request_hash="h")
    w.log.find_answer = real  # type: ignore[method-assign]
    assert refused(w, other.principal, command) == "invalid_transition"  # a new key is a new request: refused


def test_a_repeat_that_would_be_accepted_again_writes_nothing_and_answers_as_the_first_time() -> None:
    """A situation update repeated with its key decides again (and would be accepted): its save fails on the key,
    in the events' own transaction, so nothing is written twice and the first answer is given."""
    w = GIVEN.copy()
    ctx = CommandContext(Principal("desk", "operator", STREET_A), request_id="r", idempotency_key="k-fig", request_hash="h")
    command = c.UpdateSituation(incident_id=w.ids["incident"], figures={"affected": 12}, notes="")
    first = w.service.handle(ctx, command)
    head = w.log.max_position()
    again = w.service.handle(ctx, command)
    assert (again.id, again.position, again.replayed) == (first.id, first.position, True)
    assert w.log.max_position() == head, "the repeat wrote nothing"
    changed = CommandContext(Principal("desk", "operator", STREET_A), request_id="r", idempotency_key="k-fig", request_hash="other")
    with pytest.raises(DomainError) as info:
        w.service.handle(changed, command)
    assert info.value.code == "idempotency_mismatch" and w.log.max_position() == head


# -- 双重预防 rules that take more than one aggregate or the caller into account -------------
def test_a_major_hidden_danger_is_assigned_by_the_district_with_the_five_in_place() -> None:
    w = GIVEN.copy()
    major = w.as_admin(c.ReportHiddenDanger(unit_code=VILLAGE_A, grade="major", title="液氨管道腐蚀", site="冷库"))
    five = {"responsibility": "厂长", "measures": "更换管道", "funds": "20万元", "time_limit": "30日", "plan": "泄漏预案"}
    assign = c.AssignHiddenDanger(danger_id=major, rectifier="冷链公司", responsible="厂长", deadline=T0 + timedelta(days=30),
                                  measures="更换管道", five=five, supervision="区安委办挂牌督办")
    street_commander = Principal("street-commander", "commander", STREET_A)
    assert refused(w, street_commander, assign) == "forbidden"
    assert refused(w, Principal("commander", "commander", DISTRICT), c.AssignHiddenDanger(
        danger_id=major, rectifier="冷链公司", responsible="厂长", deadline=T0 + timedelta(days=30), measures="更换管道")) == "validation_error"
    assert w.handle(Principal("commander", "commander", DISTRICT), assign).position > 0


def test_the_reporter_of_a_rectification_cannot_verify_it_through_the_pipeline() -> None:
    w = GIVEN.copy()
    assert refused(w, INSPECTOR_A, c.VerifyHiddenDanger(danger_id=w.ids["hd_reported"])) == "invalid_transition"
    assert w.handle(Principal("operator", "operator", DISTRICT), c.VerifyHiddenDanger(danger_id=w.ids["hd_reported"])).position > 0


def test_evidence_of_another_unit_or_unknown_is_refused() -> None:
    w = GIVEN.copy()
    other = EVIDENCE.put(b"%PDF-1.4 village B", unit_code=VILLAGE_B, name="b.pdf", uploaded_by="x")["sha256"]
    for sha in (other, "0" * 64):
        assert refused(w, ADMIN, c.ReportHiddenDanger(unit_code=VILLAGE_A, grade="general", title="x", site="y",
                                                      evidence=[sha])) == "validation_error"


def test_a_drill_names_people_of_the_register_only() -> None:
    w = GIVEN.copy()
    drill = dict(plan_id=w.ids["plan"], kind="tabletop", held_on=T0.date(), scenario="转移", participants=3)
    assert refused(w, ADMIN, c.RecordDrill(**drill, people=[str(uuid4())])) == "not_found"
    assert refused(w, ADMIN, c.RecordDrill(**drill, people=["not-an-id"])) == "validation_error"
    assert w.handle(ADMIN, c.RecordDrill(**drill, people=[str(w.ids["person_a"]), str(w.ids["person_a2"])])).position > 0


def test_the_roster_of_the_shift_still_on_duty_after_midnight_may_be_corrected() -> None:
    """At 02:00 local the night shift of yesterday's roster is on duty (the duty day runs 08:30 to 08:30): its desk
    may still correct that roster; the day before it is past. (CI once ran across local midnight and found this.)"""
    w = GIVEN.copy()
    w.now = datetime(2026, 7, 20, 18, 0, tzinfo=timezone.utc)  # 02:00 on 21 July in Shanghai
    roster = {"leader": {"name": "张局长", "phone": "13903740001"}, "officers": [{"name": "李静", "phone": "13903740002"}]}
    on_shift = local_day(w.now) - timedelta(days=1)
    w.handle(ADMIN, c.ScheduleDuty(unit_code=STREET_A, day=on_shift, **roster))
    assert refused(w, ADMIN, c.ScheduleDuty(unit_code=STREET_A, day=on_shift - timedelta(days=1), **roster)) == "validation_error"
