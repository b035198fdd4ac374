"""One origin per trust level: which host serves which pages.

- The **admin host** (``settings.resolved_admin_host``: ``OPUS_ADMIN_HOST``, default
  ``admin.<base_domain>``) serves the operator pages (``/admin…``) and the dashboards
  (under ``/admin/{tenant}/statistik`` and their files under ``/statistik-filer``), and
  nothing of the patient site.
- **Tenant hosts** (``<sub>.<base_domain>``) serve the patient site and the API; there
  ``/admin…`` and the dashboards' files answer 404.

Why: a tenant's own analytics script runs on that tenant's pages. Were the operator
pages on the same origin, the script could fetch them with the operator's cookies, read
a CSRF token and change any tenant the operator administers. On an origin of its own the
browser's same-origin policy keeps it out, and the operator's cookies are never sent to
a tenant host (host-only cookies, no ``Domain``).

Shared by both: the site's own static files and the probes. Only the ``Host`` header
counts (as in :mod:`booking_app.tenancy`).
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from opus_online.config import Settings

ADMIN_PREFIXES = ("/admin", "/statistik-filer")
"""Paths of the admin origin (``/admin`` itself, and everything below these)."""
SHARED_PREFIXES = ("/static/", "/healthz", "/readyz", "/metrics")
"""Paths either origin serves: the site's own files and the probes."""


def host_name(scope: Scope) -> str:
    """The request's ``Host`` header's name: lower case, without port or final dot."""
    raw = next((v for k, v in scope.get("headers", ()) if k == b"host"), b"")
    host = raw.decode("latin-1").strip().lower()
    name, colon, port = host.rpartition(":")
    if colon and port.isdigit():  # "name:8000", "[::1]:8000"
        host = name
    return host.removesuffix(".")


def is_admin_host(scope: Scope, settings: Settings) -> bool:
    return host_name(scope) == settings.resolved_admin_host


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(
        path == p.rstrip("/") or path.startswith(p if p.endswith("/") else p + "/")
        for p in prefixes
    )


def admin_path(path: str) -> bool:
    return _under(path, ADMIN_PREFIXES)


class OriginMiddleware:
    """Answers 404 for a path asked of the wrong origin, before any route runs (so no
    route, mount or future router can forget the check)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if _under(path, SHARED_PREFIXES):
            await self.app(scope, receive, send)
            return
        on_admin_host = is_admin_host(scope, self.settings)
        if on_admin_host and path == "/":
            await RedirectResponse("/admin/", status_code=303)(scope, receive, send)
            return
        if on_admin_host != admin_path(path):
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
            return
        await self.app(scope, receive, send)
