"""The store's side of Boka vård: what is offered now, what the marketplace has
accepted (the publish state), and the Appointments taken back as bookings.

The publish state advances only on the marketplace's word: a resource's row is
written after the transaction that carried it succeeded, and deleted after its
withdrawal succeeded. What to send next is the difference between the offer now and
those rows, so a failed or interrupted run loses nothing and sends nothing twice
(and a repeat is harmless anyway: the marketplace updates by business identifier).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from connectors.privacy import scrub
from connectors.store.availability import bookable_times, practitioners_at, rules_for
from connectors.store.bookings import BookingError, Request, confirm, hold
from connectors.store.models import (
    MARKETPLACE_RESOURCE_TYPES,
    Booking,
    Clinic,
    MarketplaceAccount,
    MarketplaceAppointment,
    MarketplaceResource,
    Practitioner,
    Tenant,
    Treatment,
)

Key = tuple[str, str]
"""(resource type, business identifier value)."""


# -- what is offered -------------------------------------------------------------------


@dataclass(frozen=True)
class OfferedSlot:
    clinic_id: int
    practitioner_id: int
    treatment_id: int
    starts_at: datetime
    ends_at: datetime


@dataclass
class Catalogue:
    """A tenant's offer as the marketplace should see it (ORM rows are detached
    snapshots: read them, do not change them)."""

    tenant: Tenant
    clinics: list[Clinic] = field(default_factory=list)
    practitioners: dict[int, list[Practitioner]] = field(default_factory=dict)  # by clinic
    treatments: dict[int, list[Treatment]] = field(default_factory=dict)  # by clinic
    slots: list[OfferedSlot] = field(default_factory=list)


def catalogue(
    session: Session,
    tenant_id: int,
    now: datetime,
    horizon: timedelta,
    *,
    with_slots: bool = True,
) -> Catalogue:
    """Clinics, their added practitioners and web-bookable treatments, and every
    bookable start within ``horizon`` (none while *Ny bokning aktiverad* is off).
    ``with_slots=False`` leaves the slots out, skipping their (costly) search."""
    tenant = session.get_one(Tenant, tenant_id)
    settings = tenant.settings
    offer = Catalogue(tenant=tenant)
    clinics = session.scalars(
        select(Clinic)
        .where(Clinic.tenant_id == tenant_id, Clinic.in_opus)
        .order_by(Clinic.display_order, Clinic.id)
    )
    for clinic in clinics:
        practitioners = practitioners_at(session, tenant_id, clinic.id)
        treatments = list(
            session.scalars(
                select(Treatment)
                .where(
                    Treatment.tenant_id == tenant_id,
                    Treatment.opus_database_id == clinic.opus_database_id,
                    Treatment.in_opus,
                    Treatment.create_in_web,
                )
                .order_by(Treatment.id)
            )
        )
        if not practitioners or not treatments:
            continue
        offer.clinics.append(clinic)
        offer.practitioners[clinic.id] = practitioners
        offer.treatments[clinic.id] = treatments
        if not with_slots or not settings.new_booking_enabled:
            continue
        for treatment in treatments:
            rules = rules_for(settings, treatment, clinic, now)
            for slot in bookable_times(
                session, tenant_id, clinic.id, treatment, rules, now, now + horizon, now
            ):
                offer.slots.append(
                    OfferedSlot(
                        clinic.id, slot.practitioner_id, treatment.id, slot.starts_at, slot.ends_at
                    )
                )
    return offer


# -- the account -----------------------------------------------------------------------


def account_for(session: Session, tenant: Tenant) -> MarketplaceAccount:
    """The tenant's account row, made on first use (named by the subdomain)."""
    account = session.get(MarketplaceAccount, tenant.id)
    if account is None:
        account = MarketplaceAccount(tenant_id=tenant.id, account=tenant.subdomain)
        session.add(account)
        session.flush()
    return account


def record_check(session: Session, tenant_id: int, state: str, now: datetime) -> None:
    account = session.get_one(MarketplaceAccount, tenant_id)
    account.state = state
    account.checked_at = now
    if state == "waiting":
        account.last_error = "Kontot väntar på aktivering hos Boka vård."
    session.flush()


def record_run(session: Session, tenant_id: int, now: datetime, error: str | None) -> None:
    account = session.get_one(MarketplaceAccount, tenant_id)
    account.last_error = None if error is None else scrub(error)[:2000]
    if error is None:
        account.last_success_at = now
    session.flush()


# -- the publish state -----------------------------------------------------------------

# Referenced before referencing: a PractitionerRole names its HealthcareServices.
PUBLISH_ORDER = (
    "Location",
    "Practitioner",
    "HealthcareService",
    "PractitionerRole",
    "Schedule",
    "Slot",
)
assert set(PUBLISH_ORDER) == set(MARKETPLACE_RESOURCE_TYPES)
_ORDER = {name: rank for rank, name in enumerate(PUBLISH_ORDER)}


def published(session: Session, tenant_id: int) -> dict[Key, str]:
    """What the marketplace holds of this tenant: key → content hash."""
    rows = session.execute(
        select(
            MarketplaceResource.resource_type,
            MarketplaceResource.identifier,
            MarketplaceResource.content_hash,
        ).where(MarketplaceResource.tenant_id == tenant_id)
    )
    return {(kind, ident): digest for kind, ident, digest in rows}


def changes(now_published: dict[Key, str], desired: dict[Key, str]) -> tuple[list[Key], list[Key]]:
    """(to put, to withdraw). Puts come referenced-first (a Slot after its Schedule);
    withdrawals referencing-first (a Schedule after its Slots)."""
    puts = [key for key, digest in desired.items() if now_published.get(key) != digest]
    gone = [key for key in now_published if key not in desired]
    puts.sort(key=lambda key: _ORDER[key[0]])
    gone.sort(key=lambda key: -_ORDER[key[0]])
    return puts, gone


def record_published(
    session: Session, tenant_id: int, items: Iterable[tuple[Key, str]], now: datetime
) -> None:
    """The marketplace accepted these (key, hash): they are the publish state now."""
    items = list(items)
    _forget(session, tenant_id, [key for key, _ in items])
    if items:
        session.execute(
            insert(MarketplaceResource),
            [
                {
                    "tenant_id": tenant_id,
                    "resource_type": kind,
                    "identifier": ident,
                    "content_hash": digest,
                    "published_at": now,
                }
                for (kind, ident), digest in items
            ],
        )


def record_withdrawn(session: Session, tenant_id: int, keys: Iterable[Key]) -> None:
    _forget(session, tenant_id, list(keys))


def _forget(session: Session, tenant_id: int, keys: list[Key]) -> None:
    by_type: dict[str, list[str]] = {}
    for kind, ident in keys:
        by_type.setdefault(kind, []).append(ident)
    for kind, idents in by_type.items():
        session.execute(
            delete(MarketplaceResource).where(
                MarketplaceResource.tenant_id == tenant_id,
                MarketplaceResource.resource_type == kind,
                MarketplaceResource.identifier.in_(idents),
            )
        )


# -- bookings made on the marketplace -------------------------------------------------


@dataclass(frozen=True)
class WantedBooking:
    """A marketplace Appointment as our store understands it; the patient's details
    are already judged (see flows.marketplace)."""

    appointment_id: str
    clinic_id: int
    practitioner_id: int
    treatment_id: int
    starts_at: datetime
    personal_number: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    mobile: str | None = None
    message: str | None = None


def taken(session: Session, tenant_id: int, appointment_id: str) -> MarketplaceAppointment | None:
    return session.scalars(
        select(MarketplaceAppointment).where(
            MarketplaceAppointment.tenant_id == tenant_id,
            MarketplaceAppointment.appointment_id == appointment_id,
        )
    ).one_or_none()


def take(
    session: Session, tenant_id: int, wanted: WantedBooking, now: datetime
) -> MarketplaceAppointment:
    """Book the time as a confirmed booking with channel 'boka_vard', once per
    Appointment. The store's rule that a practitioner's time is booked at most once
    decides a race with the booking site: the loser here is recorded as a conflict,
    and the caller tells the marketplace."""
    existing = taken(session, tenant_id, wanted.appointment_id)
    if existing is not None:
        return existing
    request = Request(
        tenant_id,
        wanted.clinic_id,
        wanted.treatment_id,
        wanted.starts_at,
        wanted.practitioner_id,
        channel="boka_vard",
    )
    booking: Booking | None = None
    reason = None
    try:
        with session.begin_nested():
            booking = hold(session, request, now)
            for name in ("personal_number", "first_name", "last_name", "email", "mobile"):
                setattr(booking, name, getattr(wanted, name))
            booking.message = wanted.message
            confirm(session, booking, now)
    except BookingError as exc:  # taken meanwhile, lapsed, or no longer offered
        booking, reason = None, exc.key
    row = MarketplaceAppointment(
        tenant_id=tenant_id,
        appointment_id=wanted.appointment_id,
        booking_id=None if booking is None else booking.id,
        outcome="booked" if booking is not None else "conflict",
        reason=reason,
        taken_at=now,
    )
    session.add(row)
    session.flush()
    return row


def refuse(
    session: Session, tenant_id: int, appointment_id: str, reason: str, now: datetime
) -> MarketplaceAppointment:
    """An Appointment on our Slot that we cannot book (no usable patient): recorded once."""
    existing = taken(session, tenant_id, appointment_id)
    if existing is not None:
        return existing
    row = MarketplaceAppointment(
        tenant_id=tenant_id,
        appointment_id=appointment_id,
        outcome="invalid",
        reason=reason[:100],
        taken_at=now,
    )
    session.add(row)
    session.flush()
    return row


def booking_reference(session: Session, row: MarketplaceAppointment) -> str | None:
    if row.booking_id is None:
        return None
    return session.get_one(Booking, row.booking_id).reference


def mark_told(session: Session, row_id: int, now: datetime) -> None:
    session.get_one(MarketplaceAppointment, row_id).told_at = now
    session.flush()
