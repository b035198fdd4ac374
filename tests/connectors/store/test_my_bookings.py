"""A patient's own bookings and the rules for cancelling and rebooking them, on both
stores: each rule by itself, the stricter cut-off, status changes kept, tenants and
patients kept apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.store import bookings, my_bookings
from connectors.store.bookings import NotFound, TimeTaken
from connectors.store.db import session_scope
from connectors.store.models import (
    Booking,
    Clinic,
    OpusAppointment,
    OutboxMessage,
    Tenant,
    Treatment,
)
from connectors.store.my_bookings import Refused
from demo.store_seed import seed_demo_tenant
from tests.helpers import first_slots, request_for

PATIENT = "191212121212"
OTHER_PATIENT = "198112189876"


def now() -> datetime:
    return datetime.now(UTC)


def book(session, slot_index: int = 0, personal_number: str = PATIENT) -> Booking:
    """A confirmed booking of the patient, as the booking page makes it."""
    tenant, clinic, treatment, slots = first_slots(session)
    later = [s for s in slots if s.starts_at > now() + timedelta(days=3)]  # past any cut-off
    held = bookings.hold(session, request_for(tenant, clinic, treatment, later[slot_index]), now())
    held.personal_number = personal_number
    held.first_name, held.last_name = "Tolvan", "Tolvansson"
    held.email = "tolvan@example.se"
    return bookings.confirm(session, held, now())


def settings_of(session, booking: Booking):
    return session.get(Tenant, booking.tenant_id).settings


def test_a_booking_well_before_the_cutoff_may_be_cancelled_and_rebooked(synced):
    with session_scope(synced) as session:
        booking = book(session)
        at = booking.starts_at - timedelta(days=3)
        assert my_bookings.may_cancel(session, booking, at).allowed
        assert my_bookings.may_rebook(session, booking, at).allowed


@pytest.mark.parametrize(
    ("change", "cancel_reason", "rebook_reason"),
    [
        ({"cancel_enabled": False}, "my_booking_cancel_disabled", None),
        ({"change_enabled": False}, None, "my_booking_change_disabled"),
    ],
)
def test_each_tenant_setting_turns_its_action_off(synced, change, cancel_reason, rebook_reason):
    with session_scope(synced) as session:
        booking = book(session)
        for name, value in change.items():
            setattr(settings_of(session, booking), name, value)
        at = booking.starts_at - timedelta(days=3)
        assert my_bookings.may_cancel(session, booking, at).reason == cancel_reason
        assert my_bookings.may_rebook(session, booking, at).reason == rebook_reason


@pytest.mark.parametrize(
    ("change", "cancel_reason", "rebook_reason"),
    [
        ({"cancel_in_web": False}, "my_booking_cancel_not_for_treatment", None),
        ({"change_in_web": False}, None, "my_booking_change_not_for_treatment"),
    ],
)
def test_a_treatment_that_forbids_it_wins_over_the_settings(
    synced, change, cancel_reason, rebook_reason
):
    with session_scope(synced) as session:
        booking = book(session)
        treatment = session.get(Treatment, booking.treatment_id)
        for name, value in change.items():
            setattr(treatment, name, value)
        at = booking.starts_at - timedelta(days=3)
        assert my_bookings.may_cancel(session, booking, at).reason == cancel_reason
        assert my_bookings.may_rebook(session, booking, at).reason == rebook_reason


@pytest.mark.parametrize(
    ("tenant_hours", "treatment_hours", "stricter"), [(24, 48, 48), (72, 24, 72), (0, 2, 2)]
)
def test_the_cutoff_is_the_stricter_of_tenant_and_treatment(
    synced, tenant_hours, treatment_hours, stricter
):
    with session_scope(synced) as session:
        booking = book(session)
        settings_of(session, booking).change_cutoff_hours = tenant_hours
        session.get(Treatment, booking.treatment_id).change_in_web_limit_hours = treatment_hours
        session.get(Clinic, booking.clinic_id).phone = "018-12 34 56"
        closes = booking.starts_at - timedelta(hours=stricter)
        before = closes - timedelta(minutes=1)
        assert my_bookings.may_cancel(session, booking, before).allowed
        assert my_bookings.may_rebook(session, booking, before).allowed
        for verdict in (
            my_bookings.may_cancel(session, booking, closes),
            my_bookings.may_rebook(session, booking, closes),
        ):
            assert not verdict.allowed
            assert verdict.reason == "my_booking_past_cutoff"
            assert verdict.cutoff_at == closes
            assert verdict.phone == "018-12 34 56"  # the page tells the patient to call


def test_cancel_past_the_cutoff_is_refused_and_changes_nothing(synced):
    with session_scope(synced) as session:
        booking = book(session)
        late = booking.starts_at - timedelta(hours=1)
        with pytest.raises(Refused) as refused:
            my_bookings.cancel_own(session, booking.tenant_id, PATIENT, booking.reference, late)
        assert refused.value.verdict.reason == "my_booking_past_cutoff"
        session.refresh(booking)
        assert booking.status == "confirmed"


def test_cancel_is_a_status_change_with_write_back_and_a_message(synced):
    with session_scope(synced) as session:
        booking = book(session)
        seq = booking.change_seq
        my_bookings.cancel_own(session, booking.tenant_id, PATIENT, booking.reference, now())
    with session_scope(synced) as session:
        kept = session.scalars(select(Booking).where(Booking.id == booking.id)).one()
        assert kept.status == "cancelled" and kept.cancelled_at is not None
        assert kept.change_seq == seq + 1  # write-back will cancel the Opus appointment
        kinds = session.scalars(
            select(OutboxMessage.kind).where(OutboxMessage.booking_id == kept.id)
        ).all()
        assert "cancel" in kinds


def test_rebook_moves_the_appointment_and_keeps_the_old_booking(synced):
    with session_scope(synced) as session:
        booking = book(session)
        _, _, _, slots = first_slots(session)
        target = slots[-1]
        moved = my_bookings.rebook_own(
            session,
            booking.tenant_id,
            PATIENT,
            booking.reference,
            target.starts_at,
            target.practitioner_id,
            now(),
        )
        assert moved.status == "confirmed" and moved.starts_at == target.starts_at
        assert moved.appointment_key == booking.appointment_key  # the Opus appointment moves
        assert moved.personal_number == PATIENT and moved.email == "tolvan@example.se"
        session.refresh(booking)
        assert booking.status == "rebooked"
        assert [
            b.reference
            for b in my_bookings.coming_bookings(session, booking.tenant_id, PATIENT, now())
        ] == [moved.reference]


def test_rebook_to_a_time_someone_just_took_keeps_the_booking(synced):
    with session_scope(synced) as session:
        booking = book(session)
        tenant, clinic, treatment, slots = first_slots(session)
        target = slots[-1]
        bookings.hold(session, request_for(tenant, clinic, treatment, target), now())
        with pytest.raises(TimeTaken):
            my_bookings.rebook_own(
                session,
                booking.tenant_id,
                PATIENT,
                booking.reference,
                target.starts_at,
                target.practitioner_id,
                now(),
            )
        session.refresh(booking)
        assert booking.status == "confirmed"


def test_rebook_refused_when_the_treatment_forbids_changes(synced):
    with session_scope(synced) as session:
        booking = book(session)
        session.get(Treatment, booking.treatment_id).change_in_web = False
        _, _, _, slots = first_slots(session)
        with pytest.raises(Refused):
            my_bookings.rebook_own(
                session,
                booking.tenant_id,
                PATIENT,
                booking.reference,
                slots[-1].starts_at,
                slots[-1].practitioner_id,
                now(),
            )


def test_another_patients_or_tenants_booking_is_not_found(synced, demo, opus_sqlite: Path):
    with session_scope(synced) as session:
        booking = book(session)
        other_tenant = seed_demo_tenant(session, demo, opus_sqlite, subdomain="annan")
        with pytest.raises(NotFound):
            my_bookings.own_booking(session, booking.tenant_id, OTHER_PATIENT, booking.reference)
        with pytest.raises(NotFound):
            my_bookings.own_booking(session, other_tenant.id, PATIENT, booking.reference)
        with pytest.raises(NotFound):
            my_bookings.cancel_own(
                session, booking.tenant_id, OTHER_PATIENT, booking.reference, now()
            )
        assert my_bookings.coming_bookings(session, other_tenant.id, PATIENT, now()) == []
        assert my_bookings.coming_bookings(session, booking.tenant_id, OTHER_PATIENT, now()) == []


def test_coming_bookings_lists_confirmed_ones_and_the_clinics_own_once(synced):
    with session_scope(synced) as session:
        first = book(session, 0)
        second = book(session, 3)
        cancelled = book(session, 6)
        book(session, 9, personal_number=OTHER_PATIENT)
        bookings.cancel(session, cancelled, now())
        clinic = session.get(Clinic, first.clinic_id)
        tenant_id = first.tenant_id

        def appointment(number: int, key: str | None, days: int, status="booked"):
            session.add(
                OpusAppointment(
                    tenant_id=tenant_id,
                    opus_database_id=clinic.opus_database_id,
                    opus_appointment_id=number,
                    clinic_id=clinic.id,
                    personal_number=PATIENT,
                    starts_at=now() + timedelta(days=days),
                    ends_at=now() + timedelta(days=days, minutes=30),
                    status=status,
                    idempotency_key=key,
                    row_version=number,
                )
            )

        appointment(1, None, 30)  # made by reception
        appointment(2, first.appointment_key, 1)  # ours, written back: listed once
        appointment(3, None, -2)  # past
        appointment(4, None, 40, status="cancelled")
        session.flush()
        listed = my_bookings.coming_bookings(session, tenant_id, PATIENT, now())
        assert [m.reference for m in listed] == [first.reference, second.reference, None]
        reception = listed[-1]
        assert not reception.cancel.allowed and not reception.rebook.allowed
        assert reception.cancel.reason == "my_booking_made_by_clinic"


def test_the_latest_details_prefill_the_next_booking(synced):
    with session_scope(synced) as session:
        booking = book(session)
        details = my_bookings.latest_details(session, booking.tenant_id, PATIENT)
        assert details["first_name"] == "Tolvan" and details["email"] == "tolvan@example.se"
        assert my_bookings.latest_details(session, booking.tenant_id, OTHER_PATIENT) == {}


def test_a_request_for_a_past_booking_is_not_active(synced):
    with session_scope(synced) as session:
        booking = book(session)
        verdict = my_bookings.may_cancel(session, booking, booking.starts_at + timedelta(hours=1))
        assert verdict.reason == "my_booking_not_active"
