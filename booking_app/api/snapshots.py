"""The app's in-memory availability: one snapshot per tenant (see
:mod:`connectors.store.snapshot`), kept in step with the store.

The store's triggers count every change that bears on free times, per tenant and topic
(``availability_version``). How the app follows them is ``availability_poll_s``:

- above 0 (the default, a quarter of a second): a thread reads the counters that often
  and reloads what moved; free-time questions are answered on the event loop from
  memory, the API key included, without a thread or a query. A tenant's first question
  is answered from the store while its snapshot loads. A write through this app wakes
  the thread at once. Free times are advice (the hold decides, in the database), and
  the answer cache already gives answers a few seconds old, so a quarter of a second
  of lag costs nothing.
- 0: every question reads its tenant's counters first (one small query, in a worker
  thread) and reloads what moved. Exact across processes; the tests run so.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from fastapi import Request
from sqlalchemy import select

from booking_app.api.errors import Unauthorized
from booking_app.tenancy import subdomain_from_host
from connectors.store.api_keys import key_matches
from connectors.store.availability_version import versions, versions_of
from connectors.store.db import engine_for, session_scope
from connectors.store.models import Tenant
from connectors.store.snapshot import Reference, Taken, load_reference, load_taken

log = logging.getLogger(__name__)

MAX_FRAGMENTS = 20_000
"""Rendered days kept per tenant (a clinic's day for one treatment is a few KB)."""


class TenantAvailability:
    """One tenant's snapshot, and the days already rendered from it (by
    :mod:`booking_app.api.snapshot_times`; they belong to this snapshot and go with it)."""

    def __init__(self, reference: Reference, taken: Taken) -> None:
        self.reference = reference
        self.taken = taken
        self._fragments: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def versions(self) -> tuple[int, int]:
        return self.reference.version, self.taken.version

    def fragment(self, key: tuple, make: Callable[[], object], fresh: Callable) -> object:
        """The rendered day ``key``, made (and kept) when missing or no longer
        ``fresh``."""
        with self._lock:
            found = self._fragments.get(key)
            if found is not None and fresh(found):
                self._fragments.move_to_end(key)
                return found
        made = make()
        with self._lock:
            self._fragments[key] = made
            while len(self._fragments) > MAX_FRAGMENTS:
                self._fragments.popitem(last=False)
        return made


class Availability:
    """The snapshots of one app (``app.state.availability``)."""

    def __init__(self, store_url: str, clock: Callable[[], datetime], poll_s: float) -> None:
        self.store_url = store_url
        self.clock = clock
        self.poll_s = poll_s
        self._tenants: dict[int, TenantAvailability] = {}
        self._subdomains: dict[str, int] = {}
        self._seen: dict[tuple[int, str], int] = {}
        self._wanted: set[int] = set()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    @property
    def checks_each_question(self) -> bool:
        return self.poll_s == 0

    # -- polling mode ----------------------------------------------------------------

    def for_request(
        self, request: Request, base_domain: str, key_headers
    ) -> TenantAvailability | None:
        """The snapshot of the request's tenant, its API key checked; ``None`` when the
        question must go to the store: polling is off, the host names no tenant known
        here, or the tenant's snapshot is still loading."""
        if self.checks_each_question:
            return None
        self._start()
        headers = request.headers
        tenant_id = self._subdomains.get(subdomain_from_host(headers.get("host"), base_domain))
        if tenant_id is None:
            return None
        found = self._tenants.get(tenant_id)
        if found is None:
            self.want(tenant_id)
            return None
        key = next((headers[h] for h in key_headers if headers.get(h)), None)
        if key is None:
            raise Unauthorized("api_key_missing")
        if not key_matches(found.reference.key_hashes, key.strip()):
            raise Unauthorized("api_key_invalid")
        return found

    def want(self, tenant_id: int) -> None:
        """Load the tenant's snapshot (in the polling thread), unless it is loaded."""
        if self.checks_each_question or tenant_id in self._tenants:
            return
        self._start()
        self._wanted.add(tenant_id)
        self._wake.set()

    def nudge(self) -> None:
        """Something was just written through this app: read the counters now."""
        self._wake.set()

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._follow, name="availability-snapshots", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _follow(self) -> None:
        while not self._stopped.is_set():
            try:
                self.refresh()
            except Exception:  # the store may be away for a moment; answers fall back
                log.exception("could not refresh the availability snapshots")
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def refresh(self) -> None:
        """Read every tenant's counters; reload the snapshots whose counters moved, and
        load those asked for."""
        with session_scope(engine_for(self.store_url)) as session:
            counters = versions(session)
            if counters.keys() != self._seen.keys() or any(
                counters[k] != self._seen.get(k) for k in counters if k[1] == "reference"
            ):
                rows = session.execute(select(Tenant.subdomain, Tenant.id)).all()
                self._subdomains = {subdomain: tenant_id for subdomain, tenant_id in rows}
        self._seen = counters
        wanted, self._wanted = self._wanted, set()
        for tenant_id in set(self._tenants) | wanted:
            self._bring_up_to_date(tenant_id, counters)

    # -- checking mode ---------------------------------------------------------------

    def checked(self, tenant_id: int) -> TenantAvailability | None:
        """The tenant's snapshot as of now (``None`` if the tenant is gone): its
        counters are read, and what moved is reloaded."""
        with session_scope(engine_for(self.store_url)) as session:
            counters = versions_of(session, tenant_id)
        return self._bring_up_to_date(tenant_id, counters)

    # -- both --------------------------------------------------------------------------

    def _bring_up_to_date(
        self, tenant_id: int, counters: dict[tuple[int, str], int]
    ) -> TenantAvailability | None:
        """The tenant's snapshot, reloaded (what moved of it) when its ``counters``
        differ from the snapshot's. Read in a transaction of its own, after the
        counters, so the data are at least as new as they say; and apart from any
        request's, whose rollback would expire the objects kept here."""
        reference_version = counters.get((tenant_id, "reference"))
        bookings_version = counters.get((tenant_id, "bookings"))
        current = self._tenants.get(tenant_id)
        if reference_version is None or bookings_version is None:
            self._tenants.pop(tenant_id, None)
            return None
        if current is not None and current.versions == (reference_version, bookings_version):
            return current
        with session_scope(engine_for(self.store_url)) as session:
            if current is None or current.reference.version != reference_version:
                reference = load_reference(session, tenant_id, reference_version)
            else:
                reference = current.reference
            if reference is None:
                self._tenants.pop(tenant_id, None)
                return None
            taken = load_taken(session, tenant_id, bookings_version, self.clock())
        self._tenants[tenant_id] = updated = TenantAvailability(reference, taken)
        return updated
