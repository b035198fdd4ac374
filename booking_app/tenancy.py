"""Which tenant a request is for: the Host header's subdomain, nothing else.

A host maps to exactly one tenant or to none. Only the ``Host`` header counts:
``X-Forwarded-Host`` and friends are set by whoever sends the request, so trusting
them would let any client pick another clinic chain's page.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from connectors.store.db import engine_for, session_scope
from connectors.store.models import SubdomainRedirect, Tenant

# One DNS label: the store's subdomains are a single lower-case label (see Tenant).
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_PORT = re.compile(r":\d{1,5}")


def subdomain_from_host(host: str | None, base_domain: str) -> str | None:
    """The tenant subdomain in ``host`` (``<subdomain>.<base_domain>[:port]``), lower
    case; ``None`` for the bare base domain, another domain or a malformed host."""
    if not host:
        return None
    host = host.strip().lower()
    name, colon, port = host.rpartition(":")
    if colon and _PORT.fullmatch(f":{port}"):
        host = name
    host = host.removesuffix(".")  # "a.example.com." is the same name, fully qualified
    suffix = "." + base_domain.strip().lower().removesuffix(".")
    if not host.endswith(suffix):
        return None
    label = host[: -len(suffix)]
    return label if _LABEL.fullmatch(label) else None


def tenant_for_host(session: Session, host: str | None, base_domain: str) -> Tenant | None:
    subdomain = subdomain_from_host(host, base_domain)
    if subdomain is None:
        return None
    # Subdomains are stored lower case (a check constraint), so equality on the
    # lower-cased label is the case-insensitive match and still uses the unique index.
    return session.scalars(select(Tenant).where(Tenant.subdomain == subdomain)).one_or_none()


# -- a changed subdomain: the old name redirects for a while ---------------------------

REDIRECT_DAYS = 90
"""How long a tenant's former subdomain redirects to its new one (and stays reserved
for it)."""


REDIRECT_CACHE_S = 5.0
"""How long one process trusts its answer to "has this name moved?". Every request on
a tenant host asks; without the cache each would pay a store round trip."""

_generation = 0


def subdomains_changed() -> None:
    """Forget this process's cached redirect answers (a subdomain was just changed)."""
    global _generation
    _generation += 1


def redirect_expiry(now: datetime) -> datetime:
    return now + timedelta(days=REDIRECT_DAYS)


def moved_subdomain(session: Session, subdomain: str, now: datetime) -> str | None:
    """The current subdomain of the tenant that used ``subdomain`` until lately, while
    its redirect lasts; ``None`` otherwise. A live tenant's own name never has a live
    redirect (the Underdomän tab removes it when a tenant takes a name)."""
    return session.scalars(
        select(Tenant.subdomain)
        .join(SubdomainRedirect, SubdomainRedirect.tenant_id == Tenant.id)
        .where(SubdomainRedirect.subdomain == subdomain, SubdomainRedirect.expires_at > now)
    ).one_or_none()


def _replace_label(host: str, new: str, base_domain: str) -> str:
    """``host`` with its tenant label replaced by ``new``, the port kept."""
    _name, colon, port = host.strip().lower().rpartition(":")
    port_part = f":{port}" if colon and _PORT.fullmatch(f":{port}") else ""
    return f"{new}.{base_domain.strip().lower().removesuffix('.')}{port_part}"


class SubdomainRedirectMiddleware:
    """Answers a request for a former subdomain with a redirect (308, so a form post
    stays a post) to the same path and query on the tenant's current host. Only the
    ``Host`` header counts, as for :func:`tenant_for_host`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # subdomain → (when asked, generation, its current name or None)
        self._answers: dict[str, tuple[float, int, str | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        base_domain = state.settings.base_domain
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
        subdomain = subdomain_from_host(host, base_domain)
        new = None if subdomain is None else await self._moved(state, subdomain)
        if new is None or host is None:
            await self.app(scope, receive, send)
            return
        path = scope.get("raw_path") or quote(scope["path"]).encode()
        query = scope.get("query_string", b"")
        location = (
            f"{scope.get('scheme', 'http')}://{_replace_label(host, new, base_domain)}"
            f"{path.decode('latin-1')}{'?' + query.decode('latin-1') if query else ''}"
        )
        await send(
            {
                "type": "http.response.start",
                "status": 308,
                "headers": [
                    (b"location", location.encode("latin-1")),
                    # Not cached for good: the name goes back to the pool when it expires.
                    (b"cache-control", b"no-cache"),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    async def _moved(self, state, subdomain: str) -> str | None:
        known = self._answers.get(subdomain)
        if known is not None and known[1] == _generation:
            asked, _, answer = known
            if time.monotonic() - asked < REDIRECT_CACHE_S:
                return answer

        def look_up() -> str | None:
            engine = engine_for(state.settings.resolved_store_url)
            with session_scope(engine) as session:
                return moved_subdomain(session, subdomain, state.clock())

        generation = _generation
        answer = await run_in_threadpool(look_up)
        if len(self._answers) > 10_000:  # unknown hosts must not grow it without end
            self._answers.clear()
        self._answers[subdomain] = (time.monotonic(), generation, answer)
        return answer
