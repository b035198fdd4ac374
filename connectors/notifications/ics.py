"""A calendar file (iCalendar, RFC 5545) for a booking, attached to its e-mail.

One event per Opus appointment: its UID comes from the appointment key, which a
rebooking shares with the booking it replaces, so a phone's calendar moves the event
instead of adding a second one (``SEQUENCE`` grows with each change). A cancellation
sends the same UID with ``METHOD:CANCEL``.

Times are written in UTC (``…Z``): every calendar shows them on its own wall clock,
with no time-zone definition to get wrong around a DST change. The human-readable
time in the description comes from the one formatting path.
"""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.notifications.fields import Appointment
from opus_online.formatting import format_long_datetime

PRODID = "-//Opus Dental Online//Bokning//SV"
UID_DOMAIN = "opusdentalonline.com"
_SUMMARY = {"sv": "Tandvård: {treatment}", "en": "Dental appointment: {treatment}"}
_WITH = {"sv": "hos", "en": "with"}


def calendar(
    appointment: Appointment, *, link: str, now: datetime, cancelled: bool = False
) -> bytes:
    """The ``.ics`` file (UTF-8, CRLF line ends) of ``appointment``."""
    lang = appointment.language if appointment.language in _SUMMARY else "sv"
    when = format_long_datetime(appointment.starts_at, lang)
    who = f" {_WITH[lang]} {appointment.practitioner}" if appointment.practitioner else ""
    description = f"{when}\n{appointment.treatment}{who}\n{appointment.clinic_name}"
    if appointment.clinic_phone:
        description += f"\n{appointment.clinic_phone}"
    description += f"\n\n{link}"
    location = ", ".join(p for p in (appointment.clinic_name, appointment.clinic_address) if p)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if cancelled else 'PUBLISH'}",
        "BEGIN:VEVENT",
        f"UID:{appointment.appointment_key}@{UID_DOMAIN}",
        f"SEQUENCE:{appointment.sequence}",
        f"DTSTAMP:{utc_stamp(now)}",
        f"DTSTART:{utc_stamp(appointment.starts_at)}",
        f"DTEND:{utc_stamp(appointment.ends_at)}",
        f"SUMMARY:{escape_text(_SUMMARY[lang].format(treatment=appointment.treatment))}",
        f"LOCATION:{escape_text(location)}",
        f"DESCRIPTION:{escape_text(description)}",
        f"URL:{link}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines).encode("utf-8")


def utc_stamp(moment: datetime) -> str:
    """``20261202T070000Z``. Naive times are refused, as everywhere."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon and comma escaped, line breaks as ``\\n``."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str, limit: int = 75) -> str:
    """Fold a content line at ``limit`` octets (RFC 5545 3.1), never inside a UTF-8
    character: continuation lines start with one space, which counts toward them."""
    encoded = line.encode("utf-8")
    if len(encoded) <= limit:
        return line
    parts: list[str] = []
    current, size, room = [], 0, limit
    for character in line:
        width = len(character.encode("utf-8"))
        if size + width > room:
            parts.append("".join(current))
            current, size, room = [], 0, limit - 1
        current.append(character)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)
