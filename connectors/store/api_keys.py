"""Keys to a tenant's public API.

A key is shown once, when it is made; the store keeps only its SHA-256 (the key is
random and long, so a slow hash would add nothing) and its first characters, so an
operator can tell keys apart. A key opens exactly one tenant's API.

A key also says what it may do (its scopes) and which web pages may use it from a
browser (its origins, for CORS and the booking widget). A key in a web page is seen by
everyone, so such a *publishable* key reads times and books, and never reads or
changes a patient's bookings: the ``patient`` scope is for servers only.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from connectors.store.models import ApiKey
from connectors.store.types import utcnow

KEY_PREFIX = "oo_"
PUBLISHABLE_PREFIX = "oo_pub_"
PREFIX_LENGTH = 8

Scope = Literal["read", "book", "patient"]
SCOPES: tuple[Scope, ...] = ("read", "book", "patient")
"""``read``: clinics, practitioners, treatments, free times; ``book``: hold, release and
book a time; ``patient``: a patient's bookings (read, move, cancel)."""
PUBLISHABLE: frozenset[Scope] = frozenset({"read", "book"})
SERVER: frozenset[Scope] = frozenset(SCOPES)
MAX_ORIGINS = 20
MAX_KEY_LENGTH = 200
"""Longer header values are refused unhashed: nobody needs to hash a megabyte."""


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class InvalidOrigin(ValueError):
    """An allowed origin that is not ``https://host[:port]`` (or, in the demo,
    ``http://localhost[:port]``); the message is the offending text, for the form."""


@dataclass(frozen=True, slots=True)
class KeyGrant:
    """What one live key may do, and from which web pages."""

    scopes: frozenset[Scope]
    origins: frozenset[str]


def create_api_key(
    session: Session,
    tenant_id: int,
    name: str,
    key: str | None = None,
    *,
    scopes: Iterable[Scope] = SERVER,
    origins: Iterable[str] = (),
) -> str:
    """A new key for ``tenant_id``; returns the key itself, which is not kept.

    ``key`` is for the demo only, whose key must be known in advance; everywhere else
    a random one is made. ``origins`` must already be :func:`normalised_origins`."""
    scopes = frozenset(scopes)
    prefix = PUBLISHABLE_PREFIX if "patient" not in scopes else KEY_PREFIX
    key = key or prefix + secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            tenant_id=tenant_id,
            name=name,
            key_hash=key_hash(key),
            prefix=key[:PREFIX_LENGTH],
            scopes=scopes_text(scopes),
            allowed_origins="\n".join(origins),
        )
    )
    session.flush()
    return key


def set_allowed_origins(session: Session, tenant_id: int, key_id: int, origins: list[str]):
    """Replace a live key's origins (already :func:`normalised_origins`)."""
    key = session.get(ApiKey, key_id)
    if key is not None and key.tenant_id == tenant_id and key.revoked_at is None:
        key.allowed_origins = "\n".join(origins)
        session.flush()


def scopes_text(scopes: Iterable[Scope]) -> str:
    """The column's spelling: the known scopes in their fixed order."""
    given = set(scopes)
    if not given or not given <= set(SCOPES):
        raise ValueError(f"unknown or no scopes: {sorted(given)}")
    return " ".join(scope for scope in SCOPES if scope in given)


_HOST = re.compile(
    r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
)
_LOOPBACK = {"localhost", "127.0.0.1"}


def normalised_origins(text: str, *, allow_loopback: bool) -> list[str]:
    """The origins an operator typed (one a line, or separated by spaces or commas) as
    browsers send them in ``Origin``: ``https://host`` or ``https://host:port``, lower
    case, no path. Loopback pages over plain HTTP only when ``allow_loopback`` (the
    demo and tests): a real clinic's site is served over HTTPS."""
    origins: list[str] = []
    for given in re.split(r"[\s,]+", text.strip()):
        if not given:
            continue
        origin = _origin(given.rstrip("/"), allow_loopback)
        if origin is None:
            raise InvalidOrigin(given[:100])
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_ORIGINS:
        raise InvalidOrigin(origins[MAX_ORIGINS])
    return origins


def _origin(given: str, allow_loopback: bool) -> str | None:
    try:
        parts = urlsplit(given)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        return None
    if not _HOST.fullmatch(host):
        return None
    loopback = host in _LOOPBACK or host.endswith(".localhost")
    if parts.scheme == "https" or (parts.scheme == "http" and loopback and allow_loopback):
        return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")
    return None


def revoke_api_key(session: Session, tenant_id: int, key_id: int, now: datetime | None = None):
    key = session.get(ApiKey, key_id)
    if key is not None and key.tenant_id == tenant_id and key.revoked_at is None:
        key.revoked_at = now or utcnow()
        session.flush()


_LIVE_KEYS = select(ApiKey.key_hash, ApiKey.scopes, ApiKey.allowed_origins).where(
    ApiKey.tenant_id == bindparam("tenant_id"), ApiKey.revoked_at.is_(None)
)  # built once: every API request checks its key


def live_keys(session: Session, tenant_id: int) -> dict[str, KeyGrant]:
    """The tenant's live keys: their hashes, with what each may do."""
    return {
        row.key_hash: KeyGrant(
            frozenset(row.scopes.split()),  # type: ignore[arg-type]
            frozenset(filter(None, row.allowed_origins.split("\n"))),
        )
        for row in session.execute(_LIVE_KEYS, {"tenant_id": tenant_id})
    }


def grant_for(live: Mapping[str, KeyGrant], key: str | None) -> KeyGrant | None:
    """The grant of ``key`` if it is one of the ``live`` keys, else None.

    Compares against each of the tenant's (few) live keys in constant time rather than
    looking the hash up, so neither the comparison nor an index walk tells a caller
    how close a guess came; a key of another tenant is simply not among them."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    wanted = key_hash(key)
    found = None
    for stored, grant in live.items():
        if hmac.compare_digest(stored, wanted):
            found = grant
    return found


def origins_of(live: Mapping[str, KeyGrant]) -> frozenset[str]:
    """Every origin any live key allows: what a preflight (which carries no key) is
    answered for."""
    return frozenset().union(*(grant.origins for grant in live.values()))
