"""The vocabulary the pages need, generated from the Python that defines it.

Pages must not keep a second copy of a rule: which subtypes a category has, the
statuses a record moves through and which of them are on the board, the taps a
dispatch takes, which deadline runs in which status, who may call which route.
`python -m gateway.vocab` writes them into `ui/vocab.js` from `domain/` and
`gateway/authz.py`; a test fails when the file is stale, as `docs/authorization.md`
is kept. Moments (a deadline, the day's cut-off) are not computed in the browser:
the server sends them (`board.calendar`, each record's own deadline fields).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from domain import (
    allocations, campaigns, disaster_reports, dispatches, duty, incidents, people, plans, policy, prevention, readiness, reports,
    training, units, warnings,
)
from domain.glossary import GLOSSARY, by_language
from domain.policy import (
    CONTINUING_REPORT_DUE,
    CONTINUING_REPORT_LEVELS,
    DAILY_REPORT_DUE,
    EXPIRED_WARNING_SHOWN_FOR,
    REPORT_UPWARD_WITHIN,
    ROSTER_AHEAD_DAYS,
    SHANGHAI_UTC_OFFSET,
    VERIFIED_REPORT_DAYS,
)
from gateway.authz import MATRIX, ROLES, Public
from projections.board import ON_BOARD

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "ui" / "vocab.js"
GLOSSARY_DOC = ROOT / "docs" / "glossary.md"


def vocabulary() -> dict[str, Any]:
    def values(xs: Any) -> list[str]:
        return sorted(str(x) for x in xs)

    return {
        "ROLES": list(ROLES),
        # "METHOD /path" below /api/v1 -> the roles that may call it (null: no account needed)
        "PERMISSIONS": {route: None if isinstance(rule, Public) else sorted(rule) for route, rule in MATRIX.items()},
        "CATEGORIES": [str(c) for c in incidents.Category],
        "SUBTYPES": {str(c): list(s) for c, s in incidents.SUBTYPES.items()},
        "LEVELS": [str(x) for x in incidents.Level],
        "SITUATION_FIELDS": list(incidents.SITUATION_FIELDS),
        "HARM_FIELDS": list(incidents.HARM_FIELDS),
        "INCIDENT_OPEN": values(incidents.OPEN),
        "DISMISSABLE": values(incidents.DISMISSABLE),
        "DISPATCH_ACTIVE": values(dispatches.ACTIVE),
        "DISPATCH_FINAL": values(dispatches.FINAL),
        "DISPATCH_FLOW": [str(s) for s in dispatches.FLOW],
        "DISPATCH_STEPS": {step: {"target": str(target), "from": values(froms)} for step, (target, froms) in dispatches.STEPS.items()},
        "DISPATCH_NEXT_STEP": {str(k): v for k, v in dispatches.NEXT_STEP.items()},
        "RUNNING_DEADLINE": {str(s): {"reason": str(r), "field": f} for s, (r, f) in dispatches.RUNNING_DEADLINE.items()},
        # a team's status on the board is its dispatch's while it has one (projections/teams.py), in the order shown
        "TEAM_STATUSES": [str(s) for s in dispatches.FLOW if s in dispatches.ACTIVE] + ["idle", "off_duty"],
        "ALLOCATION_IN_FLIGHT": values(allocations.IN_FLIGHT),
        "ON_BOARD": {kind: None if statuses is None else sorted(statuses) for kind, statuses in ON_BOARD.items()},
        "REPORTING_KINDS": values(reports.REPORTING_KINDS),
        "UNIT_KINDS": [str(k) for k in units.UnitKind],
        # a unit's level in the tree by its kind (0 the district, 1 a street, 2 a village) and the code digits each level owns
        "UNIT_LEVEL_OF_KIND": {str(k): level for k, level in units.LEVEL_OF_KIND.items()},
        "UNIT_PREFIX_LENGTH": list(units.PREFIX_LENGTH),
        "WARNING_LEVELS": [str(x) for x in warnings.LEVELS_HIGH_FIRST],  # highest first: red (一级) … blue (四级)
        "RESPONSE_MEASURES": list(warnings.RESPONSE_MEASURES),
        "EXPIRED_WARNING_SHOWN_MS": int(EXPIRED_WARNING_SHOWN_FOR.total_seconds() * 1000),
        "DAILY_REPORT_DUE": DAILY_REPORT_DUE.strftime("%H:%M"),
        "REPORT_UPWARD_WITHIN_MS": int(REPORT_UPWARD_WITHIN.total_seconds() * 1000),
        "SHANGHAI_UTC_OFFSET_MS": int(SHANGHAI_UTC_OFFSET.total_seconds() * 1000),
        # staged disaster reports (domain/disaster_reports.py): stages, statuses, the form's figures in order
        "REPORT_STAGES": [str(x) for x in disaster_reports.Stage],
        "REPORT_STATUSES": [str(x) for x in disaster_reports.ReportStatus],
        "REPORT_EDITABLE": values(disaster_reports.EDITABLE),
        "REPORT_FIGURES": [{"code": code, "kind": kind} for code, kind in disaster_reports.FIGURES],
        "FIGURE_BOUNDS": dict(disaster_reports.BOUNDS),
        "FIGURE_WHOLE_KINDS": values(disaster_reports.WHOLE),
        "REPORT_SECTORS": list(disaster_reports.SECTORS),
        "STAGED_CATEGORIES": values(disaster_reports.STAGED_CATEGORIES),
        "CONTINUING_REPORT_DUE": CONTINUING_REPORT_DUE.strftime("%H:%M"),
        "CONTINUING_REPORT_LEVELS": values(CONTINUING_REPORT_LEVELS),
        "VERIFIED_REPORT_DAYS": VERIFIED_REPORT_DAYS,  # the default; the board sends the deployment's (`report_rules`)
        # the duty desk (domain/duty.py)
        "DUTY_KINDS": values(duty.DUTY_KINDS),
        "OPEN_ITEM_KINDS": list(duty.OPEN_ITEM_KINDS),
        "ROSTER_AHEAD_DAYS": ROSTER_AHEAD_DAYS,
        "MAX_OFFICERS": duty.MAX_OFFICERS,
        # 双重预防: risk levels (gravest first) and colours, the LEC tables and bands, the hidden danger's steps
        "RISK_LEVELS": [str(x) for x in prevention.RISK_LEVELS],
        "RISK_COLOUR": {str(k): v for k, v in prevention.RISK_COLOUR.items()},
        "LEC_BANDS": [{"above": floor, "inclusive": inclusive, "level": str(level)} for floor, inclusive, level in prevention.LEC_BANDS],
        "LEC_VALUES": {"l": list(prevention.LEC_L), "e": list(prevention.LEC_E), "c": list(prevention.LEC_C)},
        "ASSESS_METHODS": [str(m) for m in prevention.AssessMethod],
        "CONTROL_TIERS": list(prevention.CONTROL_TIERS),
        "CHECK_RESULTS": [str(r) for r in prevention.CheckResult],
        "INSPECTION_KINDS": [str(k) for k in prevention.InspectionKind],
        "DANGER_GRADES": [str(g) for g in prevention.DangerGrade],
        "DANGER_FLOW": [str(s) for s in prevention.DANGER_FLOW],
        "DANGER_OPEN": values(prevention.DANGER_OPEN),
        "DANGER_RUNNING": values(prevention.DANGER_RUNNING),
        "DANGER_STEPS": {step: {"target": str(t), "from": values(froms)} for step, (t, froms) in prevention.DANGER_STEPS.items()},
        "FIVE_IN_PLACE": list(prevention.FIVE_IN_PLACE),
        "MAX_EVIDENCE": prevention.MAX_EVIDENCE,
        "PLAN_KINDS": [str(k) for k in plans.PlanKind],
        "MECHANISMS": list(plans.MECHANISMS),
        "DRILL_KINDS": [str(k) for k in plans.DrillKind],
        "DRILL_EVERY_YEARS": policy.DRILL_EVERY_YEARS,
        "MAX_FINDINGS": plans.MAX_FINDINGS,
        # readiness: the standards, which unit kinds each applies to, the items, and the campaign kinds
        "READINESS_STANDARDS": [str(x) for x in readiness.Standard],
        "READINESS_STANDARD_KINDS": {str(k): list(v) for k, v in readiness.STANDARD_KINDS.items()},
        "READINESS_ITEMS": {i.id: i.standard for i in readiness.standard().items},
        "VILLAGE_KINDS": list(readiness.VILLAGE_KINDS),
        "STREET_KINDS": list(readiness.STREET_KINDS),
        "CAMPAIGN_KINDS": [str(k) for k in campaigns.CampaignKind],
        "RECTIFICATION_STATUSES": [str(k) for k in campaigns.RectificationStatus],
        # the people register (domain/people.py): posts in the plan's order, which a unit of each kind has
        # (domain.people.POSTS_AT_LEVEL by the kind's level), training levels (domain/training.py)
        "POSTS": [str(p) for p in people.Post],
        "POSTS_BY_KIND": {str(k): [str(p) for p in people.POSTS_AT_LEVEL[units.LEVEL_OF_KIND[k]]] for k in units.UnitKind},
        "TEAM_POSTS": values(people.TEAM_POSTS),
        "TRAINING_LEVELS": list(training.LEVELS),
        "GLOSSARY": by_language(),
    }


def render() -> str:
    lines = [
        "// Generated by `python -m gateway.vocab` from domain/ and gateway/authz.py: do not edit by hand.",
        "// A test fails when this file is stale. Rules live in Python; pages read them from here.",
        "",
    ]
    for name, value in vocabulary().items():
        lines.append(f"export const {name} = Object.freeze({json.dumps(value, ensure_ascii=False)});")
    lines += [
        "",
        "/** Whether an account of `role` may call `route` (\"METHOD /path\" as in PERMISSIONS). */",
        "export function can(role, route) {",
        "  const roles = PERMISSIONS[route];",
        "  return !!role && Array.isArray(roles) && roles.includes(role);",
        "}",
        "",
        "/**",
        " * The `data-command` attribute of a control that calls `route`: the browser test of every role's commands",
        " * (tests/e2e/test_every_command_browser.py) finds controls by it. A route the table does not have throws.",
        " */",
        "export function command(route) {",
        "  return `data-command=\"${known(route)}\"`;",
        "}",
        "",
        "/** `route`, once checked to be a row of the role table (for `el.dataset.command = known(...)`). */",
        "export function known(route) {",
        "  if (!(route in PERMISSIONS)) throw new Error(`no such route in the role table: ${route}`);",
        "  return route;",
        "}",
        "",
    ]
    return "\n".join(lines)


def glossary_markdown() -> str:
    lines = [
        "# Glossary 术语表",
        "",
        "Generated by `python -m gateway.vocab` from `domain/glossary.py`, the one glossary that the pages",
        "(through `ui/vocab.js`) and the server-rendered reports follow. Codes are the API's values.",
    ]
    for group, rows in GLOSSARY.items():
        lines += ["", f"## {group}", "", "| code | 中文 | English |", "|---|---|---|"]
        lines += [f"| `{code}` | {zh} | {en} |" for code, (zh, en) in rows.items()]
    return "\n".join(lines) + "\n"


OUTPUTS = {TARGET: render, GLOSSARY_DOC: glossary_markdown}


def main() -> None:
    stale = [path for path, make in OUTPUTS.items() if not path.exists() or path.read_text(encoding="utf-8") != make()]
    if "--check" in sys.argv:
        sys.exit(1 if stale else 0)
    for path in stale:
        path.write_text(OUTPUTS[path](), encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
