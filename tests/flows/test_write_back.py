"""Write-back into a real Opus database (SQLite here; PostgreSQL over ODBC in
test_write_back_odbc.py), from both stores: every booking once, with its text and
patient, cancellations and rebookings flowing back, conflicts and outages visible."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from connectors.opus.writer import Outcome
from connectors.store import write_back as store
from connectors.store import write_back_lock as locks
from connectors.store.db import session_scope, write_session_scope
from connectors.store.models import Booking, OutboxMessage, Practitioner, TenantSettings
from demo.store_seed import DEMO_SUBDOMAIN
from flows.write_back import write_back_due
from tests.flows.write_back_helpers import (
    PERSONAL_NUMBER,
    OpusBook,
    book,
    cancel,
    free_slots,
    now,
    rebook,
    reload,
)
from tests.helpers import apart, sync_tenant

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def opus(opus_sqlite: Path) -> OpusBook:
    return OpusBook(opus_sqlite)


def slots_and_ids(engine):
    tenant_id, clinic_id, treatment_id, slots = free_slots(engine)
    return slots, (tenant_id, clinic_id, treatment_id)


def clinician_of(engine, booking: Booking) -> int:
    with session_scope(engine) as session:
        return session.get_one(Practitioner, booking.practitioner_id).opus_clinician_id


def wall_clock(moment) -> str:
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M:%S")


def enable(engine, **settings) -> None:
    with session_scope(engine) as session:
        session.execute(update(TenantSettings).values(**settings))


def test_a_confirmed_booking_becomes_an_appointment_with_its_text_patient_and_time(synced, opus):
    enable(synced, user_message_enabled=True, campaign_code_enabled=True)
    slots, ids = slots_and_ids(synced)
    booking = book(
        synced, slots[0], ids, message="Ont i\r\nen tand 🦷  sedan i går", campaign_code=" VÅR 26"
    )
    clinician = clinician_of(synced, booking)
    free_before = opus.free_minutes(clinician)

    report = write_back_due(synced)

    assert report.outcomes == {"created": 1}
    [appointment] = opus.appointments(booking.appointment_key)
    assert (appointment["ClinicID"], appointment["ClinicianID"], appointment["TreatmentID"]) == (
        "UPP1",
        clinician,
        1,
    )
    assert appointment["StartTime"] == wall_clock(booking.starts_at)
    assert appointment["EndTime"] == wall_clock(booking.ends_at)
    assert appointment["Status"] == "booked"
    assert appointment["BookingText"] == (
        "Webbokning: undersökning\nOnt i en tand 🦷 sedan i går\nCC: VÅR 26"
    )
    [patient] = opus.rows(
        "SELECT * FROM OnlinePatient WHERE PersonalNumber = ?", (PERSONAL_NUMBER,)
    )
    assert appointment["PatientID"] == patient["PatientID"]
    assert (patient["FirstName"], patient["LastName"], patient["MobilePhone"]) == (
        "Astrid",
        "Lind",
        "+46701234567",
    )
    # The blocked time (45 min + 5 min cool-down) is no longer free in Opus.
    assert opus.free_minutes(clinician) == free_before - 50
    assert not opus.free_covering(
        clinician,
        booking.blocks_from.astimezone(STOCKHOLM).replace(tzinfo=None),
        booking.blocks_until.astimezone(STOCKHOLM).replace(tzinfo=None),
    )
    written = reload(synced, booking)
    assert written.written_seq == written.change_seq == 1
    assert written.opus_appointment_id == appointment["AppointmentID"]
    assert written.opus_patient_id == patient["PatientID"]


def test_the_message_and_code_stay_out_when_their_settings_are_off(synced, opus):
    slots, ids = slots_and_ids(synced)
    booking = book(synced, slots[0], ids, message="Hej", campaign_code="KOD")
    write_back_due(synced)
    [appointment] = opus.appointments(booking.appointment_key)
    assert appointment["BookingText"] == "Webbokning: undersökning"


def test_writing_back_again_or_after_a_lost_store_commit_makes_no_second_appointment(synced, opus):
    slots, ids = slots_and_ids(synced)
    booking = book(synced, slots[0], ids)
    free_before = opus.free_minutes(clinician_of(synced, booking))
    write_back_due(synced)
    assert write_back_due(synced).handled == 0  # nothing due any more

    # As if the process died after Opus committed but before the store did.
    with session_scope(synced) as session:
        session.execute(update(Booking).values(written_seq=0, opus_range_treatments=None))
    assert write_back_due(synced).outcomes == {"already_there": 1}
    assert len(opus.appointments(booking.appointment_key)) == 1
    assert reload(synced, booking).written_seq == 1

    # Cancelled later, its time still goes back to Opus's free time, merged whole.
    clinician = clinician_of(synced, booking)
    cancel(synced, booking)
    write_back_due(synced)
    assert opus.free_minutes(clinician) == free_before


def test_an_existing_patient_is_matched_and_a_new_address_waits_for_reception(synced, opus):
    [known] = opus.rows("SELECT * FROM OnlinePatient ORDER BY PatientID LIMIT 1")
    slots, ids = slots_and_ids(synced)
    booking = book(
        synced,
        slots[0],
        ids,
        personal_number=known["PersonalNumber"],
        address1="Nya gatan 1",
        postal_code="75310",
        city="Uppsala",
    )
    write_back_due(synced)

    [appointment] = opus.appointments(booking.appointment_key)
    assert appointment["PatientID"] == known["PatientID"]
    [after] = opus.rows("SELECT * FROM OnlinePatient WHERE PatientID = ?", (known["PatientID"],))
    assert after["Address1"] == known["Address1"]  # reception decides
    [pending] = opus.rows("SELECT * FROM OnlinePendingPatientUpdate")
    assert (pending["PatientID"], pending["Address1"], pending["City"], pending["Status"]) == (
        known["PatientID"],
        "Nya gatan 1",
        "Uppsala",
        "pending",
    )
    # Stamped with when the patient booked, on the clinic's wall clock (as Opus keeps times).
    assert pending["RequestedAt"] == wall_clock(reload(synced, booking).confirmed_at)
    assert len(opus.rows("SELECT * FROM OnlinePatient")) == len(
        opus.rows("SELECT DISTINCT PersonalNumber FROM OnlinePatient")
    )


def test_an_address_given_after_e_id_login_updates_the_patient_record(synced, opus):
    [known] = opus.rows("SELECT * FROM OnlinePatient ORDER BY PatientID LIMIT 1")
    slots, ids = slots_and_ids(synced)
    book(
        synced,
        slots[0],
        ids,
        personal_number=known["PersonalNumber"],
        address1="Nya gatan 1",
        postal_code="75310",
        city="Uppsala",
        logged_in_with_eid=True,
    )
    write_back_due(synced)
    [after] = opus.rows("SELECT * FROM OnlinePatient WHERE PatientID = ?", (known["PatientID"],))
    assert (after["Address1"], after["PostalCode"], after["City"]) == (
        "Nya gatan 1",
        "75310",
        "Uppsala",
    )
    assert not opus.rows("SELECT * FROM OnlinePendingPatientUpdate")


def test_a_cancellation_cancels_the_appointment_and_gives_the_free_time_back(synced, opus):
    slots, ids = slots_and_ids(synced)
    booking = book(synced, slots[3], ids)
    clinician = clinician_of(synced, booking)
    ranges_before = opus.rows("SELECT * FROM OnlineFreeRange WHERE ClinicianID = ?", (clinician,))
    write_back_due(synced)
    cancel(synced, booking)

    assert write_back_due(synced).outcomes == {"cancelled": 1}

    [appointment] = opus.appointments(booking.appointment_key)
    assert appointment["Status"] == "cancelled"
    ranges_after = opus.rows("SELECT * FROM OnlineFreeRange WHERE ClinicianID = ?", (clinician,))
    # The cut range is whole again: same ranges, same times (merged with its neighbours).
    assert sorted((r["StartTime"], r["EndTime"]) for r in ranges_after) == sorted(
        (r["StartTime"], r["EndTime"]) for r in ranges_before
    )
    cancelled = reload(synced, booking)
    assert (cancelled.status, cancelled.written_seq, cancelled.change_seq) == ("cancelled", 2, 2)


def test_the_freed_time_is_bookable_again_after_the_next_sync(synced, opus):
    slots, ids = slots_and_ids(synced)
    booking = book(synced, slots[0], ids)
    write_back_due(synced)
    sync_tenant(synced, DEMO_SUBDOMAIN)
    cancel(synced, booking)
    write_back_due(synced)
    sync_tenant(synced, DEMO_SUBDOMAIN)
    _, _, _, after = free_slots(synced)
    assert (slots[0].starts_at, slots[0].practitioner_id) in {
        (s.starts_at, s.practitioner_id) for s in after
    }


def test_a_booking_cancelled_before_it_reached_opus_never_appears_there(synced, opus):
    slots, ids = slots_and_ids(synced)
    booking = book(synced, slots[0], ids)
    cancel(synced, booking)
    assert write_back_due(synced).outcomes == {"not_in_opus": 1}
    assert not opus.appointments(booking.appointment_key)


def test_a_rebooking_moves_the_one_appointment_and_frees_the_old_time(synced, opus):
    slots, ids = slots_and_ids(synced)
    booking = book(synced, slots[0], ids)
    old_clinician = clinician_of(synced, booking)
    write_back_due(synced)
    [before] = opus.appointments(booking.appointment_key)
    later = next(s for s in slots if s.starts_at >= booking.starts_at + timedelta(days=2))
    moved = rebook(synced, booking, later)

    assert write_back_due(synced).outcomes == {"moved": 1}

    [after] = opus.appointments(booking.appointment_key)
    assert after["AppointmentID"] == before["AppointmentID"]
    assert after["StartTime"] == wall_clock(later.starts_at)
    assert after["Status"] == "booked"
    old_wall = booking.starts_at.astimezone(STOCKHOLM).replace(tzinfo=None)
    assert opus.free_covering(old_clinician, old_wall, old_wall + timedelta(minutes=45))
    assert reload(synced, booking).status == "rebooked"
    assert reload(synced, moved).opus_appointment_id == before["AppointmentID"]


def test_reception_taking_the_time_first_ends_in_a_visible_conflict(synced, opus, opus_sqlite):
    slots, ids = slots_and_ids(synced)
    booking = book(synced, slots[0], ids)
    clinician = clinician_of(synced, booking)
    start, end = wall_clock(booking.starts_at), wall_clock(booking.ends_at)
    # Reception books the same time in Opus, which takes it out of the free time.
    connection = sqlite3.connect(opus_sqlite)
    with connection:
        connection.execute(
            "INSERT INTO OnlineAppointment (ClinicID, ClinicianID, TreatmentID, StartTime, "
            "EndTime, BookingText, Status) VALUES ('UPP1', ?, 1, ?, ?, 'Receptionen', 'booked')",
            (clinician, start, end),
        )
    connection.close()

    report = write_back_due(synced)

    assert report.outcomes == {"conflict": 1}
    assert report.conflicts == [(booking.id, "taken_in_opus")]
    assert not opus.appointments(booking.appointment_key)
    assert [
        r["BookingText"]
        for r in opus.rows(
            "SELECT * FROM OnlineAppointment WHERE ClinicianID = ? AND StartTime = ?",
            (clinician, start),
        )
    ] == ["Receptionen"]
    conflicted = reload(synced, booking)
    assert (conflicted.status, conflicted.conflict_reason) == ("conflict", "taken_in_opus")
    with session_scope(synced) as session:
        assert [b.id for b in store.open_conflicts(session)] == [booking.id]
        told = session.scalars(
            select(OutboxMessage.channel).where(
                OutboxMessage.booking_id == booking.id, OutboxMessage.kind == "conflict"
            )
        ).all()
    assert sorted(told) == ["email", "sms"]
    assert write_back_due(synced).handled == 0  # settled, not retried


def test_free_time_taken_away_in_opus_is_a_conflict_too(synced, opus, opus_sqlite):
    slots, ids = slots_and_ids(synced)
    booking = book(synced, slots[0], ids)
    clinician = clinician_of(synced, booking)
    connection = sqlite3.connect(opus_sqlite)
    with connection:
        connection.execute(
            "DELETE FROM OnlineFreeRange WHERE ClinicianID = ? AND StartTime <= ? AND EndTime >= ?",
            (clinician, wall_clock(booking.starts_at), wall_clock(booking.ends_at)),
        )
    connection.close()
    assert write_back_due(synced).conflicts == [(booking.id, "no_longer_free")]


def test_a_rebooking_refused_by_opus_leaves_the_original_appointment_standing(
    synced, opus, opus_sqlite
):
    slots, ids = slots_and_ids(synced)
    booking = book(synced, slots[0], ids)
    write_back_due(synced)
    later = next(s for s in slots if s.starts_at >= booking.starts_at + timedelta(days=2))
    moved = rebook(synced, booking, later)
    connection = sqlite3.connect(opus_sqlite)
    with connection:
        connection.execute(
            "DELETE FROM OnlineFreeRange WHERE StartTime <= ? AND EndTime >= ?",
            (wall_clock(later.starts_at), wall_clock(later.ends_at)),
        )
    connection.close()

    assert write_back_due(synced).conflicts == [(moved.id, "no_longer_free")]

    [appointment] = opus.appointments(booking.appointment_key)
    assert appointment["StartTime"] == wall_clock(booking.starts_at)
    assert reload(synced, booking).status == "confirmed"  # the original stands again
    assert reload(synced, moved).status == "conflict"


def test_bookings_wait_while_opus_is_down_and_go_through_once_it_is_back(synced, opus, opus_sqlite):
    slots, ids = slots_and_ids(synced)
    made = [book(synced, slot, ids) for slot in apart(slots, 2)]
    hidden = opus_sqlite.with_suffix(".away")
    shutil.move(opus_sqlite, hidden)

    report = write_back_due(synced)

    assert report.outcomes == {"failed": 2}
    waiting = [reload(synced, b) for b in made]
    assert all(
        b.write_back_attempts == 1 and "does not exist" in b.write_back_error for b in waiting
    )
    assert all(b.write_back_next_at > now() for b in waiting)  # backing off
    assert write_back_due(synced).handled == 0  # not before its time

    shutil.move(hidden, opus_sqlite)
    later = write_back_due(synced, clock=lambda: now() + timedelta(minutes=1))

    assert later.outcomes == {"created": 2}
    assert all(len(opus.appointments(b.appointment_key)) == 1 for b in made)
    assert all(reload(synced, b).write_back_error is None for b in made)


def test_a_change_made_while_opus_was_being_written_stays_due(synced, opus):
    slots, ids = slots_and_ids(synced)
    booking = book(synced, slots[0], ids)
    with session_scope(synced) as session:
        change = store.plan(session, booking.id, "Europe/Stockholm")
    cancel(synced, booking)  # the patient cancels while write-back is at Opus
    with write_session_scope(synced) as session:
        store.record(session, change, Outcome("created", 7), now())
    stale = reload(synced, booking)
    assert stale.written_seq == 1 < stale.change_seq == 2
    assert write_back_due(synced).outcomes == {"not_in_opus": 1}


def test_one_writer_per_opus_database_at_a_time(synced):
    slots, ids = slots_and_ids(synced)
    booking = book(synced, slots[0], ids)
    with session_scope(synced) as session:
        [database_id] = store.due_databases(session, now())
    other = locks.take(synced, database_id, clock=now)  # another worker holds it
    assert other is not None
    assert locks.take(synced, database_id, clock=now) is None
    assert locks.busy(synced, [database_id], now()) == {database_id}
    report = write_back_due(synced)
    assert (report.busy, report.handled) == (1, 0)
    other.release()
    assert locks.busy(synced, [database_id], now()) == set()
    assert write_back_due(synced).outcomes == {"created": 1}
    assert reload(synced, booking).written_seq == reload(synced, booking).change_seq


def test_a_dead_writers_lease_runs_out_on_sqlite(synced_sqlite_store):
    synced = synced_sqlite_store
    slots, ids = slots_and_ids(synced)
    book(synced, slots[0], ids)
    with session_scope(synced) as session:
        [database_id] = store.due_databases(session, now())
    assert locks.take(synced, database_id, clock=now) is not None  # and never released
    assert write_back_due(synced).busy == 1
    # A holder that died lets go when its lease runs out.
    later = write_back_due(synced, clock=lambda: now() + timedelta(minutes=1))
    assert (later.busy, later.handled) == (0, 1)
