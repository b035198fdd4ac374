"""What every API route starts from: the request's transaction and tenant (by host
name, then by API key), "now", the client's language, and the body.

A route opens its transaction itself (``with api.reading()`` / ``api.writing()``) and
does all its store work inside that one block, in one call on one worker thread.
Not as a generator dependency, like the pages' ``SessionDep``: FastAPI runs a sync
dependency's setup, the route and its teardown as separate thread-pool calls, so a
transaction would stay open between them while the request waits for a free thread.
For a writer that means holding SQLite's write lock (or a PostgreSQL advisory lock)
while every pool thread waits for that lock: under a burst of bookings, the pool
starves and nothing moves until the busy timeout fails them all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from booking_app.api.binding import RawBody, read_body
from booking_app.api.cache import after_write
from booking_app.api.errors import Forbidden, NotFound, Unauthorized, request_language
from booking_app.api.snapshots import TenantAvailability
from booking_app.tenancy import check_moved, tenant_for_host
from connectors.store.api_keys import KeyGrant, Scope, grant_for, key_hash, live_keys
from connectors.store.client_limits import Client
from connectors.store.db import engine_for, session_scope, write_session_scope
from connectors.store.models import Tenant
from opus_online.config import Settings

KEY_HEADERS = ("apikey", "api_key")
"""The spec's header, and the spelling clients in the wild use. (A proxy in front must
pass underscores in header names: nginx drops them unless underscores_in_headers is on.)
Keys are not read from the query string, where they would end up in access logs."""


@dataclass(frozen=True)
class Api:
    request: Request
    settings: Settings
    now: datetime
    in_memory: TenantAvailability | None = None
    """The tenant's free times in memory, when the hot path has found them."""

    @cached_property
    def lang(self) -> str:
        """The client's language (of its messages): read when one is told."""
        return request_language(self.request)

    @contextmanager
    def reading(self, scope: Scope = "read") -> Iterator[tuple[Session, Tenant]]:
        """A read transaction and the tenant whose key the request carries, if that
        key has ``scope``."""
        with session_scope(engine_for(self.settings.resolved_store_url)) as session:
            yield session, self._tenant(session, scope)

    @contextmanager
    def writing(self, scope: Scope = "book") -> Iterator[tuple[Session, Tenant]]:
        """The same for a route that writes: on SQLite the transaction holds the write
        lock from its first statement (``write_session_scope``). It commits when the
        block ends, before the answer is sent: a client is never told "booked" about a
        booking that a failed commit undid."""
        with write_session_scope(engine_for(self.settings.resolved_store_url)) as session:
            yield session, self._tenant(session, scope)
        after_write(self.request)

    def key_holder(self) -> Client:
        """The request's API key as a client of the limits on holds: a hash of the
        key's stored hash, so bookings carry nothing that logs in."""
        key = next(self.request.headers[h] for h in KEY_HEADERS if self.request.headers.get(h))
        holder = hashlib.sha256(f"api-key:{key_hash(key.strip())}".encode()).hexdigest()
        return Client(holder)

    def _tenant(self, session: Session, scope: Scope) -> Tenant:
        headers = self.request.headers
        tenant = tenant_for_host(session, headers.get("host"), self.settings.base_domain)
        if tenant is None:
            check_moved(session, self.request.scope, self.settings.base_domain, self.now)
            raise NotFound("unknown_tenant")
        self.authorise(live_keys(session, tenant.id), scope)
        return tenant

    def authorise(self, live: Mapping[str, KeyGrant], scope: Scope = "read") -> KeyGrant:
        """401 unless the request carries one of the tenant's live keys, 403 unless
        that key has ``scope``. The grant is kept on the request for CORS
        (:mod:`booking_app.api.cors`)."""
        headers = self.request.headers
        key = next((headers[h] for h in KEY_HEADERS if headers.get(h)), None)
        if key is None:
            raise Unauthorized("api_key_missing")
        grant = grant_for(live, key.strip())
        if grant is None:
            raise Unauthorized("api_key_invalid")
        self.request.state.api_grant = grant
        if scope not in grant.scopes:
            raise Forbidden("api_key_scope", scope=scope)
        return grant


async def get_api(request: Request) -> Api:
    # async and reading app.state directly (as the pages' SettingsDep and NowDep do):
    # a sync dependency costs a thread-pool round trip, and this one runs per request.
    return api_for(request)


def api_for(request: Request, in_memory: TenantAvailability | None = None) -> Api:
    app = request.app
    return Api(request, app.state.settings, app.state.clock(), in_memory)


ApiDep = Annotated[Api, Depends(get_api)]

# Read in full, size-limited, before the route opens its transaction: a slow upload
# never holds a lock. Parsed only inside the transaction, once the key has been checked.
BodyDep = Annotated[RawBody, Depends(read_body)]
