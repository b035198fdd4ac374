"""Bookable times from free ranges, treatments and bookings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from connectors.store.availability import Rules, bookable_slots, is_public_holiday, months_later

MONDAY = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # 08:00 in Stockholm


def rules(**changes) -> Rules:
    values = dict(
        duration=timedelta(minutes=30),
        warm_up=timedelta(0),
        cool_down=timedelta(0),
        grid_minutes=15,
        earliest=MONDAY - timedelta(days=30),
        latest=MONDAY + timedelta(days=90),
        weekends=False,
    )
    values.update(changes)
    return Rules(**values)


def ranges(*spans: tuple[datetime, datetime], practitioner: int = 1) -> list:
    return [(practitioner, a, b) for a, b in spans]


NONE_TAKEN: list = []


def starts(slots) -> list[str]:
    return [s.starts_at.strftime("%H:%M") for s in slots]


def test_starts_fill_the_range_on_the_grid():
    slots = bookable_slots(
        ranges((MONDAY, MONDAY + timedelta(hours=1))),
        NONE_TAKEN,
        rules(),
        MONDAY,
        MONDAY + timedelta(days=1),
        9,
    )
    assert starts(slots) == ["07:00", "07:15", "07:30"]  # 08:30-09:00 local is the last
    assert all(s.ends_at - s.starts_at == timedelta(minutes=30) and s.clinic_id == 9 for s in slots)


def test_warm_up_and_cool_down_must_fit_in_the_range_too():
    slots = bookable_slots(
        ranges((MONDAY, MONDAY + timedelta(hours=1))),
        NONE_TAKEN,
        rules(warm_up=timedelta(minutes=5), cool_down=timedelta(minutes=10)),
        MONDAY,
        MONDAY + timedelta(days=1),
        1,
    )
    assert starts(slots) == ["07:15"]  # 07:05 is off the grid; 07:30 + 30 + 10 > 08:00


def test_an_unaligned_range_starts_at_the_next_grid_line():
    slots = bookable_slots(
        ranges((MONDAY + timedelta(minutes=7), MONDAY + timedelta(minutes=60))),
        NONE_TAKEN,
        rules(grid_minutes=10),
        MONDAY,
        MONDAY + timedelta(days=1),
        1,
    )
    assert starts(slots) == ["07:10", "07:20", "07:30"]


def test_taken_time_is_cut_out_per_practitioner():
    taken = [(1, MONDAY + timedelta(minutes=30), MONDAY + timedelta(minutes=60))]
    both = ranges((MONDAY, MONDAY + timedelta(hours=2))) + ranges(
        (MONDAY, MONDAY + timedelta(hours=1)), practitioner=2
    )
    slots = bookable_slots(both, taken, rules(), MONDAY, MONDAY + timedelta(days=1), 1)
    mine = [s for s in slots if s.practitioner_id == 1]
    theirs = [s for s in slots if s.practitioner_id == 2]
    assert starts(mine) == ["07:00", "08:00", "08:15", "08:30"]
    assert starts(theirs) == ["07:00", "07:15", "07:30"]  # not touched by 1's booking
    assert [s.starts_at for s in slots] == sorted(s.starts_at for s in slots)


def test_earliest_and_the_asked_window_clip_the_starts():
    slots = bookable_slots(
        ranges((MONDAY, MONDAY + timedelta(hours=2))),
        NONE_TAKEN,
        rules(),
        MONDAY + timedelta(minutes=40),
        MONDAY + timedelta(minutes=75),
        1,
    )
    assert starts(slots) == ["07:45", "08:00"]  # starts inside [07:40, 08:15)


@pytest.mark.parametrize(
    ("day", "weekends", "offered"),
    [
        (datetime(2026, 12, 12, 9, tzinfo=UTC), False, False),  # a Saturday
        (datetime(2026, 12, 12, 9, tzinfo=UTC), True, True),
        (datetime(2026, 12, 24, 9, tzinfo=UTC), False, False),  # julafton, a Thursday
        (datetime(2026, 6, 19, 9, tzinfo=UTC), False, False),  # midsommarafton
        (datetime(2026, 12, 25, 9, tzinfo=UTC), True, True),  # juldagen, with Helgbokning
        (datetime(2026, 12, 23, 9, tzinfo=UTC), False, True),  # an ordinary Wednesday
    ],
)
def test_weekends_and_holidays_only_with_helgbokning(day, weekends, offered):
    slots = bookable_slots(
        ranges((day, day + timedelta(hours=1))),
        NONE_TAKEN,
        rules(
            weekends=weekends, earliest=day - timedelta(days=400), latest=day + timedelta(days=400)
        ),
        day,
        day + timedelta(days=1),
        1,
    )
    assert bool(slots) is offered


def test_swedish_holidays_include_the_eves_kept_as_holidays():
    assert is_public_holiday(datetime(2026, 6, 6).date())  # nationaldagen
    assert is_public_holiday(datetime(2026, 12, 31).date())  # nyårsafton
    assert not is_public_holiday(datetime(2026, 12, 7).date())


def test_the_local_day_decides_weekends_across_midnight_utc():
    # Sunday 23:30 UTC is Monday 00:30 in Stockholm: a weekday.
    late = datetime(2026, 12, 13, 23, 30, tzinfo=UTC)
    slots = bookable_slots(
        ranges((late, late + timedelta(hours=1))),
        NONE_TAKEN,
        rules(),
        late,
        late + timedelta(hours=2),
        1,
    )
    assert starts(slots) == ["23:30", "23:45", "00:00"]


@pytest.mark.parametrize(
    ("moment", "months", "horizon"),
    [
        # The wall-clock time is kept across a DST change (CET in January, CEST in May).
        ((2026, 1, 15, 9, 30), 4, (2026, 5, 15, 9, 30)),
        # A shorter month ends the horizon on its last day, in a leap year too.
        ((2026, 1, 31, 12, 0), 1, (2026, 2, 28, 12, 0)),
        ((2027, 12, 31, 23, 59), 2, (2028, 2, 29, 23, 59)),
        # Across the year.
        ((2026, 11, 25, 8, 0), 3, (2027, 2, 25, 8, 0)),
    ],
)
def test_the_publishing_horizon_is_calendar_months_of_wall_clock_time(moment, months, horizon):
    stockholm = ZoneInfo("Europe/Stockholm")
    later = months_later(datetime(*moment, tzinfo=stockholm), months)
    assert later == datetime(*horizon, tzinfo=stockholm)
    assert later.utcoffset() == datetime(*horizon, tzinfo=stockholm).utcoffset()
