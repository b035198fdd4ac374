"""Patients with data in every table of the personal data register, for the export
and erasure tests: bookings (one cancelled, one with every field and a campaign code),
their messages (one sent, one not yet), a BankID login, an appointment copied from
Opus, and a marketplace appointment."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, String, select, update

from connectors.store import bookings
from connectors.store.db import session_scope
from connectors.store.models import (
    BankIdOrder,
    Booking,
    MarketplaceAppointment,
    OpusAppointment,
    OpusDatabase,
    OutboxMessage,
    PatientSession,
    Reminder,
    Tenant,
)
from connectors.store.waitlist_models import WaitlistEntry, WaitlistOffer
from tests.helpers import apart, first_slots, request_for

TOLVAN = "191212121212"
NAMESAKE = "198112189876"  # another Tolvan Tolvansson, same family e-mail and phone
FAMILY_EMAIL = "familjen@example.se"
FAMILY_MOBILE = "+46701234567"


@dataclass(frozen=True)
class Patient:
    personal_number: str
    booking_ids: tuple[int, ...]


def now() -> datetime:
    return datetime.now(UTC)


def make_patients(engine: Engine, *numbers: str) -> dict[str, Patient]:
    """Each personal number as a patient named Tolvan Tolvansson with the family's
    e-mail and phone, two bookings (the second cancelled), written back to Opus."""
    made = {}
    with session_scope(engine) as session:
        tenant, clinic, treatment, slots = first_slots(session)
        later = [s for s in slots if s.starts_at > now() + timedelta(days=2)]
        chosen = apart(later, 2 * len(numbers))
        database_id = session.scalars(select(OpusDatabase.id)).first()
        for index, number in enumerate(numbers):
            made[number] = _patient(
                session, tenant, clinic, treatment, chosen[2 * index : 2 * index + 2], number
            )
            login(session, tenant.id, number)
            appointment = OpusAppointment(
                tenant_id=tenant.id,
                opus_database_id=database_id,
                opus_appointment_id=900_000 + index,
                personal_number=number,
                mobile=FAMILY_MOBILE,
                first_name="Tolvan",
                last_name="Tolvansson",
                starts_at=now() + timedelta(days=30),
                ends_at=now() + timedelta(days=30, minutes=30),
                status="booked",
                row_version=1,
            )
            session.add(appointment)
            session.flush()
            # A reminder of the appointment the clinic made in Opus, planned.
            session.add(
                Reminder(
                    tenant_id=tenant.id,
                    opus_appointment_id=appointment.id,
                    channel="sms",
                    starts_at=appointment.starts_at,
                    due_at=appointment.starts_at - timedelta(days=2),
                )
            )
            session.add(
                MarketplaceAppointment(
                    tenant_id=tenant.id,
                    appointment_id=f"bv-{number[-4:]}",
                    booking_id=made[number].booking_ids[0],
                    outcome="booked",
                    taken_at=now(),
                )
            )
            # On the waiting list for an earlier time, with one offer that lapsed (its
            # held time: the second booking, ended).
            entry = WaitlistEntry(
                tenant_id=tenant.id,
                booking_id=made[number].booking_ids[0],
                clinic_id=clinic.id,
                treatment_id=treatment.id,
            )
            session.add(entry)
            session.flush()
            session.add(
                WaitlistOffer(
                    tenant_id=tenant.id,
                    entry_id=entry.id,
                    held_booking_id=made[number].booking_ids[1],
                    clinic_id=clinic.id,
                    practitioner_id=chosen[2 * index].practitioner_id,
                    starts_at=chosen[2 * index].starts_at,
                    status="expired",
                    expires_at=now(),
                )
            )
    return made


def _patient(session, tenant, clinic, treatment, slots, number: str) -> Patient:
    ids = []
    for index, slot in enumerate(slots):
        held = bookings.hold(session, request_for(tenant, clinic, treatment, slot), now())
        held.personal_number = number
        held.first_name, held.last_name = "Tolvan", "Tolvansson"
        held.email, held.mobile = FAMILY_EMAIL, FAMILY_MOBILE
        held.address1, held.postal_code, held.city = "Storgatan 1", "75320", "Uppsala"
        held.message = f"Ring mig, {number[-4:]}"
        held.campaign_code = "SOMMAR" if index == 0 else None
        held.client_address_key = secrets.token_hex(32)
        booking = bookings.confirm(session, held, now())
        if index == 1:
            bookings.cancel(session, booking, now())
        ids.append(booking.id)
    # Written back to Opus, as the write-back flow records it.
    session.execute(
        update(Booking)
        .where(Booking.id.in_(ids))
        .values(written_seq=Booking.change_seq, opus_patient_id=7000 + int(number[-4:]))
        .execution_options(synchronize_session=False)
    )
    for booking_id in ids:
        session.execute(
            update(Booking)
            .where(Booking.id == booking_id)
            .values(opus_appointment_id=booking_id + 50_000)
            .execution_options(synchronize_session=False)
        )
    # The first message went out; the rest wait.
    first = session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.booking_id.in_(ids)).order_by(OutboxMessage.id)
    ).first()
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == first)
        .values(status="sent", sent_at=now(), provider_id="gw-1")
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return Patient(number, tuple(ids))


def login(session, tenant_id: int, number: str) -> None:
    order = BankIdOrder(
        tenant_id=tenant_id,
        browser_hash=secrets.token_hex(32),
        order_ref=secrets.token_hex(16),
        auto_start_token=secrets.token_hex(16),
        qr_start_token=secrets.token_hex(16),
        method="app",
        status="complete",
        started_at=now(),
        ended_at=now(),
    )
    session.add(order)
    session.flush()
    session.add(
        PatientSession(
            tenant_id=tenant_id,
            token_hash=secrets.token_hex(32),
            order_id=order.id,
            personal_number=number,
            given_name="Tolvan",
            surname="Tolvansson",
            created_at=now(),
            last_seen_at=now(),
            expires_at=now() + timedelta(hours=1),
        )
    )


def demo_tenant_id(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalars(select(Tenant.id).order_by(Tenant.id)).first()


def rows_of(engine: Engine, patient: Patient) -> dict[str, list[dict]]:
    """The patient's rows in every patient table, found by the ids they had at first
    (not by personal number, which erasure removes), as plain dicts."""
    with session_scope(engine) as session:
        ids = list(patient.booking_ids)
        result = {
            "booking": session.scalars(select(Booking).where(Booking.id.in_(ids))).all(),
            "outbox_message": session.scalars(
                select(OutboxMessage).where(OutboxMessage.booking_id.in_(ids))
            ).all(),
            "marketplace_appointment": session.scalars(
                select(MarketplaceAppointment).where(MarketplaceAppointment.booking_id.in_(ids))
            ).all(),
        }
        return {
            name: [
                {c.key: getattr(row, c.key) for c in type(row).__table__.columns} for row in rows
            ]
            for name, rows in result.items()
        }


def every_text_value(engine: Engine) -> str:
    """Every text value in the store, as one string (to search for what must be gone)."""
    from connectors.store.models import Base

    parts = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String)]
            if not columns:
                continue
            for row in connection.execute(select(*columns)):
                parts.extend(str(v) for v in row if v is not None)
    return json.dumps(parts, ensure_ascii=False)
