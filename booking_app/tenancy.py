"""Which tenant a request is for: the Host header's subdomain, nothing else.

A host maps to exactly one tenant or to none. Only the ``Host`` header counts:
``X-Forwarded-Host`` and friends are set by whoever sends the request, so trusting
them would let any client pick another clinic chain's page.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import quote

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload
from starlette.responses import Response
from starlette.types import Scope

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
    return session.scalars(_TENANT_BY_SUBDOMAIN, {"subdomain": subdomain}).one_or_none()


# Subdomains are stored lower case (a check constraint), so equality on the lower-cased
# label is the case-insensitive match and still uses the unique index. Every request
# reads the tenant's settings: they come in the same query. Built once: this runs on
# every request.
_TENANT_BY_SUBDOMAIN = (
    select(Tenant)
    .where(Tenant.subdomain == bindparam("subdomain"))
    .options(joinedload(Tenant.settings))
)


# -- a changed subdomain: the old name redirects for a while ---------------------------

REDIRECT_DAYS = 90
"""How long a tenant's former subdomain redirects to its new one (and stays reserved
for it)."""


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


class SubdomainMoved(Exception):
    """The host names a tenant's former subdomain: answer with a redirect (308, so a
    form post stays a post) to ``location``, the same path and query on its new host."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def check_moved(session: Session, scope: Scope, base_domain: str, now: datetime) -> None:
    """For a host that names no tenant: raise :class:`SubdomainMoved` when it is a
    tenant's former name whose redirect still lasts. Asked only after the tenant lookup
    failed, so a live tenant's requests never pay for it."""
    host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
    subdomain = subdomain_from_host(host, base_domain)
    if host is None or subdomain is None:
        return
    new = moved_subdomain(session, subdomain, now)
    if new is None:
        return
    path = scope.get("raw_path") or quote(scope["path"]).encode()
    query = scope.get("query_string", b"")
    raise SubdomainMoved(
        f"{scope.get('scheme', 'http')}://{_replace_label(host, new, base_domain)}"
        f"{path.decode('latin-1')}{'?' + query.decode('latin-1') if query else ''}"
    )


def moved_response(_request, exc: SubdomainMoved) -> Response:
    # Not cached for good: the name goes back to the pool when the redirect expires.
    return Response(
        status_code=308, headers={"Location": exc.location, "Cache-Control": "no-cache"}
    )
