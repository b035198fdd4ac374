"""The calendar file: RFC 5545 lines (CRLF, folded at 75 octets, never inside a
character), escaped text, UTC times, and one event per appointment across rebookings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from icalendar import Calendar

from connectors.notifications.fields import Appointment
from connectors.notifications.ics import calendar, escape_text, fold, utc_stamp

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
START = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
LINK = "https://tandmottagningen.opusdentalonline.com/bokning/Ab3dEf5hIj7lMn9pQr1tUv"


def appointment(**changes) -> Appointment:
    base = Appointment(
        reference="Ab3dEf5hIj7lMn9pQr1tUv",
        appointment_key="6f1c2a4e-0000-4000-8000-000000000001",
        sequence=0,
        starts_at=START,
        ends_at=START + timedelta(minutes=45),
        language="sv",
        first_name="Astrid",
        last_name="Lind",
        clinic_name="Tandmottagningen Västerås Centrum; Mottagning 2, plan 3",
        clinic_address="Stora Gatan 112, 722 12 Västerås",
        clinic_phone="021-123 45 67",
        clinic_email="",
        practitioner="Åsa Öberg-Ärlig",
        treatment="Undersökning, röntgen och tandstensborttagning\\special",
    )
    return replace(base, **changes)


def test_the_file_parses_and_says_what_the_booking_is():
    data = calendar(appointment(), link=LINK, now=NOW)
    parsed = Calendar.from_ical(data)
    assert str(parsed["VERSION"]) == "2.0" and str(parsed["METHOD"]) == "PUBLISH"
    [event] = parsed.walk("VEVENT")
    assert str(event["UID"]) == "6f1c2a4e-0000-4000-8000-000000000001@opusdentalonline.com"
    assert event.decoded("DTSTART") == START
    assert event.decoded("DTEND") == START + timedelta(minutes=45)
    assert event.decoded("DTSTAMP") == NOW
    assert str(event["SUMMARY"]) == (
        "Tandvård: Undersökning, röntgen och tandstensborttagning\\special"
    )
    assert str(event["LOCATION"]) == (
        "Tandmottagningen Västerås Centrum; Mottagning 2, plan 3, Stora Gatan 112, 722 12 Västerås"
    )
    description = str(event["DESCRIPTION"])
    assert description.startswith("onsdag 2 december 2026 kl. 08:00\n")
    assert "hos Åsa Öberg-Ärlig" in description and description.endswith(LINK)
    assert str(event["URL"]) == LINK and str(event["STATUS"]) == "CONFIRMED"


def test_lines_end_in_crlf_and_are_at_most_75_octets():
    data = calendar(appointment(), link=LINK, now=NOW)
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    lines = data.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines)
    assert any(line.startswith(b" ") for line in lines)  # something was folded
    for line in lines:
        line.decode("utf-8")  # no character was cut in two


def test_folding_never_splits_a_character():
    line = "DESCRIPTION:" + "å" * 100
    folded = fold(line)
    parts = folded.split("\r\n ")
    assert "".join(parts) == line
    assert all(len(p.encode()) <= 75 for p in parts[:1])
    assert all(len(p.encode()) <= 74 for p in parts[1:])
    assert fold("SHORT:x") == "SHORT:x"


def test_text_is_escaped():
    assert escape_text("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"


def test_times_are_utc_whatever_zone_comes_in():
    stockholm_summer = timezone(timedelta(hours=2))
    assert utc_stamp(datetime(2026, 3, 29, 3, 30, tzinfo=stockholm_summer)) == "20260329T013000Z"
    with pytest.raises(ValueError, match="naive"):
        utc_stamp(datetime(2026, 3, 29, 3, 30))


def test_a_rebooking_updates_the_same_event_and_a_cancellation_removes_it():
    first = Calendar.from_ical(calendar(appointment(), link=LINK, now=NOW))
    moved = Calendar.from_ical(
        calendar(
            appointment(
                sequence=1,
                starts_at=START + timedelta(days=1),
                ends_at=START + timedelta(days=1, minutes=45),
            ),
            link=LINK,
            now=NOW,
        )
    )
    cancelled = Calendar.from_ical(
        calendar(appointment(sequence=2), link=LINK, now=NOW, cancelled=True)
    )
    events = [c.walk("VEVENT")[0] for c in (first, moved, cancelled)]
    assert len({str(e["UID"]) for e in events}) == 1
    assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2]
    assert str(cancelled["METHOD"]) == "CANCEL" and str(events[2]["STATUS"]) == "CANCELLED"


def test_english_summary():
    parsed = Calendar.from_ical(calendar(appointment(language="en"), link=LINK, now=NOW))
    event = parsed.walk("VEVENT")[0]
    assert str(event["SUMMARY"]).startswith("Dental appointment: ")
    assert str(event["DESCRIPTION"]).startswith("Wednesday 2 December 2026 at 08:00")
