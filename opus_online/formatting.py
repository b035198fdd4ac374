"""The one path from a stored UTC moment to the time a patient reads.

Pages, e-mail, SMS and calendar files all format times here, so that a DST change
cannot show one time on the page and another in the confirmation. This module knows
nothing of FastAPI or the store: it turns aware datetimes into text. It lives in
``opus_online`` (not ``booking_app``) so that the notifications flow, which may not
import the web app, formats through the same path as the pages.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")

# Abbreviated names as Swedish booking pages and SMS write them ("ons 2 dec"); no dots,
# so that an SMS stays short and a name never ends a sentence by accident.
WEEKDAYS = {
    "sv": ("mån", "tis", "ons", "tors", "fre", "lör", "sön"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
MONTHS = {
    "sv": ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}
DEFAULT_LANGUAGE = "sv"
EN_DASH = "–"


def local(moment: datetime, tz: tzinfo = STOCKHOLM) -> datetime:
    """``moment`` on the clinic's wall clock. A naive datetime is refused: the store
    only hands out aware UTC times, so a naive one is a bug, not a guess to make."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware (UTC) datetime")
    return moment.astimezone(tz)


def format_date(moment: datetime, lang: str = DEFAULT_LANGUAGE, tz: tzinfo = STOCKHOLM) -> str:
    """``ons 2 dec`` (Swedish) or ``Wed 2 Dec`` (English)."""
    wall = local(moment, tz)
    weekdays = WEEKDAYS.get(lang, WEEKDAYS[DEFAULT_LANGUAGE])
    months = MONTHS.get(lang, MONTHS[DEFAULT_LANGUAGE])
    return f"{weekdays[wall.weekday()]} {wall.day} {months[wall.month - 1]}"


def format_clock(moment: datetime, tz: tzinfo = STOCKHOLM) -> str:
    """``08:00``: 24-hour clock in both languages, as Swedish clinics write it."""
    return local(moment, tz).strftime("%H:%M")


def format_datetime(moment: datetime, lang: str = DEFAULT_LANGUAGE, tz: tzinfo = STOCKHOLM) -> str:
    """``ons 2 dec 08:00``."""
    return f"{format_date(moment, lang, tz)} {format_clock(moment, tz)}"


def format_range(
    starts_at: datetime, ends_at: datetime, lang: str = DEFAULT_LANGUAGE, tz: tzinfo = STOCKHOLM
) -> str:
    """``ons 2 dec 08:00–10:00``; the end's date is repeated only when the range ends
    on another local day."""
    end = (
        format_clock(ends_at, tz)
        if local(starts_at, tz).date() == local(ends_at, tz).date()
        else format_datetime(ends_at, lang, tz)
    )
    return f"{format_datetime(starts_at, lang, tz)}{EN_DASH}{end}"


def iso_local(moment: datetime, tz: tzinfo = STOCKHOLM) -> str:
    """Machine-readable local time with its offset, for ``<time datetime=…>`` and
    calendar files: ``2026-12-02T08:00:00+01:00``."""
    return local(moment, tz).isoformat(timespec="seconds")


# Full names, for accessible names and headings that must read as a sentence
# ("torsdag 26 november 2026 kl. 08:00"): a screen reader says "tors" badly.
WEEKDAYS_LONG = {
    "sv": ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS_LONG = {
    "sv": (
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
_AT_CLOCK = {"sv": "kl.", "en": "at"}


def format_day(day: date, lang: str = DEFAULT_LANGUAGE, year: bool = True) -> str:
    """A calendar day, written out: ``torsdag 26 november 2026`` / ``Thursday 26
    November 2026``. Takes a local date (a day in the booking calendar), not a moment."""
    weekdays = WEEKDAYS_LONG.get(lang, WEEKDAYS_LONG[DEFAULT_LANGUAGE])
    months = MONTHS_LONG.get(lang, MONTHS_LONG[DEFAULT_LANGUAGE])
    text = f"{weekdays[day.weekday()]} {day.day} {months[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def format_month(day: date, lang: str = DEFAULT_LANGUAGE) -> str:
    """``november 2026`` / ``November 2026``: the month ``day`` is in."""
    months = MONTHS_LONG.get(lang, MONTHS_LONG[DEFAULT_LANGUAGE])
    return f"{months[day.month - 1]} {day.year}"


def format_long_datetime(
    moment: datetime, lang: str = DEFAULT_LANGUAGE, tz: tzinfo = STOCKHOLM
) -> str:
    """``torsdag 26 november 2026 kl. 08:00`` / ``Thursday 26 November 2026 at 08:00``."""
    wall = local(moment, tz)
    at = _AT_CLOCK.get(lang, _AT_CLOCK[DEFAULT_LANGUAGE])
    return f"{format_day(wall.date(), lang)} {at} {format_clock(moment, tz)}"


def local_day(moment: datetime, tz: tzinfo = STOCKHOLM) -> date:
    """The local calendar day of ``moment``."""
    return local(moment, tz).date()
