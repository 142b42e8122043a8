"""Daily reports (24小时零报告) over a real server: filing, correcting, scope, refusals, the board's counts."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.conftest import Server

SHANGHAI = ZoneInfo("Asia/Shanghai")
REPORTER_VILLAGE = "411099001001"  # 魏庄村, the demo reporter's; silent in the demo
SILENT = {"411099001001", "411099003007", "411099005006"}  # the demo leaves these three unfiled
STREET = "411099001000"


def today() -> str:
    return datetime.now(SHANGHAI).date().isoformat()


def test_a_reporter_files_and_corrects_the_day_and_the_board_counts_it(server: Server) -> None:
    reporter, cmd = server.client("reporter"), server.client("commander")
    try:
        before = cmd.get("/reports/daily").json()
        assert before["day"] == today() and before["total"] == 42 and before["filed"] == 39
        silent = {i["unit_code"] for i in before["items"] if i["status"] != "filed"}
        assert silent == SILENT
        board = cmd.get("/board").json()
        assert board["counts_by_street"][STREET]["daily_due"] == 7 and board["counts_by_street"][STREET]["daily_filed"] == 6

        key = str(uuid.uuid4())
        body = {"unit_code": REPORTER_VILLAGE, "day": today(), "zero": True}
        first = reporter.post("/reports/daily", body, key=key)
        assert first.status_code == 201, first.text
        again = reporter.post("/reports/daily", body, key=key)  # a retry from a weak network
        assert again.json() == first.json() and again.headers.get("idempotent-replayed") == "true"

        mine = reporter.get("/reports/daily", params={"min_position": first.json()["position"]}).json()
        assert [i["unit_code"] for i in mine["items"]] == [REPORTER_VILLAGE]  # a reporter sees its own village
        [row] = mine["items"]
        assert (row["status"], row["zero"], row["filed_by"]["user"], row["corrections"]) == ("filed", True, "reporter", 0)

        fix = reporter.ok("/reports/daily", {"unit_code": REPORTER_VILLAGE, "day": today(), "zero": False,
                                             "summary": "夜间强降雨，村东低洼处积水，已转移46人"})
        assert fix["id"] == first.json()["id"]  # the same report, corrected
        [row] = reporter.get("/reports/daily", params={"min_position": fix["position"]}).json()["items"]
        assert (row["zero"], row["summary"], row["corrections"]) == (False, "夜间强降雨，村东低洼处积水，已转移46人", 1)

        board = cmd.get("/board", params={"min_position": fix["position"]}).json()
        assert board["counts_by_street"][STREET]["daily_filed"] == 7
        missing = [a for a in board["alerts"] if a["kind"] == "daily_report_missing"]
        if datetime.now(SHANGHAI).strftime("%H:%M") >= "16:00":  # past the cut-off: the two still silent are named
            assert sorted(u for a in missing for u in a["units"]) == sorted(SILENT - {REPORTER_VILLAGE})
        else:
            assert missing == []

        events = cmd.get("/events", params={"after": first.json()["position"] - 1, "limit": 10}).json()["items"]
        mine = [e["type"] for e in events if e["subject"] == first.json()["id"]]
        assert mine == ["cn.gov.yingji.dailyreport.filed", "cn.gov.yingji.dailyreport.corrected"]  # what the city receives
    finally:
        reporter.close()
        cmd.close()


def test_refusals_are_problems_and_write_nothing(server: Server) -> None:
    reporter, cmd = server.client("reporter"), server.client("commander")
    try:
        head = cmd.get("/board").json()["position"]
        tomorrow = (datetime.now(SHANGHAI).date() + timedelta(days=1)).isoformat()
        long_ago = (datetime.now(SHANGHAI).date() - timedelta(days=30)).isoformat()
        cases = [
            (reporter, {"unit_code": "411099001002", "day": today(), "zero": True}, 403, "forbidden"),  # another village
            (cmd, {"unit_code": STREET, "day": today(), "zero": True}, 422, "validation_error"),  # streets do not file
            (cmd, {"unit_code": REPORTER_VILLAGE, "day": tomorrow, "zero": True}, 422, "validation_error"),
            (cmd, {"unit_code": REPORTER_VILLAGE, "day": long_ago, "zero": True}, 422, "validation_error"),
            (cmd, {"unit_code": REPORTER_VILLAGE, "day": today(), "zero": False}, 422, "validation_error"),  # news without words
            (cmd, {"unit_code": REPORTER_VILLAGE, "day": today(), "zero": "yes"}, 422, "validation_error"),
            (cmd, {"unit_code": REPORTER_VILLAGE, "day": "20th of July", "zero": True}, 422, "validation_error"),
            (cmd, {"unit_code": "411099009999", "day": today(), "zero": True}, 404, "not_found"),
        ]
        for api, body, status, code in cases:
            r = api.post("/reports/daily", body)
            assert r.status_code == status and r.json()["code"] == code, (body, r.status_code, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
        field = server.client("field")
        try:
            r = field.post("/reports/daily", {"unit_code": REPORTER_VILLAGE, "day": today(), "zero": True})
            assert r.status_code == 403 and r.json()["code"] == "forbidden"
        finally:
            field.close()
        assert cmd.get("/board").json()["position"] == head
    finally:
        reporter.close()
        cmd.close()
