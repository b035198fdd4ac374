"""Clinics, clinicians and treatments as the API lists them, and the lookups from the
API's Opus ids to store rows.

What the API shows is what the booking pages show: clinics still in Opus in the
operator's order; only *added* practitioners (*Tillagda behandlare*); only treatments
that may be created on the web. Every query is scoped to the tenant.

The store knows which clinician offers which treatment only through the published
free time (each free range names the treatments it allows). So a filter by treatment,
and ``onlyWithFreeTimes``, mean "has published free time, not yet past the minimum
notice, that allows it"; whether a particular start is still bookable is what the
time endpoints answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from booking_app.api.dto import (
    ClinicDTO,
    ClinicianDTO,
    CliniciansQuery,
    ClinicsQuery,
    TreatmentDTO,
    TreatmentsQuery,
)
from booking_app.api.errors import BadRequest, NotFound
from connectors.store.models import (
    Clinic,
    ClinicPractitioner,
    FreeRange,
    Practitioner,
    Tenant,
    Treatment,
    TreatmentSetMember,
)


@dataclass(frozen=True)
class Staff:
    """An added practitioner at a clinic, in the operator's order."""

    clinic: Clinic
    practitioner: Practitioner

    @property
    def key(self) -> tuple[int, int]:
        return (self.clinic.id, self.practitioner.id)


# -- lookups -----------------------------------------------------------------------------


def listed_clinics(session: Session, tenant_id: int, group_name: str | None = None) -> list[Clinic]:
    clinics = session.scalars(
        select(Clinic)
        .where(Clinic.tenant_id == tenant_id, Clinic.in_opus)
        .order_by(Clinic.display_order, Clinic.id)
    ).all()
    if group_name is None:
        return list(clinics)
    # In Python: SQLite's lower() knows no å, ä, ö, and a tenant has few clinics.
    wanted = group_name.strip().casefold()
    return [c for c in clinics if (c.group or "").casefold() == wanted]


_CLINICS_BY_OPUS_ID = select(Clinic).where(
    Clinic.tenant_id == bindparam("tenant_id"),
    Clinic.opus_clinic_id == bindparam("opus_clinic_id"),
    Clinic.in_opus,
)


def clinic_by_opus_id(session: Session, tenant_id: int, opus_clinic_id: str) -> Clinic:
    """The clinic with this Opus id. Opus ids are unique per Opus database; a tenant with
    two databases that share an id gets a 400 rather than a guess."""
    clinics = session.scalars(
        _CLINICS_BY_OPUS_ID, {"tenant_id": tenant_id, "opus_clinic_id": opus_clinic_id.strip()}
    ).all()
    if not clinics:
        raise NotFound("clinic_not_found")
    if len(clinics) > 1:
        raise BadRequest("id_ambiguous")
    return clinics[0]


def selected_clinics(
    session: Session, tenant_id: int, opus_clinic_id: str | None, group_name: str | None
) -> list[Clinic]:
    """The clinic asked for (404 if unknown), or every listed clinic; either way only
    those in ``group_name`` when one is given."""
    if opus_clinic_id is None:
        return listed_clinics(session, tenant_id, group_name)
    wanted = clinic_by_opus_id(session, tenant_id, opus_clinic_id)
    if group_name is None:
        return [wanted]
    return [c for c in listed_clinics(session, tenant_id, group_name) if c.id == wanted.id]


# Built once, as the availability queries are: these lookups run on every question.
_STAFF = (
    select(ClinicPractitioner.clinic_id, Practitioner)
    .join(Practitioner, Practitioner.id == ClinicPractitioner.practitioner_id)
    .where(
        ClinicPractitioner.tenant_id == bindparam("tenant_id"),
        ClinicPractitioner.clinic_id.in_(bindparam("clinic_ids", expanding=True)),
        ClinicPractitioner.added,
        ClinicPractitioner.in_opus,
        Practitioner.tenant_id == bindparam("tenant_id"),
        Practitioner.in_opus,
    )
    .order_by(ClinicPractitioner.display_order, Practitioner.id)
)


def staff(session: Session, tenant_id: int, clinics: Iterable[Clinic]) -> list[Staff]:
    """The added practitioners of ``clinics``, clinic by clinic in the given order."""
    clinics = list(clinics)
    if not clinics:
        return []
    rows = session.execute(
        _STAFF, {"tenant_id": tenant_id, "clinic_ids": [c.id for c in clinics]}
    ).all()
    by_clinic: dict[int, list[Practitioner]] = defaultdict(list)
    for clinic_id, practitioner in rows:
        by_clinic[clinic_id].append(practitioner)
    return [Staff(c, p) for c in clinics for p in by_clinic[c.id]]


_CLINICIAN = select(Practitioner.id).where(
    Practitioner.tenant_id == bindparam("tenant_id"),
    Practitioner.opus_clinician_id == bindparam("opus_clinician_id"),
)


def require_clinician(session: Session, tenant_id: int, opus_clinician_id: int) -> None:
    """404 for a clinician id that no practitioner of the tenant has."""
    params = {"tenant_id": tenant_id, "opus_clinician_id": opus_clinician_id}
    if session.scalars(_CLINICIAN, params).first() is None:
        raise NotFound("clinician_not_found")


_WEB_TREATMENTS = (
    select(Treatment)
    .where(
        Treatment.tenant_id == bindparam("tenant_id"),
        Treatment.in_opus,
        Treatment.create_in_web,
    )
    .order_by(Treatment.opus_treatment_id, Treatment.opus_database_id)
)
_WEB_TREATMENTS_WITH_ID = _WEB_TREATMENTS.where(
    Treatment.opus_treatment_id == bindparam("opus_treatment_id")
)


def web_treatments(
    session: Session, tenant_id: int, opus_treatment_id: int | None = None
) -> list[Treatment]:
    """Treatments that may be created on the web; with an id, those with that id (one
    per Opus database that has it), and a 404 when there is none."""
    if opus_treatment_id is None:
        return list(session.scalars(_WEB_TREATMENTS, {"tenant_id": tenant_id}))
    treatments = list(
        session.scalars(
            _WEB_TREATMENTS_WITH_ID,
            {"tenant_id": tenant_id, "opus_treatment_id": opus_treatment_id},
        )
    )
    if not treatments:
        raise NotFound("treatment_not_found")
    return treatments


def offered(
    session: Session, tenant_id: int, members: list[Staff], earliest: datetime
) -> dict[tuple[int, int], set[int]]:
    """For each (clinic, practitioner) of ``members`` with published free time ending
    after ``earliest``: the treatments (store ids) that time allows."""
    if not members:
        return {}
    rows = session.execute(
        select(FreeRange.clinic_id, FreeRange.practitioner_id, FreeRange.treatment_set_id)
        .where(
            FreeRange.tenant_id == tenant_id,
            FreeRange.practitioner_id.in_(sorted({m.practitioner.id for m in members})),
            FreeRange.clinic_id.in_(sorted({m.clinic.id for m in members})),
            FreeRange.ends_at > earliest,
        )
        .distinct()
    ).all()
    sets: dict[int, set[int]] = defaultdict(set)
    for set_id, treatment_id in session.execute(
        select(TreatmentSetMember.treatment_set_id, TreatmentSetMember.treatment_id).where(
            TreatmentSetMember.treatment_set_id.in_(sorted({r[2] for r in rows}))
        )
    ):
        sets[set_id].add(treatment_id)
    wanted = {m.key for m in members}
    result: dict[tuple[int, int], set[int]] = defaultdict(set)
    for clinic_id, practitioner_id, set_id in rows:
        if (clinic_id, practitioner_id) in wanted:
            result[(clinic_id, practitioner_id)] |= sets[set_id]
    return result


def _earliest(tenant: Tenant, now: datetime) -> datetime:
    notice = tenant.settings.min_notice_minutes if tenant.settings else 0
    return now + timedelta(minutes=notice)


def _with_free_time(
    session: Session,
    tenant: Tenant,
    members: list[Staff],
    now: datetime,
    treatment_ids: set[int] | None,
) -> list[Staff]:
    """``members`` that have free time (allowing one of ``treatment_ids``, if given)."""
    free = offered(session, tenant.id, members, _earliest(tenant, now))
    return [
        m
        for m in members
        if m.key in free and (treatment_ids is None or free[m.key] & treatment_ids)
    ]


# -- the lists ---------------------------------------------------------------------------


def clinician_dto(member: Staff) -> ClinicianDTO:
    p = member.practitioner
    return ClinicianDTO(
        id=p.opus_clinician_id,
        name=p.display_name or None,
        title=p.title,
        active=p.active,
        clinic_id=member.clinic.opus_clinic_id,
        info=p.info_text,
    )


def clinic_address(clinic: Clinic) -> dict[str, str | None]:
    """A clinic's ``ClinicDTOOslo`` fields: what every clinic DTO says of it."""
    return {
        "id": clinic.opus_clinic_id,
        "name": clinic.name,
        "address1": clinic.address1,
        "address2": clinic.address2,
        "postal_code": clinic.postal_code,
        "city": clinic.city,
        "work": clinic.phone,
        "email": clinic.email,
    }


def clinic_dto(clinic: Clinic, members: list[Staff]) -> ClinicDTO:
    return ClinicDTO(
        **clinic_address(clinic),
        group=clinic.group,
        clinicians=[clinician_dto(m) for m in members if m.clinic.id == clinic.id],
    )


def clinics(
    session: Session, tenant: Tenant, query: ClinicsQuery, now: datetime
) -> list[ClinicDTO]:
    listed = listed_clinics(session, tenant.id, query.group_name)
    members = staff(session, tenant.id, listed)
    candidates = members
    if query.clinician_id is not None:
        require_clinician(session, tenant.id, query.clinician_id)
        candidates = [
            m for m in candidates if m.practitioner.opus_clinician_id == query.clinician_id
        ]
    treatment_ids = None
    if query.treatment_id is not None:
        treatment_ids = {t.id for t in web_treatments(session, tenant.id, query.treatment_id)}
    if treatment_ids is not None or query.only_with_free_times:
        candidates = _with_free_time(session, tenant, candidates, now, treatment_ids)
    if candidates is not members:
        keep = {m.clinic.id for m in candidates}
        listed = [c for c in listed if c.id in keep]
    return [clinic_dto(c, members) for c in listed]


def clinic(session: Session, tenant: Tenant, opus_clinic_id: str) -> ClinicDTO:
    found = clinic_by_opus_id(session, tenant.id, opus_clinic_id)
    return clinic_dto(found, staff(session, tenant.id, [found]))


def clinicians(
    session: Session, tenant: Tenant, query: CliniciansQuery, now: datetime
) -> list[ClinicianDTO]:
    listed = selected_clinics(session, tenant.id, query.clinic_id, query.group_name)
    members = staff(session, tenant.id, listed)
    treatment_ids = None
    if query.treatment_id is not None:
        treatment_ids = {t.id for t in web_treatments(session, tenant.id, query.treatment_id)}
    if treatment_ids is not None or query.only_with_free_times:
        members = _with_free_time(session, tenant, members, now, treatment_ids)
    return [clinician_dto(m) for m in members]


def treatments(
    session: Session, tenant: Tenant, query: TreatmentsQuery, now: datetime
) -> list[TreatmentDTO]:
    found = web_treatments(session, tenant.id)
    if query.clinic_id is not None or query.clinician_id is not None or query.group_name:
        listed = selected_clinics(session, tenant.id, query.clinic_id, query.group_name)
        members = staff(session, tenant.id, listed)
        if query.clinician_id is not None:
            require_clinician(session, tenant.id, query.clinician_id)
            members = [m for m in members if m.practitioner.opus_clinician_id == query.clinician_id]
        free = offered(session, tenant.id, members, _earliest(tenant, now))
        allowed = set().union(*free.values()) if free else set()
        found = [t for t in found if t.id in allowed]
    return [
        TreatmentDTO(
            id=t.opus_treatment_id, name=t.name, description=t.description, duration=t.duration_min
        )
        for t in found
    ]
