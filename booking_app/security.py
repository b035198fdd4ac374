"""Security headers on every response: pages, static files, errors alike.

Everything the site loads comes from the site itself (no CDN, no inline script or
style), so the Content-Security-Policy can be ``'self'`` only. One exception: a
tenant's own analytics script (*Avancerat*, :mod:`booking_app.analytics_script`). The
page that renders it leaves a :class:`CspExtra` in the request's state, and this
middleware widens that one response's policy by exactly those sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP_EXTRA = "csp_extra"
"""Key in the request's state (``scope["state"]``) of a page's :class:`CspExtra`."""


@dataclass(frozen=True)
class CspExtra:
    """Sources one page adds to ``'self'`` (origins or ``'sha256-…'`` hashes)."""

    script_src: tuple[str, ...] = ()
    connect_src: tuple[str, ...] = ()
    img_src: tuple[str, ...] = ()


@lru_cache(maxsize=256)
def content_security_policy(extra: CspExtra | None = None) -> str:
    extra = extra or CspExtra()
    return "; ".join(
        (
            "default-src 'self'",
            " ".join(("script-src 'self'", *extra.script_src)),
            "style-src 'self'",
            " ".join(("img-src 'self'", *extra.img_src)),
            "font-src 'self'",
            " ".join(("connect-src 'self'", *extra.connect_src)),
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


CONTENT_SECURITY_POLICY = content_security_policy()

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeadersMiddleware:
    """Pure ASGI rather than ``BaseHTTPMiddleware``: it only edits the response start,
    so it neither buffers bodies nor changes how exceptions travel."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        state = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = state.get(CSP_EXTRA)
                if extra is not None and b"content-security-policy" not in present:
                    policy = content_security_policy(extra).encode()
                    headers.append((b"content-security-policy", policy))
                    present.add(b"content-security-policy")
                # A route that sets a stricter header of its own keeps it.
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
