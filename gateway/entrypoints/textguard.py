"""Refuse a NUL character anywhere in a request's path, query or form body: 422, before the app runs.

PostgreSQL cannot store or even compare text holding NUL (U+0000): a query with one raises, the
request answered 500 and uvicorn dropped the keep-alive connection under the next request. JSON
bodies are checked field by field by the schemas (`gateway.entrypoints.schemas.clean_text`, which
refuses every control character); what does not go through a schema (path segments such as a unit
code or a username, query values such as `status`, the sign-in form) is checked here, once for
every route. Header values cannot carry NUL: the HTTP parser refuses them.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import problem

FORM = b"application/x-www-form-urlencoded"


def _has_nul(raw: bytes) -> bool:
    """Raw or percent-encoded NUL (%00, any case)."""
    return b"\x00" in raw or b"%00" in raw


class RefuseNul:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = None
        if "\x00" in scope.get("path", "") or _has_nul(scope.get("raw_path") or b""):
            where = ["path"]
        elif _has_nul(scope.get("query_string") or b""):
            where = ["query"]
        if where is None and dict(scope.get("headers") or []).get(b"content-type", b"").split(b";")[0].strip().lower() == FORM:
            # A form is small (the sign-in form): read it whole (BodyLimit bounds it), look, then hand it on.
            messages: list[Message] = []
            body = b""
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request":
                    break
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            if _has_nul(body):
                where = ["body"]
            else:
                replay = iter(messages)

                async def replayed() -> Message:
                    return next(replay, None) or await receive()

                await self.app(scope, replayed, send)
                return
        if where is None:
            await self.app(scope, receive, send)
            return
        await self._refuse(scope, send, where)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, where: list[str]) -> None:
        errors: list[dict[str, Any]] = [{"loc": where, "msg": "contains a NUL character (U+0000)", "type": "value_error"}]
        body = problem("validation_error", f"the request's {where[0]} contains a NUL character (U+0000)",
                       instance=scope.get("path", "").replace("\x00", "\\u0000"), errors=errors)
        await JSONResponse(body, status_code=422, media_type="application/problem+json")(scope, lambda: None, send)  # type: ignore[arg-type]
