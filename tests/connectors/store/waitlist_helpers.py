"""Patients with bookings on the demo tenant's waiting list, for the waiting-list tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.store import bookings
from connectors.store.availability import Slot
from connectors.store.models import Booking, Tenant
from connectors.store.waitlist import Limits, join
from connectors.store.waitlist_models import WaitlistOffer
from tests.helpers import first_slots, request_for

SECRET = b"waitlist-test-secret"


def now() -> datetime:
    return datetime.now(UTC)


def enable(session: Session, **settings) -> Tenant:
    tenant = session.scalars(select(Tenant)).one()
    tenant.settings.waitlist_enabled = True
    for name, value in settings.items():
        setattr(tenant.settings, name, value)
    session.flush()
    return tenant


def coming_slots(session: Session, days: int = 21) -> list[Slot]:
    """Bookable times of the demo's first clinic and treatment from three days on
    (well past every cut-off), one per practitioner and day (they can all be booked)."""
    *_, slots = first_slots(session, days=days)
    later = [s for s in slots if s.starts_at > now() + timedelta(days=3)]
    chosen = {(s.practitioner_id, s.starts_at.date()): s for s in reversed(later)}
    return sorted(chosen.values(), key=lambda s: (s.starts_at, s.practitioner_id))


def book(session: Session, slot: Slot, number: int, *, mobile: bool = True) -> Booking:
    """A confirmed booking of patient ``number`` at ``slot`` (its messages queued)."""
    tenant, clinic, treatment, _ = first_slots(session, days=1)
    held = bookings.hold(session, request_for(tenant, clinic, treatment, slot), now())
    held.personal_number = f"1980010{number:05d}"[:12]
    held.first_name, held.last_name = f"Patient{number}", "Testsson"
    held.email = f"patient{number}@example.se"
    held.mobile = f"+4670{number:07d}" if mobile else None
    return bookings.confirm(session, held, now())


def wait_for_earlier(session: Session, booking: Booking, **limits) -> None:
    join(session, booking, Limits(**limits), now())


def offers_of(session: Session, booking: Booking) -> list[WaitlistOffer]:
    """The offers made to ``booking``'s patient, oldest first."""
    return list(
        session.scalars(
            select(WaitlistOffer)
            .join(Booking, Booking.id == WaitlistOffer.held_booking_id)
            .where(Booking.rebooked_from_id == booking.id)
            .order_by(WaitlistOffer.id)
        )
    )
