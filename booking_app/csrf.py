"""Cross-site request forgery protection for the patient forms.

Double submit: a random token in a cookie (``SameSite=Strict``, ``HttpOnly``) and the
same token in a hidden field of every form; a POST whose two copies differ (compared
in constant time) is refused with 403. Another site can make a browser send a form
but can neither read our cookie nor, with ``Strict``, have it sent along.

The cookie is set only on responses that rendered a form with a new token, by a small
ASGI middleware, so static files, the API and redirects never carry it.
"""

from __future__ import annotations

import hmac
import re
import secrets

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "opus_csrf"
FIELD = "csrf_token"
_STATE_KEY = "csrf_new_token"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


class CsrfRejected(Exception):
    """The form's token is missing or is not the cookie's: answered with 403."""


def _cookie_token(request: Request) -> str | None:
    value = request.cookies.get(COOKIE)
    return value if value and _TOKEN.fullmatch(value) else None


def token(request: Request) -> str:
    """The token for a form on this page: the browser's, or a new one that the
    middleware sends as a cookie with the response."""
    existing = _cookie_token(request)
    if existing:
        return existing
    new = request.scope.setdefault("state", {}).get(_STATE_KEY)
    if new is None:
        new = secrets.token_urlsafe(32)
        request.scope["state"][_STATE_KEY] = new
    return new


def check(request: Request, submitted: str | None) -> None:
    cookie = _cookie_token(request)
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
        raise CsrfRejected()


class CsrfCookieMiddleware:
    """Adds the ``Set-Cookie`` for a token that a page has just handed out."""

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
                secure = "; Secure" if scope.get("scheme") == "https" else ""
                cookie = f"{COOKIE}={new}; Path=/; HttpOnly; SameSite=Strict{secure}"
                headers = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)
