"""Warnings over HTTP, in-process: the city's signed CAP 1.2 input, CAP out and the Atom feed, the desk's commands.

The city's alerts are fed valid, schema-invalid, malformed, unsigned, replayed (an old signature), re-sent,
duplicated and out-of-order; every refusal is problem+json and writes nothing. Every CAP document served
validates against the OASIS CAP 1.2 schema.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from gateway.citylink.cap import CAP_NS, schema
from gateway.citylink.webhooks import parse_secrets, sign
from gateway.container import Container
from gateway.context import CommandContext, Principal
from gateway.entrypoints.app import create_app
from gateway.settings import Settings

SECRET = "whsec_" + base64.b64encode(b"warnings-test-secret-of-32-bytes").decode()
D, A, A1, A2, B, B1 = "411099000000", "411099001000", "411099001001", "411099001002", "411099002000", "411099002001"
PASSWORD = "Warnings-Passw0rd!"
ACCOUNTS = {"cmd": ("commander", D), "op": ("operator", D), "desk_a": ("operator", A), "rep_a1": ("reporter", A1),
            "rep_b1": ("reporter", B1)}


class Http:
    def __init__(self, client: TestClient, container: Container):
        self.client, self.container, self.tokens = client, container, {}

    def login(self, who: str) -> dict[str, str]:
        if who not in self.tokens:
            r = self.client.post("/api/v1/auth/token", data={"username": who, "password": PASSWORD})
            self.tokens[who] = r.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, who: str | None, path: str, **kw: Any) -> Any:
        return self.client.get("/api/v1" + path, headers=self.login(who) if who else {}, **kw)

    def post(self, who: str, path: str, body: Any = None, key: str = "") -> Any:
        headers = self.login(who) | ({"Idempotency-Key": key} if key else {})
        return self.client.post("/api/v1" + path, headers=headers, json=body)

    def settle(self) -> int:
        head = self.container.log.max_position()
        assert self.container.wait_for(head, 10)
        return head


@pytest.fixture
def http(tmp_path: Any) -> Iterator[Http]:
    settings = Settings(data_dir=tmp_path, secret_key="test-secret-of-at-least-32-bytes!", upstream_secret=SECRET,
                        watchdog_seconds=0, cap_sector="416", cap_sender="dongcheng-yjj")
    container = Container.build(settings)
    admin = CommandContext(Principal("setup", "admin", D), request_id="setup")
    container.service.register_unit(admin, code=D, name="东城区", kind="district")
    for code, name, kind in [(A, "新兴街道", "street"), (A1, "魏庄村", "village"), (A2, "许田村", "village"),
                             (B, "东城街道", "street"), (B1, "后河社区", "community")]:
        container.service.register_unit(admin, code=code, name=name, kind=kind)
    for user, (role, unit) in ACCOUNTS.items():
        container.accounts.add(user, PASSWORD, role, unit, None, user)
    with TestClient(create_app(settings, container)) as client:
        h = Http(client, container)
        h.settle()
        yield h


def cap(identifier: str, msg_type: str = "Alert", references: list[tuple[str, str]] = (), severity: str = "Severe",
        status: str = "Actual", areas: list[str] = (B,), headline: str = "许昌市暴雨橙色预警", event: str = "暴雨",
        sent: datetime | None = None) -> bytes:
    sent = sent or datetime.now(timezone.utc)
    local = lambda t: t.astimezone(timezone(timedelta(hours=8))).isoformat(timespec="seconds")  # noqa: E731
    ns = f"{{{CAP_NS}}}"
    root = etree.Element(ns + "alert", nsmap={None: CAP_NS})

    def sub(parent: Any, name: str, text: str | None = None) -> Any:
        el = etree.SubElement(parent, ns + name)
        el.text = text
        return el

    for name, text in [("identifier", identifier), ("sender", "xuchang-qxt"), ("sent", local(sent)), ("status", status),
                       ("msgType", msg_type), ("scope", "Public")]:
        sub(root, name, text)
    if references:
        sub(root, "references", " ".join(f"xuchang-qxt,{i},{local(t)}" for i, t in references))
    info = sub(root, "info")
    for name, text in [("language", "zh-CN"), ("category", "Met"), ("event", event), ("urgency", "Immediate"),
                       ("severity", severity), ("certainty", "Likely"), ("onset", local(sent)),
                       ("expires", local(sent + timedelta(hours=6))), ("senderName", "许昌市气象台"), ("headline", headline),
                       ("description", "预计未来6小时降雨量将达60毫米以上。"), ("instruction", "做好防汛准备。")]:
        sub(info, name, text)
    for code in areas:
        area = sub(info, "area")
        sub(area, "areaDesc", code)
        geo = sub(area, "geocode")
        sub(geo, "valueName", "GB/T 2260")
        sub(geo, "value", code)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def send(h: Http, body: bytes, msg_id: str | None = None, secret: str = SECRET, timestamp: int | None = None,
         signed: bool = True) -> Any:
    headers = {"content-type": "application/cap+xml"}
    if signed:
        headers |= sign(parse_secrets(secret), msg_id or f"msg-{time.monotonic_ns()}", body, timestamp=timestamp)
    return h.client.post("/api/v1/upstream/warnings", content=body, headers=headers)


def problem(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json") and r.json()["code"] == code, r.text


def test_a_city_alert_is_forwarded_updated_and_cancelled_and_refusals_write_nothing(http: Http) -> None:
    h = http
    t0 = datetime.now(timezone.utc) - timedelta(minutes=2)
    alert = cap("CITY-0001", sent=t0)
    r = send(h, alert, msg_id="m-1")
    assert r.status_code == 201, r.text
    wid = r.json()["id"]
    h.settle()
    doc = h.get("cmd", f"/warnings/{wid}").json()
    assert (doc["source"], doc["level"], doc["targets"], doc["subtype"]) == ("city", "orange", [B], "rainstorm")
    assert sorted(x["unit_code"] for x in h.get("cmd", f"/warnings/{wid}/receipts").json()["items"]) == [B, B1]
    head = h.settle()
    # The same signed message again (a retry): the first answer, nothing written.
    again = send(h, alert, msg_id="m-1")
    assert (again.status_code, again.json()["id"], again.headers.get("Idempotent-Replayed")) == (201, wid, "true")
    refusals = [
        (send(h, alert), 409, "conflict"),  # the same alert in a new message: already received
        (send(h, alert, signed=False), 401, "unauthenticated"),  # unsigned
        (send(h, alert, secret="whsec_" + base64.b64encode(b"not-the-city-secret-of-32-bytes!").decode()), 401, "unauthenticated"),
        (send(h, alert, msg_id="m-old", timestamp=int(time.time()) - 600), 401, "unauthenticated"),  # a replayed capture
        (send(h, b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>x"), 422, "validation_error"),  # malformed
        (send(h, cap("CITY-0009", severity="Catastrophic")), 422, "validation_error"),  # schema-invalid (severity)
        (send(h, cap("CITY-0010", status="Real")), 422, "validation_error"),  # schema-invalid (status)
        (send(h, cap("CITY-0011", "Update", [("CITY-0404", t0)])), 409, "conflict"),  # out of order: its alert never came
        (send(h, b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>"), 422, "validation_error"),
    ]
    for r, status, code in refusals:
        problem(r, status, code)
    assert h.container.log.max_position() == head  # nothing written by any refusal
    # Update (red now), a stale update that does not reference it, then Cancel.
    t1 = t0 + timedelta(minutes=1)
    r = send(h, cap("CITY-0002", "Update", [("CITY-0001", t0)], severity="Extreme", headline="许昌市暴雨红色预警", sent=t1))
    assert r.status_code == 201, r.text
    head = h.settle()
    problem(send(h, cap("CITY-0003", "Update", [("CITY-0001", t0)], severity="Minor", sent=t1)), 409, "conflict")
    problem(send(h, cap("CITY-0002", "Update", [("CITY-0001", t0)], severity="Extreme", sent=t1)), 409, "conflict")  # applied
    assert h.container.log.max_position() == head
    doc = h.get("cmd", f"/warnings/{wid}").json()
    assert (doc["level"], doc["headline"], doc["version"]) == ("red", "许昌市暴雨红色预警", 2)
    assert h.get("rep_b1", f"/warnings/{wid}").json()["level"] == "red"
    r = send(h, cap("CITY-0004", "Cancel", [("CITY-0001", t0), ("CITY-0002", t1)], sent=t1 + timedelta(seconds=30)))
    assert r.status_code == 201, r.text
    h.settle()
    assert h.get("cmd", f"/warnings/{wid}").json()["status"] == "lifted"
    # Our own CAP copies: Alert, Update, Cancel, each valid CAP 1.2 with references to the earlier ones.
    for n, msg_type in enumerate(["Alert", "Update", "Cancel"], start=1):
        r = h.get("cmd", f"/warnings/{wid}/cap", params={"message": n})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/cap+xml")
        root = etree.fromstring(r.content)
        schema().assertValid(root)
        assert root.findtext(f"{{{CAP_NS}}}msgType") == msg_type
        assert root.findtext(f"{{{CAP_NS}}}sender") == "dongcheng-yjj"
        assert root.findtext(f"{{{CAP_NS}}}identifier").startswith("411099416000")  # division + sector 416 + unit 000 + ext
        refs = root.findtext(f"{{{CAP_NS}}}references")
        assert (refs or "").count("dongcheng-yjj,") == n - 1


def test_an_exercise_from_the_city_stays_an_exercise(http: Http) -> None:
    r = send(http, cap("CITY-DRILL-1", status="Exercise", severity="Minor", areas=[A1]))
    assert r.status_code == 201, r.text
    http.settle()
    doc = http.get("rep_a1", f"/warnings/{r.json()['id']}").json()
    assert (doc["exercise"], doc["level"], doc["targets"]) == (True, "blue", [A1])
    xml = http.get("rep_a1", f"/warnings/{r.json()['id']}/cap").content
    assert etree.fromstring(xml).findtext(f"{{{CAP_NS}}}status") == "Exercise"


def test_the_desk_drafts_the_commander_issues_targets_sign_and_the_feed_lists_it(http: Http) -> None:
    h = http
    now = datetime.now(timezone.utc)
    body = {"category": "natural_disaster", "subtype": "rainstorm", "level": "red", "headline": "东城区暴雨红色预警",
            "description": "预计3小时内降雨量100毫米以上。", "instruction": "转移低洼地带群众。", "onset": now.isoformat(),
            "expires": (now + timedelta(hours=6)).isoformat(), "targets": [A]}
    problem(h.post("rep_a1", "/warnings", body), 403, "forbidden")
    r = h.post("op", "/warnings", body, key="k-draft")
    assert r.status_code == 201, r.text
    wid = r.json()["id"]
    h.settle()
    problem(h.get("cmd", f"/warnings/{wid}/cap"), 404, "not_found")  # a draft is not published
    problem(h.get("rep_a1", f"/warnings/{wid}"), 404, "not_found")  # nor shown to the villages
    problem(h.post("op", f"/warnings/{wid}/issue", {}), 403, "forbidden")
    assert h.post("cmd", f"/warnings/{wid}/issue", {}, key="k-issue").status_code == 200
    h.settle()
    mine = {w["id"]: w for w in h.get("rep_a1", "/warnings").json()["items"]}
    assert mine[wid]["my_receipt"]["status"] == "pending" and mine[wid]["shown_status"] == "issued"
    assert h.get("rep_b1", "/warnings").json()["items"] == []  # street B is not targeted
    problem(h.post("rep_b1", f"/warnings/{wid}/receipts/{A1}/acknowledge", {}), 404, "not_found")
    problem(h.post("desk_a", f"/warnings/{wid}/receipts/{A1}/acknowledge", {}), 403, "forbidden")  # the village signs itself
    assert h.post("rep_a1", f"/warnings/{wid}/receipts/{A1}/acknowledge", {}, key="k-ack").status_code == 200
    assert h.post("rep_a1", f"/warnings/{wid}/receipts/{A1}/acknowledge", {}, key="k-ack").headers["Idempotent-Replayed"] == "true"
    problem(h.post("rep_a1", f"/warnings/{wid}/receipts/{A1}/acknowledge", {}, key="k-ack-2"), 409, "invalid_transition")
    r = h.post("rep_a1", f"/warnings/{wid}/receipts/{A1}/response", {"measures": {"people_moved": 12, "patrols": 3}, "note": "已转移"})
    assert r.status_code == 200, r.text
    problem(h.post("rep_a1", f"/warnings/{wid}/receipts/{A1}/response", {"measures": {"people_moved": -1}}), 422, "validation_error")
    h.settle()
    receipts = h.get("desk_a", f"/warnings/{wid}/receipts").json()["items"]
    assert [(x["unit_code"], x["status"]) for x in receipts] == [(A, "pending"), (A1, "signed"), (A2, "pending")]
    assert h.get("rep_a1", f"/warnings/{wid}/receipts").json()["items"][0]["unit_code"] == A1  # a village: its own only
    up = h.get("cmd", f"/warnings/{wid}/responses").json()
    assert up["total"]["signed"] == 1 and up["streets"][0]["measures"]["people_moved"] == 12
    problem(h.get("rep_b1", f"/warnings/{wid}/cap"), 404, "not_found")  # out of scope: as unknown
    feed = etree.fromstring(h.get("rep_a1", "/warnings/feed").content)
    atom = "{http://www.w3.org/2005/Atom}"
    assert [e.get("href") for e in feed.iter(atom + "link") if e.get("rel") == "alternate"] == [f"http://testserver/api/v1/warnings/{wid}/cap"]
    assert list(etree.fromstring(h.get("rep_b1", "/warnings/feed").content).iter(atom + "entry")) == []  # not B1's
    assert h.post("cmd", f"/warnings/{wid}/update", {"level": "orange", "reason": "雨势减弱"}).status_code == 200
    problem(h.post("cmd", f"/warnings/{wid}/update", {"reason": "nothing"}), 422, "validation_error")
    assert h.post("cmd", f"/warnings/{wid}/lift", {"reason": "降雨结束"}).status_code == 200
    h.settle()
    assert [e for e in etree.fromstring(h.get("cmd", "/warnings/feed").content).iter(atom + "entry")] == []
    board = h.get("desk_a", "/board").json()
    assert [r for r in board["warning_receipt"] if r["warning_id"] == wid] == []  # lifted: off the board


def test_the_city_alert_tool_sends_what_the_district_accepts(http: Http) -> None:
    """gateway/tools/cityalert.py (for demos and drills) builds valid CAP: an Alert to a street, then its Cancel."""
    from gateway.tools.cityalert import build

    alert = build("DRILL-1", "Alert", [], "red", "许昌市暴雨红色预警（演练）", [A], True, 3)
    schema().assertValid(etree.fromstring(alert))
    r = send(http, alert)
    assert r.status_code == 201, r.text
    assert send(http, build("DRILL-2", "Cancel", ["DRILL-1"], "red", "解除", [A], True, 3)).status_code == 201
    http.settle()
    doc = http.get("cmd", f"/warnings/{r.json()['id']}").json()
    assert (doc["exercise"], doc["targets"], doc["status"]) == (True, [A], "lifted")
