"""The store's side of write-back: which bookings Opus must hear of, what exactly it
should hold for each, and recording what Opus said.

Opus work happens between two short store transactions (plan, then record), never
inside one: a slow Opus must not hold the store's write lock the booking site needs.
What keeps that safe is the sequence pair on the booking (see ``Booking``): a change
made while Opus was being written stays due, and a crash between Opus's commit and the
store's only repeats work the appointment key makes harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors.opus.appointment_text import appointment_text
from connectors.opus.writer import Appointment, Outcome, Patient
from connectors.privacy import scrub
from connectors.store.bookings import queue_messages
from connectors.store.models import (
    Booking,
    Clinic,
    OpusDatabase,
    Practitioner,
    TenantSettings,
    Treatment,
)

MAX_BACKOFF = timedelta(minutes=5)


@dataclass(frozen=True)
class Due:
    booking_id: int
    opus_database_id: int


@dataclass(frozen=True)
class Change:
    """What one due booking asks of Opus, as seen at ``seq``."""

    booking_id: int
    seq: int
    action: Literal["book", "cancel", "nothing"]
    key: str
    appointment: Appointment | None
    warm_up: timedelta
    cool_down: timedelta
    range_treatments: tuple[int, ...]


def _due(now: datetime):
    return (
        Booking.change_seq > Booking.written_seq,
        or_(Booking.write_back_next_at.is_(None), Booking.write_back_next_at <= now),
    )


def due_bookings(
    session: Session, now: datetime, limit: int, database_id: int | None = None
) -> list[Due]:
    """Bookings whose latest change Opus has not heard of and whose retry time has
    come, with the Opus database each goes to: by database, oldest first. With
    ``database_id``: that database's only."""
    query = (
        select(Booking.id, Clinic.opus_database_id)
        .join(Clinic, Clinic.id == Booking.clinic_id)
        .where(*_due(now))
    )
    if database_id is not None:
        query = query.where(Clinic.opus_database_id == database_id)
    rows = session.execute(query.order_by(Clinic.opus_database_id, Booking.id).limit(limit)).all()
    return [Due(booking_id, database_id) for booking_id, database_id in rows]


def due_databases(session: Session, now: datetime) -> list[int]:
    """The Opus databases that have a booking due, by id."""
    return list(
        session.scalars(
            select(Clinic.opus_database_id)
            .join(Booking, Booking.clinic_id == Clinic.id)
            .where(*_due(now))
            .distinct()
            .order_by(Clinic.opus_database_id)
        )
    )


def any_due(session: Session, now: datetime) -> bool:
    """Cheap enough to ask every half second (a partial index answers it)."""
    return bool(due_bookings(session, now, 1))


def opus_database(session: Session, database_id: int) -> OpusDatabase:
    return session.get_one(OpusDatabase, database_id)


def plan(session: Session, booking_id: int, timezone: str) -> Change:
    """What Opus should now hold for this booking, read fresh (the patient may have
    cancelled since the batch was chosen)."""
    booking = session.get_one(Booking, booking_id)
    treatment = session.get_one(Treatment, booking.treatment_id)
    # The time the store blocked around the appointment, as Opus should block it.
    warm_up = booking.starts_at - booking.blocks_from
    cool_down = booking.blocks_until - booking.ends_at
    change = {
        "booking_id": booking.id,
        "seq": booking.change_seq,
        "key": booking.appointment_key,
        "warm_up": warm_up,
        "cool_down": cool_down,
        "range_treatments": _range_treatments(session, booking),
    }
    if booking.status == "confirmed":
        appointment = _appointment(session, booking, treatment, warm_up, cool_down, timezone)
        return Change(action="book", appointment=appointment, **change)
    if booking.status == "cancelled":
        return Change(action="cancel", appointment=None, **change)
    # Rebooked (its successor moves the appointment), conflict, expired: nothing to do.
    return Change(action="nothing", appointment=None, **change)


def _range_treatments(session: Session, booking: Booking) -> tuple[int, ...]:
    """What the appointment's present time in Opus was free for: recorded by the
    booking that last put it there (this one or one it replaced)."""
    while booking is not None:
        if booking.opus_range_treatments:
            return tuple(int(t) for t in booking.opus_range_treatments.split(","))
        booking = booking.rebooked_from_id and session.get(Booking, booking.rebooked_from_id)
    return ()


def _appointment(
    session: Session,
    booking: Booking,
    treatment: Treatment,
    warm_up: timedelta,
    cool_down: timedelta,
    timezone: str,
) -> Appointment:
    clinic = session.get_one(Clinic, booking.clinic_id)
    practitioner = session.get_one(Practitioner, booking.practitioner_id)
    settings = session.get_one(TenantSettings, booking.tenant_id)
    zone = ZoneInfo(timezone)

    def wall_clock(moment: datetime) -> datetime:
        return moment.astimezone(zone).replace(tzinfo=None)

    return Appointment(
        key=booking.appointment_key,
        clinic_id=clinic.opus_clinic_id,
        clinician_id=practitioner.opus_clinician_id,
        treatment_id=treatment.opus_treatment_id,
        starts=wall_clock(booking.starts_at),
        ends=wall_clock(booking.ends_at),
        warm_up=warm_up,
        cool_down=cool_down,
        text=appointment_text(
            treatment.booking_text,
            booking.message if settings.user_message_enabled else None,
            booking.campaign_code if settings.campaign_code_enabled else None,
        ),
        patient=Patient(
            personal_number=booking.personal_number,
            first_name=booking.first_name,
            last_name=booking.last_name,
            email=booking.email,
            mobile=booking.mobile,
            address1=booking.address1,
            postal_code=booking.postal_code,
            city=booking.city,
            identified_by_eid=booking.logged_in_with_eid,
        ),
        change_key=booking.idempotency_key,
        requested_at=wall_clock(booking.confirmed_at or booking.created_at).replace(microsecond=0),
    )


def record(session: Session, change: Change, outcome: Outcome, now: datetime) -> None:
    """Opus now holds what ``change`` asked for: remember it, unless a newer change
    came meanwhile (then the booking stays due for that one)."""
    values: dict = {
        "written_seq": change.seq,
        "written_back_at": now,
        "write_back_error": None,
        "write_back_attempts": 0,
        "write_back_next_at": now,
    }
    if outcome.appointment_id is not None:
        values["opus_appointment_id"] = outcome.appointment_id
    if outcome.patient_id is not None:
        values["opus_patient_id"] = outcome.patient_id
    if outcome.range_treatments:
        values["opus_range_treatments"] = ",".join(map(str, outcome.range_treatments))
    session.execute(
        update(Booking)
        .where(Booking.id == change.booking_id, Booking.written_seq < change.seq)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def record_conflict(session: Session, change: Change, outcome: Outcome, now: datetime) -> bool:
    """Opus refused the time (reception took it): the booking ends in ``conflict``,
    its time is free again in the store, the patient is told, and a rebooking's
    original booking stands again (its appointment in Opus never moved). False when
    the patient changed the booking meanwhile: then the newer change decides."""
    booking = session.get_one(Booking, change.booking_id)
    if booking.change_seq != change.seq or booking.status != "confirmed":
        return False
    booking.status = "conflict"
    booking.conflict_reason = outcome.conflict
    booking.written_seq = change.seq
    booking.written_back_at = now
    booking.write_back_error = None
    booking.write_back_next_at = None
    session.flush()
    original_stands = _reinstate_original(session, booking)
    queue_messages(
        session,
        booking,
        "conflict",
        {"reason": outcome.conflict, "original_stands": original_stands},
    )
    return True


def _reinstate_original(session: Session, booking: Booking) -> bool:
    if booking.rebooked_from_id is None:
        return False
    original = session.get_one(Booking, booking.rebooked_from_id)
    if original.status != "rebooked":
        return False
    try:
        with session.begin_nested():
            original.status = "confirmed"
            original.cancelled_at = None
            session.flush()
        return True
    except IntegrityError:  # someone has booked its time in the store meanwhile
        session.refresh(original)
        return False


def record_failure(session: Session, booking_ids: list[int], error: str, now: datetime) -> None:
    """Opus could not be written: try again later, backing off, and keep the reason
    where operators see it. Never given up: the booking waits in the store."""
    for booking in session.scalars(select(Booking).where(Booking.id.in_(booking_ids))):
        booking.write_back_attempts += 1
        booking.write_back_error = scrub(error)[:2000]
        booking.write_back_next_at = now + backoff(booking.write_back_attempts)
    session.flush()


def backoff(attempts: int) -> timedelta:
    """2, 4, 8 … seconds, at most five minutes."""
    return min(timedelta(seconds=2 ** min(attempts, 12)), MAX_BACKOFF)


def open_conflicts(session: Session, tenant_id: int | None = None) -> list[Booking]:
    """Bookings that ended in conflict, newest first: the list operators read."""
    query = select(Booking).where(Booking.status == "conflict")
    if tenant_id is not None:
        query = query.where(Booking.tenant_id == tenant_id)
    return list(session.scalars(query.order_by(Booking.written_back_at.desc())))


def waiting(session: Session, tenant_id: int | None = None) -> list[Booking]:
    """Bookings that have failed to reach Opus at least once and still wait."""
    query = select(Booking).where(
        Booking.change_seq > Booking.written_seq, Booking.write_back_attempts > 0
    )
    if tenant_id is not None:
        query = query.where(Booking.tenant_id == tenant_id)
    return list(session.scalars(query.order_by(Booking.id)))
