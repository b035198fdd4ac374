"""What the booking pages read from the store.

Every query takes the tenant's id and filters on it, on every table it touches: a
host selects one tenant, and nothing of another tenant may reach its pages even if a
foreign key were ever wrong. Results are plain dataclasses, so templates never touch
ORM objects (no lazy loads after the session has closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from connectors.store.availability import range_membership
from connectors.store.models import Clinic, ClinicPractitioner, FreeRange, Practitioner

NEXT_FREE_RANGES = 5
"""How many of a clinic's next free ranges the first page shows."""


@dataclass(frozen=True)
class FreeTime:
    """A free range as the patient sees it: when, and with whom."""

    starts_at: datetime
    ends_at: datetime
    practitioner_name: str
    practitioner_title: str | None


@dataclass(frozen=True)
class ClinicListing:
    id: int
    name: str
    group_name: str | None
    address1: str | None
    address2: str | None
    postal_code: str | None
    city: str | None
    free_times: tuple[FreeTime, ...]


@dataclass(frozen=True)
class ClinicGroup:
    """Clinics under one *Grupp* heading. ``name`` is ``None`` for the clinics without
    a group; ``headed`` is false when no clinic of the tenant has a group at all."""

    name: str | None
    headed: bool
    clinics: tuple[ClinicListing, ...]


def listed_clinics(session: Session, tenant_id: int) -> list[Clinic]:
    """The tenant's clinics still in Opus, in the operator's display order."""
    return list(
        session.scalars(
            select(Clinic)
            .where(Clinic.tenant_id == tenant_id, Clinic.in_opus)
            .order_by(Clinic.display_order, Clinic.id)
        )
    )


def next_free_times(
    session: Session, tenant_id: int, clinic_id: int, now: datetime, limit: int = NEXT_FREE_RANGES
) -> list[FreeTime]:
    """The clinic's next free ranges that start at or after ``now``.

    One small query per clinic rather than one window query over the tenant: it
    reaches the ranges through the clinic's practitioners and
    ``ix_free_range_practitioner_start`` (the store's one range index, kept lean for
    the sync), reading only those practitioners' future ranges.

    The sync publishes only added practitioners' ranges; joining on *Lägg till* here
    as well keeps a practitioner the operator has just removed off the page until the
    next sync takes the ranges away.
    """
    rows = session.execute(
        select(
            FreeRange.starts_at,
            FreeRange.ends_at,
            Practitioner.first_name,
            Practitioner.last_name,
            Practitioner.title,
        )
        .join(
            Practitioner,
            and_(
                Practitioner.id == FreeRange.practitioner_id,
                Practitioner.tenant_id == tenant_id,
            ),
        )
        .join(ClinicPractitioner, range_membership(tenant_id))
        .where(
            FreeRange.tenant_id == tenant_id,
            FreeRange.clinic_id == clinic_id,
            FreeRange.starts_at >= now,
            ClinicPractitioner.added,
        )
        .order_by(FreeRange.starts_at, ClinicPractitioner.display_order, FreeRange.opus_range_id)
        .limit(limit)
    )
    return [
        FreeTime(
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            practitioner_name=" ".join(p for p in (row.first_name, row.last_name) if p),
            practitioner_title=row.title,
        )
        for row in rows
    ]


def front_page_clinics(session: Session, tenant_id: int, now: datetime) -> list[ClinicListing]:
    return [
        ClinicListing(
            id=clinic.id,
            name=clinic.name,
            group_name=clinic.group,
            address1=clinic.address1,
            address2=clinic.address2,
            postal_code=clinic.postal_code,
            city=clinic.city,
            free_times=tuple(next_free_times(session, tenant_id, clinic.id, now)),
        )
        for clinic in listed_clinics(session, tenant_id)
    ]


def group_clinics(clinics: list[ClinicListing]) -> list[ClinicGroup]:
    """Clinics under their *Grupp*, as the manual describes: groups in the order of
    their first clinic, clinics keep their order within a group, and the ungrouped
    ones come last under "Ogrupperade kliniker" — unless no clinic has a group, when
    the page shows one list without headings."""
    if not any(c.group_name for c in clinics):
        return [ClinicGroup(name=None, headed=False, clinics=tuple(clinics))] if clinics else []
    groups: dict[str, list[ClinicListing]] = {}
    ungrouped: list[ClinicListing] = []
    for clinic in clinics:
        if clinic.group_name:
            groups.setdefault(clinic.group_name, []).append(clinic)
        else:
            ungrouped.append(clinic)
    result = [ClinicGroup(name, True, tuple(members)) for name, members in groups.items()]
    if ungrouped:
        result.append(ClinicGroup(None, True, tuple(ungrouped)))
    return result
