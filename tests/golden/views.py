"""What the golden test compares: the board, the main lists, daily reports, replay and after-action reports.

Each view is computed in-process by the code the API runs (the routers' own functions, or the
functions they call) at a fixed moment, so nothing depends on the wall clock. The generator
writes these views as the expected files; the test computes them again from the imported log.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from gateway.container import Container
from gateway.context import Principal
from gateway.entrypoints.api.afteraction import build_report
from gateway.entrypoints.api.allocations import list_allocations
from gateway.entrypoints.api.board import visible_to
from gateway.entrypoints.api.disaster_reports import due as reports_due
from gateway.entrypoints.api.disaster_reports import list_reports
from gateway.entrypoints.api.duty import list_handovers
from gateway.entrypoints.api.dispatches import list_dispatches
from gateway.entrypoints.api.incidents import list_incidents
from gateway.entrypoints.api.people import list_people, list_trainings
from gateway.entrypoints.api.plans import list_drill_findings, list_drills, list_plans, readiness
from gateway.entrypoints.api.prevention import hidden_danger_stats, list_hidden_dangers, list_risk_points
from gateway.entrypoints.api.relay import list_directives
from gateway.entrypoints.api.reports import daily_reports
from gateway.entrypoints.api.teams import list_teams
from gateway.entrypoints.api.warehouses import list_warehouses
from gateway.entrypoints.api.warnings import list_warnings, responses
from domain.people import Post
from projections.board import BOARD_KINDS, assemble
from projections.replay import BoardState

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "district.jsonl.gz"
EXPECTED = HERE / "expected"
DISTRICT = "411099000000"
SOURCE = f"/districts/{DISTRICT}"
# The moment the views are taken: after the last event of the history, past the day's 16:00 cut-off
# for daily reports, so the board's deadline alerts are all in play.
NOW = datetime(2026, 6, 10, 9, 0, tzinfo=timezone.utc)  # 17:00 in Asia/Shanghai
ADMIN = Principal("golden", "admin", DISTRICT, name="复盘")
PAGE = 1000  # the API's largest page: every list below is shorter


def plain(value: Any) -> Any:
    """As JSON would carry it (tuples become lists, keys strings)."""
    return json.loads(json.dumps(value, ensure_ascii=False))


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def views(c: Container, manifest: dict[str, Any]) -> dict[str, Any]:
    """File stem -> view. `manifest` names the incidents, days and replay positions to show."""
    c.service.clock = lambda: NOW
    position = c.store.position()
    args = {"container": c, "principal": ADMIN, "position": position}
    paged = {"limit": PAGE, "offset": 0}
    docs_position, docs = c.store.snapshot(BOARD_KINDS)
    out: dict[str, Any] = {
        "board": assemble(docs, docs_position, NOW, visible_to(ADMIN), relay=None),
        "incidents": list_incidents(**args, status=None, **paged),
        "dispatches": list_dispatches(**args, status=None, team_id=None, **paged),
        "allocations": list_allocations(**args, status=None, **paged),
        "warehouses": list_warehouses(**args, **paged),
        "teams": list_teams(**args, status=None, **paged),
        "directives": list_directives(**args, **paged),
        "warnings": list_warnings(**args, status=None, **paged),
        "disaster-reports": list_reports(**args, incident_id=None, status=None, **paged),
        "disaster-reports-due": reports_due(**args),
        "handovers": list_handovers(**args, status=None, **paged),
        "hidden-dangers": list_hidden_dangers(**args, status=None, grade=None, street=None, overdue=None, **paged),
        "hidden-danger-stats": hidden_danger_stats(**args, start=None, end=None),
        "risk-points": list_risk_points(**args, level=None, **paged),
        # the people register: the reporters (the tag column) with the days they trained; every training session
        "people-reporters": list_people(**args, post=Post.INFO_REPORTER, status=None, **paged),
        "trainings": list_trainings(**args, **paged),
        "plans": list_plans(**args, unit=None, kind=None, status=None, **paged),
        "plan-readiness": readiness(**args, unit=None),
        "drills": list_drills(**args, unit=None, plan_id=None, status=None, **paged),
        "drill-findings": list_drill_findings(**args, unit=None, open_only=False),
    }
    for w in out["warnings"]["items"]:
        out[f"warning-responses-{w['id']}"] = responses(w["id"], c, ADMIN, position)
    for day in manifest["days"]:
        out[f"daily-reports-{day}"] = daily_reports(**args, day=date.fromisoformat(day))
    for incident_id in manifest["after_action"]:
        out[f"after-action-{incident_id}"] = build_report(c, incident_id)
    out |= replay_boards(c, manifest["replay_positions"])
    return plain(out)


def replay_boards(c: Container, positions: list[int]) -> dict[str, Any]:
    """The replay page's board at each position, folded from the log as `GET /replay/board` does."""
    state, out, wanted = BoardState(), {}, sorted(positions)
    after = 0
    while wanted and (notifications := c.log.read(after, 2000)):
        for n in notifications:
            while wanted and n.id > wanted[0]:
                out[f"replay-{wanted.pop(0)}"] = state.board()
            state.apply(c.log.decode(n), n.id)
        after = notifications[-1].id
    for p in wanted:
        out[f"replay-{p}"] = state.board()
    return out
