"""Security headers on every answer: pages, static files, API answers and errors alike (pure ASGI,
so responses made before the app runs — 413, 422 for a NUL — get them too).

- Content-Security-Policy: scripts only from this origin (no inline script, no eval); styles from
  this origin and inline style attributes (the pages set a few); nothing may frame a page
  (`frame-ancestors 'none'`, and X-Frame-Options DENY for older browsers). The API docs (/docs,
  /redoc) load Swagger UI / ReDoc from their CDN with an inline bootstrap script, so they get a
  policy of their own that allows exactly that, and still may not be framed.
- X-Content-Type-Options: nosniff; Referrer-Policy: no-referrer; Cross-Origin-Opener-Policy: same-origin.
- Cache-Control: no-store on API answers (tokens, records), health and metrics; static files keep
  their validators.

A route that sets one of these itself keeps its own (evidence files: `Content-Security-Policy:
sandbox`, cached privately by their content hash); a policy of its own still gets `frame-ancestors 'none'`.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_CSP = "; ".join([
    "default-src 'self'",
    f"script-src 'self' 'unsafe-inline' {DOCS_CDN}",
    f"style-src 'self' 'unsafe-inline' {DOCS_CDN}",
    f"img-src 'self' data: {DOCS_CDN} https://fastapi.tiangolo.com",
    "worker-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
])
DOCS_PATHS = ("/docs", "/redoc")
COMMON = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}
NO_STORE_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics", "/openapi.json")


def headers_for(path: str) -> dict[str, str]:
    docs = path == DOCS_PATHS[0] or path.startswith(DOCS_PATHS)
    out = dict(COMMON)
    out["content-security-policy"] = DOCS_CSP if docs else CSP
    if path.startswith(NO_STORE_PREFIXES):
        out["cache-control"] = "no-store"
        out["pragma"] = "no-cache"
    return out


_RAW: dict[tuple[bool, bool], tuple[tuple[bytes, bytes], ...]] = {}


def _raw_headers(path: str) -> tuple[tuple[bytes, bytes], ...]:
    """`headers_for(path)` as the raw pairs ASGI sends, worked out once per kind of path (docs or
    not, no-store or not): this runs on every answer."""
    key = (path == DOCS_PATHS[0] or path.startswith(DOCS_PATHS), path.startswith(NO_STORE_PREFIXES))
    raw = _RAW.get(key)
    if raw is None:
        raw = _RAW[key] = tuple((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers_for(path).items())
    return raw


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = _raw_headers(scope.get("path", ""))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                own = {name.lower(): i for i, (name, _) in enumerate(headers)}
                for name, value in extra:
                    i = own.get(name)
                    if i is None:
                        headers.append((name, value))
                    elif name == b"content-security-policy" and b"frame-ancestors" not in headers[i][1]:
                        headers[i] = (name, headers[i][1] + b"; frame-ancestors 'none'")  # a route's own policy, never frameable
                    # otherwise the route decided (e.g. evidence files: `sandbox`, cached privately)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
