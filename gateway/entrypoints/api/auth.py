"""Sign in (OAuth2 password form) and who-am-I."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from starlette.concurrency import run_in_threadpool

from gateway.entrypoints.hub import recheck_from_thread
from gateway.entrypoints.deps import AccountDep, ContainerDep
from gateway.errors import Unauthenticated
from gateway.adapters.tokens import Grant, issue_token

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token")
async def token(
    request: Request,
    container: ContainerDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
) -> dict[str, Any]:
    """Sign in. Failed attempts are throttled per account and address (429 with Retry-After, the
    password not even checked); password checks run on a small pool of their own (503 busy when it
    is full), so a flood of sign-ins cannot starve the requests the desks depend on."""
    address = request.client.host if request.client else ""
    throttle = container.signin_throttle
    throttle.check(username, address)
    if container.hashing is None:
        account = await run_in_threadpool(container.accounts.authenticate, username, password)
    else:
        account = await container.hashing.run(container.accounts.authenticate, username, password)
    if account is None:
        throttle.failed(username, address)
        raise Unauthenticated("wrong username or password")
    throttle.succeeded(username, address)
    s = container.settings
    return {
        "access_token": issue_token(account, s.resolved_secret_key, s.token_minutes),
        "token_type": "bearer",
        "expires_in": s.token_minutes * 60,
        "user": account.public(),
    }


@router.post("/signout", status_code=204)
def signout(request: Request, container: ContainerDep, account: AccountDep) -> Response:
    """Sign this token out: it stops working at once, on REST and on this gateway's board sockets
    (on other gateways' at their next heartbeat)."""
    grant: Grant = request.state.grant
    container.accounts.revoke_token(grant.jti, account.username, grant.expires_at)
    recheck_from_thread(getattr(request.app.state, "hub", None))
    return Response(status_code=204)


@router.get("/me")
async def me(account: AccountDep) -> dict[str, Any]:
    return account.public()
