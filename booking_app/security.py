"""Security headers on every response: pages, static files, errors alike.

Everything the site loads comes from the site itself (no CDN, no inline script or
style), so the Content-Security-Policy is ``'self'`` only, on every page, whatever a
tenant has configured. A tenant's own analytics script (*Avancerat*,
:mod:`booking_app.analytics_script`) never runs on a page of ours: it runs in the
analytics frame (``/analys``, :mod:`booking_app.tracking`), a document whose own policy
(:func:`analytics_frame_policy`) sandboxes it into an opaque origin.

Over HTTPS every response also says ``Strict-Transport-Security`` (subdomains included:
a tenant host or the admin host is never to be reached over plain HTTP once seen).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class CspExtra:
    """Sources a tenant's analytics script needs (origins or ``'sha256-…'`` hashes)."""

    script_src: tuple[str, ...] = ()
    connect_src: tuple[str, ...] = ()
    img_src: tuple[str, ...] = ()


FRAME_ANCESTORS = "frame_ancestors"
"""Key in the request's state: the origins that may frame this one response (the
booking widget's pages on a clinic's website; :mod:`booking_app.widget`)."""


@lru_cache(maxsize=256)
def content_security_policy(frame_ancestors: tuple[str, ...] = ()) -> str:
    ancestors = " ".join(frame_ancestors) or "'none'"
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {ancestors}",
        )
    )


@lru_cache(maxsize=256)
def analytics_frame_policy(extra: CspExtra) -> str:
    """The analytics frame's policy. ``sandbox allow-scripts`` (no ``allow-same-origin``)
    gives the document an opaque origin even when it is opened on its own, not in our
    frame: it can neither read our pages (no cookies of ours go with its requests, and
    no answer is readable) nor submit forms, open windows or navigate the page. Its
    scripts are our bootstrap (``'self'``) and the tenant's (origins, hashes); it may
    connect only to the tenant's analytics origins, never to our site."""
    origins = " ".join(extra.connect_src) or "'none'"
    images = " ".join(extra.img_src) or "'none'"
    return "; ".join(
        (
            "sandbox allow-scripts",
            "default-src 'none'",
            " ".join(("script-src 'self'", *extra.script_src)),
            f"connect-src {origins}",
            f"img-src {images}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'self'",
        )
    )


HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")

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

        https = scope.get("scheme") == "https"
        state = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                framers = state.get(FRAME_ANCESTORS)
                if framers and b"content-security-policy" not in present:
                    # Framed by the clinic's site: its origins instead of 'none', and no
                    # X-Frame-Options, which knows no list of origins.
                    policy = content_security_policy(tuple(framers)).encode()
                    headers.append((b"content-security-policy", policy))
                    present |= {b"content-security-policy", b"x-frame-options"}
                # A route that sets a stricter header of its own keeps it.
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                if https:
                    headers.append(HSTS)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
