"""What a clinic chain offers a patient in the booking steps: its clinics, the
treatments that can be booked on the web, and the practitioners who do them.

Every query is scoped by the tenant, on every table it touches. Results are plain
dataclasses, so templates never touch ORM objects. Which treatments and
practitioners are offered follows the published free time: a treatment is offered
where some added practitioner has coming free ranges whose treatment set allows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from connectors.store.availability import practitioners_at, range_membership
from connectors.store.models import (
    Booking,
    Clinic,
    ClinicPractitioner,
    FreeRange,
    Practitioner,
    Treatment,
    TreatmentSetMember,
)

# A range that started before now can still hold a bookable start; no range lasts a
# day, so looking one day back finds them and lets the (practitioner, start) index work.
_RANGE_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class ClinicOption:
    id: int
    name: str
    group_name: str | None
    address1: str | None
    postal_code: str | None
    city: str | None
    clinic_text: str | None
    opus_database_id: int


@dataclass(frozen=True)
class TreatmentOption:
    id: int
    name: str
    description: str | None
    duration_min: int
    opus_database_id: int


@dataclass(frozen=True)
class PractitionerOption:
    id: int
    name: str
    title: str | None
    info_text: str | None
    image_id: int | None


def clinic_option(clinic: Clinic) -> ClinicOption:
    return ClinicOption(
        id=clinic.id,
        name=clinic.name,
        group_name=clinic.group,
        address1=clinic.address1,
        postal_code=clinic.postal_code,
        city=clinic.city,
        clinic_text=clinic.clinic_text,
        opus_database_id=clinic.opus_database_id,
    )


def treatment_option(treatment: Treatment) -> TreatmentOption:
    return TreatmentOption(
        id=treatment.id,
        name=treatment.name,
        description=treatment.description,
        duration_min=treatment.duration_min,
        opus_database_id=treatment.opus_database_id,
    )


def practitioner_option(practitioner: Practitioner) -> PractitionerOption:
    return PractitionerOption(
        id=practitioner.id,
        name=practitioner.display_name,
        title=practitioner.title,
        info_text=practitioner.info_text,
        image_id=practitioner.image_id,
    )


def clinics(session: Session, tenant_id: int) -> list[ClinicOption]:
    """The tenant's clinics still in Opus, in the operator's order."""
    rows = session.scalars(
        select(Clinic)
        .where(Clinic.tenant_id == tenant_id, Clinic.in_opus)
        .order_by(Clinic.display_order, Clinic.id)
    )
    return [clinic_option(c) for c in rows]


def clinic(session: Session, tenant_id: int, clinic_id: int) -> ClinicOption | None:
    row = session.get(Clinic, clinic_id)
    if row is None or row.tenant_id != tenant_id or not row.in_opus:
        return None
    return clinic_option(row)


def treatment(session: Session, tenant_id: int, treatment_id: int) -> TreatmentOption | None:
    row = session.get(Treatment, treatment_id)
    if row is None or row.tenant_id != tenant_id or not row.in_opus or not row.create_in_web:
        return None
    return treatment_option(row)


def practitioner(
    session: Session, tenant_id: int, practitioner_id: int
) -> PractitionerOption | None:
    row = session.get(Practitioner, practitioner_id)
    if row is None or row.tenant_id != tenant_id or not row.in_opus:
        return None
    return practitioner_option(row)


def _offered_ranges(
    tenant_id: int,
    clinic_ids: list[int],
    now: datetime,
    practitioner_id: int | None,
):
    """Coming free ranges of added practitioners at ``clinic_ids`` (a select)."""
    query = (
        select(FreeRange.treatment_set_id, FreeRange.practitioner_id)
        .join(ClinicPractitioner, range_membership(tenant_id))
        .where(
            FreeRange.tenant_id == tenant_id,
            FreeRange.clinic_id.in_(clinic_ids),
            FreeRange.starts_at > now - _RANGE_LOOKBACK,
            FreeRange.ends_at > now,
            ClinicPractitioner.added,
            ClinicPractitioner.in_opus,
        )
    )
    if practitioner_id is not None:
        query = query.where(FreeRange.practitioner_id == practitioner_id)
    return query


def treatments_offered(
    session: Session,
    tenant_id: int,
    clinic_ids: list[int],
    now: datetime,
    practitioner_id: int | None = None,
) -> list[TreatmentOption]:
    """Treatments that may be created on the web and that some added practitioner at
    ``clinic_ids`` (only ``practitioner_id``, when given) has coming free time for."""
    if not clinic_ids:
        return []
    sets = (
        _offered_ranges(tenant_id, clinic_ids, now, practitioner_id)
        .with_only_columns(FreeRange.treatment_set_id)
        .distinct()
        .subquery()
    )
    rows = session.scalars(
        select(Treatment)
        .where(
            Treatment.tenant_id == tenant_id,
            Treatment.create_in_web,
            Treatment.in_opus,
            Treatment.id.in_(
                select(TreatmentSetMember.treatment_id).where(
                    TreatmentSetMember.treatment_set_id.in_(select(sets.c.treatment_set_id))
                )
            ),
        )
        .order_by(Treatment.opus_database_id, Treatment.opus_treatment_id)
    )
    return [treatment_option(t) for t in rows]


def practitioners_offered(
    session: Session,
    tenant_id: int,
    clinic_ids: list[int],
    now: datetime,
    treatment_id: int | None = None,
) -> list[PractitionerOption]:
    """The added practitioners at ``clinic_ids``, in the clinics' and the operator's
    order; with ``treatment_id`` only those with coming free time for it."""
    able: set[int] | None = None
    if treatment_id is not None:
        query = (
            _offered_ranges(tenant_id, clinic_ids, now, None)
            .join(
                TreatmentSetMember,
                and_(
                    TreatmentSetMember.treatment_set_id == FreeRange.treatment_set_id,
                    TreatmentSetMember.treatment_id == treatment_id,
                ),
            )
            .with_only_columns(FreeRange.practitioner_id)
            .distinct()
        )
        able = set(session.scalars(query))
    seen: set[int] = set()
    result = []
    for clinic_id in clinic_ids:
        for row in practitioners_at(session, tenant_id, clinic_id):
            if row.id in seen or (able is not None and row.id not in able):
                continue
            seen.add(row.id)
            result.append(practitioner_option(row))
    return result


def works_at(session: Session, tenant_id: int, practitioner_id: int) -> list[int]:
    """The clinics where the operator has added ``practitioner_id``."""
    return list(
        session.scalars(
            select(ClinicPractitioner.clinic_id).where(
                ClinicPractitioner.tenant_id == tenant_id,
                ClinicPractitioner.practitioner_id == practitioner_id,
                ClinicPractitioner.added,
                ClinicPractitioner.in_opus,
            )
        )
    )


@dataclass(frozen=True)
class BookingSummary:
    """A booking as its pages show it: what, when, where, with whom."""

    reference: str
    status: str
    starts_at: datetime
    ends_at: datetime
    hold_expires_at: datetime | None
    clinic: ClinicOption
    treatment: TreatmentOption
    practitioner: PractitionerOption
    any_practitioner: bool
    any_clinic: bool


def summary(session: Session, booking: Booking) -> BookingSummary:
    clinic_row = session.get(Clinic, booking.clinic_id)
    treatment_row = session.get(Treatment, booking.treatment_id)
    practitioner_row = session.get(Practitioner, booking.practitioner_id)
    assert clinic_row and treatment_row and practitioner_row  # foreign keys
    return BookingSummary(
        reference=booking.reference,
        status=booking.status,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        hold_expires_at=booking.hold_expires_at,
        clinic=clinic_option(clinic_row),
        treatment=treatment_option(treatment_row),
        practitioner=practitioner_option(practitioner_row),
        any_practitioner=booking.any_practitioner,
        any_clinic=booking.any_clinic,
    )
