"""Accounts: an admin creates them with a role and a unit, and can revoke them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from gateway.entrypoints.api.common import replayed, unit_prefix
from gateway.entrypoints.hub import recheck_from_thread
from gateway.entrypoints.deps import AccountOnce, ContainerDep, PrincipalDep
from gateway.errors import Forbidden, NotFound
from gateway.service_layer.accounts import check_account_shape
from gateway.entrypoints.schemas import EmptyIn, UserIn

router = APIRouter(prefix="/users", tags=["users"])


@router.get("")
def list_users(container: ContainerDep, principal: PrincipalDep) -> dict[str, Any]:
    items = [a.public() for a in container.accounts.list(unit_prefix(principal))]
    return {"items": items, "total": len(items)}


@router.post("", status_code=201)
def add_user(body: UserIn, container: ContainerDep, principal: PrincipalDep, once: AccountOnce) -> Any:
    if once is not None and (done := container.accounts.done_before(once)) is not None:
        return replayed(container.accounts.get(done).public(), 201)  # type: ignore[union-attr]
    team_id = str(body.team_id) if body.team_id else None
    check_account_shape(container.store, body.role, body.unit_code, team_id, container.settings.district_code)
    account = container.accounts.add(body.username, body.password, body.role, body.unit_code, team_id, body.display_name, once)
    return account.public()


@router.post("/{username}/revoke")
def revoke(username: str, request: Request, container: ContainerDep, principal: PrincipalDep, once: AccountOnce,
           _: EmptyIn | None = None) -> Any:
    """Admins revoke any account; commanders revoke team (field) accounts within their units."""
    if once is not None and (done := container.accounts.done_before(once)) is not None:
        return replayed(container.accounts.get(done).public(), 200)  # type: ignore[union-attr]
    account = container.accounts.get(username)
    if account is None:
        raise NotFound(f"user {username} not found")
    if not principal.is_admin and (account.role != "field" or not principal.can_see_unit(account.unit_code)):
        raise Forbidden("commanders revoke only team accounts within their units")
    revoked = container.accounts.revoke(username, once).public()
    recheck_from_thread(getattr(request.app.state, "hub", None))  # its board sockets close now, not at the heartbeat
    return revoked
