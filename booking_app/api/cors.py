"""CORS for the public API: a clinic's own web pages may call it from the browser.

Which pages may is said per API key (its allowed origins, edited on *Avancerat*). A
preflight carries no key, so it is answered for the origins of any of the tenant's
live keys; the real request then gets ``Access-Control-Allow-Origin`` only when the
key it carries allows that origin. Any other origin gets no CORS headers at all, so
the browser keeps the answer from the page. Cookies are never allowed cross-origin
(no ``Access-Control-Allow-Credentials``): the API is authorised by its key alone.

Pure ASGI, like :mod:`booking_app.security`: it only answers preflights and edits the
response start. Requests without ``Origin`` (servers, the existing clients) pass
untouched apart from ``Vary: Origin``.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from booking_app.api.deps import KEY_HEADERS
from booking_app.api.routes import PREFIX
from booking_app.tenancy import tenant_for_host
from connectors.store.api_keys import KeyGrant, grant_for, live_keys, origins_of
from connectors.store.db import engine_for, session_scope

ALLOWED_METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE")
ALLOWED_HEADERS = ("apiKey", "api_key", "Content-Type")
_ALLOWED_HEADER_NAMES = frozenset(name.lower() for name in ALLOWED_HEADERS)
MAX_AGE_S = 600
"""How long a browser may reuse a preflight's answer: short, so that an origin an
operator removes stops working within minutes (Chromium caps it at 2 h anyway)."""
EXPOSED_HEADERS = "Retry-After, WWW-Authenticate"
"""Besides the safelisted ones: a busy (503) and an unauthorised answer's hints."""

_VARY = (b"vary", b"Origin")


class ApiCorsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _under_api(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin and scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await _preflight(scope, headers, origin, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [_VARY]
                if origin and await _key_allows(scope, headers, origin):
                    extra += [
                        (b"access-control-allow-origin", origin.encode("latin-1")),
                        (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
                    ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _under_api(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


async def _preflight(scope: Scope, headers: Headers, origin: str, send: Send) -> None:
    method = headers["access-control-request-method"].strip().upper()
    asked = {
        name.strip().lower()
        for name in headers.get("access-control-request-headers", "").split(",")
        if name.strip()
    }
    allowed = (
        method in ALLOWED_METHODS
        and asked <= _ALLOWED_HEADER_NAMES
        and origin in origins_of(await live_keys_of_host(scope, headers))
    )
    answer = [_VARY, (b"content-length", b"0")]
    if allowed:
        answer += [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", ", ".join(ALLOWED_METHODS).encode()),
            (b"access-control-allow-headers", ", ".join(ALLOWED_HEADERS).encode()),
            (b"access-control-max-age", str(MAX_AGE_S).encode()),
        ]
    # 204 either way: without the allow headers the browser stops the request itself.
    await send({"type": "http.response.start", "status": 204, "headers": answer})
    await send({"type": "http.response.body", "body": b""})


async def _key_allows(scope: Scope, headers: Headers, origin: str) -> bool:
    """Whether the key the request carries allows ``origin``. The route has checked
    the key and left its grant in the request's state; an answer from the cache was
    not checked again, so its key is looked up here."""
    grant: KeyGrant | None = scope.get("state", {}).get("api_grant")
    if grant is None:
        key = next((headers[h] for h in KEY_HEADERS if headers.get(h)), None)
        grant = grant_for(await live_keys_of_host(scope, headers), key and key.strip())
    return grant is not None and origin in grant.origins


async def live_keys_of_host(scope: Scope, headers: Headers) -> Mapping[str, KeyGrant]:
    """The tenant's live keys: from its snapshot when this process has one, else from
    the store (in a thread: the store is not asked on the event loop)."""
    app = scope["app"]
    settings = app.state.settings
    host = headers.get("host")
    in_memory = app.state.availability.for_host(host, settings.base_domain)
    if in_memory is not None:
        return in_memory.reference.keys

    def from_store() -> Mapping[str, KeyGrant]:
        with session_scope(engine_for(settings.resolved_store_url)) as session:
            tenant = tenant_for_host(session, host, settings.base_domain)
            return live_keys(session, tenant.id) if tenant is not None else {}

    return await run_in_threadpool(from_store)
