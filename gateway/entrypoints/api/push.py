"""Web Push subscriptions: each account's devices (the field, reporter and inspector phone pages subscribe with
the server's public VAPID key; the notifier pushes to them; an expired one is removed on 404/410)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlparse

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from domain.common import InvalidValue
from gateway.context import not_found
from gateway.entrypoints.deps import ContainerDep, PrincipalDep
from gateway.entrypoints.schemas import PushSubscriptionIn

router = APIRouter(tags=["notifications"])


@router.get("/push/key")
def push_key(container: ContainerDep) -> dict[str, Any]:
    """The public VAPID key (applicationServerKey) pages subscribe with; `enabled` false when Web Push is off."""
    from gateway.notify.channels import vapid_public_key

    vapid = container.vapid()
    return {"enabled": vapid is not None, "public_key": vapid_public_key(vapid) if vapid is not None else None}


@router.get("/push/subscriptions")
def my_subscriptions(container: ContainerDep, principal: PrincipalDep) -> dict[str, Any]:
    """The caller's own devices."""
    subs = container.subscriptions.find(username=principal.username)
    return {"items": [{"id": s["id"], "device": s["device"], "created_at": s["created_at"].isoformat()} for s in subs]}


@router.post("/push/subscriptions", status_code=201)
def subscribe(body: PushSubscriptionIn, request: Request, container: ContainerDep, principal: PrincipalDep) -> JSONResponse:
    """Save this device's subscription for the caller (the same endpoint again replaces it)."""
    url = urlparse(body.endpoint)
    # The server will POST to this address: only a browser's push service over https (any host over plain http
    # only when a test or a demo allows it), so an account cannot aim the notifier at the internal network.
    hosts = [h.strip() for h in container.settings.push_hosts.split(",") if h.strip()]
    known = url.scheme == "https" and any(url.hostname == h or (h.startswith(".") and (url.hostname or "").endswith(h)) for h in hosts)
    if not (known or (container.settings.push_allow_http and url.scheme in ("http", "https") and url.hostname)):
        raise InvalidValue("endpoint is a browser push service's https address", field="endpoint")
    device = body.device or request.headers.get("user-agent", "")[:120]
    sid = container.subscriptions.save(username=principal.username, role=str(principal.role), unit_code=principal.unit_code,
                                       team_id=principal.team_id, device=device, endpoint=body.endpoint,
                                       p256dh=body.keys.p256dh, auth=body.keys.auth)
    return JSONResponse({"id": sid}, status_code=201)


@router.delete("/push/subscriptions/{subscription_id}", status_code=204)
def unsubscribe(subscription_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")], container: ContainerDep, principal: PrincipalDep) -> Response:
    """Remove one of the caller's own devices (another account's reads as not found)."""
    if not container.subscriptions.remove(subscription_id, username=principal.username):
        raise not_found("push subscription", subscription_id)
    return Response(status_code=204)
