"""Times as patients read them: see :mod:`opus_online.formatting`, the one path that
pages, e-mail, SMS and calendar files share. Re-exported here for the app's modules."""

from opus_online.formatting import (
    DEFAULT_LANGUAGE,
    EN_DASH,
    MONTHS,
    MONTHS_LONG,
    STOCKHOLM,
    WEEKDAYS,
    WEEKDAYS_LONG,
    format_clock,
    format_date,
    format_datetime,
    format_day,
    format_long_datetime,
    format_month,
    format_range,
    iso_local,
    local,
    local_day,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "EN_DASH",
    "MONTHS",
    "MONTHS_LONG",
    "STOCKHOLM",
    "WEEKDAYS",
    "WEEKDAYS_LONG",
    "format_clock",
    "format_date",
    "format_datetime",
    "format_day",
    "format_long_datetime",
    "format_month",
    "format_range",
    "iso_local",
    "local",
    "local_day",
]
