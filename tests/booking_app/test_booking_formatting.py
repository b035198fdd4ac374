"""The one formatting path for times: UTC in, Stockholm wall clock out, in Swedish
(or English). DST changes on the last Sunday of March and of October are the cases
that go wrong silently, so they are spelled out minute by minute."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest

from booking_app.formatting import (
    format_clock,
    format_datetime,
    format_range,
    iso_local,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_winter_time_is_utc_plus_one():
    assert format_range(utc(2026, 12, 2, 7, 0), utc(2026, 12, 2, 9, 0)) == "ons 2 dec 08:00–10:00"


def test_summer_time_is_utc_plus_two():
    assert format_datetime(utc(2026, 6, 17, 6, 0)) == "ons 17 jun 08:00"
    assert iso_local(utc(2026, 6, 17, 6, 0)) == "2026-06-17T08:00:00+02:00"


@pytest.mark.parametrize(
    ("moment", "shown", "iso"),
    [
        # 2026-03-29, last Sunday of March: at 01:00 UTC clocks jump from 02:00 to 03:00.
        (utc(2026, 3, 28, 23, 30), "sön 29 mar 00:30", "2026-03-29T00:30:00+01:00"),
        (utc(2026, 3, 29, 0, 59), "sön 29 mar 01:59", "2026-03-29T01:59:00+01:00"),
        (utc(2026, 3, 29, 1, 0), "sön 29 mar 03:00", "2026-03-29T03:00:00+02:00"),
        (utc(2026, 3, 29, 6, 0), "sön 29 mar 08:00", "2026-03-29T08:00:00+02:00"),
        (utc(2026, 3, 28, 7, 0), "lör 28 mar 08:00", "2026-03-28T08:00:00+01:00"),
        # 2026-10-25, last Sunday of October: at 01:00 UTC clocks fall back from 03:00
        # to 02:00, so 02:30 happens twice; the offset tells them apart.
        (utc(2026, 10, 25, 0, 30), "sön 25 okt 02:30", "2026-10-25T02:30:00+02:00"),
        (utc(2026, 10, 25, 1, 30), "sön 25 okt 02:30", "2026-10-25T02:30:00+01:00"),
        (utc(2026, 10, 25, 7, 0), "sön 25 okt 08:00", "2026-10-25T08:00:00+01:00"),
        (utc(2026, 10, 24, 6, 0), "lör 24 okt 08:00", "2026-10-24T08:00:00+02:00"),
        # Another year, other Sundays: the rule, not one calendar, is followed.
        (utc(2025, 3, 30, 1, 0), "sön 30 mar 03:00", "2025-03-30T03:00:00+02:00"),
        (utc(2025, 10, 26, 1, 0), "sön 26 okt 02:00", "2025-10-26T02:00:00+01:00"),
    ],
)
def test_dst_changes(moment: datetime, shown: str, iso: str):
    assert format_datetime(moment) == shown
    assert iso_local(moment) == iso


def test_range_over_spring_forward_is_one_hour_shorter_on_the_clock():
    # 00:30–01:30 UTC is an hour of real time, but 01:30–03:30 on the wall clock.
    assert format_range(utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30)) == (
        "sön 29 mar 01:30–03:30"
    )


def test_range_over_fall_back_is_one_hour_longer_on_the_clock():
    # Two hours of real time that the wall clock shows as 02:00–03:00.
    assert format_range(utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 2, 0)) == (
        "sön 25 okt 02:00–03:00"
    )


def test_same_utc_time_of_day_moves_across_the_change():
    # A daily 07:00 UTC range is 08:00 in winter and 09:00 in summer.
    before, after = utc(2026, 3, 28, 7, 0), utc(2026, 3, 30, 7, 0)
    assert (format_clock(before), format_clock(after)) == ("08:00", "09:00")


def test_range_ending_on_another_day_repeats_the_date():
    assert format_range(utc(2027, 12, 31, 22, 0), utc(2028, 1, 1, 0, 30)) == (
        "fre 31 dec 23:00–lör 1 jan 01:30"
    )


def test_every_swedish_weekday_and_month():
    monday = utc(2026, 11, 30, 9, 0)  # a Monday, in winter time
    days = [format_datetime(monday + timedelta(days=n)).split()[0] for n in range(7)]
    assert days == ["mån", "tis", "ons", "tors", "fre", "lör", "sön"]
    months = [format_datetime(utc(2026, m, 15, 9, 0)).split()[2] for m in range(1, 13)]
    assert months == [
        "jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"
    ]  # fmt: skip


def test_english():
    assert format_range(utc(2026, 12, 2, 7, 0), utc(2026, 12, 2, 9, 0), lang="en") == (
        "Wed 2 Dec 08:00–10:00"
    )


def test_unknown_language_falls_back_to_swedish():
    assert format_datetime(utc(2026, 12, 2, 7, 0), lang="fi") == "ons 2 dec 08:00"


def test_any_aware_zone_is_converted():
    new_york = timezone(timedelta(hours=-5))
    assert format_datetime(datetime(2026, 12, 2, 2, 0, tzinfo=new_york)) == "ons 2 dec 08:00"


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        format_datetime(datetime(2026, 12, 2, 8, 0))


def test_formatting_does_not_pull_in_fastapi():
    """E-mail and SMS code reuses this module; it must not need the web app."""
    code = "import sys, booking_app.formatting; print('fastapi' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
