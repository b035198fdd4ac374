"""The booking steps' lookups, read once per version of the tenant's reference data.

Every booking step page looks up the chosen clinic, treatment and practitioner and
lists the tenant's clinics (:mod:`booking_app.offer`): four queries a page, the same
answers for every patient until an operator or a sync changes something. Every such
change bumps the tenant's ``reference`` counter (migration 0010), which the tenant's
in-memory snapshot carries (:mod:`booking_app.api.snapshots`). So the answers are read
from the store once per counter value, kept with the snapshots (dropped with them), and
read again when the snapshot moves on: as current as the free times on the same page.

Without a snapshot (still loading, dropped for memory) the steps ask the store, as
before.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from booking_app import offer
from booking_app.offer import ClinicOption, PractitionerOption, TreatmentOption
from connectors.store.db import engine_for, session_scope
from connectors.store.models import ClinicPractitioner, Practitioner, Tenant, Treatment


@dataclass(frozen=True)
class PageFacts:
    """What :mod:`booking_app.offer`'s lookups answer for one tenant, at ``version``."""

    version: int
    clinics: tuple[ClinicOption, ...]
    """The clinics still in Opus, in the operator's order (``offer.clinics``)."""
    clinics_by_id: Mapping[int, ClinicOption]
    treatments: Mapping[int, TreatmentOption]
    """In Opus and bookable on the web (``offer.treatment``)."""
    practitioners: Mapping[int, PractitionerOption]
    """In Opus (``offer.practitioner``)."""
    added_at: Mapping[int, frozenset[int]]
    """Per practitioner: the clinics where the operator added them (``offer.works_at``)."""

    # The lookups of :class:`StoreLookups`, answered from memory.

    def clinic(self, clinic_id: int) -> ClinicOption | None:
        return self.clinics_by_id.get(clinic_id)

    def treatment(self, treatment_id: int) -> TreatmentOption | None:
        return self.treatments.get(treatment_id)

    def practitioner(self, practitioner_id: int) -> PractitionerOption | None:
        return self.practitioners.get(practitioner_id)

    def all_clinics(self) -> tuple[ClinicOption, ...]:
        return self.clinics

    def works_at(self, practitioner_id: int) -> frozenset[int]:
        return self.added_at.get(practitioner_id, frozenset())


@dataclass(frozen=True)
class StoreLookups:
    """The same lookups, asked of the store (no snapshot to key them by)."""

    session: Session
    tenant_id: int

    def clinic(self, clinic_id: int) -> ClinicOption | None:
        return offer.clinic(self.session, self.tenant_id, clinic_id)

    def treatment(self, treatment_id: int) -> TreatmentOption | None:
        return offer.treatment(self.session, self.tenant_id, treatment_id)

    def practitioner(self, practitioner_id: int) -> PractitionerOption | None:
        return offer.practitioner(self.session, self.tenant_id, practitioner_id)

    def all_clinics(self) -> tuple[ClinicOption, ...]:
        return tuple(offer.clinics(self.session, self.tenant_id))

    def works_at(self, practitioner_id: int) -> frozenset[int]:
        return frozenset(offer.works_at(self.session, self.tenant_id, practitioner_id))


def load(session: Session, tenant_id: int, version: int) -> PageFacts:
    """Read the tenant's facts (in a transaction begun after ``version`` was read: at
    least as new)."""
    clinics = tuple(offer.clinics(session, tenant_id))
    treatments = session.scalars(
        select(Treatment).where(
            Treatment.tenant_id == tenant_id, Treatment.in_opus, Treatment.create_in_web
        )
    )
    practitioners = session.scalars(
        select(Practitioner).where(Practitioner.tenant_id == tenant_id, Practitioner.in_opus)
    )
    works: dict[int, set[int]] = {}
    for practitioner_id, clinic_id in session.execute(
        select(ClinicPractitioner.practitioner_id, ClinicPractitioner.clinic_id).where(
            ClinicPractitioner.tenant_id == tenant_id,
            ClinicPractitioner.added,
            ClinicPractitioner.in_opus,
        )
    ):
        works.setdefault(practitioner_id, set()).add(clinic_id)
    return PageFacts(
        version=version,
        clinics=clinics,
        clinics_by_id={c.id: c for c in clinics},
        treatments={t.id: offer.treatment_option(t) for t in treatments},
        practitioners={p.id: offer.practitioner_option(p) for p in practitioners},
        added_at={p: frozenset(c) for p, c in works.items()},
    )


class OneReaderPerTenant:
    """A lock per tenant, held while its facts are read from the store.

    When a tenant's facts are missing or out of date (the process has just started, a
    sync or an operator has just moved its reference counter), every page request in
    flight finds them so at once: 64 under bench.site. Each read them for itself, in a
    worker thread, a second of Python each at a million ranges, all taking turns at the
    GIL: the process answered almost nothing for seconds, the API included. Now one
    reads and the others wait for its result."""

    def __init__(self) -> None:
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, tenant_id: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(tenant_id, threading.Lock())


class PageFactsCache:
    """Each tenant's :class:`PageFacts` at the newest version asked for."""

    def __init__(self, store_url: str) -> None:
        self.store_url = store_url
        self._facts: dict[int, PageFacts] = {}
        self._lock = threading.Lock()
        self._reading = OneReaderPerTenant()

    def get(self, tenant_id: int, version: int, read: bool = True) -> PageFacts | None:
        """The tenant's facts as of its reference counter ``version`` (or newer).
        Without ``read``, only what is in memory (``None``: no query, for the event
        loop)."""
        found = self._facts.get(tenant_id)
        if found is not None and found.version == version:
            return found
        if not read:
            return None
        with self._reading(tenant_id):
            found = self._facts.get(tenant_id)
            if found is not None and found.version >= version:  # read while we waited
                return found
            # In a transaction of its own, begun now, after ``version`` was read: a
            # request's transaction may have begun before it (SQLite keeps its view).
            with session_scope(engine_for(self.store_url)) as session:
                facts = load(session, tenant_id, version)
            with self._lock:
                kept = self._facts.get(tenant_id)
                if kept is None or kept.version <= version:  # an older page never wins
                    self._facts[tenant_id] = facts
        return facts

    def forget(self, tenant_id: int) -> None:
        """The tenant's snapshot was dropped: its facts go with it."""
        with self._lock:
            self._facts.pop(tenant_id, None)


class TenantCache:
    """Each tenant's row with its settings (what every page's ``TenantDep`` reads), at
    the newest reference version asked for: a change of the tenant's name, subdomain
    or settings bumps that counter (migration 0010), so the row is read again then.

    Read in a session of its own and kept detached (its session committed without
    expiring it): no request's rollback can expire it, and nothing lazy is left to
    load (the pages read only the tenant's columns and its settings)."""

    def __init__(self, store_url: str) -> None:
        self.store_url = store_url
        self._tenants: dict[int, tuple[int, Tenant]] = {}
        self._lock = threading.Lock()
        self._reading = OneReaderPerTenant()

    def get(self, tenant_id: int, version: int, read: bool = True) -> Tenant | None:
        """The tenant at ``version``; read from the store if it is not in memory (and
        ``read``: else ``None``)."""
        found = self._tenants.get(tenant_id)
        if found is not None and found[0] == version:
            return found[1]
        if not read:
            return None
        with self._reading(tenant_id):
            found = self._tenants.get(tenant_id)
            if found is not None and found[0] >= version:  # read while we waited
                return found[1]
            with session_scope(engine_for(self.store_url)) as session:
                tenant = session.scalars(
                    select(Tenant)
                    .where(Tenant.id == tenant_id)
                    .options(joinedload(Tenant.settings))
                ).one_or_none()
            with self._lock:
                if tenant is None:
                    self._tenants.pop(tenant_id, None)
                elif found is None or found[0] <= version:
                    self._tenants[tenant_id] = (version, tenant)
        return tenant

    def forget(self, tenant_id: int) -> None:
        with self._lock:
            self._tenants.pop(tenant_id, None)
