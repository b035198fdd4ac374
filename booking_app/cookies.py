"""The site's cookies: names, and how they are set and read.

Over HTTPS every cookie is ``__Host-``-prefixed: the browser then takes it only with
``Secure``, ``Path=/`` and no ``Domain``, from the host itself. So no sibling subdomain
(another tenant's host, a forgotten DNS name) can plant or overwrite one of ours, e.g.
a session of the attacker's own or a browser id whose CSRF token it knows. Over HTTPS
only the prefixed name is read: an unprefixed cookie there may be a planted one.

Plain HTTP (the demo, tests) cannot have ``Secure`` cookies, so the bare name is used.
Behind a TLS proxy the scheme comes from ``X-Forwarded-Proto`` (uvicorn's
``--proxy-headers``, on for the proxy's address).

Every cookie is host-only (no ``Domain``), ``HttpOnly`` and ``Path=/``: the operator
pages have an origin of their own (:mod:`booking_app.origins`), so a path would add
nothing.
"""

from __future__ import annotations

from typing import Literal

from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import Scope

OPERATOR_SESSION = "opus_operator"
PATIENT_SESSION = "opus_patient"
PATIENT_LOGIN = "opus_login"
BROWSER = "opus_browser"
"""A random id per browser: what anonymous forms' CSRF tokens are bound to, and the
browser half of an anonymous client's identity for the limits."""
HOLD = "opus_hold"

PREFIX = "__Host-"


def is_https(scope: Scope) -> bool:
    return scope.get("scheme") == "https"


def name(scope: Scope, base: str) -> str:
    """The cookie's name on this request's scheme."""
    return PREFIX + base if is_https(scope) else base


def read(request: HTTPConnection, base: str) -> str | None:
    return request.cookies.get(name(request.scope, base))


def header(
    scope: Scope,
    base: str,
    value: str,
    *,
    max_age: int | None = None,
    samesite: Literal["lax", "strict"] = "lax",
) -> str:
    """A ``Set-Cookie`` value (for middleware that adds headers by hand)."""
    parts = [f"{name(scope, base)}={value}", "Path=/", "HttpOnly", f"SameSite={samesite.title()}"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if is_https(scope):
        parts.append("Secure")
    return "; ".join(parts)


def give(
    response: Response,
    request: HTTPConnection,
    base: str,
    value: str,
    *,
    max_age: int | None = None,
    samesite: Literal["lax", "strict"] = "lax",
) -> None:
    response.set_cookie(
        name(request.scope, base),
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite=samesite,
        secure=is_https(request.scope),
    )


def forget(
    response: Response,
    request: HTTPConnection,
    base: str,
    *,
    samesite: Literal["lax", "strict"] = "lax",
) -> None:
    response.delete_cookie(
        name(request.scope, base),
        path="/",
        httponly=True,
        samesite=samesite,
        secure=is_https(request.scope),
    )
