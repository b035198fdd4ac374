"""A logged-in patient's own bookings: which they are, and whether the patient may
cancel or move one on the web.

The rules (the same for the booking page and the public API):

- cancelling needs *Avbokning aktiverad* and the treatment's ``CancelInWeb``;
- rebooking needs *Ändra bokning aktiverad* and the treatment's ``ChangeInWeb``;
- both close at the cut-off: the stricter (larger) of the tenant's *Ändra
  bokningsinställning* hours and the treatment's ``ChangeInWebLimit`` hours before
  the appointment. Past it the patient is told to call the clinic (its phone number
  comes with the verdict).

Every lookup is by tenant *and* personal number: another patient's booking is
:class:`~connectors.store.bookings.NotFound`, never "forbidden", so its existence
is not given away. Cancelled and rebooked bookings stay as status changes (see
:func:`connectors.store.bookings.cancel` and ``confirm``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.store.bookings import NotFound, Request, cancel, confirm, hold
from connectors.store.models import (
    Booking,
    Clinic,
    OpusAppointment,
    Practitioner,
    TenantSettings,
    Treatment,
)


@dataclass(frozen=True)
class Verdict:
    """May the patient do it? ``reason`` is a message key when not; ``phone`` is the
    clinic's number to call instead."""

    allowed: bool
    reason: str | None = None
    cutoff_at: datetime | None = None
    phone: str | None = None


class Refused(Exception):
    """A rule says no (the verdict says which)."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.reason)
        self.verdict = verdict


@dataclass(frozen=True)
class MyBooking:
    """One coming appointment as *Mina bokningar* shows it. ``reference`` is ``None``
    for an appointment the clinic made in Opus (it can only be changed by phone)."""

    reference: str | None
    starts_at: datetime
    ends_at: datetime
    clinic_name: str
    clinic_phone: str | None
    treatment_name: str | None
    practitioner_name: str | None
    cancel: Verdict
    rebook: Verdict


def cutoff_at(settings: TenantSettings, treatment: Treatment, starts_at: datetime) -> datetime:
    """When web changes close: the stricter of the tenant's and the treatment's limit."""
    hours = max(settings.change_cutoff_hours, treatment.change_in_web_limit_hours)
    return starts_at - timedelta(hours=hours)


@dataclass(frozen=True)
class _Change:
    """What allows one kind of web change: the tenant's setting and the treatment's
    flag (names of their columns), and the reasons shown when either is off."""

    setting: str
    setting_reason: str
    treatment_flag: str
    treatment_reason: str


_CANCEL = _Change(
    "cancel_enabled",
    "my_booking_cancel_disabled",
    "cancel_in_web",
    "my_booking_cancel_not_for_treatment",
)
_REBOOK = _Change(
    "change_enabled",
    "my_booking_change_disabled",
    "change_in_web",
    "my_booking_change_not_for_treatment",
)


def _verdict(session: Session, booking: Booking, now: datetime, change: _Change) -> Verdict:
    settings = session.get_one(TenantSettings, booking.tenant_id)
    treatment = session.get_one(Treatment, booking.treatment_id)
    phone = session.get_one(Clinic, booking.clinic_id).phone
    if booking.status != "confirmed" or booking.starts_at <= now:
        return Verdict(False, "my_booking_not_active", phone=phone)
    if not getattr(settings, change.setting):
        return Verdict(False, change.setting_reason, phone=phone)
    if not getattr(treatment, change.treatment_flag):
        return Verdict(False, change.treatment_reason, phone=phone)
    closes = cutoff_at(settings, treatment, booking.starts_at)
    if now >= closes:
        return Verdict(False, "my_booking_past_cutoff", closes, phone)
    return Verdict(True, None, closes, phone)


def may_cancel(session: Session, booking: Booking, now: datetime) -> Verdict:
    return _verdict(session, booking, now, _CANCEL)


def may_rebook(session: Session, booking: Booking, now: datetime) -> Verdict:
    return _verdict(session, booking, now, _REBOOK)


def own_booking(session: Session, tenant_id: int, personal_number: str, reference: str) -> Booking:
    """The patient's booking ``reference`` in this tenant; NotFound for anyone else's."""
    booking = session.scalars(
        select(Booking).where(
            Booking.tenant_id == tenant_id,
            Booking.personal_number == personal_number,
            Booking.reference == reference[:64],
        )
    ).one_or_none()
    if booking is None:
        raise NotFound()
    return booking


def coming_bookings(
    session: Session, tenant_id: int, personal_number: str, now: datetime
) -> list[MyBooking]:
    """The patient's coming appointments in this tenant, soonest first: confirmed
    bookings made online, and the appointments the sync read from Opus that are not
    ours already (ours carry our ``appointment_key`` in Opus)."""
    bookings = session.scalars(
        select(Booking)
        .where(
            Booking.tenant_id == tenant_id,
            Booking.personal_number == personal_number,
            Booking.status == "confirmed",
            Booking.starts_at > now,
        )
        .order_by(Booking.starts_at, Booking.id)
    ).all()
    result = [as_my_booking(session, b, now) for b in bookings]
    ours = {
        key
        for (key,) in session.execute(
            select(Booking.appointment_key).where(
                Booking.tenant_id == tenant_id, Booking.personal_number == personal_number
            )
        )
    }
    appointments = session.scalars(
        select(OpusAppointment)
        .where(
            OpusAppointment.tenant_id == tenant_id,
            OpusAppointment.personal_number == personal_number,
            OpusAppointment.status == "booked",
            OpusAppointment.starts_at > now,
        )
        .order_by(OpusAppointment.starts_at)
    ).all()
    for appointment in appointments:
        if appointment.idempotency_key and appointment.idempotency_key in ours:
            continue
        result.append(from_opus(session, appointment))
    return sorted(result, key=lambda m: m.starts_at)


def as_my_booking(session: Session, booking: Booking, now: datetime) -> MyBooking:
    clinic = session.get(Clinic, booking.clinic_id)
    treatment = session.get(Treatment, booking.treatment_id)
    practitioner = session.get(Practitioner, booking.practitioner_id)
    assert clinic is not None and treatment is not None and practitioner is not None
    return MyBooking(
        reference=booking.reference,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        clinic_name=clinic.name,
        clinic_phone=clinic.phone,
        treatment_name=treatment.name,
        practitioner_name=practitioner.display_name,
        cancel=may_cancel(session, booking, now),
        rebook=may_rebook(session, booking, now),
    )


def from_opus(session: Session, appointment: OpusAppointment) -> MyBooking:
    clinic = session.get(Clinic, appointment.clinic_id) if appointment.clinic_id else None
    treatment = (
        session.get(Treatment, appointment.treatment_id) if appointment.treatment_id else None
    )
    practitioner = (
        session.get(Practitioner, appointment.practitioner_id)
        if appointment.practitioner_id
        else None
    )
    phone = clinic.phone if clinic else None
    by_phone = Verdict(False, "my_booking_made_by_clinic", phone=phone)
    return MyBooking(
        reference=None,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        clinic_name=clinic.name if clinic else "",
        clinic_phone=phone,
        treatment_name=treatment.name if treatment else None,
        practitioner_name=practitioner.display_name if practitioner else None,
        cancel=by_phone,
        rebook=by_phone,
    )


def cancel_own(
    session: Session, tenant_id: int, personal_number: str, reference: str, now: datetime
) -> Booking:
    """Cancel the patient's booking if the rules allow it now (checked here, on every
    path: a form posted again after the cut-off is refused)."""
    return cancel_checked(session, own_booking(session, tenant_id, personal_number, reference), now)


def cancel_checked(session: Session, booking: Booking, now: datetime) -> Booking:
    """Cancel ``booking`` if the rules allow it now (whoever proved it is theirs: a
    BankID login, or a reminder's signed link)."""
    verdict = may_cancel(session, booking, now)
    if not verdict.allowed:
        raise Refused(verdict)
    return cancel(session, booking, now)


def rebook_own(
    session: Session,
    tenant_id: int,
    personal_number: str,
    reference: str,
    starts_at: datetime,
    practitioner_id: int | None,
    now: datetime,
    language: str = "sv",
    channel: str = "site",
) -> Booking:
    """Move the patient's booking to ``starts_at`` (same clinic and treatment), if the
    rules allow it now. The new booking is confirmed at once (the patient proved who
    they are with BankID); the old one becomes ``rebooked``. Raises ``Refused``,
    ``TimeTaken`` (someone was quicker), or ``NotActive``."""
    booking = own_booking(session, tenant_id, personal_number, reference)
    return rebook_checked(
        session, booking, starts_at, practitioner_id, now, language=language, channel=channel
    )


def rebook_checked(
    session: Session,
    booking: Booking,
    starts_at: datetime,
    practitioner_id: int | None,
    now: datetime,
    language: str = "sv",
    channel: str = "site",
) -> Booking:
    """Move ``booking`` to ``starts_at`` if the rules allow it now (whoever proved it
    is theirs), confirmed at once; raises as :func:`rebook_own`."""
    tenant_id = booking.tenant_id
    verdict = may_rebook(session, booking, now)
    if not verdict.allowed:
        raise Refused(verdict)
    held = hold(
        session,
        Request(
            tenant_id=tenant_id,
            clinic_id=booking.clinic_id,
            treatment_id=booking.treatment_id,
            starts_at=starts_at,
            practitioner_id=practitioner_id,
            channel=channel,
            language=language,
        ),
        now,
        replaces=booking,
    )
    return confirm(session, held, now)


def latest_details(session: Session, tenant_id: int, personal_number: str) -> dict[str, str]:
    """The contact details of the patient's latest booking in this tenant, to fill in
    the next one (the patient proved who they are with BankID)."""
    latest = session.scalars(
        select(Booking)
        .where(
            Booking.tenant_id == tenant_id,
            Booking.personal_number == personal_number,
            Booking.first_name.is_not(None),
        )
        .order_by(Booking.created_at.desc(), Booking.id.desc())
        .limit(1)
    ).one_or_none()
    if latest is None:
        return {}
    fields = ("first_name", "last_name", "email", "mobile", "address1", "postal_code", "city")
    return {f: getattr(latest, f) for f in fields if getattr(latest, f)}
