"""Notifications that reach people, in-process over real HTTP: the stand-in SMS provider and a local Web Push
endpoint receive exactly one message per (event, recipient, channel) through 5xx answers and timeouts; the push
payload decrypts with the subscription's keys (http_ece) to the message; 404/410 removes a subscription; quiet
hours defer a blue warning but not a red one. (The kill -9 of the notifier: tests/e2e/test_notify_kill.py.)"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from domain.glossary import term
from domain.policy import SHANGHAI
from gateway.context import CommandContext, Principal
from gateway.service_layer import commands as c
from tests.integration.notify_district import (A, A1, ADMIN, DUTY_LEADER_PHONE, HEAD_PHONE, LEADER_PHONE, OFFICER_PHONE, REPORTER_PHONE,
                                               NotifyDistrict,
                                               notify_district)

WATCHDOG = CommandContext(Principal("watchdog", "system", ""), request_id="watchdog")


def topics(d: NotifyDistrict, suffix: str) -> list[Any]:
    return [d.container.log.decode(n) for n in d.container.log.read(0, 100_000) if n.topic.endswith(suffix)]


def warn(d: NotifyDistrict, level: str, headline: str) -> str:
    now = datetime.now(timezone.utc)
    wid = d.container.service.handle(ADMIN, c.DraftWarning("natural_disaster", "rainstorm", level, headline, now,
                                                           now + timedelta(hours=6), [A1])).id
    d.container.service.handle(ADMIN, c.IssueWarning(UUID(wid)))
    return wid


def test_each_message_arrives_once_through_5xx_and_timeouts(settings: Any) -> None:
    """On the embedded default and on PostgreSQL (the outbox, the lease and the position in either)."""
    with notify_district(settings) as d:
        field = d.subscribe("field_a")
        reporter = d.subscribe("rep_a1")
        svc = d.container.service
        dispatch = svc.handle(ADMIN, c.OrderDispatch(UUID(d.ids["IA1"]), UUID(d.ids["TA"]), "抽排积水，转移东街低洼处群众")).id
        # The provider answers 503, then takes longer than our timeout (the message sent, its answer lost), then recovers.
        d.sms.set_faults({"error_rate": 1.0})
        d.push.script[field.endpoint.removeprefix(d.push.url)] = [503, "hang"]
        d.run(turns=4)
        d.sms.set_faults({"error_rate": 0.0, "hang_rate": 1.0, "hang_seconds": 0.6})
        d.run(turns=3)
        d.sms.set_faults({"hang_rate": 0.0})
        # The acknowledgement deadline passes: the escalation goes to the leader on duty.
        svc.clock = lambda: datetime.now(timezone.utc) + timedelta(hours=1)
        svc.handle(WATCHDOG, c.EscalateDispatch(UUID(dispatch), "ack_overdue"))
        svc.clock = lambda: datetime.now(timezone.utc)
        red = warn(d, "red", "东城区暴雨红色预警")
        d.run()

        rows = d.container.outbox.rows()
        assert rows and {r["status"] for r in rows} == {"delivered"}, rows
        sms_rows = [r for r in rows if r["channel"] == "sms"]
        # the team's leader, the leader on duty, and the warned village's head and reporter from the people register
        assert sorted(r["address"] for r in sms_rows) == sorted([LEADER_PHONE, DUTY_LEADER_PHONE, HEAD_PHONE, REPORTER_PHONE])
        sent = d.sms.listing()
        # exactly one message per notification at the provider, however often it was tried
        assert sorted(m["id"] for m in sent["messages"]) == sorted(r["notification_id"] for r in sms_rows)
        assert sent["duplicates"] >= 1, "the timed-out attempt was resent with the same id"
        by_to = {m["to"]: m["text"] for m in sent["messages"]}
        assert "新兴街道综合救援队" in by_to[LEADER_PHONE] and len(by_to[LEADER_PHONE]) <= 70, by_to
        assert by_to[DUTY_LEADER_PHONE].startswith("【超时升级】" + term("escalationReason", "ack_overdue")), by_to
        # Web Push: the payload decrypts with the subscription's keys to the message; one per notification
        pushed = [field.decrypt(b) for b in d.push.bodies(field)]
        assert sorted({p["id"] for p in pushed}) == sorted(r["notification_id"] for r in rows
                                                            if r["channel"] == "webpush" and r["recipient_name"] == "field_a")
        assert pushed[0]["body"] == by_to[LEADER_PHONE] and pushed[0]["title"] == term("notifyPurpose", "dispatch")
        warned = [reporter.decrypt(b) for b in d.push.bodies(reporter)]
        assert len(warned) == 1 and warned[0]["body"].startswith("【红色预警】东城区暴雨红色预警"), warned
        # every attempt and outcome is on the record: the dispatch's GET, and the log
        doc = d.client.get(f"/api/v1/dispatches/{dispatch}", headers=d.headers("op_a")).json()
        notes = {(n["channel"], n["recipient"]): n for n in doc["notifications"]}
        assert notes[("sms", "张建国")]["status"] == "delivered" and notes[("sms", "张建国")]["attempts"] >= 3
        assert notes[("sms", "张建国")]["address"] == "139****0001", "the log keeps phones masked"
        assert notes[("sms", "李带班")]["purpose"] == "escalation"
        assert notes[("webpush", "field_a")]["attempts"] == 3
        assert len(topics(d, "Notification.AttemptFailed")) >= 4
        assert len(topics(d, "Notification.Delivered")) == len(rows)
        warning_doc = d.client.get(f"/api/v1/warnings/{red}", headers=d.headers("rep_a1")).json()
        # a warning is read by every unit it targets: who was told stays out of it, the posts and states are there
        assert sorted((n["channel"], n["post"], n["recipient"], n["status"]) for n in warning_doc["notifications"]) == [
            ("sms", "info_reporter", "", "delivered"), ("sms", "unit_head", "", "delivered"), ("webpush", "account", "", "delivered")]
        assert by_to[REPORTER_PHONE] == warned[0]["body"]
        # reading the log again plans nothing new
        d.container.outbox.plan(d.notifier.state.read()["position"], d.notifier.state.read()["position"], [])
        before = len(rows)
        d.notifier.state.set(position=0)
        d.run()
        assert len(d.container.outbox.rows()) == before and len(d.sms.listing()["messages"]) == len(sms_rows)


def test_an_expired_subscription_is_removed_on_410(tmp_path: Any) -> None:
    with notify_district(tmp_path) as d:
        field = d.subscribe("field_a")
        d.push.script[field.endpoint.removeprefix(d.push.url)] = [410]
        dispatch = d.container.service.handle(ADMIN, c.OrderDispatch(UUID(d.ids["IA1"]), UUID(d.ids["TA"]), "巡查")).id
        d.run()
        assert d.container.subscriptions.find(username="field_a") == []
        doc = d.client.get(f"/api/v1/dispatches/{dispatch}", headers=d.headers("op_a")).json()
        push = [n for n in doc["notifications"] if n["channel"] == "webpush"]
        assert push[0]["status"] == "failed" and "410" in push[0]["error"]
        assert [n["status"] for n in doc["notifications"] if n["channel"] == "sms"] == ["delivered"]
        # only a browser's push service over https: not the internal network
        for endpoint in ("https://10.0.0.8/push/x", "https://intranet.example/push/x", "ftp://fcm.googleapis.com/x"):
            d.container.settings.push_allow_http = False
            r = d.client.post("/api/v1/push/subscriptions", json=field.subscription() | {"endpoint": endpoint}, headers=d.headers("field_a"))
            assert r.status_code == 422 and r.json()["code"] == "validation_error", r.text
        ok = d.client.post("/api/v1/push/subscriptions", json=field.subscription() | {"endpoint": "https://fcm.googleapis.com/fcm/send/abc"},
                           headers=d.headers("field_a"))
        assert ok.status_code == 201
        d.container.subscriptions.remove(ok.json()["id"])
        d.container.settings.push_allow_http = True
        # a subscription is the account's own: another account cannot remove it; the owner can
        device = d.subscribe("field_a")
        sid = d.client.get("/api/v1/push/subscriptions", headers=d.headers("field_a")).json()["items"][0]["id"]
        assert d.client.delete(f"/api/v1/push/subscriptions/{sid}", headers=d.headers("rep_a1")).status_code == 404
        assert d.client.delete(f"/api/v1/push/subscriptions/{sid}", headers=d.headers("field_a")).status_code == 204
        assert device.endpoint and d.container.subscriptions.find(username="field_a") == []


def test_quiet_hours_defer_a_blue_warning_but_not_a_red_one(tmp_path: Any) -> None:
    with notify_district(tmp_path, quiet_hours="22:00-07:00", notify_max_age_minutes=0) as d:
        reporter = d.subscribe("rep_a1")
        today = datetime.now(SHANGHAI).date()
        night = datetime(today.year, today.month, today.day, 23, 30, tzinfo=SHANGHAI)
        d.now[0], d.now_follows_time = night, False
        blue = warn(d, "blue", "东城区大风蓝色预警")
        red = warn(d, "red", "东城区暴雨红色预警")
        d.run()
        assert [reporter.decrypt(b)["body"][:6] for b in d.push.bodies(reporter)] == ["【红色预警】"]
        blue_doc = d.client.get(f"/api/v1/warnings/{blue}", headers=d.headers("rep_a1")).json()
        morning = datetime(today.year, today.month, today.day, 7, 0, tzinfo=SHANGHAI) + timedelta(days=1)
        assert len(blue_doc["notifications"]) == 3  # the village's head and reporter (SMS), the reporter's phone
        for note in blue_doc["notifications"]:
            assert note["status"] == "deferred" and datetime.fromisoformat(note["not_before"]) == morning
        assert [m["text"][:6] for m in d.sms.listing()["messages"]] == ["【红色预警】"] * 2
        d.now[0] = night + timedelta(hours=7, minutes=31)  # 07:01 the next morning
        d.run()
        assert [reporter.decrypt(b)["body"][:6] for b in d.push.bodies(reporter)] == ["【红色预警】", "【蓝色预警】"]
        for wid in (blue, red):
            doc = d.client.get(f"/api/v1/warnings/{wid}", headers=d.headers("rep_a1")).json()
            assert [n["status"] for n in doc["notifications"]] == ["delivered"] * 3


def test_a_missing_zero_report_reminds_the_village_reporter_once(tmp_path: Any) -> None:
    with notify_district(tmp_path) as d:
        reporter = d.subscribe("rep_a1")
        today = datetime.now(SHANGHAI).date()
        d.now_follows_time = False
        # tomorrow: nothing filed yet; before 16:00 no reminder, after it one, however often the notifier turns
        d.now[0] = datetime(today.year, today.month, today.day, 15, 59, tzinfo=SHANGHAI) + timedelta(days=1)
        d.run(turns=2)
        assert d.push.bodies(reporter) == []
        d.now[0] += timedelta(minutes=2)
        d.run()
        d.notifier._daily_done = None  # as after a restart: planned again, sent not again
        d.run()
        (pushed,) = [reporter.decrypt(b) for b in d.push.bodies(reporter)]
        assert pushed["body"] == "【零报告提醒】魏庄村今日24小时零报告未报，请尽快报送。" and pushed["title"] == term("notifyPurpose", "daily_missing")
        unit = d.client.get(f"/api/v1/units/{A1}", headers=d.headers("rep_a1")).json()
        # every account reads a unit (the map): the village's record says a reporter was told, not who
        assert sorted((n["channel"], n["post"], n["recipient"], n["address"], n["status"]) for n in unit["notifications"]) == [
            ("sms", "info_reporter", "", "", "delivered"), ("webpush", "account", "", "", "delivered")]
        assert [m["to"] for m in d.sms.listing()["messages"]] == [REPORTER_PHONE]


def test_a_missed_report_deadline_tells_the_duty_officers_and_an_unconfirmed_handover_the_leader(tmp_path: Any) -> None:
    with notify_district(tmp_path) as d:
        svc = d.container.service
        handover = svc.handle(ADMIN, c.SignHandover(A, [], "夜班平稳")).id
        svc.clock = lambda: datetime.now(timezone.utc) + timedelta(hours=3)  # past the 初报's 2 hours and the handover's grace
        svc.handle(WATCHDOG, c.EscalateReportDeadline(UUID(d.ids["IA1"]), "initial", "initial"))
        svc.handle(WATCHDOG, c.EscalateHandover(UUID(handover)))
        d.run()
        by_to = {m["to"]: m["text"] for m in d.sms.listing()["messages"]}
        assert by_to[OFFICER_PHONE] == "【灾情报告超时】魏庄村内涝的初报已超报送时限，请尽快报送。", by_to
        assert by_to[DUTY_LEADER_PHONE].startswith("【超时升级】交接班未确认：新兴街道"), by_to
        board = d.client.get("/api/v1/board", headers=d.headers("op_a")).json()
        (h,) = [x for x in board["handover"] if x["id"] == handover]
        assert [(n["recipient"], n["status"]) for n in h["notifications"]] == [("李带班", "delivered")]
        (s,) = [x for x in board["report_schedule"] if x["id"] == d.ids["IA1"]]
        assert [(n["recipient"], n["purpose"], n["status"]) for n in s["notifications"]] == [("王值班", "report_deadline", "delivered")]
