"""ui/board-model.js and projections/board.py derive the same alerts and counts, at many moments.

The browser keeps the board between deltas and judges deadlines against its own clock, so
its derivation must agree with the server's at every moment, not only at one: before and
after each dispatch deadline, either side of the 2-hour report rule, of the 16:00 daily
report cut-off and of midnight. Node runs the page's own module over the same boards.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from domain.policy import SHANGHAI
from projections.board import derive
from tests.conftest import IN_CI

UI = Path(__file__).resolve().parents[2] / "ui"
NODE = shutil.which("node")
if NODE is None:
    if IN_CI:
        pytest.fail("node is required in CI (it runs ui/board-model.js)", pytrace=False)
    pytest.skip("node not available", allow_module_level=True)

DAY = datetime(2026, 7, 20, tzinfo=SHANGHAI)  # a rainy-season day, local midnight


def at(hh: int, mm: int = 0, day: int = 0) -> datetime:
    return (DAY + timedelta(days=day, hours=hh, minutes=mm)).astimezone(timezone.utc)


def iso(d: datetime) -> str:
    return d.isoformat()


def board() -> dict[str, list[dict[str, Any]]]:
    streets = ["411099001000", "411099002000"]
    villages = [s[:9] + f"{n:03d}" for s in streets for n in (1, 2, 3)]
    units = [{"id": c, "code": c, "kind": "street"} for c in streets] + [{"id": c, "code": c, "kind": "village"} for c in villages]
    units.append({"id": "c1", "code": "411099002004", "kind": "community"})
    dispatch = []
    for n, (status, ack, arrive, escalated) in enumerate([
        ("ordered", at(9, 0), None, []),
        ("ordered", at(15, 59), None, ["ack_overdue"]),  # escalated before its own deadline shows (the log says so)
        ("acknowledged", at(8, 0), at(10, 30), []),
        ("departed", at(8, 0), at(16, 5), []),
        ("departed", at(8, 0), None, []),
        ("arrived", at(8, 0), at(9, 0), []),
    ]):
        dispatch.append({"id": f"d{n}", "status": status, "ack_deadline": iso(ack), "arrive_deadline": arrive and iso(arrive),
                         "escalations": [{"reason": r} for r in escalated], "team_name": f"队{n}", "incident_title": "积水",
                         "unit_code": villages[n % len(villages)]})
    incident = [
        {"id": "i1", "title": "积水", "occurred_at": iso(at(7, 10)), "reported_upward_at": None, "unit_code": villages[0]},
        {"id": "i2", "title": "火情", "occurred_at": iso(at(13, 0)), "reported_upward_at": iso(at(13, 30)), "unit_code": villages[4]},
        {"id": "i3", "title": "滑坡", "occurred_at": iso(at(22, 30)), "reported_upward_at": None, "unit_code": streets[1]},
    ]
    daily_status = [{"id": c, "unit_code": c, "day": DAY.date().isoformat()} for c in villages[:4]]
    daily_status.append({"id": villages[4], "unit_code": villages[4], "day": (DAY.date() - timedelta(days=1)).isoformat()})
    team = [{"id": "t1", "status": "idle", "unit_code": villages[0]}, {"id": "t2", "status": "ordered", "unit_code": streets[1]},
            {"id": "t3", "status": "off_duty", "unit_code": villages[2]}]
    warehouse = [{"id": "w1", "name": "库", "unit_code": streets[0],
                  "stock": {"SANDBAG": {"on_hand": 100, "reserved": 60, "minimum": 50}, "PUMP": {"on_hand": 4, "reserved": 0, "minimum": 2}}}]
    directive = [{"id": "v1", "title": "防汛指令", "received_at": iso(at(6)), "unit_code": "411099000000"}]
    # a real red warning to every unit (deadline 9:15, expires 16:00), an exercise one lifted before (its receipts closed
    # are off the board), and an expired yellow one: overdue receipts alarm only while their warning is in force
    warning = [
        {"id": "wa", "status": "issued", "level": "red", "headline": "暴雨红色预警", "exercise": False, "expires": iso(at(16, 0))},
        {"id": "wb", "status": "issued", "level": "yellow", "headline": "大风黄色预警（演练）", "exercise": True, "expires": iso(at(23, 0))},
        {"id": "wc", "status": "issued", "level": "blue", "headline": "过期", "exercise": False, "expires": iso(at(8, 0))},
        {"id": "wd", "status": "draft", "level": "orange", "headline": "草稿", "exercise": False, "expires": iso(at(20, 0))},
    ]
    # readiness: a street whose drill lapses at 12:00 (its `until`), one whose platform item the snapshot judged
    # (readiness_live), and villages complete or not
    def item(item_id: str, std: str, status: str, until: datetime | None = None) -> dict[str, Any]:
        return {"id": item_id, "standard": std, "status": status, "reason": {"zh": "理由", "en": "why"},
                "until": until and iso(until), "lapse": {"zh": "过期", "en": "lapsed"} if until else None}

    readiness = [
        {"id": streets[0], "unit_code": streets[0], "unit_kind": "street", "street_code": streets[0], "card": {"items": [
            item("s1_4.team", "s1_4", "green"), item("s1_4.platform", "s1_4", "unknown"), item("six.training", "six", "green", at(12, 0))]}},
        {"id": streets[1], "unit_code": streets[1], "unit_kind": "street", "street_code": streets[1], "card": {"items": [
            item("s1_4.team", "s1_4", "red"), item("s1_4.platform", "s1_4", "unknown")]}},
        *[{"id": v, "unit_code": v, "unit_kind": "village", "street_code": v[:9] + "000", "card": {"items": [
            item("v1_3.reporter", "v1_3", "green" if n % 2 else "red"), item("v1_3.militia", "v1_3", "green", at(20, 0) if n == 1 else None)]}}
          for n, v in enumerate(villages)],
    ]
    rectification = [  # due 11:00, one already escalated; the signed-off one is off the board
        {"id": "r1", "status": "open", "item_id": "s1_4.team", "deadline": iso(at(11, 0)), "unit_code": streets[1], "escalated_at": None},
        {"id": "r2", "status": "open", "item_id": "v1_3.reporter", "deadline": iso(at(11, 0)), "unit_code": villages[0],
         "escalated_at": iso(at(11, 1))},
        {"id": "r3", "status": "signed_off", "item_id": "s1_4.office", "deadline": iso(at(9, 0)), "unit_code": streets[0], "escalated_at": None},
    ]
    readiness_live = {streets[0]: {"s1_4.platform": item("s1_4.platform", "s1_4", "green", at(15, 0))}}
    receipt = []
    for n, code in enumerate(streets + villages):
        signed = iso(at(9, 5)) if n % 3 == 0 else iso(at(9, 40)) if n % 3 == 1 else None
        receipt.append({"id": f"ra{n}", "warning_id": "wa", "unit_code": code, "deadline": iso(at(9, 15)), "signed_at": signed,
                        "late": signed is not None and n % 3 == 1, "escalated_at": iso(at(9, 16)) if n == 2 else None})
        receipt.append({"id": f"rb{n}", "warning_id": "wb", "unit_code": code, "deadline": iso(at(10, 30)), "signed_at": None,
                        "late": False, "escalated_at": None})
        receipt.append({"id": f"rc{n}", "warning_id": "wc", "unit_code": code, "deadline": iso(at(7, 0)), "signed_at": None,
                        "late": False, "escalated_at": None})
    # Staged disaster reports: a 续报 due at 09:00 today (level II, 初报 in), a 核报 due at 10:00 (5 days after control)
    # with its 初报 escalated, and a dismissed incident that owes nothing.
    def schedule(sid: str, level: str, status: str, occurred: datetime, controlled: datetime | None, submitted: list[str],
                 escalated: list[str]) -> dict[str, Any]:
        return {"id": sid, "title": f"灾情{sid}", "unit_code": villages[1], "category": "natural_disaster", "level": level,
                "incident_status": status, "occurred_at": iso(occurred), "initial_due_at": iso(occurred + timedelta(hours=2)),
                "controlled_at": controlled and iso(controlled), "submitted": {k: iso(occurred) for k in submitted},
                "escalated": escalated, "reports": {}}

    report_schedule = [
        schedule("s1", "II", "verified", at(22, 0, day=-1), None, ["initial"], []),
        schedule("s2", "IV", "controlled", at(1, 0, day=-6), at(10, 0, day=-5), [], ["initial"]),
        schedule("s3", "I", "dismissed", at(1, 0, day=-2), None, [], []),
    ]
    handover = [{"id": "h1", "day": "2026-07-19", "unit_code": streets[0], "confirm_by": iso(at(9, 10)), "escalated_at": None},
                {"id": "h2", "day": "2026-07-19", "unit_code": streets[1], "confirm_by": iso(at(23, 0)), "escalated_at": iso(at(8, 0))}]
    hidden_danger = [  # 双重预防: rectification deadlines, one already escalated; a review date
        {"id": "h1", "status": "rectifying", "grade": "major", "deadline": iso(at(10, 30)), "escalations": [], "title": "阀门", "unit_code": villages[0]},
        {"id": "h2", "status": "reported", "grade": "general", "deadline": iso(at(9, 0)), "escalations": [], "title": "通道", "unit_code": villages[1]},
        {"id": "h3", "status": "found", "grade": "general", "deadline": None, "escalations": [], "title": "灭火器", "unit_code": villages[4]},
        {"id": "h4", "status": "rectifying", "grade": "general", "deadline": iso(at(16, 0)),
         "escalations": [{"deadline": iso(at(16, 0))}], "title": "护栏", "unit_code": streets[1]},
    ]
    risk_point = [{"id": "r1", "name": "储罐", "level": "major", "review_due": iso(at(9, 10)), "unit_code": villages[2]},
                  {"id": "r2", "name": "配电", "level": "low", "review_due": None, "unit_code": villages[3]}]
    return {"unit": units, "dispatch": dispatch, "incident": incident, "daily_status": daily_status, "team": team,
            "warehouse": warehouse, "directive": directive, "allocation": [], "warning": warning, "warning_receipt": receipt,
            "report_schedule": report_schedule, "handover": handover, "hidden_danger": hidden_danger, "risk_point": risk_point,
            "readiness": readiness, "readiness_live": readiness_live, "rectification": rectification}


MOMENTS = [at(h, m) for h, m in [(0, 0), (8, 59), (9, 0), (9, 1), (9, 10), (10, 30), (10, 31), (15, 59), (16, 0), (16, 6), (23, 59)]]
MOMENTS += [at(0, 0, day=1), at(0, 31, day=1), at(16, 1, day=1)]
RELAYS = [None, {"alarm": True, "last_error": "HTTP 400", "alarm_since": iso(at(5))}]


def normal(alert: dict[str, Any]) -> dict[str, Any]:
    out = dict(alert)
    if out.get("since"):
        out["since"] = datetime.fromisoformat(out["since"].replace("Z", "+00:00")).timestamp()
    return out


def js_derive(cases: list[tuple[dict[str, Any], int, Any]]) -> list[dict[str, Any]]:
    script = f"""
        import {{ derive }} from {json.dumps((UI / "board-model.js").as_uri())};
        let input = "";
        process.stdin.on("data", (c) => (input += c));
        process.stdin.on("end", () => {{
          const out = JSON.parse(input).map(([b, ms, relay]) => derive(b, ms, relay));
          process.stdout.write(JSON.stringify(out));
        }});
    """
    run = subprocess.run([NODE, "--input-type=module", "-e", script], input=json.dumps(cases), capture_output=True, text=True,
                         timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_the_page_and_the_server_derive_the_same_board_at_every_moment() -> None:
    b = board()
    cases = [(b, int(m.timestamp() * 1000), relay) for m in MOMENTS for relay in RELAYS]
    from_js = js_derive(cases)
    kinds_seen: set[str] = set()
    readiness_seen: set[str] = set()
    for (_, ms, relay), js in zip(cases, from_js, strict=True):
        py = derive(b, datetime.fromtimestamp(ms / 1000, timezone.utc), relay)
        moment = datetime.fromtimestamp(ms / 1000, SHANGHAI).isoformat()
        assert [normal(a) for a in js["alerts"]] == [normal(a) for a in py["alerts"]], moment
        assert js["counts_by_street"] == py["counts_by_street"], moment
        assert js["dangers_by_street"] == py["dangers_by_street"], moment
        assert js["readiness_by_street"] == py["readiness_by_street"], moment
        readiness_seen.add(json.dumps(py["readiness_by_street"], sort_keys=True))
        kinds_seen |= {a["kind"] for a in py["alerts"]}
    # the moments chosen exercise every alert the board derives
    assert kinds_seen == {"ack_overdue", "arrival_overdue", "report_overdue", "directive", "relay_alarm", "stock_low",
                          "daily_report_missing", "receipt_overdue", "disaster_report_overdue", "handover_unconfirmed",
                          "danger_overdue", "risk_review_overdue", "rectification_overdue"}
    assert len(readiness_seen) >= 3  # the drill's lapse at 12:00, the sign-in's at 15:00, the militia's at 20:00 each change it


def test_the_pages_lec_level_is_the_domains() -> None:
    from domain.prevention import LEC_C, LEC_E, LEC_L, lec_level

    scores = sorted({round(l * e * c, 2) for l in LEC_L for e in LEC_E for c in LEC_C} | {70, 160, 320, 69.99, 320.01})  # noqa: E741
    script = f"""
        import {{ lecLevel }} from {json.dumps((UI / "board-model.js").as_uri())};
        process.stdout.write(JSON.stringify({json.dumps(scores)}.map(lecLevel)));
    """
    run = subprocess.run([NODE, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [lec_level(d) for d in scores]
