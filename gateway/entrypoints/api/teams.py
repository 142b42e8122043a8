"""Rescue teams: register, on/off duty."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from gateway.entrypoints.api.common import NO_FILTER, Filters, Limit, Offset, account_answer, answer, page, scoped_list, visible_doc
from gateway.entrypoints.deps import CommandCtx, ContainerDep, PrincipalDep, ReadPosition
from gateway.entrypoints.schemas import Accepted, DutyIn, TeamAccountIn, TeamIn
from gateway.service_layer import commands as c

router = APIRouter(prefix="/teams", tags=["teams"])


@router.get("")
def list_teams(
    container: ContainerDep,
    principal: PrincipalDep,
    position: ReadPosition,
    status: Annotated[list[str] | None, Query()] = None,
    limit: Limit = 100,
    offset: Offset = 0,
    filters: Filters = NO_FILTER,
) -> dict[str, Any]:
    items, total = scoped_list(container.store, principal, "team", statuses=status, limit=limit, offset=offset, filters=filters)
    return page(items, total, position, limit, offset, container.store, "team")


@router.get("/{team_id}")
def get_team(team_id: UUID, container: ContainerDep, principal: PrincipalDep, position: ReadPosition) -> dict[str, Any]:
    return visible_doc(container.store, principal, "team", str(team_id), "team")


@router.post("", status_code=201, response_model=Accepted)
def register_team(body: TeamIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.RegisterTeam(**{**body.model_dump(), "kind": body.kind.value})), created=True)


@router.post("/{team_id}/duty", response_model=Accepted)
def set_duty(team_id: UUID, body: DutyIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    return answer(container.service.handle(ctx, c.SetTeamDuty(team_id, body.on_duty)))


@router.get("/{team_id}/accounts")
def team_accounts(team_id: UUID, container: ContainerDep, principal: PrincipalDep) -> dict[str, Any]:
    visible_doc(container.store, principal, "team", str(team_id), "team")
    items = [a.public() for a in container.accounts.list() if a.team_id == str(team_id)]
    return {"items": items, "total": len(items)}


@router.post("/{team_id}/accounts", status_code=201)
def issue_team_account(team_id: UUID, body: TeamAccountIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    """Issue a field account for the team's phone. The password is shown once, here (a retried
    Idempotency-Key answers with the same account and a fresh password)."""
    return account_answer(container.service.handle(ctx, c.IssueTeamAccount(team_id, body.username, body.display_name)), 201)
