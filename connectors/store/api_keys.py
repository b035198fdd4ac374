"""Keys to a tenant's public API.

A key is shown once, when it is made; the store keeps only its SHA-256 (the key is
random and long, so a slow hash would add nothing) and its first characters, so an
operator can tell keys apart. A key opens exactly one tenant's API.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from connectors.store.models import ApiKey
from connectors.store.types import utcnow

KEY_PREFIX = "oo_"
PREFIX_LENGTH = 8
MAX_KEY_LENGTH = 200
"""Longer header values are refused unhashed: nobody needs to hash a megabyte."""


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, tenant_id: int, name: str, key: str | None = None) -> str:
    """A new key for ``tenant_id``; returns the key itself, which is not kept.

    ``key`` is for the demo only, whose key must be known in advance; everywhere else
    a random one is made."""
    key = key or KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiKey(tenant_id=tenant_id, name=name, key_hash=key_hash(key), prefix=key[:PREFIX_LENGTH])
    )
    session.flush()
    return key


def revoke_api_key(session: Session, tenant_id: int, key_id: int, now: datetime | None = None):
    key = session.get(ApiKey, key_id)
    if key is not None and key.tenant_id == tenant_id and key.revoked_at is None:
        key.revoked_at = now or utcnow()
        session.flush()


_LIVE_KEY_HASHES = select(ApiKey.key_hash).where(
    ApiKey.tenant_id == bindparam("tenant_id"), ApiKey.revoked_at.is_(None)
)  # built once: every API request checks its key


def live_key_hashes(session: Session, tenant_id: int) -> list[str]:
    return list(session.scalars(_LIVE_KEY_HASHES, {"tenant_id": tenant_id}))


def key_matches(live_hashes: Iterable[str], key: str | None) -> bool:
    """Whether ``key`` is one of the keys whose hashes are ``live_hashes``.

    Compares against each of the tenant's (few) live keys in constant time rather than
    looking the hash up, so neither the comparison nor an index walk tells a caller
    how close a guess came; a key of another tenant is simply not among them."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return False
    wanted = key_hash(key)
    matched = False
    for stored in live_hashes:
        matched |= hmac.compare_digest(stored, wanted)
    return matched
