"""A reminder's signed link, and what a reminder of an Opus appointment says.

The link (:mod:`opus_online.signed_links`, purpose ``reminder``, the tenant's id) names
a booking by its id, or an Opus appointment of the mirror by ``o-`` and its id, both in
base 36 (short: the link must fit one SMS), and works until the cancel/rebook cut-off.
It is made as the reminder is sent and never stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from connectors.notifications.fields import Appointment, address_line, manage_link
from connectors.store.models import (
    Booking,
    Clinic,
    OpusAppointment,
    Practitioner,
    TenantSettings,
    Treatment,
)
from connectors.store.my_bookings import cutoff_at
from opus_online import signed_links

PURPOSE = "reminder"
"""The signed links' purpose (:mod:`opus_online.signed_links`)."""
MIRROR_PREFIX = "o-"
"""A signed link's subject for an Opus appointment (the mirror's id); a booking's is its
id alone, both in base 36."""


def base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


def link_subject(booking_id: int | None = None, opus_appointment_id: int | None = None) -> str:
    if booking_id is not None:
        return base36(booking_id)
    assert opus_appointment_id is not None
    return MIRROR_PREFIX + base36(opus_appointment_id)


def parse_subject(subject: str) -> tuple[str, int] | None:
    """``("booking", id)`` or ``("opus", id)`` from a link's subject; ``None`` if odd."""
    kind, digits = (
        ("opus", subject[2:]) if subject.startswith(MIRROR_PREFIX) else ("booking", subject)
    )
    if not digits or len(digits) > 12 or not digits.isalnum() or digits != digits.lower():
        return None
    return kind, int(digits, 36)


def link_expiry(
    session: Session, booking: Booking | None, appointment: OpusAppointment | None
) -> datetime:
    """Until when a reminder's link works: the cancel/rebook cut-off."""
    if booking is not None:
        settings = session.get_one(TenantSettings, booking.tenant_id)
        return cutoff_at(
            settings, session.get_one(Treatment, booking.treatment_id), booking.starts_at
        )
    assert appointment is not None
    settings = session.get_one(TenantSettings, appointment.tenant_id)
    treatment = (
        session.get(Treatment, appointment.treatment_id) if appointment.treatment_id else None
    )
    hours = max(
        settings.change_cutoff_hours, treatment.change_in_web_limit_hours if treatment else 0
    )
    return appointment.starts_at - timedelta(hours=hours)


def signed_link(
    secret: bytes,
    site_url: str,
    tenant_id: int,
    subject: str,
    expires_at: datetime,
) -> str:
    token = signed_links.sign(
        secret, purpose=PURPOSE, tenant=str(tenant_id), subject=subject, expires_at=expires_at
    )
    return manage_link(site_url, token)


def message_link(
    session: Session, secret: bytes, site_url: str, payload: dict, booking_id: int | None
) -> str | None:
    """The signed link a reminder carries (made as it is sent, never stored)."""
    if booking_id is not None:
        booking = session.get(Booking, booking_id)
        if booking is None:
            return None
        return signed_link(
            secret, site_url, booking.tenant_id, link_subject(booking_id=booking.id),
            link_expiry(session, booking, None),
        )  # fmt: skip
    appointment = session.get(OpusAppointment, int(payload.get("opus_appointment") or 0))
    if appointment is None:
        return None
    return signed_link(
        secret, site_url, appointment.tenant_id, link_subject(opus_appointment_id=appointment.id),
        link_expiry(session, None, appointment),
    )  # fmt: skip


def mirror_appointment(session: Session, opus_appointment_id: int) -> Appointment | None:
    """What a reminder of an Opus appointment says about it (the mirror's values)."""
    row = session.get(OpusAppointment, opus_appointment_id)
    if row is None:
        return None
    clinic = session.get(Clinic, row.clinic_id) if row.clinic_id else None
    practitioner = session.get(Practitioner, row.practitioner_id) if row.practitioner_id else None
    treatment = session.get(Treatment, row.treatment_id) if row.treatment_id else None
    return Appointment(
        reference="",
        appointment_key=f"opus-{row.opus_database_id}-{row.opus_appointment_id}",
        sequence=0,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        language="sv",
        first_name=row.first_name or "",
        last_name=row.last_name or "",
        clinic_name=clinic.name if clinic else "",
        clinic_address=address_line(
            clinic.address1, clinic.address2, clinic.postal_code, clinic.city
        )
        if clinic
        else "",
        clinic_phone=(clinic.phone or "") if clinic else "",
        clinic_email=(clinic.email or "") if clinic else "",
        practitioner=practitioner.display_name if practitioner else "",
        treatment=treatment.name if treatment else "",
    )
