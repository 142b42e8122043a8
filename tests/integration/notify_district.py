"""A small district for the notification tests: a street with a team (leader and phone), a village with its
reporter, today's roster, a field and a reporter account; the app in-process with the notifier driven by
the test (its own clock), the stand-in SMS provider and a local Web Push endpoint over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient

from domain.policy import SHANGHAI, duty_day
from gateway.container import Container
from gateway.context import CommandContext, Principal
from gateway.entrypoints.app import create_app
from gateway.settings import Settings
from gateway.tools.smsgateway import SmsGateway
from tests.integration.pushendpoint import Device, PushEndpoint

D, A, A1 = "411099000000", "411099001000", "411099001001"
PASSWORD = "Notify-test-Passw0rd!"
SECRET = "sms-test-secret-0123456789"
ADMIN = CommandContext(Principal("setup", "admin", D), request_id="setup")
LEADER_PHONE, DUTY_LEADER_PHONE, OFFICER_PHONE = "13900000001", "13900000002", "13900000003"
HEAD_PHONE, REPORTER_PHONE = "13900000011", "13900000012"  # the village's persuasion station head and reporter (people register)


@dataclass
class NotifyDistrict:
    container: Container
    client: TestClient
    sms: SmsGateway
    push: PushEndpoint
    ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    now: list[datetime] = field(default_factory=lambda: [datetime.now(timezone.utc)])
    notifier: Any = None

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def subscribe(self, user: str) -> Device:
        device = self.push.device(user)
        r = self.client.post("/api/v1/push/subscriptions", json=device.subscription(f"{user}的手机"), headers=self.headers(user))
        assert r.status_code == 201, r.text
        self.devices[user] = device
        return device

    def settle(self) -> None:
        assert self.container.wait_for(self.container.log.max_position(), 10)

    def run(self, timeout: float = 20.0, until_done: bool = True, turns: int | None = None) -> None:
        """Turn the notifier until nothing is due (retries included), or `turns` times."""
        deadline = time.monotonic() + timeout
        n = 0
        while time.monotonic() < deadline:
            self.settle()
            busy = self.notifier.step()
            n += 1
            if turns is not None and n >= turns:
                return
            pending = [r for r in self.container.outbox.rows(status="pending")
                       if r["next_at"] <= self.now[0] or not r["recorded"]]
            if until_done and not busy and not pending and self.container.store.position() >= self.container.log.max_position():
                waiting = [r for r in self.container.outbox.rows(status="pending") if r["not_before"] is None]
                if not waiting:
                    return
            time.sleep(0.05)
            if self.now_follows_time:
                self.now[0] = datetime.now(timezone.utc)
        raise AssertionError(f"notifier did not settle: {self.container.outbox.rows(status='pending')}")

    now_follows_time: bool = True


@contextmanager
def notify_district(base: Any, **overrides: Any) -> Iterator[NotifyDistrict]:
    """`base`: a tmp_path (the embedded default) or Settings (e.g. a PostgreSQL schema of its own)."""
    sms = SmsGateway(SECRET)
    sms_url = sms.serve()
    push = PushEndpoint()
    base = base if isinstance(base, Settings) else Settings(data_dir=base, secret_key="test-secret-of-at-least-32-bytes!")
    settings = base.model_copy(update=dict(sms_url=sms_url, sms_secret=SECRET, sms_timeout=0.3, push_timeout=0.5, push_allow_http=True,
                                           notify_backoff_max=0.2, watchdog_seconds=0, run_notifier=False, ws_flush_ms=10, **overrides))
    c = Container.build(settings)
    s = c.service
    s.register_unit(ADMIN, code=D, name="东城区", kind="district")
    s.register_unit(ADMIN, code=A, name="新兴街道", kind="street")
    s.register_unit(ADMIN, code=A1, name="魏庄村", kind="village")
    ids = {"TA": s.register_team(ADMIN, name="新兴街道综合救援队", kind="comprehensive", unit_code=A, members=24,
                                 leader="张建国", phone=LEADER_PHONE).id}
    ids["IA1"] = s.report_incident(ADMIN, category="natural_disaster", subtype="flood", level="III", title="魏庄村内涝",
                                   unit_code=A1, address="魏庄村东街", occurred_at=datetime.now(timezone.utc) - timedelta(minutes=10),
                                   description="", lat=None, lon=None, source="").id
    s.schedule_duty(ADMIN, A, duty_day(datetime.now(timezone.utc)), {"name": "李带班", "phone": DUTY_LEADER_PHONE},
                    [{"name": "王值班", "phone": OFFICER_PHONE}])
    from gateway.service_layer import commands as cmd

    s.handle(ADMIN, cmd.RegisterPerson(A1, "赵站长", HEAD_PHONE, ["station_head"]))
    s.handle(ADMIN, cmd.RegisterPerson(A1, "钱信息员", REPORTER_PHONE, ["info_reporter", "persuader"]))
    # today's zero report is in (the reminder at 16:00 has its own test)
    s.file_daily_report(ADMIN, A1, datetime.now(SHANGHAI).date(), zero=True, summary="")
    c.accounts.add("field_a", PASSWORD, "field", A, ids["TA"], "新兴队手机")
    c.accounts.add("rep_a1", PASSWORD, "reporter", A1, None, "魏庄村信息员")
    c.accounts.add("op_a", PASSWORD, "operator", A, None, "新兴街道值班员")
    try:
        with TestClient(create_app(settings, c)) as client:
            d = NotifyDistrict(c, client, sms, push, {k: str(v) for k, v in ids.items()})
            for user in ("field_a", "rep_a1", "op_a"):
                r = client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
                d.tokens[user] = r.json()["access_token"]
            d.notifier = c.make_notifier(clock=lambda: d.now[0])
            d.settle()
            yield d
            d.notifier.close()
    finally:
        sms.close()
        push.close()
