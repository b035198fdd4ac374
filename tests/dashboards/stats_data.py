"""Synthetic statistics input with known answers: a tenant with one clinic, one
practitioner and one treatment, visit events and bookings placed at chosen moments."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from connectors.store.db import session_scope
from connectors.store.models import (
    Booking,
    Clinic,
    ClinicPractitioner,
    FreeRange,
    OpusDatabase,
    Practitioner,
    Tenant,
    TenantSettings,
    Treatment,
    TreatmentSet,
)
from connectors.store.visits import Visit, write_visits


@dataclass(frozen=True)
class Chain:
    tenant_id: int
    clinic_id: int
    practitioner_id: int
    treatment_id: int
    treatment_set_id: int
    database_id: int


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def make_chain(engine: Engine, subdomain: str = "statistik") -> Chain:
    with session_scope(engine) as session:
        tenant = Tenant(name=f"Klinik {subdomain}", subdomain=subdomain, settings=TenantSettings())
        session.add(tenant)
        session.flush()
        database = OpusDatabase(tenant_id=tenant.id, name="main", connection_ref="env:X")
        session.add(database)
        session.flush()
        clinic = Clinic(
            tenant_id=tenant.id, opus_database_id=database.id, opus_clinic_id="1", name="Centrum"
        )
        practitioner = Practitioner(
            tenant_id=tenant.id, opus_database_id=database.id, opus_clinician_id=1
        )
        treatment = Treatment(
            tenant_id=tenant.id,
            opus_database_id=database.id,
            opus_treatment_id=1,
            name="Undersökning",
            duration_min=30,
        )
        treatment_set = TreatmentSet(opus_database_id=database.id, opus_treatment_ids="1")
        session.add_all([clinic, practitioner, treatment, treatment_set])
        session.flush()
        session.add(
            ClinicPractitioner(
                clinic_id=clinic.id, practitioner_id=practitioner.id, tenant_id=tenant.id
            )
        )
        session.flush()
        return Chain(
            tenant.id, clinic.id, practitioner.id, treatment.id, treatment_set.id, database.id
        )


def events(engine: Engine, chain: Chain, rows: list[tuple]) -> None:
    """``rows``: (at, visitor, page, source, device)."""
    write_visits(
        engine,
        [
            Visit(chain.tenant_id, at, visitor, page, "/", source, device)
            for at, visitor, page, source, device in rows
        ],
    )


def booking(
    engine: Engine,
    chain: Chain,
    starts_at: datetime,
    *,
    minutes: int = 30,
    status: str = "confirmed",
    channel: str = "site",
    created_at: datetime,
    confirmed_at: datetime | None = None,
    cancelled_at: datetime | None = None,
    campaign_code: str | None = None,
    rebooked_from_id: int | None = None,
) -> int:
    with session_scope(engine) as session:
        row = Booking(
            reference=uuid.uuid4().hex,
            tenant_id=chain.tenant_id,
            clinic_id=chain.clinic_id,
            practitioner_id=chain.practitioner_id,
            treatment_id=chain.treatment_id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            blocks_from=starts_at,
            blocks_until=starts_at + timedelta(minutes=minutes),
            status=status,
            channel=channel,
            idempotency_key=str(uuid.uuid4()),
            created_at=created_at,
            confirmed_at=confirmed_at,
            cancelled_at=cancelled_at,
            campaign_code=campaign_code,
            rebooked_from_id=rebooked_from_id,
        )
        session.add(row)
        session.flush()
        return row.id


def free_range(engine: Engine, chain: Chain, range_id: int, start: datetime, end: datetime) -> None:
    with session_scope(engine) as session:
        session.add(
            FreeRange(
                opus_database_id=chain.database_id,
                opus_range_id=range_id,
                tenant_id=chain.tenant_id,
                clinic_id=chain.clinic_id,
                practitioner_id=chain.practitioner_id,
                treatment_set_id=chain.treatment_set_id,
                starts_at=start,
                ends_at=end,
                row_version=range_id,
            )
        )


def refill(engine: Engine, chain: Chain, freed: int, *, waiting: int, taken: int) -> None:
    """The waiting list's record of booking ``freed``'s time again: its opening, the
    waiting patient's entry (booking ``waiting``) and the accepted offer (``taken``)."""
    from connectors.store.waitlist_models import WaitlistEntry, WaitlistOffer, WaitlistOpening

    with session_scope(engine) as session:
        gone = session.get_one(Booking, freed)
        opening = WaitlistOpening(
            tenant_id=chain.tenant_id, clinic_id=chain.clinic_id,
            practitioner_id=chain.practitioner_id, starts_at=gone.blocks_from,
            ends_at=gone.blocks_until, treatment_ids=str(chain.treatment_id), source="cancel",
            booking_id=freed, status="done", created_at=gone.cancelled_at,
            first_offer_at=gone.cancelled_at + timedelta(seconds=5),
        )  # fmt: skip
        entry = WaitlistEntry(
            tenant_id=chain.tenant_id, booking_id=waiting, clinic_id=chain.clinic_id,
            treatment_id=chain.treatment_id, status="done", offers_on_day=1,
            created_at=utc(2025, 3, 1),
        )  # fmt: skip
        session.add_all([opening, entry])
        session.flush()
        session.add(
            WaitlistOffer(
                tenant_id=chain.tenant_id, entry_id=entry.id, opening_id=opening.id,
                held_booking_id=taken, clinic_id=chain.clinic_id,
                practitioner_id=chain.practitioner_id, starts_at=gone.starts_at,
                status="accepted", created_at=opening.first_offer_at,
                expires_at=opening.first_offer_at + timedelta(minutes=15),
                answered_at=gone.cancelled_at + timedelta(minutes=7),
            )
        )  # fmt: skip
