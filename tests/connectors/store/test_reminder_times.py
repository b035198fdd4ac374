"""When a reminder goes: wall-clock hours before the visit in Stockholm, out of the quiet
hours, across the DST changes (2027: summer time from 28 March, winter from 31 October)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from connectors.store.reminders import Quiet, reminder_time, wall_clock_before

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NIGHTS = Quiet(21, 8)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=STOCKHOLM)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_hours_before_the_visit_on_the_wall_clock():
    assert reminder_time(local(2027, 5, 12, 14, 30), 24, NIGHTS, STOCKHOLM) == local(
        2027, 5, 11, 14, 30
    )
    assert reminder_time(local(2027, 5, 12, 14, 30), 48, NIGHTS, STOCKHOLM) == local(
        2027, 5, 10, 14, 30
    )


def test_across_the_spring_change_the_reminder_keeps_the_clock_time():
    # Monday 29 March 10:00 summer time (08:00 UTC); 48 h before on the wall clock is
    # Saturday 27 March 10:00 winter time (09:00 UTC): 47 real hours.
    visit = local(2027, 3, 29, 10, 0)
    assert visit == utc(2027, 3, 29, 8, 0)
    assert reminder_time(visit, 48, NIGHTS, STOCKHOLM) == utc(2027, 3, 27, 9, 0)
    # 24 h before lands after the change: Sunday 10:00 summer time.
    assert reminder_time(visit, 24, NIGHTS, STOCKHOLM) == utc(2027, 3, 28, 8, 0)


def test_across_the_autumn_change_the_reminder_keeps_the_clock_time():
    # Monday 1 November 09:00 winter time (08:00 UTC); 48 h before: Saturday 30 October
    # 09:00 summer time (07:00 UTC): 49 real hours.
    visit = local(2027, 11, 1, 9, 0)
    assert reminder_time(visit, 48, NIGHTS, STOCKHOLM) == utc(2027, 10, 30, 7, 0)


def test_a_wall_time_the_spring_change_skips_is_read_before_the_change():
    # 02:30 on 28 March 2027 does not exist; without quiet hours it is 01:30 UTC.
    visit = local(2027, 3, 29, 2, 30)
    assert wall_clock_before(visit, 24, STOCKHOLM) == utc(2027, 3, 28, 1, 30)
    assert reminder_time(visit, 24, Quiet(0, 0), STOCKHOLM) == utc(2027, 3, 28, 1, 30)


def test_the_twice_occurring_autumn_hour_is_read_as_the_first():
    visit = local(2027, 11, 1, 2, 30)  # winter time
    assert wall_clock_before(visit, 24, STOCKHOLM) == utc(2027, 10, 31, 0, 30)  # summer


@pytest.mark.parametrize(
    "visit, expected",
    [
        # 24 h before 22:15 is 22:15 the evening before: quiet, so 08:00 on the visit's day
        (local(2027, 5, 12, 22, 15), local(2027, 5, 12, 8, 0)),
        # 24 h before 07:30 is 07:30: quiet until 08:00 the day before the visit
        (local(2027, 5, 12, 7, 30), local(2027, 5, 11, 8, 0)),
        # exactly the end of the quiet hours is outside them
        (local(2027, 5, 12, 8, 0), local(2027, 5, 11, 8, 0)),
        # exactly their start is inside
        (local(2027, 5, 12, 21, 0), local(2027, 5, 12, 8, 0)),
    ],
)
def test_a_reminder_inside_the_quiet_hours_goes_at_their_end(visit, expected):
    assert reminder_time(visit, 24, NIGHTS, STOCKHOLM) == expected


def test_the_quiet_hours_end_on_the_local_clock_across_the_spring_change():
    # 24 h before Monday 29 March 06:00 is Sunday 06:00 (quiet): Sunday 08:00 summer time.
    visit = local(2027, 3, 29, 6, 0)
    assert reminder_time(visit, 24, NIGHTS, STOCKHOLM) == utc(2027, 3, 28, 6, 0)


def test_when_the_quiet_hours_last_until_the_visit_it_goes_before_they_begin():
    # Visit 07:30, 2 h before is 05:30: quiet until 08:00, after the visit, so 20:59
    # the evening before.
    visit = local(2027, 5, 12, 7, 30)
    assert reminder_time(visit, 2, NIGHTS, STOCKHOLM) == local(2027, 5, 11, 20, 59)


def test_quiet_hours_within_one_day_and_none():
    afternoon = Quiet(12, 14)
    assert reminder_time(local(2027, 5, 12, 13, 0), 24, afternoon, STOCKHOLM) == local(
        2027, 5, 11, 14, 0
    )
    assert reminder_time(local(2027, 5, 12, 23, 0), 24, Quiet(8, 8), STOCKHOLM) == local(
        2027, 5, 11, 23, 0
    )


def test_only_valid_mobile_numbers_from_opus_are_kept_for_reminders():
    from connectors.store.opus_appointments import mobile_number

    assert mobile_number("070-123 45 67") == "+46701234567"
    assert mobile_number("+47 412 34 567") == "+4741234567"
    for odd in ("018-10 20 30", "", None, float("nan"), "not a number", "070"):
        assert mobile_number(odd) is None
