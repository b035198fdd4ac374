"""Appointments read from the Opus book (reception's included) reach the store with
their patient's personal number, incrementally, and show in *Mina bokningar* once."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from connectors.store.db import session_scope
from connectors.store.models import Booking, OpusAppointment
from connectors.store.my_bookings import coming_bookings
from connectors.store.schedules import plan_tenant
from flows.opus_appointments import sync_appointments
from tests.flows.write_back_helpers import book, free_slots
from tests.helpers import sync_tenant


def add_appointment(opus: Path, patient: int, start: datetime, key: str | None, version: int):
    connection = sqlite3.connect(opus)
    with connection:
        (clinician,) = connection.execute("SELECT MIN(ClinicianID) FROM OnlineClinician").fetchone()
        connection.execute(
            "INSERT INTO OnlineAppointment (ClinicID, ClinicianID, TreatmentID, PatientID,"
            " StartTime, EndTime, Status, IdempotencyKey, RowVersion)"
            " VALUES ('UPP1', ?, 1, ?, ?, ?, 'booked', ?, ?)",
            (
                clinician,
                patient,
                start.strftime("%Y-%m-%d %H:%M:%S"),
                (start + timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S"),
                key,
                version,
            ),
        )
    connection.close()


def test_reception_appointments_reach_my_bookings(store, demo_tenant, opus_sqlite: Path):
    sync_tenant(store, demo_tenant)
    connection = sqlite3.connect(opus_sqlite)
    with connection:
        patient = connection.execute(
            "INSERT INTO OnlinePatient (PersonalNumber, FirstName, RowVersion)"
            " VALUES ('19811218-9876', 'Tolvan', 1)"
        ).lastrowid
    connection.close()
    local = (datetime.now() + timedelta(days=5)).replace(hour=9, minute=0, second=0, microsecond=0)
    add_appointment(opus_sqlite, patient, local, None, 10_000_001)
    with session_scope(store) as session:
        plan = plan_tenant(session, demo_tenant).databases[0]
    first = sync_appointments(store, plan, timezone="Europe/Stockholm", timeout_s=5)
    assert first > 1  # the demo book's own appointments too
    assert sync_appointments(store, plan, timezone="Europe/Stockholm", timeout_s=5) == 0

    # One of ours, written back to Opus with our key: listed once, as ours.
    add_appointment(opus_sqlite, patient, local + timedelta(days=1), "our-key", 10_000_002)
    assert sync_appointments(store, plan, timezone="Europe/Stockholm", timeout_s=5) == 1
    with session_scope(store) as session:
        rows = session.scalars(
            select(OpusAppointment)
            .where(OpusAppointment.personal_number == "198112189876")
            .order_by(OpusAppointment.id)
        ).all()
        assert len(rows) == 2 and rows[1].idempotency_key == "our-key"
        assert rows[0].clinic_id is not None and rows[0].treatment_id is not None
        assert rows[0].starts_at.astimezone(UTC).hour in (7, 8)  # 09:00 in Stockholm
        listed = coming_bookings(session, rows[0].tenant_id, "198112189876", datetime.now(UTC))
        assert len(listed) == 2 and all(m.reference is None for m in listed)
        assert listed[0].cancel.reason == "my_booking_made_by_clinic"

    # Now "our-key" is a confirmed booking of ours: its Opus copy is not listed again.
    tenant_id, clinic_id, treatment_id, slots = free_slots(store)
    ours = book(
        store, slots[0], (tenant_id, clinic_id, treatment_id), personal_number="198112189876"
    )
    with session_scope(store) as session:
        session.get_one(Booking, ours.id).appointment_key = "our-key"
    assert sync_appointments(store, plan, timezone="Europe/Stockholm", timeout_s=5) == 0
    with session_scope(store) as session:
        listed = coming_bookings(session, tenant_id, "198112189876", datetime.now(UTC))
        assert [m.reference for m in listed].count(ours.reference) == 1
        assert len(listed) == 2 and sum(m.reference is None for m in listed) == 1
