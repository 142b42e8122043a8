"""双重预防 over HTTP, in-process: the hidden danger's cycle with photos, upload refusals, scope of files,
and statistics equal to a recount from the exported log. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import struct
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.policy import local_day
from gateway.container import Container
from gateway.context import CommandContext, Principal
from gateway.entrypoints.app import create_app
from gateway.settings import Settings
from gateway.tools.backup import export_lines

D, A, A1, B, B1 = "411099000000", "411099001000", "411099001001", "411099002000", "411099002001"
PASSWORD = "Prevention-Passw0rd!"
ACCOUNTS = {  # username -> (role, unit)
    "op_a": ("operator", A), "op_a2": ("operator", A), "cmd_d": ("commander", D), "op_d": ("operator", D),
    "cmd_b": ("commander", B), "obs_d": ("observer", D),
}
LAT = struct.pack("<6I", 34, 1, 2, 1, 3, 1)  # 34° 2' 3": GPS rationals


def jpeg_with_gps(tag: bytes = b"") -> bytes:
    """A tiny JPEG whose EXIF has a GPS directory (latitude ref and latitude)."""
    ifd0 = struct.pack("<H", 1) + struct.pack("<HHII", 0x8825, 4, 1, 26) + struct.pack("<I", 0)
    gps = struct.pack("<H", 2) + struct.pack("<HHI4s", 1, 2, 2, b"N\x00\x00\x00") + struct.pack("<HHII", 2, 5, 3, 56) + struct.pack("<I", 0)
    tiff = b"II*\x00" + struct.pack("<I", 8) + ifd0 + gps + LAT
    assert tiff.index(LAT) == 56
    app1 = b"Exif\x00\x00" + tiff
    return b"\xff\xd8" + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + b"\xff\xdb\x00\x04\x00\x00" + tag + b"\xff\xd9"


@dataclass
class World:
    client: TestClient
    container: Container
    tokens: dict[str, str] = field(default_factory=dict)

    def h(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, user: str, path: str, **kw: Any) -> Any:
        return self.client.get("/api/v1" + path, headers=self.h(user), **kw)

    def post(self, user: str, path: str, body: Any = None) -> Any:
        return self.client.post("/api/v1" + path, headers=self.h(user) | {"Idempotency-Key": str(uuid.uuid4())}, json=body)

    def ok(self, user: str, path: str, body: Any = None) -> dict[str, Any]:
        r = self.post(user, path, body)
        assert r.status_code in (200, 201), r.text
        self.settle()
        return r.json()  # type: ignore[no-any-return]

    def upload(self, user: str, unit: str, files: list[tuple[str, bytes, str]], keep: bool = False) -> Any:
        return self.client.post("/api/v1/evidence", headers=self.h(user), data={"unit_code": unit, "keep_location": str(keep).lower()},
                                files=[("files", f) for f in files])

    def settle(self) -> None:
        assert self.container.wait_for(self.container.log.max_position(), 10)

    def head(self) -> int:
        return self.container.log.max_position()


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    settings = settings.model_copy(update={"watchdog_seconds": 0, "evidence_max_bytes": 64 * 1024, "evidence_max_files": 3})
    c = Container.build(settings)
    admin = CommandContext(Principal("setup", "admin", D), request_id="setup")
    for code, name, kind in [(D, "东城区", "district"), (A, "新兴街道", "street"), (A1, "魏庄村", "village"), (B, "东城街道", "street"),
                             (B1, "大周村", "village")]:
        c.service.register_unit(admin, code=code, name=name, kind=kind)
    for user, (role, unit) in ACCOUNTS.items():
        c.accounts.add(user, PASSWORD, role, unit, None, user)
    with TestClient(create_app(settings, c)) as client:
        w = World(client, c)
        for user in ACCOUNTS:
            w.tokens[user] = client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD}).json()["access_token"]
        w.settle()
        yield w


def future(days: int) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days)).isoformat()


def test_a_hidden_danger_from_photo_to_销号(world: World) -> None:
    w = world
    up = w.upload("op_a", A1, [("site.jpg", jpeg_with_gps(), "image/jpeg")])
    assert up.status_code == 201, up.text
    photo = up.json()["files"][0]
    kept = w.get("op_a", f"/evidence/{photo['sha256']}")
    assert kept.status_code == 200 and kept.headers["content-type"] == "image/jpeg"
    assert LAT not in kept.content and b"N\x00" not in kept.content[:80]  # the GPS directory is blanked
    assert len(kept.content) == len(jpeg_with_gps())  # nothing else changed: same length, orientation etc. kept
    kept_gps = w.upload("op_a", A1, [("gps.jpg", jpeg_with_gps(b"x"), "image/jpeg")], keep=True).json()["files"][0]["sha256"]
    assert LAT in w.get("op_a", f"/evidence/{kept_gps}").content  # the uploader chose to keep the location

    danger = w.ok("op_a", "/hidden-dangers", {"unit_code": A1, "grade": "general", "title": "消防通道堵塞", "site": "纬三路仓库",
                                             "evidence": [photo["sha256"]]})["id"]
    w.ok("op_d", f"/hidden-dangers/{danger}/assign", {"rectifier": "仓储公司", "responsible": "王经理", "deadline": future(7),
                                                       "measures": "清理通道"})
    r = w.post("op_d", f"/hidden-dangers/{danger}/deadline", {"deadline": future(9)})
    assert r.status_code == 422  # a deadline moves only with a reason
    w.ok("op_d", f"/hidden-dangers/{danger}/deadline", {"deadline": future(9), "reason": "设备到货延迟"})
    after = w.upload("op_a", A1, [("done.png", b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x00IEND\xaeB`\x82", "image/png")]).json()["files"][0]
    w.ok("op_a", f"/hidden-dangers/{danger}/rectified", {"evidence": [after["sha256"]], "note": "已清理"})
    r = w.post("op_a", f"/hidden-dangers/{danger}/verify", {"note": "自己验收"})
    assert r.status_code == 409 and r.json()["reason"] == "same_account"
    assert w.post("op_a", f"/hidden-dangers/{danger}/close").status_code == 409  # 销号 only from verified
    w.ok("op_a2", f"/hidden-dangers/{danger}/verify", {"note": "现场验收合格"})
    w.ok("cmd_d", f"/hidden-dangers/{danger}/close", {"note": "对标销号"})
    doc = w.get("obs_d", f"/hidden-dangers/{danger}").json()
    assert doc["status"] == "closed" and doc["rectified_on_time"] is True
    assert [s["step"] for s in doc["timeline"]] == ["found", "assigned", "deadline_moved", "reported", "verified", "closed"]
    assert [f["sha256"] for f in doc["evidence"]] == [photo["sha256"], after["sha256"]]
    assert w.get("cmd_b", f"/hidden-dangers/{danger}").status_code == 404  # another street's record reads as unknown
    board = w.get("cmd_d", "/board").json()
    assert board["hidden_danger"] == [] and board["dangers_by_street"] == {}


def test_a_major_one_needs_the_five_and_the_district(world: World) -> None:
    w = world
    danger = w.ok("op_a", "/hidden-dangers", {"unit_code": A1, "grade": "major", "title": "液氨管道腐蚀", "site": "冷库"})["id"]
    body = {"rectifier": "冷链公司", "responsible": "厂长", "deadline": future(30), "measures": "更换管道", "supervision": "区安委办挂牌督办",
            "five": {"responsibility": "厂长", "measures": "更换管道", "funds": "20万元", "time_limit": "30日", "plan": ""}}
    head = w.head()
    assert w.post("op_a", f"/hidden-dangers/{danger}/assign", body).status_code == 403  # a street account: not its to supervise
    r = w.post("cmd_d", f"/hidden-dangers/{danger}/assign", body)
    assert r.status_code == 422 and r.json()["missing"] == ["plan"]
    assert w.head() == head
    w.ok("cmd_d", f"/hidden-dangers/{danger}/assign", body | {"five": body["five"] | {"plan": "泄漏专项预案"}})
    board = w.get("op_a", "/board").json()
    assert [h["id"] for h in board["hidden_danger"]] == [danger]
    assert board["dangers_by_street"] == {A: {"open": 1, "overdue": 0, "major_open": 1}}
    assert w.get("cmd_b", "/board").json()["hidden_danger"] == []


def test_bad_uploads_are_refused_and_nothing_is_kept(world: World) -> None:
    w = world
    store = w.container.evidence
    before, head = store.count(), w.head()
    big = jpeg_with_gps(b"\x00" * (64 * 1024))
    r = w.upload("op_a", A1, [("big.jpg", big, "image/jpeg")])
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json" and r.json()["code"] == "payload_too_large"
    r = w.upload("op_a", A1, [("ok.jpg", jpeg_with_gps(), "image/jpeg"), ("report.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")])
    assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"
    r = w.upload("op_a", A1, [(f"{n}.jpg", jpeg_with_gps(bytes([n])), "image/jpeg") for n in range(4)])
    assert r.status_code == 413 and r.json()["reason"] == "too_many_files"
    assert w.upload("op_a", B1, [("b.jpg", jpeg_with_gps(), "image/jpeg")]).status_code == 403  # another street's unit
    assert w.upload("obs_d", A1, [("o.jpg", jpeg_with_gps(), "image/jpeg")]).status_code == 403  # a role that may not upload
    assert (store.count(), w.head()) == (before, head)
    assert list((w.container.settings.data_dir / "evidence").rglob("*")) == [] if not w.container.settings.is_postgres else True


def test_a_file_is_served_only_within_its_units_scope(world: World) -> None:
    w = world
    sha = w.upload("op_a", A1, [("a.jpg", jpeg_with_gps(), "image/jpeg")]).json()["files"][0]["sha256"]
    assert w.get("op_a", f"/evidence/{sha}").status_code == 200
    assert w.get("obs_d", f"/evidence/{sha}").status_code == 200
    r = w.get("cmd_b", f"/evidence/{sha}")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert w.get("cmd_b", f"/evidence/{'0' * 64}").json()["detail"] == r.json()["detail"].replace(sha, "0" * 64)
    # nor can street B attach it to a record of its own
    assert w.post("cmd_b", "/hidden-dangers", {"unit_code": B1, "grade": "general", "title": "x", "site": "y",
                                                "evidence": [sha]}).status_code == 422
    # The same bytes uploaded by street B are B's own record of them: B learns nothing of A's, and A's stays A's.
    again = w.upload("cmd_b", B1, [("b.jpg", jpeg_with_gps(), "image/jpeg")]).json()["files"][0]
    assert (again["sha256"], again["unit_code"]) == (sha, B1)
    assert w.get("cmd_b", f"/evidence/{sha}").status_code == 200
    assert w.post("cmd_b", "/hidden-dangers", {"unit_code": B1, "grade": "general", "title": "x", "site": "y",
                                                "evidence": [sha]}).status_code == 201
    assert w.container.evidence.meta(sha, A1)["uploaded_by"] == "op_a"


def test_statistics_equal_a_recount_from_the_exported_log(world: World) -> None:
    w = world
    photo = w.upload("op_a", A1, [("a.jpg", jpeg_with_gps(), "image/jpeg")]).json()["files"][0]["sha256"]
    photo_b = w.upload("cmd_b", B1, [("b.jpg", jpeg_with_gps(b"b"), "image/jpeg")]).json()["files"][0]["sha256"]
    five = {"responsibility": "厂长", "measures": "整改", "funds": "5万元", "time_limit": "30日", "plan": "预案"}
    made = []
    for n, (unit, grade, steps, sha) in enumerate([(A1, "general", 4, photo), (A1, "major", 4, photo), (A1, "general", 1, photo),
                                                   (B1, "general", 3, photo_b), (B1, "general", 0, photo_b), (A1, "general", 2, photo)]):
        user = "op_a" if unit == A1 else "cmd_b"
        d = w.ok(user, "/hidden-dangers", {"unit_code": unit, "grade": grade, "title": f"隐患{n}", "site": "现场", "evidence": [sha]})["id"]
        made.append(d)
        if steps >= 1:
            w.ok("cmd_d", f"/hidden-dangers/{d}/assign", {"rectifier": "公司", "responsible": "王", "deadline": future(5), "measures": "整改"}
                 | ({"five": five, "supervision": "挂牌督办"} if grade == "major" else {}))
        if steps >= 2:
            w.ok(user, f"/hidden-dangers/{d}/rectified", {"evidence": [sha]})
        if steps >= 3:
            w.ok("op_d", f"/hidden-dangers/{d}/verify")
        if steps >= 4:
            w.ok("op_d", f"/hidden-dangers/{d}/close")
    stats = w.get("cmd_d", "/hidden-dangers/stats").json()["streets"]

    recount = recount_from_export(export_lines(w.container.log, "test"), datetime.now(timezone.utc))
    assert stats == recount
    assert stats[A]["found"] == 4 and stats[A]["major_closed"] == 1 and stats[B]["rectified"] == 1
    today = local_day(datetime.now(timezone.utc))
    assert w.get("cmd_d", f"/hidden-dangers/stats?start={today + timedelta(days=1)}").json()["streets"] == {}
    assert set(w.get("cmd_b", "/hidden-dangers/stats").json()["streets"]) == {B}  # a street counts its own


def recount_from_export(lines: Any, now: datetime) -> dict[str, dict[str, Any]]:
    """The statistics counted by hand from exported CloudEvents alone (no read model, no reducer)."""
    events = [json.loads(line) for line in lines]
    recount: dict[str, dict[str, Any]] = {}
    state: dict[str, dict[str, Any]] = {}
    for ce in events:
        kind = ce["type"].removeprefix("cn.gov.yingji.")
        if not kind.startswith("hiddendanger."):
            continue
        data, sid = ce["data"], ce["subject"]
        if kind == "hiddendanger.found":
            state[sid] = {"street": data["unit_code"][:9] + "000", "grade": data["grade"], "status": "found", "found": ce["time"],
                          "deadline": None, "on_time": None}
        s = state[sid]
        if kind in ("hiddendanger.assigned", "hiddendanger.deadlinemoved", "hiddendanger.rejected"):
            s["deadline"] = data["deadline"]
        if kind == "hiddendanger.rectificationreported":
            s["on_time"] = datetime.fromisoformat(ce["time"]) <= datetime.fromisoformat(s["deadline"])
        s["status"] = {"hiddendanger.assigned": "rectifying", "hiddendanger.rejected": "rectifying", "hiddendanger.verified": "verified",
                       "hiddendanger.closed": "closed", "hiddendanger.rectificationreported": "reported"}.get(kind, s["status"])
        if kind == "hiddendanger.rejected":
            s["on_time"] = None
        if kind == "hiddendanger.closed":
            s["closed"] = ce["time"]
    escalated = {ce["subject"] for ce in events if ce["type"] == "cn.gov.yingji.hiddendanger.escalated"}
    for sid, s in state.items():
        row = recount.setdefault(s["street"], {"found": 0, "rectified": 0, "rectified_on_time": 0, "overdue": 0, "major_found": 0,
                                               "major_closed": 0, "days": []})
        row["found"] += 1
        row["major_found"] += s["grade"] == "major"
        late_now = s["status"] == "rectifying" and s["deadline"] and datetime.fromisoformat(s["deadline"]) < now
        row["overdue"] += bool(sid in escalated or late_now or s["on_time"] is False)
        if s["status"] in ("verified", "closed"):
            row["rectified"] += 1
            row["rectified_on_time"] += bool(s["on_time"])
        if s["status"] == "closed":
            row["major_closed"] += s["grade"] == "major"
            row["days"].append((datetime.fromisoformat(s["closed"]) - datetime.fromisoformat(s["found"])).total_seconds() / 86400)
    for row in recount.values():
        row["on_time_rate"] = round(row["rectified_on_time"] / row["rectified"], 4) if row["rectified"] else None
        days = row.pop("days")
        row["avg_days_to_close"] = round(sum(days) / len(days), 2) if days else None
    return recount


def test_statistics_of_the_golden_log_equal_a_recount_of_its_export(tmp_path: Any) -> None:
    """The golden history (escalated, rejected, late and on-time rectifications) rebuilt, counted both ways."""
    import gzip

    from gateway.tools.backup import import_log
    from tests.golden.views import FIXTURE, NOW

    c = Container.build(Settings(data_dir=tmp_path, secret_key="test-secret-of-at-least-32-bytes!", run_projector=False))
    try:
        with gzip.open(FIXTURE, "rt", encoding="utf-8") as lines:
            import_log(c.log, lines)
        c.rebuild()
        docs, _ = c.store.list("hidden_danger", limit=10_000)
        from projections.prevention import danger_stats

        with gzip.open(FIXTURE, "rt", encoding="utf-8") as lines:
            assert danger_stats(docs, NOW) == recount_from_export(lines, NOW)
        assert sum(row["overdue"] for row in danger_stats(docs, NOW).values()) >= 2
    finally:
        c.close()


def test_evidence_files_go_out_and_back_with_a_backup(settings: Settings, tmp_path: Any) -> None:
    """`yingji export --evidence DIR` / `yingji import --evidence DIR`: the same bytes under the same names and scope."""
    from gateway.tools.backup import RestoreRefused, export_evidence, import_evidence

    c = Container.build(settings.model_copy(update={"run_projector": False}))
    target = Container.build(Settings(data_dir=tmp_path / "restored", secret_key="test-secret-of-at-least-32-bytes!", run_projector=False))
    try:
        kept = [c.evidence.put(jpeg_with_gps(bytes([n])), unit_code=A1, name=f"{n}.jpg", uploaded_by="op_a") for n in range(2)]
        assert export_evidence(c.evidence, tmp_path / "files") == 2
        assert import_evidence(target.evidence, tmp_path / "files") == 2
        for m in kept:
            assert target.evidence.content(m["sha256"]) == c.evidence.content(m["sha256"])
            assert target.evidence.meta(m["sha256"]) == m
        assert import_evidence(target.evidence, tmp_path / "files") == 0  # again: nothing new
        (tmp_path / "files" / kept[0]["sha256"]).write_bytes(jpeg_with_gps(b"tampered"))
        third = Container.build(Settings(data_dir=tmp_path / "third", secret_key="test-secret-of-at-least-32-bytes!", run_projector=False))
        try:
            with pytest.raises(RestoreRefused):
                import_evidence(third.evidence, tmp_path / "files")
        finally:
            third.close()
    finally:
        c.close()
        target.close()


def test_an_archive_carries_the_evidence_files(settings: Settings, tmp_path: Any) -> None:
    """`yingji export --archive` / `import`: the files travel inside the archive, checked against their SHA-256."""
    import zipfile

    from gateway.tools.backup import RestoreRefused, export_archive, import_archive

    c = Container.build(settings.model_copy(update={"run_projector": False}))
    target = Container.build(Settings(data_dir=tmp_path / "restored", secret_key="test-secret-of-at-least-32-bytes!", run_projector=False))
    try:
        c.service.register_unit(CommandContext(Principal("setup", "admin", D)), code=D, name="东城区", kind="district")
        kept = [c.evidence.put(jpeg_with_gps(bytes([n])), unit_code=A1, name=f"{n}.jpg", uploaded_by="op_a") for n in range(2)]
        archive = tmp_path / "district.zip"
        manifest = export_archive(c.log, c.accounts, c.relay_state, "/districts/x", c.settings.district_code, archive, evidence=c.evidence)
        assert manifest["counts"]["evidence"] == 2
        done = import_archive(target.log, target.accounts, target.relay_state, archive, c.settings.district_code, evidence=target.evidence)
        assert done["evidence"] == 2
        for m in kept:
            assert target.evidence.content(m["sha256"]) == c.evidence.content(m["sha256"])
        # An archive whose files were altered is refused before anything is written.
        altered = tmp_path / "altered.zip"
        with zipfile.ZipFile(archive) as src, zipfile.ZipFile(altered, "w") as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                dst.writestr(item, data.replace(b'"1.jpg"', b'"2.jpg"') if item.filename == "evidence.jsonl" else data)
        third = Container.build(Settings(data_dir=tmp_path / "third", secret_key="test-secret-of-at-least-32-bytes!", run_projector=False))
        try:
            with pytest.raises(RestoreRefused):
                import_archive(third.log, third.accounts, third.relay_state, altered, c.settings.district_code, evidence=third.evidence)
            assert third.log.max_position() == 0 and third.evidence.count() == 0
        finally:
            third.close()
    finally:
        c.close()
        target.close()
