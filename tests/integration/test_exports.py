"""Statistics and exports a bureau files: the period summary per street, its workbook, the daily
reports' workbook and the printable after-action report, in Chinese, within the caller's scope.
Workbooks are read back with openpyxl and compared with the JSON of the same route.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from typing import Any

import openpyxl

from domain.glossary import term
from tests.integration.scoped_district import A, B, District, m
from tests.integration.test_list_filters import district  # noqa: F401 (the served district, both stores)

WINDOW = {"start": (datetime.now(timezone.utc) - timedelta(days=1)).isoformat(),
          "end": (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()}


def workbook(r: Any) -> openpyxl.Workbook:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)


def rows(wb: openpyxl.Workbook, sheet: str) -> list[list[Any]]:
    return [list(r) for r in wb[term("statistic", sheet)].iter_rows(values_only=True)]


def test_the_summary_counts_per_street_within_scope(district: District) -> None:  # noqa: F811
    a = district.get("A", "/reports/summary", params=WINDOW).json()
    assert list(a["by_street"]) == [A]  # street A's operator: its own street only
    assert a["by_street"][A]["incidents"] == 2 and a["by_street"][A]["by_level"] == {"IV": 2}
    assert a["by_street"][A]["dispatches"] == 3  # TA and XB to A1, TA2 to A2
    b = district.get("B", "/reports/summary", params=WINDOW).json()
    assert list(b["by_street"]) == [B] and b["by_street"][B]["incidents"] == 1
    # The window is read on the indexed time column: a window before everything is empty.
    before = {"start": "2020-01-01T00:00:00+08:00", "end": "2020-01-02T00:00:00+08:00"}
    assert district.get("A", "/reports/summary", params=before).json()["incidents"] == 0


def test_the_summary_workbook_says_what_the_json_says(district: District) -> None:  # noqa: F811
    summary = district.get("A", "/reports/summary", params=WINDOW).json()
    wb = workbook(district.get("A", "/reports/summary", params=WINDOW | {"format": "xlsx"}))
    assert wb.sheetnames == [term("statistic", s) for s in ("sheet_summary", "sheet_streets", "sheet_types", "sheet_materials",
                                                             "sheet_warnings")]
    overview = {r[0]: (r[1] if len(r) > 1 else None) for r in rows(wb, "sheet_summary")[1:]}
    assert overview[term("statistic", "incidents")] == summary["incidents"] == 2
    assert overview[term("statistic", "dispatches")] == summary["dispatches"]
    streets = rows(wb, "sheet_streets")
    assert streets[0][:2] == [term("statistic", "street"), term("statistic", "incidents")]
    assert streets[1][:2] == ["新兴街道", summary["by_street"][A]["incidents"]]
    types = rows(wb, "sheet_types")
    assert types[1] == [f"{term('category', 'natural_disaster')} · {term('subtype', 'flood')}", 2]
    warned = rows(wb, "sheet_warnings")  # early warnings' receipts per street, real warnings only
    row = summary["warnings"]["by_street"][A]
    assert warned[1] == ["新兴街道", *[row[k] for k in ("receipts", "signed_in_time", "signed_late", "unsigned", "escalated")]]
    assert overview[term("statistic", "warnings_issued")] == summary["warnings"]["issued"] == 2  # WA and WD reach street A


def test_the_daily_reports_workbook_lists_every_village_in_words(district: District) -> None:  # noqa: F811
    day = district.get("A", "/reports/daily").json()
    wb = workbook(district.get("A", "/reports/daily", params={"format": "xlsx"}))
    table = rows(wb, "sheet_daily")
    assert len(table) - 1 == day["total"] == 2  # A1 and A2, not street B's village
    by_unit = {r[1]: r for r in table[1:]}
    assert set(by_unit) == {"魏庄村", "后河社区"}
    assert by_unit["魏庄村"][0] == "新兴街道" and by_unit["魏庄村"][3] == term("dailyStatus", "filed")
    assert by_unit["魏庄村"][5] == m("A1-DAILY")
    flat = " ".join(str(c) for r in table for c in r if c is not None)
    for code in ("filed", "missing", "due", "True", "False"):
        assert code not in flat.split()


def test_the_printable_after_action_report_has_no_raw_codes(district: District) -> None:  # noqa: F811
    html = district.get("A", f"/incidents/{district.ids['IA1']}/after-action", params={"format": "html"}).text
    assert "棉被" in html and "QUILT" not in html  # materials by name
    assert "Ⅳ级" in html and "洪涝" in html  # level and subtype in words
    for raw in ('"figures"', "natural_disaster", '{"', "ordered_at"):
        assert raw not in html, raw


def test_the_month_of_daily_reports_is_a_village_by_day_matrix_equal_to_the_days(district: District) -> None:  # noqa: F811
    month = district.get("A", "/reports/daily/month").json()
    today = district.get("A", "/reports/daily").json()
    assert month["days"][-1] == today["day"] and month["days"][0].endswith("-01") and month["total"] == 2
    # Each cell is what the day's own list says: the month adds no second judgement of "late" or "missing".
    for n, day in enumerate(month["days"][-2:], start=len(month["days"]) - 2):
        listed = {i["unit_code"]: i for i in district.get("A", "/reports/daily", params={"day": day}).json()["items"]}
        for row in month["items"]:
            one = listed[row["unit_code"]]
            assert row["days"][n] == ("late" if one["status"] == "filed" and one["late"] else one["status"])
    wb = workbook(district.get("A", "/reports/daily/month", params={"format": "xlsx"}))
    assert wb.sheetnames == [term("statistic", "sheet_daily_month"), term("statistic", "sheet_daily_by_day")]
    matrix = rows(wb, "sheet_daily_month")
    d = len(month["days"])
    assert matrix[0][:3] == [term("statistic", "street"), term("statistic", "unit"), f"{int(month['days'][0][5:7])}月1日"]
    assert matrix[0][2 + d:] == [term("statistic", c) for c in ("filed_in_time", "late", "missing_count", "due_count")]
    by_unit = {r[1]: r for r in matrix[1:]}
    assert set(by_unit) == {"魏庄村", "后河社区"}  # street A's villages only
    for item in month["items"]:
        r = by_unit[item["unit_name"]]
        assert r[0] == "新兴街道"
        assert r[2:2 + d] == [term("dailyStatus", c) for c in item["days"]]
        assert r[2 + d:] == [item[s] for s in ("filed", "late", "missing", "due")]
        assert sum(r[2 + d:]) == d  # every day of the month so far, once
    assert by_unit["魏庄村"][1 + d] in (term("dailyStatus", "filed"), term("dailyStatus", "late"))  # filed today
    days = rows(wb, "sheet_daily_by_day")
    assert [r[0] for r in days[1:]] == month["days"]
    assert [r[1:] for r in days[1:]] == [[b["units"], b["filed"], b["late"], b["missing"], b["due"]] for b in month["by_day"]]
    flat = " ".join(str(c) for r in matrix for c in r if c is not None).split()
    assert not {"filed", "missing", "due", "late"} & set(flat)
    assert district.get("A", "/reports/daily/month", params={"month": "2026-13"}).status_code == 422
