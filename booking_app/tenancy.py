"""Which tenant a request is for: the Host header's subdomain, nothing else.

A host maps to exactly one tenant or to none. Only the ``Host`` header counts:
``X-Forwarded-Host`` and friends are set by whoever sends the request, so trusting
them would let any client pick another clinic chain's page.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.store.models import Tenant

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
