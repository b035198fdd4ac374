"""The site's cookies: names, and how they are set and read.

Over HTTPS every cookie is ``__Host-``-prefixed: the browser then takes it only with
``Secure``, ``Path=/`` and no ``Domain``, from the host itself. So no sibling subdomain
(another tenant's host, a forgotten DNS name) can plant or overwrite one of ours, e.g.
a session of the attacker's own or a browser id whose CSRF token it knows. Over HTTPS
only the prefixed name is read: an unprefixed cookie there may be a planted one.

Plain HTTP (the demo, tests) cannot have ``Secure`` cookies, so the bare name is used.
Behind a TLS proxy the scheme comes from ``X-Forwarded-Proto`` (uvicorn's
``--proxy-headers``, on for the proxy's address).

In the booking widget's frame on a clinic's website (a cross-site frame) a ``Lax``
cookie would never come back, so there the booking's cookies are ``SameSite=None;
Secure; Partitioned``: kept apart per embedding site (CHIPS), and still bound to their
forms by the CSRF tokens and the ``Origin`` check. Only the booking steps are ever
framed (:mod:`booking_app.widget`).

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


EMBEDDED = "embedded"
"""Key in the request's state: the page is drawn in the booking widget's frame on a
clinic's own website (:mod:`booking_app.widget`)."""


def is_embedded(scope: Scope) -> bool:
    return bool(scope.get("state", {}).get(EMBEDDED))


def header(
    scope: Scope,
    base: str,
    value: str,
    *,
    max_age: int | None = None,
    samesite: Literal["lax", "strict"] = "lax",
) -> str:
    """A ``Set-Cookie`` value (for middleware that adds headers by hand)."""
    embedded = is_embedded(scope)
    same_site = "None" if embedded else samesite.title()
    parts = [f"{name(scope, base)}={value}", "Path=/", "HttpOnly", f"SameSite={same_site}"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if is_https(scope) or embedded:
        parts.append("Secure")
    if embedded:
        parts.append("Partitioned")
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
    # Written by hand (header()): the standard library spells Partitioned only from 3.14.
    cookie = header(request.scope, base, value, max_age=max_age, samesite=samesite)
    response.headers.append("set-cookie", cookie)


def forget(
    response: Response,
    request: HTTPConnection,
    base: str,
    *,
    samesite: Literal["lax", "strict"] = "lax",
) -> None:
    response.headers.append(
        "set-cookie", header(request.scope, base, "", max_age=0, samesite=samesite)
    )
