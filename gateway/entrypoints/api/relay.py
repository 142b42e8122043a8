"""The relay's health and resume; directives from the city platform and their acknowledgement."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import Field

from gateway.entrypoints.api.common import NO_FILTER, Filters, Limit, Offset, answer, page, scoped_list
from gateway.context import CommandContext, Principal
from gateway.entrypoints.deps import CommandCtx, ContainerDep, PrincipalDep, ReadPosition
from gateway.errors import NotFound, Unauthenticated
from gateway.entrypoints.schemas import Accepted, AwareDatetime, Body, EmptyIn, NoteIn
from gateway.citylink.webhooks import SignatureError, parse_secrets, verify
from gateway.service_layer import commands as c

router = APIRouter(tags=["relay"])
CITY = "city-platform"


@router.get("/relay")
def relay_status(container: ContainerDep, _: PrincipalDep) -> dict[str, Any]:
    status = container.relay_status()
    if status is None:
        raise NotFound("no city platform is configured (YINGJI_UPSTREAM_URL)")
    return status


@router.post("/relay/resume")
def resume(container: ContainerDep, _: EmptyIn | None = None) -> dict[str, Any]:
    """After a refusal (4xx) the relay stops with an alarm; resuming retries from the same position."""
    if not container.settings.upstream_url:
        raise NotFound("no city platform is configured (YINGJI_UPSTREAM_URL)")
    container.relay_state.resume()
    return container.relay_status() or {}


class DirectiveIn(Body):
    id: Annotated[str, Field(min_length=1, max_length=100)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    content: Annotated[str, Field(max_length=10_000)] = ""
    level: Annotated[str, Field(max_length=20)] = ""
    issuer: Annotated[str, Field(max_length=100)] = "许昌市应急指挥中心"
    issued_at: AwareDatetime


@router.post("/upstream/directives", status_code=201, response_model=Accepted)
async def receive_directive(request: Request, container: ContainerDep) -> Any:
    """Signed by the city like the relay's batches (Standard Webhooks); no bearer token."""
    body = await request.body()
    try:
        msg_id = verify(parse_secrets(container.settings.upstream_secret), request.headers, body)
    except (SignatureError, ValueError) as e:
        raise Unauthenticated(f"signature not valid: {e}") from None
    directive = DirectiveIn.model_validate_json(body)
    s = container.settings
    ctx = CommandContext(Principal(CITY, "system", s.district_code), request_id=msg_id, idempotency_key=f"directive:{directive.id}",
                         request_hash=directive.model_dump_json())
    from starlette.concurrency import run_in_threadpool

    command = c.ReceiveDirective(upstream_id=directive.id, title=directive.title, content=directive.content, level=directive.level,
                                 issuer=directive.issuer, issued_at=directive.issued_at, unit_code=s.district_code)
    result = await run_in_threadpool(container.service.handle, ctx, command)
    return answer(result, created=True)


@router.get("/directives")
def list_directives(container: ContainerDep, principal: PrincipalDep, position: ReadPosition, limit: Limit = 100, offset: Offset = 0,
                    filters: Filters = NO_FILTER) -> dict[str, Any]:
    items, total = scoped_list(container.store, principal, "directive", limit=limit, offset=offset, filters=filters)
    return page(items, total, position, limit, offset, container.store, "directive")


@router.post("/directives/{directive_id}/acknowledge", response_model=Accepted)
def acknowledge(directive_id: UUID, ctx: CommandCtx, container: ContainerDep, body: NoteIn | None = None) -> Any:
    return answer(container.service.handle(ctx, c.AcknowledgeDirective(directive_id, body.note if body else "")))
