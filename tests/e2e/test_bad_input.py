"""Bad input over a real server: every refusal is a 4xx problem+json with a stable code, and writes nothing.

One module-scoped server per backend (demo district seeded, watchdog off so the
log only moves when a test writes) serves every case. Each case reads the log
head (GET /healthz) and the account table (GET /users) before and after the
request and requires both unchanged, so "refused" always also means "nothing
written". Requests go out on a fresh connection each, so one misbehaving answer
cannot leak into the next case.

Cases that show a bug in the application are kept as strict xfails whose reason
starts with "BUG:"; they turn into failures (XPASS strict) once the bug is fixed.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import jwt
import pytest

from tests.conftest import DEMO_PASSWORD, PG_URL, Server, Settings, copy_demo, drop_schema, postgres_or_skip

SECRET = "test-secret-of-at-least-32-bytes!"  # what the conftest servers sign tokens with
DISTRICT = "411099000000"
STREET1 = "411099001000"  # 新兴街道: the field team's street
VILLAGE = "411099001001"  # the reporter's village (魏庄村)
OTHER_VILLAGE = "411099003007"  # 半截河街道, where the demo's landslide is
MIB = 1024 * 1024
PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}
NO_BODY = object()

# -- the demo district, started once per backend ---------------------------------


@dataclass
class Demo:
    server: Server
    ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    bodies: dict[str, Any] = field(default_factory=dict)
    # No keep-alive: every request gets a connection of its own (a 500 makes uvicorn drop the connection).
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30, limits=httpx.Limits(max_keepalive_connections=0)))

    @property
    def api(self) -> str:
        return self.server.base_url + "/api/v1"

    def fill(self, value: Any, **override: str) -> Any:
        """Put ids into `{name}` placeholders (in paths, bodies and raw bodies)."""
        ids = self.ids | override
        if isinstance(value, str):
            return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), m.group(0)), value)
        if isinstance(value, bytes):
            return self.fill(value.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
        if isinstance(value, dict):
            return {self.fill(k, **override): self.fill(v, **override) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill(v, **override) for v in value]
        return value

    def call(self, method: str, path: str, user: str | None = "commander", *, json_body: Any = NO_BODY,
             content: Any = None, headers: dict[str, str] | None = None, token: str | None = None,
             params: dict[str, Any] | None = None) -> httpx.Response:
        """One request, on a fresh connection."""
        headers = dict(headers or {})
        if token is None and user is not None:
            token = self.tokens[user]
        if token is not None:
            headers.setdefault("Authorization", f"Bearer {token}")
        kw: dict[str, Any] = {"headers": headers, "params": params, "timeout": 30}
        if json_body is not NO_BODY:
            kw["json"] = json_body
        elif content is not None:
            kw["content"] = content
        return self.http.request(method, self.api + path, **kw)

    def ok(self, method: str, path: str, body: Any = NO_BODY, user: str = "commander", key: str | None = None) -> dict[str, Any]:
        r = self.call(method, path, user, json_body=body, headers={"Idempotency-Key": key} if key else None)
        assert r.status_code in (200, 201), f"{method} {path}: {r.status_code} {r.text}"
        return r.json()  # type: ignore[no-any-return]

    def head(self) -> int:
        return int(self.http.get(self.server.base_url + "/healthz").json()["log_position"])

    def snapshot(self) -> tuple[int, list[dict[str, Any]]]:
        """What a refused command must leave alone: the event log and the account table."""
        r = self.call("GET", "/users", "admin")
        assert r.status_code == 200, r.text
        return self.head(), r.json()["items"]

    def wait_for(self, position: int) -> None:
        r = self.call("GET", "/incidents", params={"min_position": position})
        assert r.status_code == 200, r.text


def sign_in(base_url: str, username: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    r = httpx.post(base_url + "/api/v1/auth/token", data={"username": username, "password": password}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def incident_body(**over: Any) -> dict[str, Any]:
    return {
        "category": "natural_disaster", "subtype": "rainstorm", "level": "IV", "title": "测试内涝",
        "unit_code": VILLAGE, "address": "魏庄村", "occurred_at": "2026-07-20T08:30:00+08:00",
    } | over


def prepare(demo: Demo) -> None:
    """Find the demo's ids, then make the few extra things the cases need (before any case runs)."""
    base = demo.server.base_url
    for role in ("admin", "commander", "operator", "field", "reporter", "observer"):
        answer = sign_in(base, role)
        demo.tokens[role] = answer["access_token"]
        if role == "field":
            demo.ids["field_team"] = answer["user"]["team_id"]
    ids = demo.ids
    incidents = {i["title"]: i for i in demo.call("GET", "/incidents").json()["items"]}
    ids["flood"] = incidents["魏庄村低洼区域积水"]["id"]  # verified, the field team is dispatched to it
    ids["fire"] = incidents["仓储厂房火情"]["id"]  # reported, in the cluster (another team)
    ids["geo"] = incidents["道路边坡小面积滑塌"]["id"]  # reported, in 半截河街道
    dispatches = {d["incident_id"]: d for d in demo.call("GET", "/dispatches").json()["items"]}
    ids["field_dispatch"] = dispatches[ids["flood"]]["id"]
    ids["other_dispatch"] = dispatches[ids["fire"]]["id"]
    ids["other_team"] = dispatches[ids["fire"]]["team_id"]
    assert dispatches[ids["flood"]]["team_id"] == ids["field_team"]
    idle = [t for t in demo.call("GET", "/teams", params={"status": "idle"}).json()["items"] if t["on_duty"]]
    ids["idle_team"], ids["spare_team"], ids["off_team"] = (t["id"] for t in idle[:3])
    ids["wh"] = next(w["id"] for w in demo.call("GET", "/warehouses").json()["items"] if w["unit_code"] == STREET1)
    ids["alloc"] = demo.call("GET", "/allocations").json()["items"][0]["id"]  # reserved, no team
    ids["random"] = str(uuid.uuid4())
    ids["bad"] = "not-a-uuid"

    # A dismissed incident; a spare dispatch in `ordered`; a team off duty; an allocation delivered to the field team.
    ids["dismissed"] = demo.ok("POST", "/incidents", incident_body(title="误报：测试"))["id"]
    demo.ok("POST", f"/incidents/{ids['dismissed']}/dismiss", {"reason": "误报"})
    ids["spare_incident"] = demo.ok("POST", "/incidents", incident_body(title="备用事件"))["id"]
    ids["spare_dispatch"] = demo.ok("POST", f"/incidents/{ids['spare_incident']}/dispatches",
                                    {"team_id": ids["spare_team"], "task": "备用"})["id"]
    demo.ok("POST", f"/teams/{ids['off_team']}/duty", {"on_duty": False})
    ids["delivered"] = demo.ok("POST", "/allocations", {"incident_id": ids["flood"], "warehouse_id": ids["wh"],
                                                        "lines": {"QUILT": 5, "LIFE-JACKET": 5}, "team_id": ids["field_team"]})["id"]
    demo.ok("POST", f"/allocations/{ids['delivered']}/ship", {"vehicle": "豫K00001"})
    demo.ok("POST", f"/allocations/{ids['delivered']}/deliver", {"received_by": "队长"})
    # A first write under an Idempotency-Key, for the mismatch cases.
    demo.bodies["idem"] = incident_body(title="幂等测试")
    ids["idem_incident"] = demo.ok("POST", "/incidents", demo.bodies["idem"], key="idem-report-1")["id"]
    last = demo.ok("POST", f"/incidents/{ids['spare_incident']}/situation", {"notes": "准备完毕"})["position"]
    # Accounts: a commander of another street, and a throwaway account to aim revocations at.
    demo.ok("POST", "/users", {"username": "cmd-street2", "password": "street2-password", "role": "commander",
                               "unit_code": "411099002000"}, user="admin")
    demo.ok("POST", "/users", {"username": "spare-user", "password": "spare-password", "role": "observer",
                               "unit_code": DISTRICT}, user="admin")
    demo.tokens["cmd_street2"] = sign_in(base, "cmd-street2", "street2-password")["access_token"]
    demo.wait_for(last)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    data_dir = tmp_path_factory.mktemp(f"bad-input-{request.param}")
    schema = ""
    if request.param == "postgres":
        postgres_or_skip()
        schema = "t_" + uuid.uuid4().hex[:12]
        settings = Settings(data_dir=data_dir, database_url=PG_URL, database_schema=schema, secret_key=SECRET)
    else:
        settings = Settings(data_dir=data_dir, secret_key=SECRET)
    srv: Server | None = None
    try:
        copy_demo(settings, tmp_path_factory)
        # No watchdog: nothing but the tests may move the log head.
        srv = Server(settings, extra_env={"YINGJI_WATCHDOG_SECONDS": "0", "YINGJI_RUN_NOTIFIER": "false"}).start()
        d = Demo(srv)
        prepare(d)
        yield d
        d.http.close()
    finally:
        if srv is not None:
            srv.stop()
        if schema:
            drop_schema(schema)


# -- checks ----------------------------------------------------------------------


def assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code < 500, f"server error {r.status_code}: {r.text[:500]}"
    assert r.status_code == status and r.headers.get("content-type", "").startswith("application/problem+json"), (
        f"expected {status} {code}, got {r.status_code} {r.headers.get('content-type')}: {r.text[:500]}"
    )
    body = r.json()
    assert PROBLEM_KEYS <= set(body), body
    assert body["status"] == status and body["code"] == code, body
    assert body["type"].startswith("https://") and body["title"] and isinstance(body["detail"], str), body
    assert "Traceback" not in r.text and 'File "' not in r.text, r.text
    return body  # type: ignore[no-any-return]


def refused(demo: Demo, send: Any, status: int, code: str) -> dict[str, Any]:
    """Send (a zero-argument callable), expect the problem, and require that nothing was written."""
    before = demo.snapshot()
    r = send()
    after = demo.snapshot()
    wrote = f"log head {before[0]} -> {after[0]}, account table {'changed' if after[1] != before[1] else 'unchanged'}"
    try:
        body = assert_problem(r, status, code)
    except AssertionError as e:
        raise AssertionError(f"{e}\n({wrote})") from None
    assert after == before, f"a refused request wrote: {wrote}"
    return body


def make_token(sub: str = "commander", key: str = SECRET, alg: str = "HS256", **claims: Any) -> str:
    payload = {"sub": sub, "role": "commander", "unit": DISTRICT, "ver": 1, "jti": secrets.token_hex(16),
               "exp": datetime.now(timezone.utc) + timedelta(minutes=30)} | claims
    payload = {k: v for k, v in payload.items() if v is not None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short test keys
        return jwt.encode(payload, key, algorithm=alg)


def xfail(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason="BUG: " + reason)



# -- the command routes --------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    user: str  # a role that may use the route
    path: str  # with {placeholders}
    body: Any  # a body that passes validation (NO_BODY: the route takes none)
    allowed: tuple[str, ...]  # roles let in besides admin
    id_slot: str | None = None  # the placeholder naming the route's own UUID
    body_model: bool = True  # whether FastAPI reads the body itself (a body parameter)
    keyed: bool = True  # whether the route goes through the command pipeline (Idempotency-Key)


CMD_OP = ("commander", "operator")
ROUTES: dict[str, Route] = {
    "units": Route("admin", "/units", {"code": "411099001090", "name": "测试村", "kind": "village"}, ()),
    "incidents": Route("commander", "/incidents", incident_body(), ("commander", "operator", "reporter")),
    "incidents.verify": Route("commander", "/incidents/{geo}/verify", {"note": "核实"}, CMD_OP, "geo"),
    "incidents.level": Route("commander", "/incidents/{geo}/level", {"level": "III", "reason": "扩大"}, ("commander",), "geo"),
    "incidents.situation": Route("commander", "/incidents/{geo}/situation", {"evacuated": 3, "notes": "转移"},
                                 ("commander", "operator", "reporter"), "geo"),
    "incidents.control": Route("commander", "/incidents/{flood}/control", {"note": "已控制"}, ("commander",), "flood"),
    "incidents.close": Route("commander", "/incidents/{flood}/close", {"summary": "处置完毕"}, ("commander",), "flood"),
    "incidents.dismiss": Route("commander", "/incidents/{geo}/dismiss", {"reason": "误报"}, CMD_OP, "geo"),
    "incidents.dispatches": Route("commander", "/incidents/{geo}/dispatches", {"team_id": "{idle_team}", "task": "巡查"},
                                  CMD_OP, "geo"),
    "teams": Route("commander", "/teams", {"name": "测试志愿队", "kind": "volunteer", "unit_code": STREET1, "members": 5},
                   ("commander",)),
    "teams.duty": Route("commander", "/teams/{idle_team}/duty", {"on_duty": False}, ("commander", "operator", "field"),
                        "idle_team"),
    "teams.accounts": Route("commander", "/teams/{idle_team}/accounts", {"display_name": "队伍手机"}, ("commander",),
                            "idle_team"),
    "dispatches.acknowledge": Route("commander", "/dispatches/{spare_dispatch}/acknowledge", NO_BODY,
                                    ("commander", "operator", "field"), "spare_dispatch", body_model=False),
    "dispatches.depart": Route("commander", "/dispatches/{spare_dispatch}/depart", NO_BODY,
                               ("commander", "operator", "field"), "spare_dispatch", body_model=False),
    "dispatches.arrive": Route("commander", "/dispatches/{spare_dispatch}/arrive", NO_BODY,
                               ("commander", "operator", "field"), "spare_dispatch", body_model=False),
    "dispatches.complete": Route("commander", "/dispatches/{spare_dispatch}/complete", {"note": "完成"},
                                 ("commander", "operator", "field"), "spare_dispatch"),
    "dispatches.decline": Route("commander", "/dispatches/{spare_dispatch}/decline", {"reason": "人手不足"},
                                ("commander", "operator", "field"), "spare_dispatch"),
    "dispatches.cancel": Route("commander", "/dispatches/{spare_dispatch}/cancel", {"reason": "改派"}, CMD_OP,
                               "spare_dispatch"),
    "warehouses": Route("commander", "/warehouses", {"name": "测试仓库", "unit_code": STREET1}, ("commander",)),
    "warehouses.receipts": Route("commander", "/warehouses/{wh}/receipts", {"lines": {"QUILT": 5}}, CMD_OP, "wh"),
    "warehouses.counts": Route("commander", "/warehouses/{wh}/counts", {"code": "QUILT", "counted": 400}, CMD_OP, "wh"),
    "warehouses.minimums": Route("commander", "/warehouses/{wh}/minimums", {"code": "QUILT", "minimum": 90}, CMD_OP, "wh"),
    "allocations": Route("commander", "/allocations",
                         {"incident_id": "{flood}", "warehouse_id": "{wh}", "lines": {"QUILT": 5}}, CMD_OP),
    "allocations.ship": Route("commander", "/allocations/{alloc}/ship", {"vehicle": "豫K12345"}, CMD_OP, "alloc"),
    "allocations.deliver": Route("commander", "/allocations/{delivered}/deliver", {"received_by": "队长"},
                                 ("commander", "operator", "field"), "delivered"),
    "allocations.return": Route("commander", "/allocations/{delivered}/return", {"lines": {"QUILT": 1}},
                                ("commander", "operator", "field"), "delivered"),
    "allocations.cancel": Route("commander", "/allocations/{alloc}/cancel", {"reason": "不需要了"}, CMD_OP, "alloc"),
    "users": Route("admin", "/users", {"username": "newbie", "password": "long-password", "role": "observer",
                                       "unit_code": DISTRICT}, ()),
    "users.revoke": Route("admin", "/users/spare-user/revoke", NO_BODY, ("commander",), body_model=False),
}
ROLES = ("commander", "operator", "field", "reporter", "observer")


def send_route(demo: Demo, route: Route, user: str | None = None, token: str | None = None, **override: str) -> Any:
    path = demo.fill(route.path, **override)
    body = demo.fill(route.body, **override)
    return lambda: demo.call("POST", path, user if token is None else None, json_body=body, token=token)


# -- 1. tokens --------------------------------------------------------------------

TOKENS = {
    "no-token": lambda: None,
    "garbage-token": lambda: "garbage",
    "other-key": lambda: make_token(key="another-secret-key"),
    "expired": lambda: make_token(exp=datetime.now(timezone.utc) - timedelta(minutes=5)),
    "old-version": lambda: make_token(ver=2),
}


@pytest.mark.parametrize("variant", TOKENS)
@pytest.mark.parametrize("name", ROUTES)
def test_commands_without_a_valid_token_are_401(demo: Demo, name: str, variant: str) -> None:
    route = ROUTES[name]
    token = TOKENS[variant]()
    path, body = demo.fill(route.path), demo.fill(route.body)
    body_out = refused(demo, lambda: demo.call("POST", path, None, json_body=body, token=token), 401, "unauthenticated")
    assert body_out["detail"]


@pytest.mark.parametrize("token,header", [
    pytest.param(lambda: make_token(sub="ghost"), None, id="unknown-user"),
    pytest.param(lambda: make_token(exp=None), None, id="no-exp"),
    pytest.param(lambda: jwt.encode({"sub": "admin", "role": "admin", "unit": DISTRICT, "ver": 1,
                                     "exp": int(time.time()) + 600}, None, algorithm="none"), None, id="alg-none"),
    pytest.param(lambda: make_token(alg="HS512"), None, id="hs512-same-key"),
    pytest.param(lambda: make_token(ver="1"), None, id="version-as-string"),
    pytest.param(lambda: None, "Basic YWRtaW46eWluZ2ppMjAyNg==", id="basic-scheme"),
    pytest.param(lambda: None, "Bearer", id="bearer-without-token"),
])
def test_other_bad_tokens_are_401(demo: Demo, token: Any, header: str | None) -> None:
    path = demo.fill("/incidents/{geo}/situation")
    headers = {"Authorization": header} if header else None
    refused(demo, lambda: demo.call("POST", path, None, json_body={"notes": "x"}, token=token(), headers=headers),
            401, "unauthenticated")


def test_a_well_made_token_is_accepted(demo: Demo) -> None:
    """The control for the token cases above: same claims, right key, not expired."""
    r = demo.call("GET", "/auth/me", None, token=make_token())
    assert r.status_code == 200 and r.json()["username"] == "commander", r.text


@pytest.mark.parametrize("path", ["/incidents", "/incidents/{flood}", "/dispatches", "/warehouses/{wh}", "/events", "/users"])
def test_reads_without_a_token_are_401(demo: Demo, path: str) -> None:
    p = demo.fill(path)
    r = demo.call("GET", p, None)
    assert_problem(r, 401, "unauthenticated")
    assert r.headers.get("www-authenticate") == "Bearer"


# -- 2. roles -------------------------------------------------------------------


@pytest.mark.parametrize("name,role", [(n, role) for n, r in ROUTES.items() for role in ROLES if role not in r.allowed])
def test_roles_not_allowed_on_a_route_are_403(demo: Demo, name: str, role: str) -> None:
    refused(demo, send_route(demo, ROUTES[name], role), 403, "forbidden")


SCOPE_CASES = [
    # (id, user, path, body, status, code)
    ("observer-cannot-dispatch", "observer", "/incidents/{flood}/dispatches", {"team_id": "{idle_team}", "task": "x"}, 403, "forbidden"),
    ("reporter-cannot-dispatch", "reporter", "/incidents/{flood}/dispatches", {"team_id": "{idle_team}", "task": "x"}, 403, "forbidden"),
    ("observer-cannot-report", "observer", "/incidents", incident_body(), 403, "forbidden"),
    ("reporter-reports-outside-its-village", "reporter", "/incidents", incident_body(unit_code=OTHER_VILLAGE), 403, "forbidden"),
    ("reporter-reports-at-the-district", "reporter", "/incidents", incident_body(unit_code=DISTRICT, subtype="flood"), 403, "forbidden"),
    ("reporter-situation-outside", "reporter", "/incidents/{geo}/situation", {"injured": 1}, 404, "not_found"),
    ("reporter-situation-fire", "reporter", "/incidents/{fire}/situation", {"notes": "x"}, 404, "not_found"),
    ("reporter-cannot-verify", "reporter", "/incidents/{flood}/verify", NO_BODY, 403, "forbidden"),
    ("operator-cannot-relevel", "operator", "/incidents/{geo}/level", {"level": "III"}, 403, "forbidden"),
    ("street-commander-verify-other-street", "cmd_street2", "/incidents/{geo}/verify", NO_BODY, 404, "not_found"),
    ("street-commander-dispatch-other-street", "cmd_street2", "/incidents/{flood}/dispatches",
     {"team_id": "{idle_team}", "task": "x"}, 404, "not_found"),
    ("street-commander-receipts-other-street", "cmd_street2", "/warehouses/{wh}/receipts", {"lines": {"QUILT": 1}}, 404, "not_found"),
    ("street-commander-allocate-other-street", "cmd_street2", "/allocations",
     {"incident_id": "{flood}", "warehouse_id": "{wh}", "lines": {"QUILT": 1}}, 404, "not_found"),
    ("street-commander-team-outside", "cmd_street2", "/teams",
     {"name": "越界队", "kind": "volunteer", "unit_code": STREET1, "members": 3}, 403, "forbidden"),
    ("street-commander-revokes-staff", "cmd_street2", "/users/operator/revoke", NO_BODY, 403, "forbidden"),
    ("commander-revokes-staff", "commander", "/users/operator/revoke", NO_BODY, 403, "forbidden"),
    ("field-acknowledges-another-teams-dispatch", "field", "/dispatches/{other_dispatch}/acknowledge", NO_BODY, 404, "not_found"),
    ("field-declines-another-teams-dispatch", "field", "/dispatches/{other_dispatch}/decline", {"reason": "x"}, 404, "not_found"),
    ("field-cancels-its-own-dispatch", "field", "/dispatches/{field_dispatch}/cancel", {"reason": "x"}, 403, "forbidden"),
    ("field-duty-of-another-team", "field", "/teams/{other_team}/duty", {"on_duty": False}, 404, "not_found"),
    ("field-delivers-materials-for-no-team", "field", "/allocations/{alloc}/deliver", NO_BODY, 404, "not_found"),
    ("field-ships", "field", "/allocations/{delivered}/ship", NO_BODY, 403, "forbidden"),
    ("field-reports", "field", "/incidents", incident_body(), 403, "forbidden"),
]


def test_street_accounts_cannot_read_the_whole_districts_log(demo: Demo) -> None:
    assert_problem(demo.call("GET", "/events", "cmd_street2"), 403, "forbidden")
    assert demo.call("GET", "/events", "commander").status_code == 200


@pytest.mark.parametrize("user,path,body,status,code", [pytest.param(*c[1:], id=c[0]) for c in SCOPE_CASES])
def test_acting_outside_ones_role_or_units_is_refused(demo: Demo, user: str, path: str, body: Any, status: int, code: str) -> None:
    p, b = demo.fill(path), demo.fill(body)
    refused(demo, lambda: demo.call("POST", p, user, json_body=b), status, code)


READ_SCOPE_CASES = [
    pytest.param("field", "/allocations/{alloc}", id="field-reads-materials-for-no-team"),
    pytest.param("field", "/incidents/{fire}", id="field-reads-an-incident-outside-its-street"),
    pytest.param("reporter", "/incidents/{geo}", id="reporter-reads-an-incident-outside"),
    pytest.param("reporter", "/dispatches/{other_dispatch}", id="reporter-reads-a-dispatch-outside"),
    pytest.param("cmd_street2", "/incidents/{flood}", id="street-commander-reads-another-street"),
    pytest.param("cmd_street2", "/warehouses/{wh}", id="street-commander-reads-another-warehouse"),
]


@pytest.mark.parametrize("user,path", READ_SCOPE_CASES)
def test_reads_outside_ones_scope_are_404(demo: Demo, user: str, path: str) -> None:
    assert_problem(demo.call("GET", demo.fill(path), user), 404, "not_found")


def test_a_field_account_reading_another_teams_dispatch_is_404(demo: Demo) -> None:
    # Issue 16, item 4: out of scope reads exactly as unknown (it was 403, which told that the id exists).
    assert_problem(demo.call("GET", demo.fill("/dispatches/{other_dispatch}"), "field"), 404, "not_found")


# -- 3. the same mistakes on every route --------------------------------------------

GENERIC: list[Any] = []
for _name, _r in ROUTES.items():
    if _r.body_model:
        GENERIC.append(pytest.param(_name, "extra-field", 422, "validation_error", id=f"{_name}-extra-field"))
        GENERIC.append(pytest.param(_name, "malformed-json", 422, "validation_error", id=f"{_name}-malformed-json"))
        GENERIC.append(pytest.param(_name, "json-array", 422, "validation_error", id=f"{_name}-json-array"))
        GENERIC.append(pytest.param(_name, "form-encoded", 422, "validation_error", id=f"{_name}-form-encoded"))
    else:
        for _kind in ("extra-field", "malformed-json"):
            GENERIC.append(pytest.param(_name, _kind, 422, "validation_error", id=f"{_name}-{_kind}", ))
    if _r.id_slot:
        GENERIC.append(pytest.param(_name, "non-uuid-id", 422, "validation_error", id=f"{_name}-non-uuid-id"))
        GENERIC.append(pytest.param(_name, "random-uuid", 404, "not_found", id=f"{_name}-random-uuid"))
    GENERIC.append(pytest.param(_name, "too-large", 413, "payload_too_large", id=f"{_name}-over-1MiB-content-length"))
    GENERIC.append(pytest.param(_name, "too-large-chunked", 413, "payload_too_large", id=f"{_name}-over-1MiB-chunked",
                                ))


def padded(body: Any) -> bytes:
    """A body the route would take, padded with whitespace to over 1 MiB (still valid JSON)."""
    text = json.dumps({} if body is NO_BODY else body, ensure_ascii=False).encode()
    return text + b" " * (MIB + 1 - len(text) + 16)


def chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


@pytest.mark.parametrize("name,kind,status,code", GENERIC)
def test_every_command_route_refuses_the_usual_mistakes(demo: Demo, name: str, kind: str, status: int, code: str) -> None:
    route = ROUTES[name]
    override: dict[str, str] = {}
    if kind == "non-uuid-id":
        override = {route.id_slot: "not-a-uuid"}  # type: ignore[dict-item]
    elif kind == "random-uuid":
        override = {route.id_slot: str(uuid.uuid4())}  # type: ignore[dict-item]
    path = demo.fill(route.path, **override)
    body = demo.fill(route.body)
    as_json = {"Content-Type": "application/json"}
    if kind == "extra-field":
        extra = ({} if body is NO_BODY else body) | {"bogus_field": 1}
        send = lambda: demo.call("POST", path, route.user, json_body=extra)  # noqa: E731
    elif kind == "malformed-json":
        send = lambda: demo.call("POST", path, route.user, content=b'{"note": "unterminated', headers=as_json)  # noqa: E731
    elif kind == "json-array":
        send = lambda: demo.call("POST", path, route.user, json_body=[body])  # noqa: E731
    elif kind == "form-encoded":
        form = {k: str(v) for k, v in body.items()}
        send = lambda: demo.call("POST", path, route.user, content=str(httpx.QueryParams(form)).encode(),  # noqa: E731
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    elif kind == "too-large":
        send = lambda: demo.call("POST", path, route.user, content=padded(body), headers=as_json)  # noqa: E731
    elif kind == "too-large-chunked":
        data = padded(body)
        send = lambda: demo.call("POST", path, route.user, content=chunks(data), headers=as_json)  # noqa: E731
    else:
        send = lambda: demo.call("POST", path, route.user, json_body=body)  # noqa: E731
    refused(demo, send, status, code)


@pytest.mark.parametrize("name", [n for n, r in ROUTES.items() if r.keyed])
def test_an_overlong_idempotency_key_is_refused(demo: Demo, name: str) -> None:
    route = ROUTES[name]
    path, body = demo.fill(route.path), demo.fill(route.body)
    refused(demo, lambda: demo.call("POST", path, route.user, json_body=body, headers={"Idempotency-Key": "k" * 201}),
            422, "validation_error")


# -- 4. route by route: missing fields, wrong types, enums, quantities, unknown ids, states --

V = "validation_error"
Q_BAD = [("zero", 0), ("negative", -1), ("bool", True), ("float", 1.5), ("string", "5")]
C_BAD = [("negative", -1), ("bool", True), ("float", 1.5), ("string", "5")]  # counts: 0 is allowed
ALLOC = {"incident_id": "{flood}", "warehouse_id": "{wh}", "lines": {"QUILT": 5}}
TEAM = {"name": "测试志愿队", "kind": "volunteer", "unit_code": STREET1, "members": 5}
UNIT = {"code": "411099001090", "name": "测试村", "kind": "village"}
USER = {"username": "newbie", "password": "long-password", "role": "observer", "unit_code": DISTRICT}
WAREHOUSE = {"name": "测试仓库", "unit_code": STREET1}


def without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


CASES: list[Any] = [
    # units (admin)
    ("units-missing-kind", "admin", "/units", without(UNIT, "kind"), 422, V),
    ("units-missing-code", "admin", "/units", without(UNIT, "code"), 422, V),
    ("units-code-as-int", "admin", "/units", UNIT | {"code": 411099001090}, 422, V),
    ("units-code-13-digits", "admin", "/units", UNIT | {"code": "4110990010901"}, 422, V),
    ("units-code-fullwidth-digits", "admin", "/units", UNIT | {"code": "４１１０９９００１０９０"}, 422, V),
    ("units-kind-unknown", "admin", "/units", UNIT | {"kind": "province"}, 422, V),
    ("units-kind-wrong-level", "admin", "/units", UNIT | {"kind": "street"}, 422, V),
    ("units-name-empty", "admin", "/units", UNIT | {"name": ""}, 422, V),
    ("units-name-blank", "admin", "/units", UNIT | {"name": "   "}, 422, V),
    ("units-lat-out-of-range", "admin", "/units", UNIT | {"lat": 91}, 422, V),
    ("units-lat-string", "admin", "/units", UNIT | {"lat": "north"}, 422, V),
    ("units-parts-negative", "admin", "/units", UNIT | {"parts": {"militia_team": -1}}, 422, V),
    ("units-parts-unknown", "admin", "/units", UNIT | {"parts": {"bogus": 1}}, 422, V),
    ("units-parent-unknown", "admin", "/units", UNIT | {"code": "411099009001"}, 404, "not_found"),
    ("units-already-exists", "admin", "/units", UNIT | {"code": VILLAGE}, 409, "conflict"),
    # incidents
    ("incidents-missing-title", "commander", "/incidents", without(incident_body(), "title"), 422, V),
    ("incidents-missing-occurred-at", "commander", "/incidents", without(incident_body(), "occurred_at"), 422, V),
    ("incidents-missing-unit", "commander", "/incidents", without(incident_body(), "unit_code"), 422, V),
    ("incidents-level-unknown", "commander", "/incidents", incident_body(level="V"), 422, V),
    ("incidents-level-as-int", "commander", "/incidents", incident_body(level=3), 422, V),
    ("incidents-category-unknown", "commander", "/incidents", incident_body(category="alien_invasion"), 422, V),
    ("incidents-subtype-of-another-category", "commander", "/incidents", incident_body(subtype="fire"), 422, V),
    ("incidents-title-as-int", "commander", "/incidents", incident_body(title=5), 422, V),
    ("incidents-title-blank", "commander", "/incidents", incident_body(title="   "), 422, V),
    ("incidents-title-too-long", "commander", "/incidents", incident_body(title="长" * 201), 422, V),
    ("incidents-occurred-at-naive", "commander", "/incidents", incident_body(occurred_at="2026-07-20T08:30:00"), 422, V),
    ("incidents-occurred-at-words", "commander", "/incidents", incident_body(occurred_at="yesterday"), 422, V),
    ("incidents-lat-out-of-range", "commander", "/incidents", incident_body(lat=-91.0), 422, V),
    ("incidents-unit-code-short", "commander", "/incidents", incident_body(unit_code="41109900100"), 422, V),
    ("incidents-unit-unknown", "commander", "/incidents", incident_body(unit_code="411099009001"), 404, "not_found"),
    # verify
    ("verify-note-as-int", "commander", "/incidents/{geo}/verify", {"note": 5}, 422, V),
    ("verify-already-verified", "commander", "/incidents/{flood}/verify", NO_BODY, 409, "invalid_transition"),
    ("verify-dismissed", "commander", "/incidents/{dismissed}/verify", {"note": "x"}, 409, "invalid_transition"),
    # level
    ("level-missing", "commander", "/incidents/{geo}/level", {"reason": "x"}, 422, V),
    ("level-unknown", "commander", "/incidents/{geo}/level", {"level": "V"}, 422, V),
    ("level-lowercase", "commander", "/incidents/{geo}/level", {"level": "iii"}, 422, V),
    ("level-as-int", "commander", "/incidents/{geo}/level", {"level": 3}, 422, V),
    ("level-unchanged", "commander", "/incidents/{geo}/level", {"level": "IV"}, 422, V),
    ("level-of-a-dismissed-incident", "commander", "/incidents/{dismissed}/level", {"level": "I"}, 409, "invalid_transition"),
    # situation
    *[(f"situation-deaths-{n}", "commander", "/incidents/{geo}/situation", {"deaths": q}, 422, V) for n, q in C_BAD],
    ("situation-empty", "commander", "/incidents/{geo}/situation", {}, 422, V),
    ("situation-unknown-figure", "commander", "/incidents/{geo}/situation", {"houses": 3}, 422, V),
    ("situation-notes-as-list", "commander", "/incidents/{geo}/situation", {"notes": ["x"]}, 422, V),
    ("situation-of-a-dismissed-incident", "commander", "/incidents/{dismissed}/situation", {"injured": 1}, 409, "invalid_transition"),
    # control / close / dismiss
    ("control-a-reported-incident", "commander", "/incidents/{geo}/control", NO_BODY, 409, "invalid_transition"),
    ("control-note-as-int", "commander", "/incidents/{flood}/control", {"note": 1}, 422, V),
    ("close-missing-summary", "commander", "/incidents/{flood}/close", {}, 422, V),
    ("close-empty-summary", "commander", "/incidents/{flood}/close", {"summary": ""}, 422, V),
    ("close-blank-summary", "commander", "/incidents/{flood}/close", {"summary": "   "}, 422, V),
    ("close-summary-as-int", "commander", "/incidents/{flood}/close", {"summary": 1}, 422, V),
    ("close-a-reported-incident", "commander", "/incidents/{geo}/close", {"summary": "x"}, 409, "invalid_transition"),
    ("dismiss-missing-reason", "commander", "/incidents/{geo}/dismiss", {}, 422, V),
    ("dismiss-blank-reason", "commander", "/incidents/{geo}/dismiss", {"reason": "  "}, 422, V),
    ("dismiss-reason-as-int", "commander", "/incidents/{geo}/dismiss", {"reason": 1}, 422, V),
    ("dismiss-twice", "commander", "/incidents/{dismissed}/dismiss", {"reason": "x"}, 409, "invalid_transition"),
    # order a dispatch
    ("dispatch-missing-team", "commander", "/incidents/{geo}/dispatches", {"task": "x"}, 422, V),
    ("dispatch-missing-task", "commander", "/incidents/{geo}/dispatches", {"team_id": "{idle_team}"}, 422, V),
    ("dispatch-team-not-a-uuid", "commander", "/incidents/{geo}/dispatches", {"team_id": "team-1", "task": "x"}, 422, V),
    ("dispatch-team-as-int", "commander", "/incidents/{geo}/dispatches", {"team_id": 5, "task": "x"}, 422, V),
    ("dispatch-team-unknown", "commander", "/incidents/{geo}/dispatches", {"team_id": "{random}", "task": "x"}, 404, "not_found"),
    ("dispatch-team-is-an-incident", "commander", "/incidents/{geo}/dispatches", {"team_id": "{flood}", "task": "x"}, 404, "not_found"),
    ("dispatch-blank-task", "commander", "/incidents/{geo}/dispatches", {"team_id": "{idle_team}", "task": "  "}, 422, V),
    *[(f"dispatch-ack-minutes-{n}", "commander", "/incidents/{geo}/dispatches",
       {"team_id": "{idle_team}", "task": "x", "ack_minutes": q}, 422, V) for n, q in Q_BAD],
    ("dispatch-ack-minutes-over-a-day", "commander", "/incidents/{geo}/dispatches",
     {"team_id": "{idle_team}", "task": "x", "ack_minutes": 1441}, 422, V),
    ("dispatch-a-busy-team", "commander", "/incidents/{geo}/dispatches", {"team_id": "{field_team}", "task": "x"}, 409, "team_unavailable"),
    ("dispatch-a-team-off-duty", "commander", "/incidents/{geo}/dispatches", {"team_id": "{off_team}", "task": "x"}, 409, "team_unavailable"),
    ("dispatch-to-a-dismissed-incident", "commander", "/incidents/{dismissed}/dispatches",
     {"team_id": "{idle_team}", "task": "x"}, 422, V),
    # teams
    ("teams-missing-name", "commander", "/teams", without(TEAM, "name"), 422, V),
    ("teams-missing-members", "commander", "/teams", without(TEAM, "members"), 422, V),
    ("teams-kind-unknown", "commander", "/teams", TEAM | {"kind": "spaceship"}, 422, V),
    *[(f"teams-members-{n}", "commander", "/teams", TEAM | {"members": q}, 422, V) for n, q in Q_BAD],
    ("teams-members-huge", "commander", "/teams", TEAM | {"members": 10**30}, 422, V),
    ("teams-comprehensive-under-20", "commander", "/teams", TEAM | {"kind": "comprehensive", "members": 5}, 422, V),
    ("teams-unit-unknown", "commander", "/teams", TEAM | {"unit_code": "411099009000"}, 404, "not_found"),
    ("teams-unit-code-letters", "commander", "/teams", TEAM | {"unit_code": "41109900100a"}, 422, V),
    ("teams-phone-too-long", "commander", "/teams", TEAM | {"phone": "1" * 41}, 422, V),
    # duty
    ("duty-missing", "commander", "/teams/{idle_team}/duty", {}, 422, V),
    ("duty-as-string", "commander", "/teams/{idle_team}/duty", {"on_duty": "false"}, 422, V),
    ("duty-as-int", "commander", "/teams/{idle_team}/duty", {"on_duty": 0}, 422, V),
    ("duty-null", "commander", "/teams/{idle_team}/duty", {"on_duty": None}, 422, V),
    ("duty-already-on", "commander", "/teams/{idle_team}/duty", {"on_duty": True}, 409, "invalid_transition"),
    ("duty-off-while-dispatched", "field", "/teams/{field_team}/duty", {"on_duty": False}, 409, "invalid_transition"),
    ("duty-team-is-a-warehouse", "commander", "/teams/{wh}/duty", {"on_duty": False}, 404, "not_found"),
    # team accounts
    ("team-account-username-too-short", "commander", "/teams/{idle_team}/accounts", {"username": "a"}, 422, V),
    ("team-account-username-bad-chars", "commander", "/teams/{idle_team}/accounts", {"username": "bad name!"}, 422, V),
    ("team-account-username-taken", "commander", "/teams/{idle_team}/accounts", {"username": "commander"}, 409, "conflict"),
    ("team-account-username-as-int", "commander", "/teams/{idle_team}/accounts", {"username": 12345}, 422, V),
    ("team-account-display-name-too-long", "commander", "/teams/{idle_team}/accounts", {"display_name": "x" * 129}, 422, V),
    # dispatch steps
    ("depart-before-acknowledging", "commander", "/dispatches/{field_dispatch}/depart", NO_BODY, 409, "invalid_transition"),
    ("arrive-before-departing", "commander", "/dispatches/{field_dispatch}/arrive", NO_BODY, 409, "invalid_transition"),
    ("complete-before-arriving", "field", "/dispatches/{field_dispatch}/complete", {"note": "x"}, 409, "invalid_transition"),
    ("complete-note-as-int", "field", "/dispatches/{field_dispatch}/complete", {"note": 1}, 422, V),
    ("decline-missing-reason", "field", "/dispatches/{field_dispatch}/decline", {}, 422, V),
    ("decline-empty-reason", "field", "/dispatches/{field_dispatch}/decline", {"reason": ""}, 422, V),
    ("decline-blank-reason", "field", "/dispatches/{field_dispatch}/decline", {"reason": "   "}, 422, V),
    ("decline-reason-as-int", "field", "/dispatches/{field_dispatch}/decline", {"reason": 1}, 422, V),
    ("cancel-missing-reason", "commander", "/dispatches/{field_dispatch}/cancel", {}, 422, V),
    ("cancel-reason-as-list", "commander", "/dispatches/{field_dispatch}/cancel", {"reason": ["x"]}, 422, V),
    ("cancel-blank-reason", "commander", "/dispatches/{field_dispatch}/cancel", {"reason": " "}, 422, V),
    ("acknowledge-an-incident-id", "commander", "/dispatches/{flood}/acknowledge", NO_BODY, 404, "not_found"),
    # warehouses
    ("warehouses-missing-name", "commander", "/warehouses", without(WAREHOUSE, "name"), 422, V),
    ("warehouses-missing-unit", "commander", "/warehouses", without(WAREHOUSE, "unit_code"), 422, V),
    ("warehouses-name-as-int", "commander", "/warehouses", WAREHOUSE | {"name": 7}, 422, V),
    ("warehouses-unit-unknown", "commander", "/warehouses", WAREHOUSE | {"unit_code": "411099009000"}, 404, "not_found"),
    ("warehouses-lon-out-of-range", "commander", "/warehouses", WAREHOUSE | {"lon": 181}, 422, V),
    # receipts
    ("receipts-missing-lines", "commander", "/warehouses/{wh}/receipts", {"note": "x"}, 422, V),
    ("receipts-no-lines", "commander", "/warehouses/{wh}/receipts", {"lines": {}}, 422, V),
    ("receipts-lines-as-list", "commander", "/warehouses/{wh}/receipts", {"lines": [["QUILT", 5]]}, 422, V),
    *[(f"receipts-quantity-{n}", "commander", "/warehouses/{wh}/receipts", {"lines": {"QUILT": q}}, 422, V) for n, q in Q_BAD],
    ("receipts-quantity-over-limit", "commander", "/warehouses/{wh}/receipts", {"lines": {"QUILT": 10_000_001}}, 422, V),
    ("receipts-unknown-material", "commander", "/warehouses/{wh}/receipts", {"lines": {"UNOBTAINIUM": 5}}, 422, "unknown_material"),
    ("receipts-one-unknown-material", "commander", "/warehouses/{wh}/receipts",
     {"lines": {"QUILT": 5, "UNOBTAINIUM": 5}}, 422, "unknown_material"),
    ("receipts-lowercase-material", "commander", "/warehouses/{wh}/receipts", {"lines": {"quilt": 5}}, 422, "unknown_material"),
    # counts
    ("counts-missing-code", "commander", "/warehouses/{wh}/counts", {"counted": 5}, 422, V),
    ("counts-missing-counted", "commander", "/warehouses/{wh}/counts", {"code": "QUILT"}, 422, V),
    *[(f"counts-counted-{n}", "commander", "/warehouses/{wh}/counts", {"code": "QUILT", "counted": q}, 422, V) for n, q in C_BAD],
    ("counts-unknown-material", "commander", "/warehouses/{wh}/counts", {"code": "UNOBTAINIUM", "counted": 5}, 422, "unknown_material"),
    ("counts-below-reserved", "commander", "/warehouses/{wh}/counts", {"code": "LIFE-JACKET", "counted": 0}, 409, "insufficient_stock"),
    # minimums
    ("minimums-missing-minimum", "commander", "/warehouses/{wh}/minimums", {"code": "QUILT"}, 422, V),
    *[(f"minimums-minimum-{n}", "commander", "/warehouses/{wh}/minimums", {"code": "QUILT", "minimum": q}, 422, V) for n, q in C_BAD],
    ("minimums-unknown-material", "commander", "/warehouses/{wh}/minimums", {"code": "UNOBTAINIUM", "minimum": 5}, 422, "unknown_material"),
    ("minimums-code-as-int", "commander", "/warehouses/{wh}/minimums", {"code": 5, "minimum": 5}, 422, V),
    # allocations
    ("allocations-missing-lines", "commander", "/allocations", without(ALLOC, "lines"), 422, V),
    ("allocations-missing-incident", "commander", "/allocations", without(ALLOC, "incident_id"), 422, V),
    ("allocations-incident-not-a-uuid", "commander", "/allocations", ALLOC | {"incident_id": "flood"}, 422, V),
    ("allocations-incident-unknown", "commander", "/allocations", ALLOC | {"incident_id": "{random}"}, 404, "not_found"),
    ("allocations-warehouse-unknown", "commander", "/allocations", ALLOC | {"warehouse_id": "{random}"}, 404, "not_found"),
    ("allocations-warehouse-is-a-team", "commander", "/allocations", ALLOC | {"warehouse_id": "{idle_team}"}, 404, "not_found"),
    ("allocations-team-unknown", "commander", "/allocations", ALLOC | {"team_id": "{random}"}, 404, "not_found"),
    *[(f"allocations-quantity-{n}", "commander", "/allocations", ALLOC | {"lines": {"QUILT": q}}, 422, V) for n, q in Q_BAD],
    ("allocations-no-lines", "commander", "/allocations", ALLOC | {"lines": {}}, 422, V),
    ("allocations-unknown-material", "commander", "/allocations", ALLOC | {"lines": {"UNOBTAINIUM": 1}}, 422, "unknown_material"),
    ("allocations-for-a-dismissed-incident", "commander", "/allocations", ALLOC | {"incident_id": "{dismissed}"}, 422, V),
    ("allocations-more-than-available", "commander", "/allocations", ALLOC | {"lines": {"BOAT-INFL": 9999}}, 409, "insufficient_stock"),
    # allocation steps
    ("ship-vehicle-as-int", "commander", "/allocations/{alloc}/ship", {"vehicle": 1}, 422, V),
    ("ship-a-delivered-allocation", "commander", "/allocations/{delivered}/ship", NO_BODY, 409, "invalid_transition"),
    ("deliver-a-reserved-allocation", "commander", "/allocations/{alloc}/deliver", NO_BODY, 409, "invalid_transition"),
    ("deliver-received-by-as-int", "field", "/allocations/{delivered}/deliver", {"received_by": 1}, 422, V),
    ("deliver-twice", "field", "/allocations/{delivered}/deliver", NO_BODY, 409, "invalid_transition"),
    ("return-a-reserved-allocation", "commander", "/allocations/{alloc}/return", {"lines": {"LIFE-JACKET": 1}}, 409, "invalid_transition"),
    ("return-missing-lines", "field", "/allocations/{delivered}/return", {}, 422, V),
    *[(f"return-quantity-{n}", "field", "/allocations/{delivered}/return", {"lines": {"QUILT": q}}, 422, V) for n, q in Q_BAD],
    ("return-unknown-material", "field", "/allocations/{delivered}/return", {"lines": {"UNOBTAINIUM": 1}}, 422, "unknown_material"),
    ("return-more-than-delivered", "field", "/allocations/{delivered}/return", {"lines": {"QUILT": 6}}, 422, V),
    ("return-material-not-delivered", "field", "/allocations/{delivered}/return", {"lines": {"ROPE": 1}}, 422, V),
    ("cancel-a-delivered-allocation", "commander", "/allocations/{delivered}/cancel", {"reason": "x"}, 409, "invalid_transition"),
    ("cancel-allocation-missing-reason", "commander", "/allocations/{alloc}/cancel", {}, 422, V),
    ("cancel-allocation-reason-as-int", "commander", "/allocations/{alloc}/cancel", {"reason": 1}, 422, V),
    # users (admin)
    ("users-missing-password", "admin", "/users", without(USER, "password"), 422, V),
    ("users-short-password", "admin", "/users", USER | {"password": "short"}, 422, V),
    ("users-role-unknown", "admin", "/users", USER | {"role": "superuser"}, 422, V),
    ("users-role-system", "admin", "/users", USER | {"role": "system"}, 422, V),
    ("users-role-as-int", "admin", "/users", USER | {"role": 1}, 422, V),
    ("users-username-too-short", "admin", "/users", USER | {"username": "x"}, 422, V),
    ("users-username-with-spaces", "admin", "/users", USER | {"username": "new user"}, 422, V),
    ("users-unit-code-short", "admin", "/users", USER | {"unit_code": "4110"}, 422, V),
    ("users-unit-unknown", "admin", "/users", USER | {"unit_code": "411099009000"}, 404, "not_found"),
    ("users-username-taken", "admin", "/users", USER | {"username": "operator"}, 409, "conflict"),
    ("users-field-without-team", "admin", "/users", USER | {"role": "field", "unit_code": STREET1}, 422, V),
    ("users-field-team-unknown", "admin", "/users", USER | {"role": "field", "unit_code": STREET1, "team_id": "{random}"}, 404, "not_found"),
    ("users-team-not-a-uuid", "admin", "/users", USER | {"team_id": "team-1"}, 422, V),
    ("users-revoke-unknown", "admin", "/users/no-such-user/revoke", NO_BODY, 404, "not_found"),
]


@pytest.mark.parametrize("user,path,body,status,code", [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_route_specific_bad_input(demo: Demo, user: str, path: str, body: Any, status: int, code: str) -> None:
    p, b = demo.fill(path), demo.fill(body)
    problem = refused(demo, lambda: demo.call("POST", p, user, json_body=b), status, code)
    if code == "validation_error" and problem.get("errors"):
        assert all({"loc", "msg", "type"} <= set(e) for e in problem["errors"]), problem


NAN_INCIDENT = json.dumps(incident_body()).replace('"address"', '"lat": NaN, "address"').encode()
INF_INCIDENT = json.dumps(incident_body()).replace('"address"', '"lon": -Infinity, "address"').encode()
DEEP = b"[" * 100_000 + b"]" * 100_000
UNREADABLE = (400, "bad_request")  # a body that cannot be decoded at all: invalid UTF-8, absurd integers, nesting
RAW_CASES = [
    pytest.param("/incidents", NAN_INCIDENT, 422, V, id="lat-nan"),
    pytest.param("/incidents", INF_INCIDENT, 422, V, id="lon-infinity"),
    pytest.param("/incidents/{geo}/situation", b'{"notes": "x"', 422, V, id="truncated"),
    pytest.param("/incidents/{geo}/situation", b"", 422, V, id="empty-body"),
    pytest.param("/incidents/{geo}/situation", b"null", 422, V, id="json-null"),
    pytest.param("/incidents/{geo}/situation", b'"notes"', 422, V, id="json-string"),
    pytest.param("/incidents/{geo}/situation", b"{'notes': 'x'}", 422, V, id="single-quotes"),
    pytest.param("/incidents/{geo}/situation", b'{"notes": "x",}', 422, V, id="trailing-comma"),
    pytest.param("/incidents/{geo}/situation", b'{"injured": 1, "injured": -1}', 422, V, id="duplicate-key-negative-last"),
    pytest.param("/incidents/{geo}/situation", b'{"notes": "\xff\xfe"}', *UNREADABLE, id="invalid-utf8"),
    pytest.param("/teams", b'{"name": "x", "kind": "volunteer", "unit_code": "' + STREET1.encode() + b'", "members": '
                 + b"9" * 5000 + b"}", *UNREADABLE, id="integer-of-5000-digits"),
    pytest.param("/incidents/{geo}/situation", DEEP, *UNREADABLE, id="deeply-nested"),
    pytest.param("/dispatches/{spare_dispatch}/arrive", DEEP, *UNREADABLE, id="deeply-nested-no-body-route"),
]


@pytest.mark.parametrize("path,raw,status,code", RAW_CASES)
def test_malformed_bodies(demo: Demo, path: str, raw: bytes, status: int, code: str) -> None:
    p = demo.fill(path)
    refused(demo, lambda: demo.call("POST", p, "commander", content=raw, headers={"Content-Type": "application/json"}),
            status, code)


# -- 5. reads with bad input ----------------------------------------------------------

BIG = "99999999999999999999"  # over 2**64
READ_CASES = [
    pytest.param("/incidents/not-a-uuid", None, 422, V, id="incident-non-uuid-id"),
    pytest.param("/incidents/{random}", None, 404, "not_found", id="incident-random-uuid"),
    pytest.param("/incidents/{wh}", None, 404, "not_found", id="incident-id-of-a-warehouse"),
    pytest.param("/teams/123", None, 422, V, id="team-non-uuid-id"),
    pytest.param("/teams/{random}", None, 404, "not_found", id="team-random-uuid"),
    pytest.param("/dispatches/{random}", None, 404, "not_found", id="dispatch-random-uuid"),
    pytest.param("/warehouses/{random}", None, 404, "not_found", id="warehouse-random-uuid"),
    pytest.param("/allocations/x", None, 422, V, id="allocation-non-uuid-id"),
    pytest.param("/allocations/{random}", None, 404, "not_found", id="allocation-random-uuid"),
    pytest.param("/units/411099009999", None, 404, "not_found", id="unit-unknown-code"),
    pytest.param("/incidents", {"limit": 0}, 422, V, id="limit-0"),
    pytest.param("/incidents", {"limit": 1001}, 422, V, id="limit-1001"),
    pytest.param("/incidents", {"limit": "ten"}, 422, V, id="limit-not-a-number"),
    pytest.param("/incidents", {"offset": -1}, 422, V, id="offset-negative"),
    pytest.param("/incidents", {"min_position": -1}, 422, V, id="min-position-negative"),
    pytest.param("/incidents", {"min_position": 10**9}, 422, V, id="min-position-beyond-the-log"),
    pytest.param("/dispatches", {"team_id": "x"}, 422, V, id="dispatches-team-id-not-a-uuid"),
    pytest.param("/events", {"after": -1}, 422, V, id="events-after-negative"),
    pytest.param("/events", {"limit": 0}, 422, V, id="events-limit-0"),
    pytest.param("/nothing-here", None, 404, "not_found", id="unknown-route"),
    pytest.param("/incidents", {"offset": BIG}, 422, V, id="incidents-offset-1e20"),
    pytest.param("/teams", {"offset": BIG}, 422, V, id="teams-offset-1e20"),
    pytest.param("/dispatches", {"offset": BIG}, 422, V, id="dispatches-offset-1e20"),
    pytest.param("/warehouses", {"offset": BIG}, 422, V, id="warehouses-offset-1e20"),
    pytest.param("/allocations", {"offset": BIG}, 422, V, id="allocations-offset-1e20"),
    pytest.param("/events", {"after": BIG}, 422, V, id="events-after-1e20"),
]


@pytest.mark.parametrize("path,params,status,code", READ_CASES)
def test_reads_with_bad_input(demo: Demo, path: str, params: dict[str, Any] | None, status: int, code: str) -> None:
    p = demo.fill(path)
    refused(demo, lambda: demo.call("GET", p, "commander", params=params), status, code)


@pytest.mark.parametrize("method,path", [("DELETE", "/incidents/{flood}"), ("PUT", "/teams/{idle_team}"),
                                         ("PATCH", "/warehouses/{wh}"), ("GET", "/incidents/{flood}/verify")])
def test_wrong_methods_are_405(demo: Demo, method: str, path: str) -> None:
    p = demo.fill(path)
    refused(demo, lambda: demo.call(method, p, "commander", json_body={"note": "x"} if method != "GET" else NO_BODY),
            405, "method_not_allowed")


# -- 6. state, stock, idempotency ---------------------------------------------------------


def stock(demo: Demo) -> dict[str, Any]:
    r = demo.call("GET", demo.fill("/warehouses/{wh}"), params={"min_position": demo.head()})
    assert r.status_code == 200, r.text
    return r.json()["stock"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("lines", [
    pytest.param({"LIFE-JACKET": "available+1"}, id="one-line-one-more-than-available"),
    pytest.param({"QUILT": 1, "LIFE-JACKET": 10_000_000}, id="all-or-nothing"),
])
def test_allocating_more_than_available_is_409_and_leaves_stock_alone(demo: Demo, lines: dict[str, Any]) -> None:
    before = stock(demo)
    jacket = before["LIFE-JACKET"]
    lines = {k: (jacket["on_hand"] - jacket["reserved"] + 1 if v == "available+1" else v) for k, v in lines.items()}
    body = demo.fill(ALLOC) | {"lines": lines}
    problem = refused(demo, lambda: demo.call("POST", "/allocations", "commander", json_body=body), 409, "insufficient_stock")
    assert "LIFE-JACKET" in problem["shortages"], problem
    assert problem["shortages"]["LIFE-JACKET"]["available"] == jacket["on_hand"] - jacket["reserved"], problem
    assert stock(demo) == before


def test_verifying_a_verified_incident_is_409(demo: Demo) -> None:
    problem = refused(demo, lambda: demo.call("POST", demo.fill("/incidents/{flood}/verify"), "commander", json_body={"note": "再次"}),
                      409, "invalid_transition")
    assert problem["state"] == "verified" and problem["allowed_from"] == ["reported"], problem


def test_dispatching_a_busy_team_is_409_team_unavailable(demo: Demo) -> None:
    team = demo.call("GET", demo.fill("/teams/{field_team}")).json()
    assert team["status"] != "idle", team
    body = {"team_id": demo.ids["field_team"], "task": "再派一次"}
    problem = refused(demo, lambda: demo.call("POST", demo.fill("/incidents/{geo}/dispatches"), "operator", json_body=body),
                      409, "team_unavailable")
    assert problem["team_id"] == demo.ids["field_team"], problem
    assert demo.call("GET", demo.fill("/teams/{field_team}")).json()["dispatch_id"] == team["dispatch_id"]


@pytest.mark.parametrize("change", ["another-title", "another-route", "same-key-another-account"])
def test_an_idempotency_key_reused_for_another_request_is_422(demo: Demo, change: str) -> None:
    key = {"Idempotency-Key": "idem-report-1"}
    if change == "another-title":
        send = lambda: demo.call("POST", "/incidents", "commander", json_body=demo.bodies["idem"] | {"title": "另一个"}, headers=key)  # noqa: E731
    elif change == "another-route":
        path = demo.fill("/incidents/{spare_incident}/situation")
        send = lambda: demo.call("POST", path, "commander", json_body={"notes": "x"}, headers=key)  # noqa: E731
    else:
        # Keys are per account: the operator reusing the commander's key is a new request, not a mismatch.
        # Aim it at something refused anyway, to check the key alone does not turn it into a replay.
        send = lambda: demo.call("POST", "/incidents", "operator", json_body=demo.bodies["idem"] | {"unit_code": "411099009001"},  # noqa: E731
                                 headers=key)
        refused(demo, send, 404, "not_found")
        return
    problem = refused(demo, send, 422, "idempotency_mismatch")
    assert "Idempotency-Key" in problem["detail"], problem


def test_the_same_key_and_body_replay_without_writing(demo: Demo) -> None:
    """The control for the mismatch cases: an exact retry is answered from the log and writes nothing."""
    before = demo.snapshot()
    r = demo.call("POST", "/incidents", "commander", json_body=demo.bodies["idem"], headers={"Idempotency-Key": "idem-report-1"})
    assert r.status_code == 201 and r.headers.get("idempotent-replayed") == "true", r.text
    assert r.json()["id"] == demo.ids["idem_incident"]
    assert demo.snapshot() == before


# Last in the module: when the bug is present this one writes an incident that breaks GET /board for good.
def test_an_occurred_at_at_the_end_of_time_is_refused(demo: Demo) -> None:
    body = incident_body(title="时间尽头", occurred_at="9999-12-31T23:59:59+00:00")
    try:
        refused(demo, lambda: demo.call("POST", "/incidents", "commander", json_body=body), 422, "validation_error")
    finally:
        r = demo.call("GET", "/board", params={"min_position": demo.head()})
        assert r.status_code == 200, f"/board: {r.status_code} {r.text[:300]}"
