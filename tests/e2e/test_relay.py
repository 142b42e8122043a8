"""The relay against the city platform stand-in (`yingji upstream`), as separate processes.

Faults all in one run: 30% 5xx, responses slower than the relay's timeout,
dropped connections (before and after the stand-in stored the batch), the
relay killed with -9 and restarted, the stand-in restarted. At the end the
stand-in holds exactly the district's log, in order; duplicates were sent
and absorbed.
"""

from __future__ import annotations

import base64
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from gateway.settings import Settings
from tests.conftest import ROOT, Server, env_of, free_port

SECRET = "whsec_" + base64.b64encode(b"yingji-test-upstream-secret-32b!").decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"yingji-old-secret-being-rotated!").decode()


class Upstream:
    def __init__(self, workdir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = workdir / "city.sqlite3"
        self.log = workdir / "upstream.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Upstream:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.entrypoints.cli", "upstream", "--host", "127.0.0.1", "--port", str(self.port),
             "--db", str(self.db), "--secret", SECRET],
            cwd=ROOT, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,  # noqa: SIM115
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/status", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("upstream did not start: " + self.log.read_text()[-2000:])

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def faults(self, **settings: object) -> None:
        r = httpx.post(self.url + "/faults", json=settings, timeout=5)
        assert r.status_code == 200, r.text

    def status(self) -> dict:
        return httpx.get(self.url + "/status", timeout=5).json()

    def events(self) -> list[dict]:
        out, after = [], 0
        while True:
            page = httpx.get(self.url + "/events", params={"after": after, "limit": 1000}, timeout=10).json()
            items = page["items"] if isinstance(page, dict) else page
            if not items:
                return out
            out += items
            after = items[-1]["position"]


class RelayProcess:
    running: list[RelayProcess] = []  # killed at teardown even when a test fails

    def __init__(self, settings: Settings, env: dict[str, str], name: str):
        self.settings, self.env = settings, env
        self.log = Path(settings.data_dir) / f"relay-{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.metrics_port = free_port()  # /healthz, /readyz, /metrics of this relay process

    def start(self) -> RelayProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.entrypoints.cli", "relay", "--metrics-port", str(self.metrics_port)],
            cwd=ROOT, env=env_of(self.settings) | self.env,
            stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,  # noqa: SIM115
        )
        RelayProcess.running.append(self)
        return self

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def gauges(self) -> dict[str, float]:
        """This relay's own /metrics (retried while the process starts)."""
        deadline = time.monotonic() + 20
        while True:
            try:
                text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=2).text
                return {m[0]: float(m[1]) for m in re.findall(r"^(yingji_\w+) (\S+)$", text, re.M)}
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def health(self) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.metrics_port}/healthz", timeout=2)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture(autouse=True)
def no_stray_relays() -> Iterator[None]:
    yield
    while RelayProcess.running:
        RelayProcess.running.pop().kill9()


@pytest.fixture
def city(tmp_path: Path) -> Iterator[Upstream]:
    up = Upstream(tmp_path).start()
    yield up
    up.kill()


@pytest.fixture
def relay_env(city: Upstream) -> dict[str, str]:
    return {
        "YINGJI_UPSTREAM_URL": city.url,
        "YINGJI_UPSTREAM_SECRET": f"{SECRET},{OLD_SECRET}",
        "YINGJI_RUN_RELAY": "false",  # relays run as processes of their own here
        "YINGJI_UPSTREAM_TIMEOUT": "1",
        "YINGJI_RELAY_BATCH_SIZE": "10",
    }


@pytest.fixture
def district(demo_settings: Settings, relay_env: dict[str, str]) -> Iterator[Server]:
    srv = Server(demo_settings, relay_env).start()
    yield srv
    srv.stop()


def district_log(server: Server) -> list[dict]:
    api = server.client("commander")
    out, after = [], 0
    while True:
        page = api.get("/events", params={"after": after, "limit": 1000}).json()
        if not page["items"]:
            return out
        out += page["items"]
        after = page["next"]


def wait_for(predicate, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def every_request_checks_out_independently(city: Upstream) -> int:
    """Each batch the stand-in received verifies with `standardwebhooks` and parses with the `cloudevents` SDK."""
    from cloudevents.core.formats.json import JSONFormat
    from standardwebhooks.webhooks import Webhook

    checked, after = 0, 0
    while True:
        page = httpx.get(city.url + "/requests", params={"after": after, "limit": 500}, timeout=10).json()
        if not page:
            return checked
        for req in page:
            body = req["body"]
            assert req["headers"]["content-type"] == "application/cloudevents-batch+json"
            # Either secret of a rotation verifies: the relay signs with both.
            batch = Webhook(SECRET).verify(body, req["headers"])
            assert Webhook(OLD_SECRET).verify(body, req["headers"]) == batch
            previous = None
            for raw in batch:
                event = JSONFormat().read(None, json.dumps(raw, ensure_ascii=False))
                attrs = event.get_attributes()
                assert attrs["specversion"] == "1.0" and attrs["source"].startswith("/districts/")
                assert attrs["id"] == raw["id"] and attrs["type"].startswith("cn.gov.yingji.")
                assert event.get_extension("position") == raw["position"]
                if previous is not None:
                    assert raw["prevposition"] == previous
                previous = raw["position"]
            checked += 1
            after = req["n"]


def wait_caught_up(server: Server, city: Upstream, seconds: float = 120) -> None:
    """Until the city holds the whole log, including what the relay itself adds (reported-upward records)."""
    api = server.client("commander")
    settled = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        head = api.get("/events", params={"limit": 1}).json()["head"]
        settled = settled + 1 if city.status()["last_position"] == head else 0
        if settled >= 5:
            return
        time.sleep(0.3)
    raise AssertionError("the stand-in did not catch up with the district log")


def same_log(city: Upstream, server: Server) -> None:
    mine = district_log(server)
    theirs = city.events()
    key = lambda e: (e["position"], e["id"], e["type"], e["subject"], e["source"])  # noqa: E731
    assert [key(e) for e in theirs] == [key(e) for e in mine]


def commands(server: Server, n: int) -> None:
    api = server.client("commander")
    incident = api.get("/incidents").json()["items"][0]["id"]
    for i in range(n):
        if i % 5 == 0:
            api.ok("/incidents", {"category": "natural_disaster", "subtype": "rainstorm", "level": "IV", "title": f"积水{i}",
                                  "unit_code": "411099002003", "occurred_at": datetime.now(timezone.utc).isoformat()})
        else:
            api.ok(f"/incidents/{incident}/situation", {"affected": i})


@pytest.mark.slow
def test_mirror_survives_every_fault_in_one_run(district: Server, city: Upstream, relay_env: dict[str, str]) -> None:
    city.faults(seed=7, error_rate=0.3, latency_ms=1500, latency_rate=0.1, drop_before_store_rate=0.1, drop_after_store_rate=0.1)
    relay = RelayProcess(district.settings, relay_env, "a").start()
    commands(district, 60)
    time.sleep(1.5)
    relay.kill9()  # in the middle of whatever it was doing
    commands(district, 30)
    relay.start()
    time.sleep(1.5)
    injected_before_restart = city.status()["injected"]
    city.kill()  # the city platform goes down and comes back with what it stored
    time.sleep(1.0)
    city.start()
    city.faults(seed=8, error_rate=0.3, latency_ms=1500, latency_rate=0.1, drop_before_store_rate=0.1, drop_after_store_rate=0.1)
    commands(district, 30)
    wait_caught_up(district, city)
    relay.kill9()
    same_log(city, district)
    status = city.status()
    assert status["duplicates_received"] > 0  # resent after dropped answers and the kill, and absorbed
    assert status["count"] == len(district_log(district))
    injected = {k: v + injected_before_restart.get(k, 0) for k, v in status["injected"].items()}
    assert injected["error"] > 0 and injected["drop_after_store"] > 0 and injected["drop_before_store"] > 0
    assert every_request_checks_out_independently(city) >= status["batches"]


@pytest.mark.slow
def test_a_4xx_stops_the_relay_with_an_alarm_until_resumed(district: Server, city: Upstream, relay_env: dict[str, str]) -> None:
    relay = RelayProcess(district.settings, relay_env, "b").start()
    cmd = district.client("commander")
    wait_caught_up(district, city, 60)
    head = cmd.get("/relay").json()["position"]
    city.faults(refuse_for_seconds=600, refuse_status=400)
    commands(district, 5)
    wait_for(lambda: cmd.get("/relay").json()["alarm"], 30, "the relay alarm")
    status = cmd.get("/relay").json()
    assert status["paused"] and status["position"] == head and "400" in status["last_error"]
    assert any(a["kind"] == "relay_alarm" for a in cmd.get("/board").json()["alerts"])
    time.sleep(2)
    assert cmd.get("/relay").json()["position"] == head  # stopped: nothing skipped, nothing advanced
    city.faults(refuse_for_seconds=0)
    r = cmd.post("/relay/resume")
    assert r.status_code == 200 and not r.json()["alarm"]
    wait_caught_up(district, city, 60)
    relay.kill9()
    same_log(city, district)
    assert district.client("observer").post("/relay/resume").status_code == 403


@pytest.mark.slow
def test_two_relays_one_sends_and_the_other_takes_over(district: Server, city: Upstream, relay_env: dict[str, str]) -> None:
    first = RelayProcess(district.settings, relay_env, "first").start()
    second = RelayProcess(district.settings, relay_env, "second").start()
    wait_caught_up(district, city)
    senders = {s["relay"].rsplit(":", 1)[1] for s in city.status()["senders"]}
    assert len(senders) == 1  # only the lease holder sent anything
    active, waiting = (first, second) if str(first.pid) in senders else (second, first)
    # Each process says which it is on its own metrics port, and both are healthy.
    assert active.gauges()["yingji_relay_active"] == 1 and waiting.gauges()["yingji_relay_active"] == 0
    assert active.gauges()["yingji_relay_sent_batches_total"] > 0 and waiting.gauges()["yingji_relay_sent_batches_total"] == 0
    assert active.gauges()["yingji_relay_lag_events"] == 0
    health = active.health()
    assert health.status_code == 200 and health.json()["active"] is True and health.json()["lag_events"] == 0
    assert waiting.health().status_code == 200 and waiting.health().json()["active"] is False
    active.kill9()
    commands(district, 20)
    wait_caught_up(district, city)
    assert {s["relay"].rsplit(":", 1)[1] for s in city.status()["senders"]} == {str(first.pid), str(second.pid)}
    assert waiting.gauges()["yingji_relay_active"] == 1
    waiting.kill9()
    same_log(city, district)


def test_reported_upward_and_directives_down(district: Server, city: Upstream, relay_env: dict[str, str]) -> None:
    from standardwebhooks.webhooks import Webhook

    relay = RelayProcess(district.settings, relay_env, "c").start()
    cmd = district.client("commander")
    wait_caught_up(district, city, 60)
    # The city acknowledged the batches with the reports: each incident records when.
    wait_for(lambda: all(i["reported_upward_at"] for i in cmd.get("/incidents").json()["items"]), 30, "reported-upward records")
    flood = next(i for i in cmd.get("/incidents").json()["items"] if i["subtype"] == "flood")
    assert flood["reported_upward_in_time"] is True  # reported 50 minutes after it occurred
    # The seed's submitted 初报 (staged disaster report): the city acknowledged the batch holding it, recorded on the report.
    reports = lambda: cmd.get("/disaster-reports").json()["items"]  # noqa: E731
    submitted = lambda: [r for r in reports() if r["status"] in ("submitted", "acknowledged")]  # noqa: E731
    wait_for(lambda: all(r["status"] == "acknowledged" for r in submitted()), 30, "the city's acknowledgement of the 初报")
    acked = {r["incident_title"]: r for r in submitted()}
    assert set(acked) == {"许田村暴雨内涝", "道路边坡小面积滑塌"}  # one in time, one late: both reached the city
    assert acked["许田村暴雨内涝"]["in_time"] is True and acked["道路边坡小面积滑塌"]["in_time"] is False
    for r in acked.values():
        assert r["stage"] == "initial" and r["batch_id"].startswith("/districts/") and r["acknowledged_at"] >= r["submitted_at"]
    assert [r["status"] for r in reports() if r["stage"] == "continuing"] == ["draft"]  # a draft is not sent, nor acknowledged

    # A directive down, signed by the city with the independent library.
    body = json.dumps({"id": "XC-2026-0718-01", "title": "加强夜间巡查", "content": "各街道加强低洼地段夜间巡查。",
                       "level": "orange", "issued_at": datetime.now(timezone.utc).isoformat()}, ensure_ascii=False)
    ts = datetime.now(timezone.utc)
    headers = {"webhook-id": "msg-1", "webhook-timestamp": str(int(ts.timestamp())),
               "webhook-signature": Webhook(SECRET).sign("msg-1", ts, body), "content-type": "application/json"}
    r = httpx.post(district.base_url + "/api/v1/upstream/directives", content=body.encode(), headers=headers)
    assert r.status_code == 201, r.text
    again = httpx.post(district.base_url + "/api/v1/upstream/directives", content=body.encode(), headers=headers)
    assert again.status_code == 201 and again.json() == r.json()  # re-sent: the same directive, not a second
    bad = httpx.post(district.base_url + "/api/v1/upstream/directives", content=body.encode(), headers=headers | {"webhook-signature": "v1,AAAA"})
    assert bad.status_code == 401 and bad.json()["code"] == "unauthenticated"
    directive = cmd.get("/directives", params={"min_position": r.json()["position"]}).json()["items"][0]
    assert any(a["kind"] == "directive" for a in cmd.get("/board").json()["alerts"])
    ack = cmd.ok(f"/directives/{directive['id']}/acknowledge", {"note": "已部署"})
    wait_for(lambda: city.status()["last_position"] >= ack["position"], 60, "the acknowledgement to travel up")
    relay.kill9()
    acknowledged = [e for e in city.events() if e["type"].endswith("directive.acknowledged")]
    assert len(acknowledged) == 1 and acknowledged[0]["subject"] == directive["id"]
