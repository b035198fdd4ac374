"""Cross-site request forgery protection for every form (patients' and operators').

A form's token is an HMAC, with a key derived from the app's secret, of what the
browser's requests are bound to on this origin:

- on the admin host, with an operator session: the session's cookie value, so a token
  works for that one session only, and logging in or out changes it;
- otherwise (the patient pages, the login forms): the browser's own random id
  (:data:`booking_app.cookies.BROWSER`), set with the first form. A patient's session
  is not used: it is made anew at login, and a form opened before (another tab, the
  booking step that asked for the login) must still go through afterwards; the id is
  as hard to plant as a session cookie, and another browser's token fails.

Nothing is compared against a copy the client supplies in a second place: the server
recomputes the token from the cookie, in constant time. Another site can make a browser
post a form but cannot read our pages to learn a token; over HTTPS the ``__Host-``
cookies cannot be planted from a sibling subdomain (:mod:`booking_app.cookies`), so an
attacker cannot fix a browser id (or session) whose token it knows. As a second wall a
POST whose ``Origin`` header names another origin (or ``null``: a sandboxed frame, such
as the tenant's analytics frame) is refused whatever its token.

The browser id cookie is set only on responses that rendered a form for a browser that
had none, by a small ASGI middleware, so static files, the API and redirects never
carry it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from booking_app import cookies
from booking_app.origins import is_admin_host

FIELD = "csrf_token"
_STATE_KEY = "csrf_new_browser"
_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
_SESSION = re.compile(r"[A-Za-z0-9_.~-]{16,200}")


class CsrfRejected(Exception):
    """The form's token is missing or is not this session's: answered with 403."""


def browser_id(request: Request) -> str | None:
    """The browser's id cookie, when it has a well-formed one."""
    value = cookies.read(request, cookies.BROWSER)
    return value if value and _ID.fullmatch(value) else None


def _session(request: Request) -> str | None:
    """The operator's session cookie on the admin host, if any."""
    if not is_admin_host(request.scope, request.app.state.settings):
        return None
    value = cookies.read(request, cookies.OPERATOR_SESSION)
    return value if value and _SESSION.fullmatch(value) else None


def _key(request: Request) -> bytes:
    state = request.app.state
    key = getattr(state, "csrf_key", None)
    if key is None:
        key = hashlib.sha256(b"csrf-token\n" + state.settings.secret()).digest()
        state.csrf_key = key
    return key


def _token_for(key: bytes, binding: str) -> str:
    digest = hmac.new(key, binding.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _binding(request: Request, browser: str | None) -> str | None:
    session = _session(request)
    if session:
        return "session\n" + session
    return "browser\n" + browser if browser else None


def token(request: Request) -> str:
    """The token for a form on this page. A browser without an id gets a new one,
    which the middleware sends as a cookie with the response."""
    browser = browser_id(request)
    if browser is None and _session(request) is None:
        state = request.scope.setdefault("state", {})
        browser = state.get(_STATE_KEY)
        if browser is None:
            browser = state[_STATE_KEY] = secrets.token_urlsafe(32)
    binding = _binding(request, browser)
    assert binding is not None
    return _token_for(_key(request), binding)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not every browser sends it on every form post; the token decides
    host = request.headers.get("host", "")
    return origin.lower() == f"{request.url.scheme}://{host}".lower()


def check(request: Request, submitted: str | None) -> None:
    binding = _binding(request, browser_id(request))
    if not binding or not submitted or not _same_origin(request):
        raise CsrfRejected()
    if not hmac.compare_digest(_token_for(_key(request), binding), submitted):
        raise CsrfRejected()


class CsrfCookieMiddleware:
    """Adds the ``Set-Cookie`` for a browser id that a page has just handed out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def send_with_cookie(message: Message) -> None:
            new = state.get(_STATE_KEY)
            if message["type"] == "http.response.start" and new:
                # Strict: another site's link or form never carries it.
                cookie = cookies.header(scope, cookies.BROWSER, new, samesite="strict")
                headers = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)
