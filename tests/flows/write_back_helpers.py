"""Making bookings in the store and looking at the Opus database, for write-back tests."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from connectors.store import bookings
from connectors.store.bookings import Request
from connectors.store.db import session_scope, write_session_scope
from connectors.store.models import Booking
from tests.helpers import first_slots

PERSONAL_NUMBER = "199001012385"  # well-formed (Luhn check digit), made up


def now() -> datetime:
    return datetime.now(UTC)


def free_slots(engine: Engine, clinic: str = "UPP1", treatment: int = 1, days: int = 14):
    """Store ids of the demo tenant, ``clinic`` and ``treatment``, and their free times."""
    with session_scope(engine) as session:
        tenant, clinic_row, treatment_row, slots = first_slots(session, clinic, treatment, days)
        return tenant.id, clinic_row.id, treatment_row.id, slots


def book(engine: Engine, slot, ids, **details) -> Booking:
    """Hold ``slot`` and confirm it with a patient's details."""
    tenant_id, clinic_id, treatment_id = ids
    patient = {
        "personal_number": PERSONAL_NUMBER,
        "first_name": "Astrid",
        "last_name": "Lind",
        "email": "astrid@example.se",
        "mobile": "+46701234567",
    } | details
    with write_session_scope(engine) as session:
        request = Request(tenant_id, clinic_id, treatment_id, slot.starts_at, slot.practitioner_id)
        held = bookings.hold(session, request, now())
        for name, value in patient.items():
            setattr(held, name, value)
        return bookings.confirm(session, held, now())


def rebook(engine: Engine, booking: Booking, slot) -> Booking:
    with write_session_scope(engine) as session:
        old = session.get_one(Booking, booking.id)
        request = Request(
            old.tenant_id, old.clinic_id, old.treatment_id, slot.starts_at, slot.practitioner_id
        )
        held = bookings.hold(session, request, now(), replaces=old)
        return bookings.confirm(session, held, now())


def cancel(engine: Engine, booking: Booking) -> None:
    with write_session_scope(engine) as session:
        bookings.cancel(session, session.get_one(Booking, booking.id), now())


def reload(engine: Engine, booking: Booking) -> Booking:
    with session_scope(engine) as session:
        return session.get_one(Booking, booking.id)


class OpusBook:
    """Read-only look into a SQLite Opus database."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def rows(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        connection = sqlite3.connect(self.path)
        connection.row_factory = sqlite3.Row
        try:
            return connection.execute(sql, params).fetchall()
        finally:
            connection.close()

    def appointments(self, key: str) -> list[sqlite3.Row]:
        return self.rows("SELECT * FROM OnlineAppointment WHERE IdempotencyKey = ?", (key,))

    def free_minutes(self, clinician: int) -> int:
        """The clinician's free time, in minutes."""
        rows = self.rows(
            "SELECT StartTime, EndTime FROM OnlineFreeRange WHERE ClinicianID = ?", (clinician,)
        )
        return sum(
            int(
                (
                    datetime.fromisoformat(r["EndTime"]) - datetime.fromisoformat(r["StartTime"])
                ).total_seconds()
            )
            // 60
            for r in rows
        )

    def free_covering(self, clinician: int, start: datetime, end: datetime) -> list[sqlite3.Row]:
        return self.rows(
            "SELECT * FROM OnlineFreeRange WHERE ClinicianID = ? AND StartTime < ? AND EndTime > ?",
            (clinician, _text(end), _text(start)),
        )


def _text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")
