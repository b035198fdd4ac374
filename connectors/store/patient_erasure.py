"""Erasing a patient's data from the store, on an operator's word (the patient asked).

What erasure does per table is in the register (:mod:`connectors.store.personal_data`):
bookings and messages are pseudonymised in place, so that every statistic adds up as
before and a booking's Opus appointment keeps its key; logins are deleted; the copy of
Opus's appointments loses its personal numbers. One short write transaction does it
all, with no hashing or network inside (a handful of indexed UPDATEs and DELETEs).

It refuses (:class:`ErasureBlocked`) while the store still needs the data to finish
something the patient started:

- ``hold_in_progress``: the patient is booking right now (a live hold);
- ``write_back_pending``: a booking or change has not reached Opus yet (write-back
  finds or creates the Opus patient by personal number and name).

Both pass within minutes (the *Att hantera* tab shows write-back that waits). A coming
appointment does not block: it stays in Opus, and the patient can no longer see or
change it online nor gets messages about it (the preview says so). Messages not yet
sent are given up.

What stays in Opus, the patient record and the journal above all, is the clinic's
record of care, kept under its own rules; :class:`Preview` tells the operator where.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, distinct, func, select, update
from sqlalchemy.orm import Session

from connectors.store.models import (
    BankIdOrder,
    Booking,
    Clinic,
    OpusAppointment,
    OpusDatabase,
    OutboxMessage,
)
from connectors.store.patient_data import condition, counts, model_of
from connectors.store.personal_data import PATIENT_TABLES, erased_values
from connectors.store.waitlist_models import WaitlistEntry

BLOCKERS = ("hold_in_progress", "write_back_pending")
UNSENT = ("pending", "sending")


class ErasureBlocked(Exception):
    def __init__(self, blockers: tuple[str, ...]) -> None:
        super().__init__(", ".join(blockers))
        self.blockers = blockers


@dataclass(frozen=True)
class InOpus:
    """One Opus database that holds the patient: the patient's ids there (as our
    write-back found or made them), how many of our bookings became appointments
    there, and how many of its appointments the store had copied for the patient."""

    database: str
    patient_ids: tuple[int, ...]
    written_appointments: int
    copied_appointments: int


@dataclass(frozen=True)
class Preview:
    found: dict[str, int]
    blockers: tuple[str, ...]
    coming: int  # confirmed bookings still to come: their appointments stay in Opus
    unsent: int  # messages not sent yet: erasure gives them up
    in_opus: tuple[InOpus, ...]

    @property
    def nothing_found(self) -> bool:
        return not any(self.found.values())


def preview(session: Session, tenant_id: int, personal_number: str, now: datetime) -> Preview:
    """What erasure would do for the patient now, and whether it may."""
    bookings = condition("booking", tenant_id, personal_number)
    blockers = []
    held = Booking.status == "held", Booking.hold_expires_at > now
    if session.scalar(select(func.count()).where(bookings, *held)):
        blockers.append("hold_in_progress")
    if session.scalar(
        select(func.count()).where(bookings, Booking.change_seq > Booking.written_seq)
    ):
        blockers.append("write_back_pending")
    coming = session.scalar(
        select(func.count()).where(bookings, Booking.status == "confirmed", Booking.starts_at > now)
    )
    unsent = session.scalar(
        select(func.count()).where(
            condition("outbox_message", tenant_id, personal_number),
            OutboxMessage.status.in_(UNSENT),
        )
    )
    return Preview(
        found=counts(session, tenant_id, personal_number),
        blockers=tuple(blockers),
        coming=coming or 0,
        unsent=unsent or 0,
        in_opus=_in_opus(session, tenant_id, personal_number),
    )


def _in_opus(session: Session, tenant_id: int, personal_number: str) -> tuple[InOpus, ...]:
    bookings = condition("booking", tenant_id, personal_number)
    written = session.execute(
        select(
            OpusDatabase.name,
            Booking.opus_patient_id,
            func.count(distinct(Booking.appointment_key)),
        )
        .select_from(Booking)
        .join(Clinic, Clinic.id == Booking.clinic_id)
        .join(OpusDatabase, OpusDatabase.id == Clinic.opus_database_id)
        .where(bookings, Booking.opus_appointment_id.is_not(None))
        .group_by(OpusDatabase.name, Booking.opus_patient_id)
    ).all()
    copied = session.execute(
        select(OpusDatabase.name, func.count())
        .select_from(OpusAppointment)
        .join(OpusDatabase, OpusDatabase.id == OpusAppointment.opus_database_id)
        .where(condition("opus_appointment", tenant_id, personal_number))
        .group_by(OpusDatabase.name)
    ).all()
    patients: dict[str, set[int]] = {}
    appointments: dict[str, int] = {}
    for name, patient_id, count in written:
        patients.setdefault(name, set())
        if patient_id is not None:
            patients[name].add(patient_id)
        appointments[name] = appointments.get(name, 0) + count
    copies = dict(copied)
    return tuple(
        InOpus(
            name,
            tuple(sorted(patients.get(name, ()))),
            appointments.get(name, 0),
            copies.get(name, 0),
        )
        for name in sorted(set(patients) | set(copies))
    )


ERASURE_ORDER = (
    "outbox_message",  # found through the bookings and reminders: before them
    "reminder",  # found through the bookings and the copied appointments: before them
    "marketplace_appointment",  # likewise
    "waitlist_offer",  # kept, nothing personal (found through the entries)
    "waitlist_entry",  # kept and ended above (found through the bookings)
    "patient_session",
    "bankid_order",  # by the ids taken before the sessions went
    "opus_appointment",
    "booking",
)


def erase(session: Session, tenant_id: int, personal_number: str, now: datetime) -> dict[str, int]:
    """Erase the patient's data, in the caller's (short) write transaction; returns the
    rows changed or deleted per table (kept tables: the rows kept). Raises
    :class:`ErasureBlocked` and changes nothing while a blocker holds."""
    # Lock the patient's bookings first (PostgreSQL; SQLite's write transaction already
    # excludes every other writer): a change the patient is committing right now is
    # then either seen below, as write-back still due, or made after the erasure, on
    # rows without a patient, instead of slipping in between the check and the update.
    session.execute(
        select(Booking.id).where(condition("booking", tenant_id, personal_number)).with_for_update()
    )
    blockers = preview(session, tenant_id, personal_number, now).blockers
    if blockers:
        raise ErasureBlocked(blockers)
    done: dict[str, int] = {}
    # The orders are found through the sessions: take their ids before those go.
    orders = list(
        session.scalars(
            select(BankIdOrder.id).where(condition("bankid_order", tenant_id, personal_number))
        )
    )
    session.execute(
        update(OutboxMessage)
        .where(
            condition("outbox_message", tenant_id, personal_number),
            OutboxMessage.status.in_(UNSENT),
        )
        .values(status="failed", next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    # An erased patient waits for no earlier time: their entries end (kept, without
    # anything personal, for the refill statistics), so no offer goes out.
    session.execute(
        update(WaitlistEntry)
        .where(condition("waitlist_entry", tenant_id, personal_number))
        .where(WaitlistEntry.status == "active")
        .values(status="left", ended_at=now)
        .execution_options(synchronize_session=False)
    )
    for name in ERASURE_ORDER:
        entry = next(t for t in PATIENT_TABLES if t.name == name)
        model = model_of(name)
        where = (
            BankIdOrder.id.in_(orders)
            if name == "bankid_order"
            else condition(name, tenant_id, personal_number)
        )
        if entry.erasure == "pseudonymise":
            statement = update(model).where(where).values(**erased_values(name))
        elif entry.erasure == "delete":
            statement = delete(model).where(where)
        else:  # keep: nothing personal in it
            done[name] = session.scalar(select(func.count()).select_from(model).where(where))
            continue
        done[name] = session.execute(
            statement.execution_options(synchronize_session=False)
        ).rowcount
    session.flush()
    return {t.name: done[t.name] for t in PATIENT_TABLES}  # in the register's order
