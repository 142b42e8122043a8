"""`yingji upstream`, the city platform stand-in: signatures, dedupe, gaps, all-or-nothing batches, restarts, faults.

The stand-in runs on a real uvicorn server (in a thread, or as a process
through `main()`); batches are built with the CloudEvents SDK and, once,
signed with the standardwebhooks library, to prove the stand-in speaks the
standards and not only our own helpers.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from standardwebhooks.webhooks import Webhook

from gateway.tools.upstream import ServerThread, create_app
from gateway.citylink.webhooks import parse_secrets, sign
from tests.conftest import ROOT, free_port

SECRET_NEW = "whsec_" + base64.b64encode(b"upstream-test-secret-new-32byte!").decode()
SECRET_OLD = "whsec_" + base64.b64encode(b"upstream-test-secret-old-32byte!").decode()
WRONG = "whsec_" + base64.b64encode(b"not-the-secret-of-this-platform!").decode()
SOURCE = "/districts/411099000000"
BATCH = "application/cloudevents-batch+json"
FORMAT = JSONFormat()


# -- building and sending batches ---------------------------------------------------


def cloudevent(position: int, *, id_: str | None = None, source: str = SOURCE, **overrides: Any) -> CloudEvent:
    attributes: dict[str, Any] = {
        "id": id_ or f"evt-{position}",
        "source": source,
        "type": "cn.gov.yingji.incident.reported",
        "subject": "6f1c2b7e-0000-4000-8000-000000000001",
        "time": datetime(2026, 7, 1, 8, 0, position % 60, tzinfo=timezone.utc),
        "datacontenttype": "application/json",
        "position": position,
        "aggregateversion": 1,
    }
    attributes.update(overrides)
    return CloudEvent(attributes, {"title": f"积水 {position}", "level": "IV"})


def batch_body(events: Sequence[CloudEvent | dict[str, Any]]) -> bytes:
    """A CloudEvents JSON batch: the SDK's structured JSON of each event, in an array."""
    parts = [FORMAT.write(e) if isinstance(e, CloudEvent) else json.dumps(e).encode() for e in events]
    return b"[" + b",".join(parts) + b"]"


def batch(*positions: int, **kw: Any) -> bytes:
    return batch_body([cloudevent(p, **kw) for p in positions])


def post(url: str, body: bytes, secret: str = SECRET_NEW, timeout: float = 5.0, **headers: str) -> httpx.Response:
    signed = body if body.decode(errors="replace").encode() == body else b""  # Standard Webhooks signs text: not bytes that are not UTF-8
    hdrs = {"content-type": BATCH, **sign(parse_secrets(secret), f"msg-{time.monotonic_ns()}", signed)}
    hdrs.update({k.replace("_", "-"): v for k, v in headers.items()})
    return httpx.post(url + "/events", content=body, headers=hdrs, timeout=timeout)


class City:
    """The stand-in on a real uvicorn server in this process."""

    def __init__(self, db: Path, **kw: Any):
        self.db, self.kw = db, kw
        self.server: ServerThread | None = None

    def start(self) -> City:
        self.server = ServerThread(create_app(self.db, f"{SECRET_NEW},{SECRET_OLD}", **self.kw)).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.stop()
            self.server = None

    @property
    def url(self) -> str:
        assert self.server
        return self.server.url

    def send(self, *positions: int, **kw: Any) -> httpx.Response:
        return post(self.url, batch(*positions, **kw))

    def faults(self, **settings: Any) -> dict[str, Any]:
        r = httpx.post(self.url + "/faults", json=settings)
        assert r.status_code == 200, r.text
        return r.json()

    def status(self) -> dict[str, Any]:
        return httpx.get(self.url + "/status").json()

    def positions(self) -> list[int]:
        return [e["position"] for e in httpx.get(self.url + "/events").json()]


@pytest.fixture
def city(tmp_path: Path) -> Iterator[City]:
    c = City(tmp_path / "city.sqlite3").start()
    yield c
    c.stop()


def problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code and body["status"] == status and body["title"]
    return body


# -- signatures and interoperability --------------------------------------------------


def test_either_rotated_secret_is_accepted_and_anything_else_is_401(city: City) -> None:
    assert post(city.url, batch(1), SECRET_NEW).json() == {"accepted": 1, "duplicates": 0, "last_position": 1}
    assert post(city.url, batch(2), SECRET_OLD).json()["accepted"] == 1
    both = batch(3)
    headers = {"content-type": BATCH, **sign(parse_secrets(f"{WRONG},{SECRET_OLD}"), "m-3", both)}  # one good of two
    assert httpx.post(city.url + "/events", content=both, headers=headers).status_code == 200

    problem(post(city.url, batch(4), WRONG), 401, "bad_signature")
    body = batch(4)
    good = sign(parse_secrets(SECRET_NEW), "m-4", body)
    tampered = body.replace(b"IV", b"I ")
    problem(httpx.post(city.url + "/events", content=tampered, headers={"content-type": BATCH, **good}), 401, "bad_signature")
    stale = sign(parse_secrets(SECRET_NEW), "m-4", body, timestamp=int(time.time()) - 600)
    problem(httpx.post(city.url + "/events", content=body, headers={"content-type": BATCH, **stale}), 401, "bad_signature")
    problem(httpx.post(city.url + "/events", content=body, headers={"content-type": BATCH}), 401, "bad_signature")
    assert city.status()["last_position"] == 3


def test_a_batch_signed_by_standardwebhooks_and_built_by_the_cloudevents_sdk(city: City) -> None:
    body = batch(1, 2, 3).decode()
    wh, msg_id, now = Webhook(SECRET_OLD), "msg_2Lq8", datetime.now(timezone.utc)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": wh.sign(msg_id, now, body), "content-type": BATCH}
    r = httpx.post(city.url + "/events", content=body.encode(), headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 3, "duplicates": 0, "last_position": 3}

    # and what it stored reads back as CloudEvents, attribute for attribute
    stored = httpx.get(city.url + "/events", params={"after": 1, "limit": 5})
    assert stored.headers["content-type"].startswith(BATCH)
    events = [FORMAT.read(None, json.dumps(e)) for e in stored.json()]
    assert [(e.get_id(), e.get_extension("position")) for e in events] == [("evt-2", 2), ("evt-3", 3)]
    original = cloudevent(2)
    assert events[0].get_attributes() == original.get_attributes() and events[0].get_data() == original.get_data()

    # our own signer (the relay's) verifies with the independent library too
    ours = sign(parse_secrets(f"{SECRET_NEW},{SECRET_OLD}"), "m-x", body.encode())
    assert Webhook(SECRET_OLD).verify(body, ours) == json.loads(body)


# -- dedupe, gaps, conflicts, all-or-nothing ---------------------------------------------


def test_duplicates_are_absorbed_by_id_and_counted(city: City) -> None:
    assert city.send(1, 2, 3).json() == {"accepted": 3, "duplicates": 0, "last_position": 3}
    assert city.send(1, 2, 3).json() == {"accepted": 0, "duplicates": 3, "last_position": 3}
    assert city.send(2, 3, 4, 5).json() == {"accepted": 2, "duplicates": 2, "last_position": 5}
    assert post(city.url, b"[]").json() == {"accepted": 0, "duplicates": 0, "last_position": 5}  # an empty batch is a batch
    st = city.status()
    assert (st["count"], st["first_position"], st["last_position"], st["duplicates_received"], st["batches"]) == (5, 1, 5, 5, 4)
    assert city.positions() == [1, 2, 3, 4, 5]


def test_a_gap_is_refused_with_the_expected_position(city: City) -> None:
    assert problem(city.send(2, 3), 409, "gap")["expected"] == 1
    assert city.send(1, 2, 3).status_code == 200
    body = problem(city.send(5, 6), 409, "gap")
    assert (body["expected"], body["received"]) == (4, 5)
    assert problem(city.send(3, 4, 6), 422, "not_contiguous")["index"] == 2  # a hole inside one batch
    assert city.positions() == [1, 2, 3]
    assert city.send(4, 5, 6).json()["last_position"] == 6


def test_a_different_event_at_a_held_position_is_a_conflict(city: City) -> None:
    city.send(1, 2, 3)
    body = problem(post(city.url, batch_body([cloudevent(2), cloudevent(3, id_="other")])), 409, "conflict")
    assert body["detail"].startswith("different event at position 3") and body["position"] == 3
    body = problem(post(city.url, batch_body([cloudevent(4, id_="evt-1")])), 409, "conflict")  # an id held elsewhere
    assert body["held_position"] == 1
    assert city.status()["count"] == 3


def test_a_bad_event_in_the_middle_stores_nothing_of_its_batch(city: City) -> None:
    city.send(1, 2, 3)
    middle_invalid = [cloudevent(4), cloudevent(5), {**json.loads(FORMAT.write(cloudevent(6))), "type": ""}, cloudevent(7)]
    assert problem(post(city.url, batch_body(middle_invalid)), 422, "invalid_event")["index"] == 2
    # valid alone, but its id is held at position 1: found after 4 and 5 were inserted, so the transaction rolls back
    middle_conflicting = [cloudevent(4), cloudevent(5), cloudevent(6, id_="evt-1"), cloudevent(7)]
    problem(post(city.url, batch_body(middle_conflicting)), 409, "conflict")
    assert city.positions() == [1, 2, 3]
    assert city.status()["batches"] == 1
    assert city.send(4, 5, 6, 7).json() == {"accepted": 4, "duplicates": 0, "last_position": 7}


def _raw(**kw: Any) -> dict[str, Any]:
    return {**json.loads(FORMAT.write(cloudevent(1))), **kw}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"[{not json", 400, "malformed_json"),
        (b"\xff\xfe", 400, "malformed_json"),
        (json.dumps(_raw()).encode(), 422, "not_a_batch"),
        (json.dumps([_raw(specversion="0.3")]).encode(), 422, "invalid_event"),
        (json.dumps([{k: v for k, v in _raw().items() if k != "id"}]).encode(), 422, "invalid_event"),
        (json.dumps([{k: v for k, v in _raw().items() if k != "source"}]).encode(), 422, "invalid_event"),
        (json.dumps([_raw(position="1")]).encode(), 422, "invalid_event"),
        (json.dumps([{k: v for k, v in _raw().items() if k != "position"}]).encode(), 422, "invalid_event"),
        (json.dumps([_raw(time="yesterday")]).encode(), 422, "invalid_event"),
        (json.dumps([_raw(), _raw(position=2)]).encode(), 422, "duplicate_in_batch"),
        (json.dumps([1]).encode(), 422, "invalid_event"),
    ],
    ids=["json", "utf8", "object", "specversion", "no-id", "no-source", "position-str", "no-position", "time", "dup-id",
         "number"],
)
def test_malformed_batches_are_refused(city: City, body: bytes, status: int, code: str) -> None:
    problem(post(city.url, body), status, code)
    assert city.status()["count"] == 0


def test_media_type_and_district_source(tmp_path: Path) -> None:
    c = City(tmp_path / "c.sqlite3", district_source=SOURCE).start()
    try:
        problem(post(c.url, batch(1), content_type="text/plain"), 415, "unsupported_media_type")
        assert post(c.url, batch(1), content_type="application/json").status_code == 200
        assert problem(c.send(2, 3, source="/districts/411099000001"), 422, "wrong_source")["index"] == 0
        assert c.positions() == [1]
    finally:
        c.stop()


def test_a_restart_keeps_what_was_stored(tmp_path: Path) -> None:
    c = City(tmp_path / "c.sqlite3").start()
    c.send(1, 2, 3)
    c.send(3)
    c.stop()
    c.start()
    try:
        st = c.status()
        assert (st["count"], st["last_position"], st["batches"], st["duplicates_received"]) == (3, 3, 2, 1)
        assert c.send(3, 4).json() == {"accepted": 1, "duplicates": 1, "last_position": 4}
        assert problem(c.send(6), 409, "gap")["expected"] == 5
    finally:
        c.stop()


# -- faults ---------------------------------------------------------------------------


def test_fault_settings_round_trip_and_are_validated(city: City) -> None:
    assert httpx.get(city.url + "/faults").json()["error_rate"] == 0.0
    out = city.faults(error_rate=0.25, error_status=500, latency_ms=20, latency_rate=0.5, drop_rate=0.1, seed=3,
                      refuse_for_seconds=30, refuse_status=400, retry_after=2)
    assert out["drop_after_store_rate"] == 0.1 and out["seed"] == 3 and 29 < out["refuse_for_seconds"] <= 30
    assert httpx.get(city.url + "/faults").json() == {**out, "refuse_for_seconds": pytest.approx(out["refuse_for_seconds"], abs=1)}
    for bad in ({"error_rate": 2}, {"error_status": 200}, {"latency_ms": -1}, {"nonsense": 1}, {"seed": "x"}):
        problem(httpx.post(city.url + "/faults", json=bad), 422, "validation_error")
    assert httpx.get(city.url + "/faults").json()["error_rate"] == 0.25  # a refused update changes nothing
    reset = httpx.delete(city.url + "/faults").json()
    assert reset["error_rate"] == 0.0 and reset["refuse_for_seconds"] == 0.0 and reset["drop_after_store_rate"] == 0.0
    assert city.status()["faults"] == {**reset, "refuse_for_seconds": 0.0}


def test_error_rate_answers_the_error_status_and_stores_nothing(city: City) -> None:
    city.faults(error_rate=1, error_status=500, retry_after=1)
    r = city.send(1)
    problem(r, 500, "injected_error")
    assert r.headers["retry-after"] == "1" and city.status()["count"] == 0

    def pattern(seed: int) -> list[int]:
        city.faults(error_rate=0.5, error_status=503, seed=seed)
        return [post(city.url, b"[]").status_code for _ in range(12)]

    first = pattern(11)
    assert set(first) == {200, 503}
    assert pattern(11) == first  # seeded: the same faults in the same order
    assert city.status()["injected"]["error"] == 1 + first.count(503) * 2


def test_latency_delays_the_answer_after_storing(city: City) -> None:
    city.faults(latency_ms=400)
    t0 = time.monotonic()
    assert city.send(1).status_code == 200
    assert time.monotonic() - t0 >= 0.4
    with pytest.raises(httpx.ReadTimeout):  # the client gives up: a lost acknowledgement ...
        post(city.url, batch(2), timeout=0.15)
    time.sleep(0.4)
    assert city.positions() == [1, 2]  # ... of a batch that was stored
    city.faults(latency_rate=0)
    t0 = time.monotonic()
    assert city.send(2, 3).json() == {"accepted": 1, "duplicates": 1, "last_position": 3}
    assert time.monotonic() - t0 < 0.3
    assert city.status()["injected"]["delayed"] == 2


def test_drop_before_store_closes_the_connection_and_stores_nothing(city: City) -> None:
    city.faults(drop_before_store_rate=1)
    with pytest.raises(httpx.TransportError):  # the server closed the connection: how httpx notices depends on timing
        city.send(1, 2)
    assert city.status()["count"] == 0
    city.faults(drop_before_store_rate=0)
    assert city.send(1, 2).json()["accepted"] == 2


def test_drop_after_store_loses_the_answer_and_the_resend_is_absorbed(city: City) -> None:
    city.faults(drop_after_store_rate=1)
    with pytest.raises(httpx.TransportError):  # the server closed the connection: how httpx notices depends on timing
        city.send(1, 2, 3)
    assert city.positions() == [1, 2, 3]
    city.faults(drop_after_store_rate=0)
    assert city.send(1, 2, 3, 4).json() == {"accepted": 1, "duplicates": 3, "last_position": 4}
    assert city.status()["injected"]["drop_after_store"] == 1


def test_refuse_for_seconds_answers_refuse_status_to_every_batch_then_recovers(city: City) -> None:
    city.faults(refuse_for_seconds=0.6, refuse_status=400)
    problem(city.send(1), 400, "refused")
    problem(post(city.url, batch(1), WRONG), 400, "refused")  # everything, before even the signature
    assert city.status()["count"] == 0  # the control and read endpoints still answer
    time.sleep(0.7)
    assert city.send(1).status_code == 200
    city.faults(refuse_for_seconds=60, refuse_status=503)
    problem(city.send(2), 503, "refused")
    city.faults(refuse_for_seconds=0)  # cleared
    assert city.send(2).status_code == 200
    assert city.status()["injected"]["refused"] == 3


# -- as a process, through main() ----------------------------------------------------------


def _start(db: Path, port: int, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    code = f"from gateway.tools.upstream import main; main({['--port', str(port), '--db', str(db), '--log-level', 'warning', *extra]!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env or os.environ.copy(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/status", timeout=0.5).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.05)
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError("upstream did not start: " + proc.stderr.read().decode()[-2000:])  # type: ignore[union-attr]


def test_main_and_a_crash_in_the_middle_of_a_batch_stores_nothing_of_it(tmp_path: Path) -> None:
    db, port = tmp_path / "city.sqlite3", free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "YINGJI_UPSTREAM_SECRET": f"{SECRET_NEW},{SECRET_OLD}"}
    proc = _start(db, port, "--district-source", SOURCE, "--exit-mid-batch-rate", "1", env=env)
    try:
        with pytest.raises(httpx.HTTPError):  # the process dies after inserting 5 of 10, before the commit
            post(url, batch(*range(1, 11)), SECRET_OLD)
        assert proc.wait(10) == 70
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    proc = _start(db, port, "--secret", SECRET_NEW, "--secret", SECRET_OLD, "--district-source", SOURCE,
                  "--seed", "5", "--error-status", "502")
    try:
        st = httpx.get(url + "/status").json()
        assert (st["count"], st["last_position"], st["batches"]) == (0, 0, 0)  # the hot journal rolled back
        assert st["faults"]["seed"] == 5 and st["faults"]["error_status"] == 502 and st["district_source"] == SOURCE
        assert post(url, batch(*range(1, 11)), SECRET_OLD).json() == {"accepted": 10, "duplicates": 0, "last_position": 10}
        problem(post(url, batch(11, source="/elsewhere")), 422, "wrong_source")
        problem(post(url, batch(11), WRONG), 401, "bad_signature")
    finally:
        proc.terminate()
        proc.wait(10)
    assert subprocess.run([sys.executable, "-c", "from gateway.tools.upstream import main; main(['--db', 'x'])"], cwd=ROOT,
                          env={k: v for k, v in os.environ.items() if k != "YINGJI_UPSTREAM_SECRET"},
                          capture_output=True).returncode != 0  # no secret: refuses to start
