"""A small district with marked data in two streets, served in-process, for the scope tests.

Street A (新兴街道) has villages A1 and A2, street B (东城街道) village B1. Every record
carries marker strings ("QZ-<what>-QZ") in its text, and `MARKERS` says which of the four
viewers may ever read each marker:

- "A": an operator of street A      - "B": a commander of street B
- "V": the reporter of village A1   - "F": the phone of street A's team TA

The allowed sets follow the one scope rule (`gateway.context.Principal.can_read`): records of a
unit are read within its ancestors' subtrees; a dispatch or an allocation belongs to its
incident's unit, and a field account reads only its own team's. Text copied into another record
(an incident's title into its dispatches) is readable wherever that record is.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from gateway.container import Container
from gateway.service_layer.commands import OpenCampaign, RecordTraining, RegisterPerson
from gateway.context import CommandContext, Principal
from gateway.entrypoints.app import create_app
from gateway.settings import Settings
from domain.policy import SHANGHAI

D, A, A1, A2, B, B1 = "411099000000", "411099001000", "411099001001", "411099001002", "411099002000", "411099002001"
PASSWORD = "Scope-sweep-Passw0rd!"
VIEWERS = {  # viewer -> (username, role, unit, team key)
    "A": ("op_a", "operator", A, None),
    "B": ("cmd_b", "commander", B, None),
    "V": ("rep_a1", "reporter", A1, None),
    "F": ("field_a", "field", A, "TA"),
}
ALL = frozenset(VIEWERS)

# marker -> the viewers that may read it
MARKERS: dict[str, frozenset[str]] = {
    # incidents (and their titles copied into dispatches and allocations)
    "A1-INC": frozenset("AVF"), "A1-ADDR": frozenset("AVF"), "A1-DESC": frozenset("AVF"),
    "A2-INC": frozenset("AF"), "A2-ADDR": frozenset("AF"),
    "B1-INC": frozenset("B"), "B1-ADDR": frozenset("B"),
    # teams: names are copied into their dispatches
    "TA-TEAM": frozenset("AVF"), "TA-LEADER": frozenset("AF"),
    "TA2-TEAM": frozenset("AF"), "TB-TEAM": frozenset("ABV"), "TB2-TEAM": frozenset("B"), "TB-LEADER": frozenset("B"),
    # dispatches: TA -> A1, TA2 -> A2, TB (street B's team) -> A1, TB2 -> B1
    "TA-TASK": frozenset("AVF"), "TA2-TASK": frozenset("A"), "XB-TASK": frozenset("AV"), "TB2-TASK": frozenset("B"),
    # warehouses: names are copied into their allocations
    "WA-WH": frozenset("AVF"), "WA-ADDR": frozenset("AF"), "WB-WH": frozenset("B"), "WB-ADDR": frozenset("B"),
    # allocations: to A1 for TA, to A2 for TA2, to B1 for TB2
    "ALA-DEST": frozenset("AVF"), "ALA2-DEST": frozenset("A"), "ALB-DEST": frozenset("B"),
    # the city's directive is the district's
    "D-DIR": frozenset(), "D-DIRTEXT": frozenset(),
    # early warnings: read by the units they target, those under them and above them; drafts by the issuing unit
    "WA-WARN": frozenset("AVF"), "WB1-WARN": frozenset("B"), "WD-WARN": frozenset("ABVF"), "WDRAFT-WARN": frozenset(),
    # receipts: by the subtree rule on the receiving unit (a street sees its villages' only)
    "A1-SIGN": frozenset("AVF"), "A2-RESP": frozenset("AF"), "B1-SIGN": frozenset("B"),
    # daily reports
    "A1-DAILY": frozenset("AVF"), "A2-DAILY": frozenset("AF"), "B1-DAILY": frozenset("B"),
    # changes made while the board sockets are open
    "A1-SIT": frozenset("AVF"), "A2-SIT": frozenset("AF"), "B1-SIT": frozenset("B"),
    "WA-NOTE": frozenset("AF"), "WB-NOTE": frozenset("B"),
    "A1-DAILY2": frozenset("AVF"), "A2-DAILY2": frozenset("AF"), "B1-DAILY2": frozenset("B"),
    "TA2-DONE": frozenset("A"), "TB2-DONE": frozenset("B"),
    # staged disaster reports (灾情报告) of A1's and B1's incidents; the streets' duty rosters and handovers
    "A1-REP": frozenset("AVF"), "B1-REP": frozenset("B"),
    "A-DUTY": frozenset("AF"), "B-DUTY": frozenset("B"), "A-HAND": frozenset("AF"), "B-HAND": frozenset("B"),
    # 双重预防: risk points, inspections, hidden dangers and their files, by place
    "A1-RISK": frozenset("AVF"), "B1-RISK": frozenset("B"), "A1-INSP": frozenset("AVF"), "B1-INSP": frozenset("B"),
    "A1-HD": frozenset("AVF"), "B1-HD": frozenset("B"), "A1-FILE": frozenset("AVF"), "B1-FILE": frozenset("B"),
    # 预案与演练: plans, their drills and findings, by the plan's unit
    "A1-PLAN": frozenset("AVF"), "B1-PLAN": frozenset("B"), "A1-DRILL": frozenset("AVF"), "B1-DRILL": frozenset("B"),
    "A1-FIND": frozenset("AVF"), "B1-FIND": frozenset("B"),
    # readiness: each street's self-inspection (自查), by the street that runs it
    "A-CAMP": frozenset("AF"), "B-CAMP": frozenset("B"),
    # the people register, by the person's unit (names may reach the readiness facts, read by every account in scope;
    # phones are never markers: tests/integration/test_people_api.py checks them), training sessions by organising unit
    "A1-PERSON": frozenset("AVF"), "B1-PERSON": frozenset("B"), "A-TRAIN": frozenset("AF"), "B-TRAIN": frozenset("B"),
}
MARKER_RE = re.compile(r"QZ-([A-Z0-9]+-[A-Z0-9]+)-QZ")


def m(name: str) -> str:
    assert name in MARKERS, name
    return f"QZ-{name}-QZ"


def leaks(viewer: str, text: str) -> list[str]:
    """Markers in `text` the viewer may not read."""
    return sorted({x for x in MARKER_RE.findall(text) if viewer not in MARKERS.get(x, ALL)})


@dataclass
class District:
    client: TestClient
    container: Container
    ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, viewer: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[viewer]}"}

    def get(self, viewer: str, path: str, **kw: Any) -> Any:
        return self.client.get("/api/v1" + path, headers=self.headers(viewer), **kw)

    def post(self, viewer: str, path: str, body: Any = None) -> Any:
        headers = self.headers(viewer) | {"Idempotency-Key": str(uuid.uuid4())}
        return self.client.post("/api/v1" + path, headers=headers, json=body)

    def settle(self) -> None:
        assert self.container.wait_for(self.container.log.max_position(), 10)


ADMIN = CommandContext(Principal("setup", "admin", D), request_id="setup")
CITY = CommandContext(Principal("city", "system", D), request_id="city")


def seed(c: Container) -> dict[str, str]:
    s, now = c.service, datetime.now(timezone.utc)
    s.register_unit(ADMIN, code=D, name="东城区", kind="district")
    for code, name, kind in [(A, "新兴街道", "street"), (A1, "魏庄村", "village"), (A2, "后河社区", "community"),
                             (B, "东城街道", "street"), (B1, "大周村", "village")]:
        s.register_unit(ADMIN, code=code, name=name, kind=kind)
    ids: dict[str, str] = {}
    team = lambda name, unit, kind="comprehensive", leader="": s.register_team(  # noqa: E731
        ADMIN, name=name, kind=kind, unit_code=unit, members=20, leader=leader, phone="").id
    ids["TA"] = team(m("TA-TEAM"), A, leader=m("TA-LEADER"))
    ids["TA2"] = team(m("TA2-TEAM"), A2, kind="militia")
    ids["TB"] = team(m("TB-TEAM"), B, leader=m("TB-LEADER"))
    ids["TB2"] = team(m("TB2-TEAM"), B1, kind="militia")
    for key, unit in (("WA", A), ("WB", B)):
        ids[key] = s.register_warehouse(ADMIN, name=m(f"{key}-WH"), unit_code=unit, address=m(f"{key}-ADDR"), manager="", phone="").id
        s.receive_stock(ADMIN, ids[key], {"QUILT": 50})
    for key, unit in (("IA1", A1), ("IA2", A2), ("IB1", B1)):
        tag = key[1:]
        ids[key] = s.report_incident(
            ADMIN, category="natural_disaster", subtype="flood", level="IV", title=m(f"{tag}-INC"), unit_code=unit,
            address=m(f"{tag}-ADDR"), description=m("A1-DESC") if tag == "A1" else "", occurred_at=now - timedelta(minutes=20),
            lat=None, lon=None, source="").id
    ids["DTA"] = s.order_dispatch(ADMIN, ids["IA1"], ids["TA"], m("TA-TASK")).id
    ids["DTA2"] = s.order_dispatch(ADMIN, ids["IA2"], ids["TA2"], m("TA2-TASK")).id
    ids["DXB"] = s.order_dispatch(ADMIN, ids["IA1"], ids["TB"], m("XB-TASK")).id  # street B's team sent into street A
    ids["DTB2"] = s.order_dispatch(ADMIN, ids["IB1"], ids["TB2"], m("TB2-TASK")).id
    ids["ALA"] = s.request_allocation(ADMIN, ids["IA1"], ids["WA"], {"QUILT": 1}, destination=m("ALA-DEST"), team_id=ids["TA"]).id
    ids["ALA2"] = s.request_allocation(ADMIN, ids["IA2"], ids["WA"], {"QUILT": 1}, destination=m("ALA2-DEST"), team_id=ids["TA2"]).id
    ids["ALB"] = s.request_allocation(ADMIN, ids["IB1"], ids["WB"], {"QUILT": 1}, destination=m("ALB-DEST"), team_id=ids["TB2"]).id
    ids["DIR"] = s.receive_directive(CITY, upstream_id="city-1", title=m("D-DIR"), content=m("D-DIRTEXT"), level="blue",
                                     issuer="许昌市应急指挥中心", issued_at=now, unit_code=D).id
    today = now.astimezone(SHANGHAI).date()
    for unit, tag in ((A1, "A1"), (A2, "A2"), (B1, "B1")):
        s.file_daily_report(ADMIN, unit, today, zero=False, summary=m(f"{tag}-DAILY"))
    c.projector.catch_up()  # issuing reads the unit tree from the read models
    warning = lambda tag, targets: s.draft_warning(  # noqa: E731
        ADMIN, category="natural_disaster", subtype="rainstorm", level="orange", headline=m(f"{tag}-WARN"), onset=now,
        expires=now + timedelta(hours=6), targets=targets, exercise=False).id
    for tag, targets in (("WA", [A]), ("WB1", [B1]), ("WD", [D])):
        ids[f"warning-{tag}"] = warning(tag, targets)
        s.issue_warning(ADMIN, ids[f"warning-{tag}"])
    ids["warning-WDRAFT"] = warning("WDRAFT", [A])
    s.acknowledge_warning(CommandContext(Principal("v", "reporter", A1), request_id="s"), ids["warning-WA"], A1, m("A1-SIGN"))
    s.report_warning_response(CommandContext(Principal("v2", "reporter", A2), request_id="s"), ids["warning-WD"], A2, {"patrols": 1},
                              m("A2-RESP"))
    s.acknowledge_warning(CommandContext(Principal("b1", "reporter", B1), request_id="s"), ids["warning-WD"], B1, m("B1-SIGN"))
    for key, inc in (("A1", "IA1"), ("B1", "IB1")):
        ids[f"R{key}"] = s.draft_disaster_report(ADMIN, ids[inc], "initial", {"affected_population": 10}, {}, m(f"{key}-REP")).id
    for unit, tag in ((A, "A"), (B, "B")):
        s.schedule_duty(ADMIN, unit, today, {"name": m(f"{tag}-DUTY"), "phone": "13900000000"}, [{"name": "值班员", "phone": ""}])
        ids[f"H{tag}"] = s.sign_handover(ADMIN, unit, [], m(f"{tag}-HAND")).id
    for tag, unit in (("A1", A1), ("B1", B1)):  # 双重预防
        sha = c.evidence.put(f"%PDF-1.4 {m(f'{tag}-FILE')}".encode(), unit_code=unit, name="f.pdf", uploaded_by="setup")["sha256"]
        ids[f"FI{tag}"] = sha
        ids[f"RP{tag}"] = s.register_risk_point(ADMIN, unit_code=unit, name=m(f"{tag}-RISK"), subject="x", hazard="y", method="lec",
                                               l=3, e=6, c=15).id
        ids[f"IN{tag}"] = s.record_inspection(ADMIN, unit_code=unit, kind="planned", inspected_at=now, site=m(f"{tag}-INSP"),
                                             checklist=[{"item": "i", "result": "fail"}], risk_point_ids=[UUID(ids[f"RP{tag}"])],
                                             findings=[{"grade": "general", "title": m(f"{tag}-HD"), "evidence": [sha]}]).id
        ids[f"HD{tag}"] = next(str(n.originator_id) for n in c.log.read(0, 100_000)
                              if n.topic.endswith("HiddenDanger.Found") and str(c.log.decode(n).inspection_id) == str(ids[f"IN{tag}"]))
        ids[f"PL{tag}"] = s.register_plan(ADMIN, unit_code=unit, kind="special", title=m(f"{tag}-PLAN"), version="1", hazard="防汛",
                                          revised_on=today, document=sha).id
        ids[f"DR{tag}"] = s.record_drill(ADMIN, UUID(ids[f"PL{tag}"]), kind="tabletop", held_on=today, scenario=m(f"{tag}-DRILL"),
                                         participants=5, findings=[{"finding": m(f"{tag}-FIND"), "owner": "村委会",
                                                                    "deadline": today.isoformat()}]).id
    c.projector.catch_up()  # a campaign is judged from the read models
    for unit, tag in ((A, "A"), (B, "B")):
        ids[f"C{tag}"] = s.handle(ADMIN, OpenCampaign(kind="self", unit_code=unit, title=m(f"{tag}-CAMP"))).id
    for street, village, tag, phone in ((A, A1, "A1", "13800000001"), (B, B1, "B1", "13800000002")):
        ids[f"P{tag}"] = s.handle(ADMIN, RegisterPerson(unit_code=village, name=m(f"{tag}-PERSON"), phone=phone,
                                                        posts=["info_reporter"])).id
        ids[f"TR{tag[0]}"] = s.handle(ADMIN, RecordTraining(unit_code=street, day=today, topic=m(f"{tag[0]}-TRAIN"), hours=2,
                                                            attendees=[UUID(ids[f"P{tag}"])])).id
    for viewer, (username, role, unit, team_key) in VIEWERS.items():
        c.accounts.add(username, PASSWORD, role, unit, ids[team_key] if team_key else None, f"{viewer}的账号")
    return {k: str(v) for k, v in ids.items()}


@contextmanager
def serve(settings: Settings) -> Iterator[District]:
    """The app in-process (TestClient: HTTP and WebSocket, no port), on a store seeded by `seed`."""
    settings = settings.model_copy(update={"watchdog_seconds": 0, "ws_flush_ms": 10})
    container = Container.build(settings)
    ids = seed(container)
    with TestClient(create_app(settings, container)) as client:
        district = District(client, container, ids)
        district.settle()
        for viewer, (username, *_rest) in VIEWERS.items():
            r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            district.tokens[viewer] = r.json()["access_token"]
        yield district
