"""Who may call what: the role × route matrix, as one table.

Every route under /api/v1 has a row here, and the gateway refuses to start
when one has none (`check_every_route_has_a_row`), so a new route cannot ship
without a decision. The row says which roles may call the route at all; admin
may call every route that needs an account. Where a role is let in, the
handler still confines it to its scope: a non-admin account acts only within
its unit's subtree, a field account only on its own team's dispatches and
materials (`gateway.context.Principal`).

`python -m gateway.authz` prints the matrix as Markdown (docs/authorization.md
is that output, and a test keeps it so).
"""

from __future__ import annotations

API = "/api/v1"
ROLES = ("admin", "commander", "operator", "field", "reporter", "observer")


class Public:
    """No account: the caller proves itself otherwise (a password, the city's signature) or needs nothing."""

    def __init__(self, why: str):
        self.why = why


Rule = frozenset[str] | Public

ANY: Rule = frozenset(ROLES)  # any signed-in account; the handler applies its scope
ADMIN: Rule = frozenset({"admin"})


def only(*roles: str) -> Rule:
    unknown = set(roles) - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"
    return frozenset({"admin", *roles})


COMMAND = only("commander")
DESK = only("commander", "operator")  # the command centre's desks
FIELD = only("commander", "operator", "field")  # and the teams themselves, on their own dispatches
REVIEW = only("commander", "operator", "observer")  # after-action review and replay

# "METHOD /path" (below /api/v1) -> who may call it.
MATRIX: dict[str, Rule] = {
    # accounts
    "POST /auth/token": Public("signs in with a password"),
    "GET /auth/me": ANY,
    "POST /auth/signout": ANY,  # revokes the caller's own token
    "GET /users": ADMIN,
    "POST /users": ADMIN,
    "POST /users/{username}/revoke": COMMAND,  # a commander may revoke team accounts in its subtree
    "GET /district": Public("the sign-in page shows which district this is"),
    # units
    "GET /units": ANY,
    "GET /units/{code}": ANY,
    "POST /units": ADMIN,
    # incidents
    "GET /incidents": ANY,
    "GET /incidents/{incident_id}": ANY,
    "POST /incidents": only("commander", "operator", "reporter"),
    "POST /incidents/{incident_id}/verify": DESK,
    "POST /incidents/{incident_id}/level": COMMAND,
    "POST /incidents/{incident_id}/situation": only("commander", "operator", "reporter"),
    "POST /incidents/{incident_id}/control": COMMAND,
    "POST /incidents/{incident_id}/close": COMMAND,
    "POST /incidents/{incident_id}/dismiss": DESK,
    "GET /incidents/{incident_id}/dispatches": ANY,
    "POST /incidents/{incident_id}/dispatches": DESK,
    "GET /incidents/{incident_id}/after-action": REVIEW,
    "GET /reports/summary": REVIEW,
    "GET /reports/daily": ANY,
    "GET /reports/daily/month": ANY,  # the month as a matrix (village × day), and its workbook
    "POST /reports/daily": only("commander", "operator", "reporter"),  # the village's reporter, or the desk for it
    # staged disaster reports (灾情报告): drafted at the desk, signed off by a commander, submitted upward
    "GET /disaster-reports": REVIEW,
    "GET /disaster-reports/due": REVIEW,
    "GET /disaster-reports/{report_id}": REVIEW,
    "GET /disaster-reports/{report_id}/xlsx": REVIEW,
    "POST /incidents/{incident_id}/disaster-reports": DESK,
    "POST /disaster-reports/{report_id}/revise": DESK,
    "POST /disaster-reports/{report_id}/sign-off": COMMAND,
    "POST /disaster-reports/{report_id}/submit": DESK,
    # the duty desk: roster (值班表) and shift handover (交接班)
    "GET /roster": REVIEW,
    "GET /roster/now": ANY,  # the board's header: who is on duty now, for the viewer's unit
    # notifications: each account's own phones (Web Push); the public key to subscribe with
    "GET /push/key": ANY,
    "GET /push/subscriptions": ANY,
    "POST /push/subscriptions": ANY,
    "DELETE /push/subscriptions/{subscription_id}": ANY,
    "POST /roster": DESK,
    "GET /handovers": REVIEW,
    "GET /handovers/draft": DESK,  # what a handover signed now would carry (open items, the shift's events)
    "GET /handovers/{handover_id}": REVIEW,
    "POST /handovers": DESK,
    "POST /handovers/{handover_id}/confirm": DESK,
    # teams and dispatches
    "GET /teams": ANY,
    "GET /teams/{team_id}": ANY,
    "POST /teams": COMMAND,
    "POST /teams/{team_id}/duty": FIELD,
    "GET /teams/{team_id}/accounts": COMMAND,
    "POST /teams/{team_id}/accounts": COMMAND,
    "GET /dispatches": ANY,
    "GET /dispatches/{dispatch_id}": ANY,
    "POST /dispatches/{dispatch_id}/acknowledge": FIELD,
    "POST /dispatches/{dispatch_id}/depart": FIELD,
    "POST /dispatches/{dispatch_id}/arrive": FIELD,
    "POST /dispatches/{dispatch_id}/complete": FIELD,
    "POST /dispatches/{dispatch_id}/decline": FIELD,
    "POST /dispatches/{dispatch_id}/cancel": DESK,
    # materials
    "GET /materials": ANY,
    "GET /warehouses": ANY,
    "GET /warehouses/{warehouse_id}": ANY,
    "POST /warehouses": COMMAND,
    "POST /warehouses/{warehouse_id}/receipts": DESK,
    "POST /warehouses/{warehouse_id}/counts": DESK,
    "POST /warehouses/{warehouse_id}/minimums": DESK,
    "GET /allocations": ANY,
    "GET /allocations/{allocation_id}": ANY,
    "POST /allocations": DESK,
    "POST /allocations/{allocation_id}/ship": DESK,
    "POST /allocations/{allocation_id}/deliver": FIELD,
    "POST /allocations/{allocation_id}/return": FIELD,
    "POST /allocations/{allocation_id}/cancel": DESK,
    # the board, the log, replay
    "GET /board": ANY,
    "GET /events": REVIEW,  # and district-level accounts only: the handler checks the scope
    "GET /replay/board": REVIEW,
    # the city platform
    "GET /relay": ANY,
    "POST /relay/resume": COMMAND,
    "POST /upstream/directives": Public("signed by the city platform (Standard Webhooks)"),
    "GET /directives": ANY,
    "POST /directives/{directive_id}/acknowledge": COMMAND,
    # early warnings (预警): operators draft, the commander signs off, updates and lifts; each target signs for
    # its own copy (its street desk, its village's reporter); CAP and the feed follow the warnings' scope rule
    # (a subscribing tool signs in with a district-level observer account)
    "GET /warnings": ANY,
    "GET /warnings/feed": ANY,
    "GET /warnings/{warning_id}": ANY,
    "GET /warnings/{warning_id}/cap": ANY,
    "GET /warnings/{warning_id}/receipts": ANY,
    "GET /warnings/{warning_id}/responses": ANY,
    "POST /warnings": DESK,
    "POST /warnings/{warning_id}/issue": COMMAND,
    "POST /warnings/{warning_id}/update": COMMAND,
    "POST /warnings/{warning_id}/lift": COMMAND,
    "POST /warnings/{warning_id}/receipts/{unit_code}/acknowledge": only("commander", "operator", "reporter"),
    "POST /warnings/{warning_id}/receipts/{unit_code}/response": only("commander", "operator", "reporter"),
    "POST /upstream/warnings": Public("signed by the city platform (Standard Webhooks), CAP 1.2 validated against the OASIS schema"),
    # 双重预防: risk points, inspections, hidden dangers and their evidence (street desks act within their street)
    "GET /risk-points": ANY,
    "GET /risk-points/{risk_point_id}": ANY,
    "POST /risk-points": DESK,
    "POST /risk-points/{risk_point_id}/assessments": DESK,
    "POST /risk-points/{risk_point_id}/controls": DESK,
    "GET /inspections": ANY,
    "POST /inspections": DESK,
    "GET /hidden-dangers": ANY,
    "GET /hidden-dangers/stats": ANY,
    "GET /hidden-dangers/{danger_id}": ANY,
    "POST /hidden-dangers": DESK,
    "POST /hidden-dangers/{danger_id}/assign": DESK,  # a major one: district accounts only (挂牌督办)
    "POST /hidden-dangers/{danger_id}/progress": DESK,
    "POST /hidden-dangers/{danger_id}/deadline": DESK,
    "POST /hidden-dangers/{danger_id}/rectified": DESK,
    "POST /hidden-dangers/{danger_id}/verify": DESK,  # never by the account that reported it rectified
    "POST /hidden-dangers/{danger_id}/reject": DESK,
    "POST /hidden-dangers/{danger_id}/close": DESK,
    "POST /evidence": DESK,
    "GET /evidence/{sha256}": ANY,  # only when the file's unit is in the caller's scope
    # 预案与演练: plans, mechanism documents and drills (street desks act on their street's and villages' plans)
    "GET /plans": ANY,
    "GET /plans/readiness": ANY,
    "GET /plans/{plan_id}": ANY,
    "POST /plans": DESK,
    "POST /plans/{plan_id}/revise": DESK,
    "POST /plans/{plan_id}/file": DESK,
    "POST /plans/{plan_id}/retire": DESK,
    "POST /plans/{plan_id}/drills": DESK,
    "GET /drills": ANY,
    "GET /drills/findings": ANY,
    "GET /drills/{drill_id}": ANY,
    "POST /drills/{drill_id}/findings/{n}/resolve": DESK,
    # readiness (1+4 / 1+3 / 六有): scorecards derived from the facts, inspection campaigns to 对标销号
    "GET /readiness": ANY,  # every unit's scorecard in the caller's scope, rolled up per street and the district
    "GET /readiness/standard": ANY,  # the versioned standard itself: items, what each requires, its evidence
    "POST /teams/{team_id}/strength": DESK,
    "GET /campaigns": ANY,
    "GET /campaigns/{campaign_id}": ANY,
    "GET /campaigns/{campaign_id}/report": ANY,  # per street; ?format=xlsx
    "POST /campaigns": DESK,  # 自查: a street desk over its own units; 督查: a district desk
    "GET /rectifications": ANY,
    "POST /rectifications/{rectification_id}/sign-off": DESK,  # only when its scorecard item is green now
    "GET /readiness/assessment": ANY,  # the annual assessment table (年度考核); ?format=xlsx
    # the people register and contact directory (人员 / 通讯录), training (培训): phones are personal data, so the
    # directory is read by the desks and observers of a unit's subtree (not by team phones or reporters)
    "GET /people": REVIEW,
    "GET /people/{person_id}": REVIEW,
    "POST /people": DESK,
    "POST /people/{person_id}/contact": DESK,
    "POST /people/{person_id}/posts": DESK,
    "POST /people/{person_id}/account": DESK,
    "POST /people/{person_id}/left": DESK,
    "GET /trainings": REVIEW,
    "GET /trainings/{training_id}": REVIEW,
    "POST /trainings": DESK,
    "POST /trainings/{training_id}/attendees": DESK,
}

# Not HTTP: the board's WebSocket authenticates with the token in its hello message, any role.
WEBSOCKETS = {"/board/live"}


def row_key(method: str, path: str) -> str:
    method = "GET" if method == "HEAD" else method
    return f"{method} {path.removeprefix(API)}"


def rule_for(method: str, path: str) -> Rule | None:
    return MATRIX.get(row_key(method, path))


def as_markdown() -> str:
    roles = ROLES
    lines = [
        "# Who may call what",
        "",
        "Generated by `python -m gateway.authz` from `gateway/authz.py` (the table the gateway enforces).",
        "✓: the role may call the route, within its scope (its unit's subtree; a field account: its own team).",
        "Routes marked public take no account. The board's WebSocket (`/api/v1/board/live`) authenticates",
        "in its hello message and is open to every role.",
        "",
        "| route | " + " | ".join(roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for key, rule in MATRIX.items():
        method, path = key.split(" ", 1)
        cells = [f"public: {rule.why}"] + [""] * (len(roles) - 1) if isinstance(rule, Public) else ["✓" if r in rule else "" for r in roles]
        lines.append(f"| `{method} {API}{path}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(as_markdown(), end="")
