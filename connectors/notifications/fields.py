"""Merge fields (*kopplingsfält*): what a message template may say about a booking.

A message is composed from a :class:`Appointment`, plain values read from the store
when the message is sent. The personal number is not among them: it never appears in
a message or a link (the link carries the booking's random reference).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from opus_online.formatting import format_clock, format_date, format_day, local_day

BOOKING_PATH = "/bokning/{reference}"
"""The patient's page for one booking (view, cancel, rebook), by its random reference."""
MANAGE_PATH = "/h/{token}"
"""A reminder's link: the booking's page by a signed token (see
:mod:`opus_online.signed_links`), short enough for one SMS."""
SAMPLE_MANAGE_TOKEN = "5yc1s.tlk2v3." + "x" * 22
"""A realistic long token (booking id and expiry in base 36, the MAC) for estimates."""


@dataclass(frozen=True)
class Field:
    label: str  # as the operators' page names it (Swedish)
    sample: str  # a realistic long value, for the SMS length estimate
    sample_sms: str | None = None  # when an SMS gets a shorter value than e-mail


FIELDS: dict[str, Field] = {
    "patient_name": Field("Patientens namn", "Maximiliana Johansson-Lindqvist"),
    "first_name": Field("Patientens förnamn", "Maximiliana"),
    "clinic_name": Field("Klinik", "Tandmottagningen Västerås Centrum"),
    "clinic_address": Field("Klinikens adress", "Stora Gatan 112, 722 12 Västerås"),
    "clinic_phone": Field("Klinikens telefon", "021-123 45 67"),
    "practitioner": Field("Behandlare", "Anna-Karin Bergström"),
    "treatment": Field("Behandling", "Undersökning och tandstensborttagning"),
    "date": Field("Datum", "onsdag 30 september 2026", "ons 30 sep"),
    "time": Field("Tid", "14:45"),
    "link": Field(
        "Länk (avboka/ändra; efter avbokning: boka ny tid)",
        "https://tandmottagningen.opusdentalonline.com" + BOOKING_PATH.format(reference="x" * 22),
    ),
}
"""Every merge field a tenant's template may use, by name (``{{ patient_name }}``)."""


@dataclass(frozen=True)
class Appointment:
    """What a message says about a booking (all plain values, no ORM objects)."""

    reference: str
    appointment_key: str  # shared by a booking and its rebookings: one calendar event
    sequence: int  # how many times the appointment has changed (calendar SEQUENCE)
    starts_at: datetime
    ends_at: datetime
    language: str
    first_name: str
    last_name: str
    clinic_name: str
    clinic_address: str
    clinic_phone: str
    clinic_email: str
    practitioner: str
    treatment: str


def merge_values(
    appointment: Appointment, site_url: str, kind: str, channel: str
) -> dict[str, str]:
    """The merge fields' values for one message. An SMS gets the short date
    (``ons 2 dec``) to stay within one SMS; e-mail the long one."""
    lang = appointment.language
    date = (
        format_date(appointment.starts_at, lang)
        if channel == "sms"
        else format_day(local_day(appointment.starts_at), lang)
    )
    # After a cancellation or a conflict the booking is gone: the link books anew.
    ended = kind in ("cancel", "conflict")
    link = site_url if ended else booking_link(site_url, appointment.reference)
    return {
        "patient_name": " ".join(p for p in (appointment.first_name, appointment.last_name) if p),
        "first_name": appointment.first_name,
        "clinic_name": appointment.clinic_name,
        "clinic_address": appointment.clinic_address,
        "clinic_phone": appointment.clinic_phone,
        "practitioner": appointment.practitioner,
        "treatment": appointment.treatment,
        "date": date,
        "time": format_clock(appointment.starts_at),
        "link": link,
    }


def sample_values(channel: str, kind: str | None = None) -> dict[str, str]:
    """Long but realistic values: what an estimate of a template's length uses. A
    reminder's link is the longer signed one."""
    values = {
        name: (f.sample_sms if channel == "sms" and f.sample_sms else f.sample)
        for name, f in FIELDS.items()
    }
    if kind == "reminder":
        values["link"] = manage_link(SAMPLE_SITE, SAMPLE_MANAGE_TOKEN)
    return values


SAMPLE_SITE = "https://tandmottagningen.opusdentalonline.com"


def manage_link(site_url: str, token: str) -> str:
    return site_url.rstrip("/") + MANAGE_PATH.format(token=token)


def booking_link(site_url: str, reference: str) -> str:
    return site_url.rstrip("/") + BOOKING_PATH.format(reference=reference)


def address_line(*parts: str | None) -> str:
    """``Storgatan 1, 753 20 Uppsala`` from address lines, postal code and city."""
    street = ", ".join(p.strip() for p in parts[:-2] if p and p.strip())
    town = " ".join(p.strip() for p in parts[-2:] if p and p.strip())
    return ", ".join(p for p in (street, town) if p)
