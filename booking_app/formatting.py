"""The one path from a stored UTC moment to the time a patient reads.

Pages, e-mail, SMS and calendar files all format times here, so that a DST change
cannot show one time on the page and another in the confirmation. This module knows
nothing of FastAPI or the store: it turns aware datetimes into text.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
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
