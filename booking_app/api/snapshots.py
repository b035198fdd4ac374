"""The app's in-memory availability: one snapshot per tenant (see
:mod:`connectors.store.snapshot`), kept in step with the store.

The store's triggers count every change that bears on free times, per tenant and topic
(``availability_version``). How the app follows them is ``availability_poll_s``:

- above 0 (the default, a quarter of a second): a thread reads the counters that often
  and reloads what moved; free-time questions are answered on the event loop from
  memory, the API key included, without a thread or a query. On PostgreSQL (with
  ``availability_notify``) the store also pushes each changed counter (LISTEN/NOTIFY,
  :class:`~connectors.store.availability_version.CounterListener`, one connection per
  process) and wakes the thread at once, so a booking made through any process shows
  in every other within milliseconds; such a round reads only the counters of the
  tenants the notifications named (and reloads them if they are kept here). The poll
  stays as the safety net, reading every tenant's counters (and is all there is on
  SQLite). A write through this app wakes the thread too.
- 0: every question reads its tenant's counters first (one small query, in a worker
  thread) and reloads what moved. Exact across processes; the tests run so.

A tenant's snapshot is read when the tenant is first asked about (or when the process
starts, for the tenants of ``snapshot_preload``); until then, and while it loads, its
questions are answered from the store. The snapshots share a memory budget
(``snapshot_memory_mb``): past it, the tenants asked least recently are dropped, and
read again when next asked.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sqlalchemy import select

from booking_app.metrics import snapshot_reloaded
from booking_app.page_facts import PageFactsCache, TenantCache
from booking_app.tenancy import subdomain_from_host
from connectors.store.availability_version import (
    CounterListener,
    can_listen,
    versions,
    versions_of,
    versions_of_some,
)
from connectors.store.db import engine_for, session_scope
from connectors.store.models import Tenant
from connectors.store.snapshot import (
    ClinicFacts,
    Reference,
    Taken,
    TreatmentFacts,
    load_reference,
    load_taken,
)

log = logging.getLogger(__name__)

MAX_BYTES = 1024 * 1024 * 1024
RANGES_OVERHEAD = 300
"""Bytes of one practitioner's ranges beyond their arrays' items (three array objects,
the dataclass, its dict slot)."""
HOLD_BYTES = 150
FACT_BYTES = 200
"""A clinic's, treatment's, clinician's or treatment set's facts, roughly."""


@dataclass(frozen=True)
class TenantAvailability:
    """One tenant's snapshot."""

    reference: Reference
    taken: Taken

    @property
    def versions(self) -> tuple[int, int]:
        return self.reference.version, self.taken.version

    # Indexes for the patient pages' questions (by store id, not Opus id), made when
    # first needed (a frozen dataclass without slots may cache in its __dict__).

    @cached_property
    def clinics_by_id(self) -> dict[int, ClinicFacts]:
        return {clinic.id: clinic for clinic in self.reference.clinics}

    @cached_property
    def treatments_by_id(self) -> dict[int, TreatmentFacts]:
        return {
            treatment.id: treatment
            for by_database in self.reference.treatments_by_opus_id.values()
            for treatment in by_database.values()
        }

    @cached_property
    def common_grid_minutes(self) -> int:
        """A grid every clinic's starts lie on: the greatest common divisor of their
        grids (0 without clinics)."""
        return math.gcd(*(clinic.grid_minutes for clinic in self.reference.clinics))

    @cached_property
    def practitioners_with_ranges(self) -> dict[int, tuple[int, ...]]:
        """Per clinic id: the practitioners with published ranges there, sorted."""
        found: dict[int, list[int]] = {}
        for clinic_id, practitioner_id in self.reference.ranges:
            found.setdefault(clinic_id, []).append(practitioner_id)
        return {clinic_id: tuple(sorted(ids)) for clinic_id, ids in found.items()}

    def estimated_bytes(self) -> int:
        """About what the snapshot holds in memory: its arrays exactly, the rest by
        count (walking every object would cost as much as reading them)."""
        reference = self.reference
        ranges = sum(
            RANGES_OVERHEAD + sum(len(a) * a.itemsize for a in (r.starts, r.ends, r.set_ids))
            for r in reference.ranges.values()
        )
        holds = HOLD_BYTES * sum(len(h) for h in self.taken.by_practitioner.values())
        facts = FACT_BYTES * (
            len(reference.clinics)
            + len(reference.clinician_ids)
            + sum(len(t) for t in reference.treatments_by_opus_id.values())
            + sum(len(s) for s in reference.sets_allowing.values())
        )
        return ranges + holds + facts


class Availability:
    """The snapshots of one app (``app.state.availability``)."""

    def __init__(
        self,
        store_url: str,
        clock: Callable[[], datetime],
        poll_s: float,
        max_bytes: int = MAX_BYTES,
        *,
        preload: str = "*",
        notify: bool = True,
    ) -> None:
        self.store_url = store_url
        self.clock = clock
        self.poll_s = poll_s
        self.max_bytes = max_bytes
        self.preload = {s.strip() for s in preload.split(",")} - {""}
        """Subdomains read when the process starts ('*': every tenant)."""
        self.listener: CounterListener | None = None
        if notify and can_listen(store_url) and not self.checks_each_question:
            self.listener = CounterListener(store_url, self._notified)
        self._sizes: dict[int, int] = {}
        self._asked_at: dict[int, float] = {}
        self._memory_lock = threading.Lock()  # checking mode reloads in worker threads
        self._left_out: dict[int, tuple[int, int] | None] = {}
        """Tenants dropped to keep within ``max_bytes``: with the versions of a snapshot
        too large to keep at all (not read again until they move), else None."""
        self._tenants: dict[int, TenantAvailability] = {}
        self._subdomains: dict[str, int] = {}
        self._seen: dict[tuple[int, str], int] = {}
        self._wanted: set[int] = set()
        self._wake = threading.Event()
        self._round_lock = threading.Lock()
        self._named: set[int] = set()
        """Tenants that notifications named since the last round began."""
        self._everything = True
        """The next round reads every tenant's counters: the first round, a poll, a
        (re)connected listener, a write through this app, a tenant asked for, a failed
        round. Otherwise it reads only the counters of the tenants named."""
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._all_loaded = threading.Event()
        self.page_facts = PageFactsCache(store_url)
        """The booking steps' lookups per tenant, read once per reference version."""
        self.tenant_rows = TenantCache(store_url)
        """The pages' tenant and settings, read once per reference version."""
        self._failed: dict[int, str] = {}
        """Tenants whose last reload failed (the error's type): they are answered from
        the store until a reload succeeds."""

    @property
    def checks_each_question(self) -> bool:
        return self.poll_s == 0

    @property
    def ready(self) -> bool:
        """The snapshots of ``preload`` have been read once (always, when checking each
        question: nothing is read ahead then). Other tenants are answered from the
        store until theirs is read."""
        if self.checks_each_question:
            return True
        self.start()
        return self._all_loaded.is_set()

    def store_reachable(self) -> bool:
        """One round trip to the store (blocking: call it in a worker thread)."""
        try:
            with engine_for(self.store_url).connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except Exception as error:
            log.warning("the store cannot be reached (%s)", type(error).__name__)
            return False
        return True

    @property
    def degraded(self) -> dict[int, str]:
        """Tenants answered from the store because their snapshot failed to load."""
        return dict(self._failed)

    # -- polling mode ----------------------------------------------------------------

    def for_host(self, host: str | None, base_domain: str) -> TenantAvailability | None:
        """The snapshot of the tenant that ``host`` names; ``None`` when the question
        must go to the store: polling is off, the host names no tenant known here, or
        the tenant's snapshot is still loading. (The caller checks the API key.)"""
        if self.checks_each_question:
            return None
        self.start()
        tenant_id = self._subdomains.get(subdomain_from_host(host, base_domain) or "")
        if tenant_id is None:
            return None
        return self.in_memory(tenant_id)

    def tenant(self, subdomain: str, read: bool = True) -> Tenant | None:
        """The tenant of ``subdomain`` with its settings, as of the counters last seen
        (polling mode: as current as the snapshots); ``None``: ask the store. Without
        ``read``, only what is in memory (no query: for the event loop)."""
        if self.checks_each_question:
            return None
        tenant_id = self._subdomains.get(subdomain)
        version = None if tenant_id is None else self._seen.get((tenant_id, "reference"))
        if tenant_id is None or version is None:
            return None
        tenant = self.tenant_rows.get(tenant_id, version, read=read)
        # Renamed since the last poll: the store knows (and redirects the old name).
        return tenant if tenant is not None and tenant.subdomain == subdomain else None

    def in_memory(self, tenant_id: int) -> TenantAvailability | None:
        """The tenant's snapshot if it is in memory (polling mode), else ``None`` and it
        is read for the next question."""
        if self.checks_each_question:
            return None
        self.start()
        found = self._tenants.get(tenant_id)
        self._asked_at[tenant_id] = time.monotonic()
        if found is None:
            self.want(tenant_id)
        return found

    @property
    def bytes(self) -> int:
        """The snapshots' estimated memory."""
        return sum(self._sizes.values())

    def want(self, tenant_id: int) -> None:
        """Load the tenant's snapshot (in the polling thread), unless it is loaded."""
        if self.checks_each_question or tenant_id in self._tenants:
            return
        self.start()
        self._wanted.add(tenant_id)
        # A failed or a dropped tenant is tried again at the next poll, not at once on
        # every question (a dropped one would push out another, and that one it).
        if tenant_id not in self._failed and tenant_id not in self._left_out:
            self._wake_for(None)

    def for_tenant(self, tenant_id: int) -> TenantAvailability | None:
        """The tenant's snapshot for a question asked in a worker thread (the patient
        pages): as :meth:`in_memory` when polling, as :meth:`checked` when checking
        each question. ``None``: ask the store."""
        if self.checks_each_question:
            return self.checked(tenant_id)
        return self.in_memory(tenant_id)

    def nudge(self) -> None:
        """Something was just written through this app: read the counters now."""
        self._wake_for(None)

    def _notified(self, tenant_id: int | None) -> None:
        """The store announced a changed counter of ``tenant_id`` (``None``: the
        listener has just (re)connected, and may have missed some): read its counters
        now, and reload its snapshot if it is kept here."""
        self._wake_for(tenant_id)

    def _wake_for(self, tenant_id: int | None) -> None:
        """Start a round now: for ``tenant_id`` alone, or (``None``) for every tenant."""
        with self._round_lock:
            if tenant_id is None:
                self._everything = True
            else:
                self._named.add(tenant_id)
        self._wake.set()

    def start(self) -> None:
        """Start following the counters (polling mode), and listening for them on
        PostgreSQL: the first round reads the snapshots of ``preload``."""
        if self.checks_each_question or self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._follow, name="availability-snapshots", daemon=True
                )
                self._thread.start()
                if self.listener is not None:
                    self.listener.start()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        if self.listener is not None:
            self.listener.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _follow(self) -> None:
        while not self._stopped.is_set():
            # Taken after the wake was cleared: a notification that comes meanwhile is
            # either in this round or wakes the next one.
            with self._round_lock:
                named, self._named = self._named, set()
                everything, self._everything = self._everything, False
            try:
                if everything:
                    self.refresh()
                else:
                    self.refresh_named(named)
            except Exception:  # the store may be away for a moment; answers fall back
                with self._round_lock:
                    self._everything = True  # at the next poll or notification, not at once
                log.exception("could not refresh the availability snapshots")
            if not self._wake.wait(self.poll_s):
                self._wake_for(None)  # the poll: every tenant's counters
            self._wake.clear()

    def refresh(self) -> None:
        """Read every tenant's counters; reload the snapshots whose counters moved, and
        load those asked for (and, the first time, those to preload)."""
        with session_scope(engine_for(self.store_url)) as session:
            counters = versions(session)
            if counters.keys() != self._seen.keys() or any(
                counters[k] != self._seen.get(k) for k in counters if k[1] == "reference"
            ):
                rows = session.execute(select(Tenant.subdomain, Tenant.id)).all()
                self._subdomains = {subdomain: tenant_id for subdomain, tenant_id in rows}
        first_round = not self._seen
        self._seen = counters
        wanted, self._wanted = self._wanted, set()
        if first_round and self.preload:
            wanted |= {
                tenant_id
                for subdomain, tenant_id in self._subdomains.items()
                if "*" in self.preload or subdomain in self.preload
            } & {tenant_id for tenant_id, _ in counters}
        for tenant_id in set(self._tenants) | set(self._failed) | wanted:
            if tenant_id in self._left_out and tenant_id not in wanted:
                continue  # dropped for room in this round: read again when asked
            self._bring_up_to_date_or_fall_back(tenant_id, counters)
        self._all_loaded.set()

    def refresh_named(self, tenant_ids: set[int]) -> None:
        """Follow notifications that named ``tenant_ids``: read their counters alone
        (a booking anywhere in the country does not make every process read every
        tenant's), and reload those of them kept here. A tenant added or deleted, or
        whose reference moved (its subdomain may be new), takes a whole round
        (:meth:`refresh`)."""
        if not tenant_ids:
            return
        with session_scope(engine_for(self.store_url)) as session:
            counters = versions_of_some(session, tenant_ids)
        seen = {key: version for key, version in self._seen.items() if key[0] in tenant_ids}
        if counters.keys() != seen.keys() or any(
            counters[key] != seen[key] for key in counters if key[1] == "reference"
        ):
            self.refresh()
            return
        self._seen = {**self._seen, **counters}
        for tenant_id in sorted(tenant_ids):
            if tenant_id in self._left_out or (
                tenant_id not in self._tenants and tenant_id not in self._failed
            ):
                continue  # not kept here: nothing to reload
            self._bring_up_to_date_or_fall_back(tenant_id, counters)

    def _bring_up_to_date_or_fall_back(
        self, tenant_id: int, counters: dict[tuple[int, str], int]
    ) -> TenantAvailability | None:
        """As :meth:`_bring_up_to_date`, but one tenant's failure stays its own: its
        snapshot is dropped (its questions go to the store, its revoked keys close
        there), it is reported, and the other tenants are still brought up to date."""
        try:
            found = self._bring_up_to_date(tenant_id, counters)
        except Exception as error:
            self._forget(tenant_id)
            kind = type(error).__name__
            if self._failed.get(tenant_id) != kind:
                # The type only: a database error's text may quote a row's values.
                log.warning(
                    "availability of tenant %s could not be read (%s); answered from "
                    "the store until it can",
                    tenant_id,
                    kind,
                )
            self._failed[tenant_id] = kind
            return None
        if self._failed.pop(tenant_id, None) is not None:
            log.info("availability of tenant %s read again after a failure", tenant_id)
        return found

    # -- checking mode ---------------------------------------------------------------

    def checked(self, tenant_id: int) -> TenantAvailability | None:
        """The tenant's snapshot as of now (``None`` if the tenant is gone): its
        counters are read, and what moved is reloaded."""
        self._asked_at[tenant_id] = time.monotonic()
        with session_scope(engine_for(self.store_url)) as session:
            counters = versions_of(session, tenant_id)
        return self._bring_up_to_date_or_fall_back(tenant_id, counters)

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
            self._forget(tenant_id)
            return None
        if current is not None and current.versions == (reference_version, bookings_version):
            return current
        if self._left_out.get(tenant_id) == (reference_version, bookings_version):
            return None  # as large as when it did not fit: answered from the store
        updated = self.reload(tenant_id, current, reference_version, bookings_version)
        if updated is None:
            self._forget(tenant_id)
            return None
        if not self._keep(tenant_id, updated):
            return None
        return updated

    def reload(
        self,
        tenant_id: int,
        current: TenantAvailability | None,
        reference_version: int,
        bookings_version: int,
    ) -> TenantAvailability | None:
        """Read the tenant's snapshot at these versions from the store (what of
        ``current`` is still at its version is kept): the one place a snapshot is
        read, whether first asked, moved, or after an eviction. ``None``: the tenant
        is gone."""
        started = time.perf_counter()
        with session_scope(engine_for(self.store_url)) as session:
            if current is None or current.reference.version != reference_version:
                reference = load_reference(session, tenant_id, reference_version)
            else:
                reference = current.reference
            if reference is None:
                return None
            taken = load_taken(session, tenant_id, bookings_version, self.clock())
        seconds = time.perf_counter() - started
        snapshot_reloaded(seconds)  # /metrics
        log.info(
            "availability of tenant %s read (reference %s, bookings %s) in %.2f s",
            tenant_id,
            reference_version,
            bookings_version,
            seconds,
        )
        return TenantAvailability(reference, taken)

    # -- memory ------------------------------------------------------------------------

    def _keep(self, tenant_id: int, snapshot: TenantAvailability) -> bool:
        """Keep ``snapshot`` within ``max_bytes``: the tenants asked least recently are
        dropped (answered from the store) to make room; one larger than the whole
        budget is not kept. Whether it was kept."""
        size = snapshot.estimated_bytes()
        with self._memory_lock:
            return self._keep_locked(tenant_id, snapshot, size)

    def _keep_locked(self, tenant_id: int, snapshot: TenantAvailability, size: int) -> bool:
        self._forget(tenant_id, page_facts=False)  # replaced: its facts know their version
        if size > self.max_bytes:
            self._left_out[tenant_id] = snapshot.versions
            log.warning(
                "availability of tenant %s (%s bytes) exceeds the snapshot budget (%s "
                "bytes): answered from the store",
                tenant_id,
                size,
                self.max_bytes,
            )
            return False
        while self.bytes + size > self.max_bytes:
            oldest = min(self._sizes, key=lambda t: self._asked_at.get(t, 0.0))
            self._forget(oldest)
            self._left_out[oldest] = None
            log.info("availability of tenant %s dropped: snapshot budget reached", oldest)
        self._tenants[tenant_id] = snapshot
        self._sizes[tenant_id] = size
        self._left_out.pop(tenant_id, None)
        return True

    def _forget(self, tenant_id: int, page_facts: bool = True) -> None:
        self._tenants.pop(tenant_id, None)
        self._sizes.pop(tenant_id, None)
        if page_facts:
            self.page_facts.forget(tenant_id)
            self.tenant_rows.forget(tenant_id)
