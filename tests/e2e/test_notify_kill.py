"""kill -9 of the notifier: `yingji serve` (the notifier in-process) killed three times while it delivers the
demo's and new dispatches' messages through a flaky SMS provider (503s, answers held past the timeout) and a
local Web Push endpoint; afterwards every planned message was delivered, the provider holds exactly one
message per (event, recipient, channel), and the phone shows one notification per message (its tag is the
notification id, so a push resent after a lost answer replaces, never adds)."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

import pytest

from gateway.container import Container
from gateway.settings import Settings
from gateway.tools.smsgateway import SmsGateway
from tests.conftest import Server
from tests.integration.pushendpoint import PushEndpoint

SECRET = "sms-kill-test-secret-0123456789"


@pytest.fixture
def backend() -> str:
    return "sqlite"


def test_every_message_once_through_kill_9(demo_settings: Settings) -> None:
    sms = SmsGateway(SECRET, {"error_rate": 0.3, "hang_rate": 0.15, "hang_seconds": 1.2}, seed=11)
    push = PushEndpoint()
    env = {"YINGJI_SMS_URL": sms.serve(), "YINGJI_SMS_SECRET": SECRET, "YINGJI_SMS_TIMEOUT": "0.5", "YINGJI_PUSH_TIMEOUT": "0.5",
           "YINGJI_PUSH_ALLOW_HTTP": "true", "YINGJI_NOTIFY_BACKOFF_MAX": "0.5"}
    server = Server(demo_settings, env).start()
    try:
        phone = push.device("field")
        field = server.client("field")
        assert field.post("/push/subscriptions", phone.subscription("队长手机")).status_code == 201
        push.script["/push/field"] = [503, "hang", 503]
        # the phone's team is out on the demo's dispatch: called back, so it can be sent again
        cmd = server.client("commander")
        busy = cmd.get("/teams/" + field.user["team_id"]).json()["dispatch_id"]
        assert cmd.post(f"/dispatches/{busy}/cancel", {"reason": "改派"}).status_code == 200
        op = server.client("operator")
        teams = [t for t in op.get("/teams", params={"limit": 100}).json()["items"]
                 if t["status"] == "idle" and t["on_duty"] and t["phone"]]  # the teams whose leader has a phone
        incident = next(i for i in op.get("/incidents").json()["items"] if i["status"] in ("reported", "verified"))
        ordered = []
        for n, team in enumerate(teams[:5]):
            key = str(uuid.uuid4())
            body = {"team_id": team["id"], "task": f"第{n}组 转移群众"}
            for _ in range(20):  # the server may be down for a moment: the same key again
                try:
                    r = op.post(f"/incidents/{incident['id']}/dispatches", body, key=key)
                    if r.status_code in (200, 201):
                        ordered.append(r.json()["id"])
                        break
                except Exception:  # noqa: BLE001 - killed under us
                    pass
                time.sleep(0.3)
                op = server.client("operator") if server.proc and server.proc.poll() is None else op
            if n in (1, 3, 4):
                time.sleep(0.4 + 0.3 * n / 5)  # mid-delivery, between retries
                server.kill9()
                server.start()
                op = server.client("operator")
        assert len(ordered) == 5 and field.user["team_id"] in {t["id"] for t in teams[:5]}
        sms.set_faults({"error_rate": 0.0, "hang_rate": 0.0})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            docs = [op.get(f"/dispatches/{d}").json() for d in ordered]
            states = [n["status"] for doc in docs for n in doc.get("notifications", [])]
            if len(states) >= 6 and all(s == "delivered" for s in states):
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"not delivered: {states}")
    finally:
        server.stop()
    c = Container.build(demo_settings)
    try:
        rows = c.outbox.rows()
    finally:
        c.close()
    assert rows and {r["status"] for r in rows} == {"delivered"}, Counter(r["status"] for r in rows)
    sent = sms.listing()
    sms_rows = [r for r in rows if r["channel"] == "sms"]
    # the provider: one message per planned (event, recipient, sms), none other
    assert sorted(m["id"] for m in sent["messages"]) == sorted(r["notification_id"] for r in sms_rows)
    for d in ordered:
        assert sum(1 for r in sms_rows if r["record_id"] == d and r["purpose"] == "dispatch") == 1
    # the phone: every push payload decrypts; one notification shown per message
    payloads = [phone.decrypt(b) for b in push.bodies(phone)]
    shown = Counter(p["id"] for p in payloads)
    expected = sorted(r["notification_id"] for r in rows if r["channel"] == "webpush")
    assert sorted(shown) == expected and len(expected) >= 1
    print({"sms_requests": sent["requests"], "sms_duplicates_deduplicated": sent["duplicates"], "messages": len(sent["messages"]),
           "push_posts": len(payloads), "push_resent": len(payloads) - len(shown), "outbox": len(rows)})
    sms.close()
    push.close()
