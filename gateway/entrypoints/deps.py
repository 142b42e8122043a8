"""FastAPI dependencies, as Annotated aliases the routers use."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool

from gateway.adapters.accounts import Account
from gateway.container import Container
from gateway.context import CommandContext, Principal
from gateway.errors import ProjectionLag, Unauthenticated
from gateway.adapters.tokens import cached_grant, grant_for_token

async def get_container(request: Request) -> Container:  # async: no thread hop for a lookup
    return request.app.state.container  # type: ignore[no-any-return]


ContainerDep = Annotated[Container, Depends(get_container)]


def _bearer_token(request: Request) -> str:
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("sign in and send 'Authorization: Bearer <token>'")
    return token


def current_account(request: Request) -> Account:
    """The account behind the request's bearer token, looked up once per request (off the event loop)."""
    account: Account | None = getattr(request.state, "account", None)
    if account is not None:
        return account
    container: Container = request.app.state.container
    account, grant = grant_for_token(_bearer_token(request), container.settings.resolved_secret_key, container.accounts)
    request.state.account = account
    request.state.grant = grant
    return account


async def account_for_request(request: Request) -> Account:
    """`current_account` on the event loop: a token whose state is kept (the usual case: the same
    desk asks again within a second) costs no thread hop and no I/O; otherwise the store is asked
    on a worker thread."""
    account: Account | None = getattr(request.state, "account", None)
    if account is not None:
        return account
    container: Container = request.app.state.container
    found = cached_grant(_bearer_token(request), container.settings.resolved_secret_key, container.accounts)
    if found is None:
        return await run_in_threadpool(current_account, request)
    request.state.account, request.state.grant = found
    return found[0]


async def get_account(request: Request) -> Account:
    # Which operations need a token is told to OpenAPI from the role table (gateway/entrypoints/openapi.py).
    return await account_for_request(request)


AccountDep = Annotated[Account, Depends(get_account)]


async def get_principal(account: AccountDep) -> Principal:
    return account.principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_command_context(request: Request, principal: PrincipalDep) -> CommandContext:
    key = request.headers.get("idempotency-key", "").strip()
    if len(key) > 200:
        from domain.common import InvalidValue

        raise InvalidValue("Idempotency-Key is too long (200 characters at most)", field="Idempotency-Key")
    body = await request.body()
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")) if body else ""
    except (ValueError, RecursionError):  # not JSON, or absurdly deep: hash the bytes; validation answers
        canonical = body.decode("utf-8", "replace")
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n{canonical}".encode()).hexdigest()
    return CommandContext(
        principal=principal,
        request_id=request.state.request_id,
        idempotency_key=key,
        request_hash=digest,
    )


CommandCtx = Annotated[CommandContext, Depends(get_command_context)]




def _read_position(container: Container, min_position: int | None) -> int:
    if min_position and min_position > container.store.position():
        head = container.log.max_position()
        if min_position > head:
            # Every position a command answered is already in the log: one past its head names no write.
            from domain.common import InvalidValue

            raise InvalidValue(f"position {min_position} is not in the log yet (its head is {head})", field="min_position")
        if not container.wait_for(min_position, container.settings.read_wait_seconds):
            raise ProjectionLag(
                f"read models have not reached position {min_position} yet; retry shortly",
                position=container.store.position(),
            )
    return container.store.position()


async def read_position(
    container: ContainerDep,
    min_position: Annotated[int | None, Query(ge=0, le=2**53, description="Wait until read models include this log position")] = None,
) -> int:
    """The read models' position (at least `min_position`). A process that projects knows it without
    asking the store: no thread hop, no query, on every read; otherwise (or to wait) the store is asked."""
    if container.settings.run_projector:
        known = container.projector.position  # set only once the store has committed it
        if not min_position or min_position <= known:
            return known
    return await run_in_threadpool(_read_position, container, min_position)


ReadPosition = Annotated[int, Depends(read_position)]
