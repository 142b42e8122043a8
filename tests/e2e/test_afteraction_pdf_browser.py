"""The printable after-action report as a bureau prints it: rendered to PDF by Chromium, read back.

The demo flood is worked to its end (dispatch completed, materials shipped, delivered and partly
returned, the incident closed), its printable report is laid out by Chromium as A4 and the PDF's
text is extracted with pypdf: the Chinese labels are there, no English code (statuses, material
codes, categories, event names) and no `{` of raw JSON, and the incident fits its one page.
"""

from __future__ import annotations

import io
import re
import unicodedata
from typing import Any

import pytest

from domain.glossary import GLOSSARY
from domain.materials import CATALOGUE
from tests.conftest import Server
from tests.e2e.browser import backend, browser  # noqa: F401 (fixtures)

pypdf = pytest.importorskip("pypdf")
pytestmark = pytest.mark.browser

# Codes a reader must never meet in print: every code the glossary translates (statuses, subtypes,
# levels' names, event types...) and every material code.
CODES = {code for rows in GLOSSARY.values() for code in rows if re.fullmatch(r"[a-z][a-z_]{3,}|[A-Z][A-Z0-9_-]{3,}", code)} | set(CATALOGUE)


def worked_flood(server: Server) -> str:
    cmd = server.client("commander")
    try:
        flood = next(i for i in cmd.get("/incidents").json()["items"] if i["subtype"] == "flood" and not i["exercise"])
        d = next(x for x in cmd.get("/dispatches").json()["items"] if x["incident_id"] == flood["id"])
        for step in ("acknowledge", "depart", "arrive", "complete"):
            cmd.ok(f"/dispatches/{d['id']}/{step}")
        a = next(x for x in cmd.get("/allocations").json()["items"] if x["incident_id"] == flood["id"])
        cmd.ok(f"/allocations/{a['id']}/ship", {"vehicle": "豫K·A1234"})
        cmd.ok(f"/allocations/{a['id']}/deliver", {"received_by": "魏庄村 李明"})
        cmd.ok(f"/allocations/{a['id']}/return", {"lines": {"PUMP": 2}})
        cmd.ok(f"/incidents/{flood['id']}/control", {"note": "积水已排除"})
        r = cmd.ok(f"/incidents/{flood['id']}/close", {"summary": "排涝完成，转移群众已返回"})
        html = cmd.get(f"/incidents/{flood['id']}/after-action", params={"format": "html", "min_position": r["position"]})
        assert html.status_code == 200
        return html.text
    finally:
        cmd.close()


def test_the_printed_after_action_report_reads_in_chinese_on_one_page(server: Server, browser: Any) -> None:  # noqa: F811
    html = worked_flood(server)
    page = browser.new_page()
    try:
        page.set_content(html)
        pdf = page.pdf(format="A4", print_background=True)
    finally:
        page.close()
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    # NFKC: the PDF's CJK fonts map some characters to their Kangxi radical forms (⽔ for 水).
    text = unicodedata.normalize("NFKC", "\n".join(p.extract_text() for p in reader.pages))
    for label in ("事件复盘报告", "魏庄村低洼区域积水", "响应时间", "队伍调度", "时间线", "任务完成", "水泵", "事件结案"):
        assert label in text, f"{label} missing from the printed report:\n{text}"
    assert "{" not in text and "}" not in text
    found = sorted(CODES & set(re.findall(r"[A-Za-z][A-Za-z0-9_-]{3,}", text)))
    assert found == [], f"English codes in the printed report: {found}"
    assert len(reader.pages) == 1, f"one incident, one page: {len(reader.pages)} pages"
