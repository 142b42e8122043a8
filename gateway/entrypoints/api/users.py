"""Accounts: an admin creates them with a role and a unit, and can revoke them (commands: gateway.service_layer.accounts)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from gateway.entrypoints.api.common import account_answer, unit_prefix
from gateway.entrypoints.deps import CommandCtx, ContainerDep, PrincipalDep
from gateway.entrypoints.hub import recheck_from_thread
from gateway.entrypoints.schemas import EmptyIn, UserIn
from gateway.service_layer import commands as c

router = APIRouter(prefix="/users", tags=["users"])


@router.get("")
def list_users(container: ContainerDep, principal: PrincipalDep) -> dict[str, Any]:
    items = [a.public() for a in container.accounts.list(unit_prefix(principal))]
    return {"items": items, "total": len(items)}


@router.post("", status_code=201)
def add_user(body: UserIn, ctx: CommandCtx, container: ContainerDep) -> Any:
    command = c.AddUser(body.username, body.password, body.role, body.unit_code, body.team_id, body.display_name)
    return account_answer(container.service.handle(ctx, command), 201)


@router.post("/{username}/revoke")
def revoke(username: str, request: Request, ctx: CommandCtx, container: ContainerDep, _: EmptyIn | None = None) -> Any:
    """Admins revoke any account; commanders revoke team (field) accounts within their units."""
    result = container.service.handle(ctx, c.RevokeAccount(username))
    if not result.replayed:
        recheck_from_thread(getattr(request.app.state, "hub", None))  # its board sockets close now, not at the heartbeat
    return account_answer(result, 200)
