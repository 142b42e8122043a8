"""Early warnings (预警): draft, issue, update, lift; each target's receipt (签收) and response; CAP 1.2 in and out.

Who may read which warning is `Principal.can_read_warning`: the issuing unit's subtree (drafts too), and once
issued every unit it targets, the units under them and above them. Receipts are read by the subtree rule: a
street sees its own and its villages' receipts only.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from domain.warnings import receipt_id
from gateway.citylink.cap import ATOM_MEDIA_TYPE, CAP_MEDIA_TYPE, build_alert, build_feed, read_alert
from gateway.citylink.webhooks import SignatureError, parse_secrets, verify
from gateway.context import CommandContext, Principal, not_found
from gateway.entrypoints.api.common import Limit, Offset, answer, page, scoped_list, unit_prefix, visible_doc
from gateway.entrypoints.deps import CommandCtx, ContainerDep, PrincipalDep, ReadPosition
from gateway.entrypoints.schemas import Accepted, EmptyIn, NoteIn, ReasonIn, ResponseIn, WarningChangesIn, WarningIn
from gateway.errors import Unauthenticated
from gateway.service_layer import commands as c
from projections.store import ListFilter
from projections.warnings import in_force, rollup, shown_status

router = APIRouter(tags=["warnings"])
CITY = "city-platform"


def _shown(doc: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {**doc, "shown_status": shown_status(doc, now)}


def _receipts(container: Any, principal: Principal, warning_id: str) -> list[dict[str, Any]]:
    items, _ = container.store.list("warning_receipt", unit_prefix=unit_prefix(principal), limit=100_000,
                                    filters=ListFilter(ref_id=warning_id))
    return sorted(items, key=lambda r: r["unit_code"])


@router.get("/warnings")
def list_warnings(container: ContainerDep, principal: PrincipalDep, position: ReadPosition,
                  status: Annotated[list[str] | None, Query(description="draft, issued, lifted")] = None,
                  limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
    """Warnings the caller may read, newest first; each with `shown_status` (expired is judged now) and the caller's own receipt."""
    now = container.service.clock()
    items, total = scoped_list(container.store, principal, "warning", statuses=status, limit=limit, offset=offset)
    mine = container.store.get_many(("warning_receipt", str(receipt_id(w["id"], principal.unit_code))) for w in items)
    out = [{**_shown(w, now), "my_receipt": mine.get(("warning_receipt", str(receipt_id(w["id"], principal.unit_code))))}
           for w in items]
    return page(out, total, position, limit, offset)


@router.get("/warnings/feed", response_class=Response, responses={200: {"content": {ATOM_MEDIA_TYPE: {}}}})
def feed(request: Request, container: ContainerDep, principal: PrincipalDep) -> Response:
    """Atom index of the warnings in force the caller may read: one entry per warning, linking its latest CAP 1.2 document."""
    now = container.service.clock()
    docs, _ = container.store.list("warning", statuses=["issued"], limit=10_000)
    live = sorted((d for d in docs if in_force(d, now) and principal.can_read_doc("warning", d)),
                  key=lambda d: d["messages"][-1]["sent"], reverse=True)
    s = container.settings
    body = build_feed(live, str(request.base_url).rstrip("/"), s.resolved_cap_sender, s.district_name, now)
    return Response(body, media_type=ATOM_MEDIA_TYPE)


@router.get("/warnings/{warning_id}")
def get_warning(warning_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    now = container.service.clock()
    doc = visible_doc(container.store, principal, "warning", str(warning_id), "warning")
    return {**_shown(doc, now), "rollup": rollup(_receipts(container, principal, doc["id"]), now)}


@router.get("/warnings/{warning_id}/receipts")
def list_receipts(warning_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    """Each target's receipt within the caller's subtree: a street sees its own and its villages' only."""
    visible_doc(container.store, principal, "warning", str(warning_id), "warning")
    items = _receipts(container, principal, str(warning_id))
    return page(items, len(items), position, len(items), 0)


@router.get("/warnings/{warning_id}/responses")
def responses(warning_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    """Receipts and response figures (响应措施) rolled up per street, within the caller's subtree."""
    doc = visible_doc(container.store, principal, "warning", str(warning_id), "warning")
    return {"warning_id": doc["id"], "exercise": doc["exercise"], "position": position,
            **rollup(_receipts(container, principal, doc["id"]), container.service.clock())}


@router.get("/warnings/{warning_id}/cap", response_class=Response, responses={200: {"content": {CAP_MEDIA_TYPE: {}}}})
def cap(warning_id: UUID, container: ContainerDep, principal: PrincipalDep,
        message: Annotated[int | None, Query(ge=1, le=10_000, description="1 for the Alert, 2.. its Updates and Cancel; the latest by default")] = None,
        ) -> Response:
    """The warning as CAP 1.2 (`application/cap+xml`): its latest message, or message N of its history."""
    doc = visible_doc(container.store, principal, "warning", str(warning_id), "warning")
    if not doc["messages"]:  # a draft has no CAP message yet
        raise not_found("CAP message", warning_id)
    index = len(doc["messages"]) - 1 if message is None else message - 1
    if index >= len(doc["messages"]):
        raise not_found("CAP message", f"{warning_id}/{message}")
    units = {code: (container.store.get("unit", code) or {}).get("name", code) for code in doc["messages"][index]["content"]["targets"]}
    body = build_alert(doc, index, container.settings.resolved_cap_sender, units)
    return Response(body, media_type=CAP_MEDIA_TYPE)


@router.post("/warnings", status_code=201, response_model=Accepted)
def draft(body: WarningIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    """Draft a warning (值班员拟制); it takes effect when the commander issues it."""
    fields = body.model_dump()
    fields["level"] = body.level.value
    fields["category"] = body.category.value
    return answer(container.service.handle(ctx, c.DraftWarning(**fields)), created=True)


@router.post("/warnings/{warning_id}/issue", response_model=Accepted)
def issue(warning_id: UUID, ctx: CommandCtx, container: ContainerDep, _: EmptyIn | None = None) -> Any:
    """签发: in force now; one receipt per street and village it reaches, each with the deadline of its level."""
    return answer(container.service.handle(ctx, c.IssueWarning(warning_id)))


@router.post("/warnings/{warning_id}/update", response_model=Accepted)
def update(warning_id: UUID, body: WarningChangesIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    """A new version superseding the last (CAP Update): only the fields that change, and why."""
    return answer(container.service.handle(ctx, c.UpdateWarning(warning_id, body.changes(), body.reason)))


@router.post("/warnings/{warning_id}/lift", response_model=Accepted)
def lift(warning_id: UUID, body: ReasonIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    """解除 (CAP Cancel)."""
    return answer(container.service.handle(ctx, c.LiftWarning(warning_id, body.reason)))


@router.post("/warnings/{warning_id}/receipts/{unit_code}/acknowledge", response_model=Accepted)
def acknowledge(warning_id: UUID, unit_code: str, ctx: CommandCtx, container: ContainerDep, body: NoteIn | None = None) -> Any:
    """签收, by the target unit's own account (its street desk, its village's reporter); late after the deadline."""
    return answer(container.service.handle(ctx, c.AcknowledgeWarning(warning_id, unit_code, body.note if body else "")))


@router.post("/warnings/{warning_id}/receipts/{unit_code}/response", response_model=Accepted)
def respond(warning_id: UUID, unit_code: str, body: ResponseIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    """响应措施: what the unit did, with counts; the latest report's figures are the unit's."""
    return answer(container.service.handle(ctx, c.ReportWarningResponse(warning_id, unit_code, dict(body.measures), body.note)))


@router.post("/upstream/warnings", status_code=201, response_model=Accepted)
async def receive_city_warning(request: Request, container: ContainerDep) -> Any:
    """A CAP 1.2 alert from the city (the body: one `application/cap+xml` document), signed like directives (Standard
    Webhooks) and validated against the OASIS schema.

    Alert: a district warning forwarded to the areas it names (or the whole district). Update / Cancel (with
    `references`): the district's copy is updated or lifted. Unsigned, replayed (outside the signature's time
    window), malformed, schema-invalid, already applied or out-of-order messages are refused and write nothing;
    the same signed message sent again (same `webhook-id`) answers as the first time.
    """
    body = await request.body()
    try:
        msg_id = verify(parse_secrets(container.settings.upstream_secret), request.headers, body)
    except (SignatureError, ValueError) as e:
        raise Unauthenticated(f"signature not valid: {e}") from None
    alert = read_alert(body)
    s = container.settings
    ctx = CommandContext(Principal(CITY, "system", s.district_code, name=alert.sender_name or CITY), request_id=msg_id,
                         idempotency_key=f"city-warning:{msg_id}", request_hash=hashlib.sha256(body).hexdigest())
    result = await run_in_threadpool(container.service.handle, ctx, c.ReceiveCityWarning(alert))
    return answer(result, created=True)
