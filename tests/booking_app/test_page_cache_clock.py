"""How long the clock leaves a kept time step page right (page_cache.clock_keeps_it_until):
until the notice passes the first start it shows, the horizon reaches the first it
does not (among the days it shows, for a week asked for), or the day ends; on a clock
change, the minute. Checked against the rule itself: a page made a moment later must
show the same starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking_app.page_cache import clock_keeps_it_until
from connectors.store.availability import STOCKHOLM, months_later
from connectors.store.snapshot import GRID_ORIGIN, seconds_ceil

QUARTER = 15 * 60


def shown(now: datetime, notice_min: int, months: int, grid_s: int) -> tuple[int, int]:
    """The first and the last grid start a page made at ``now`` shows (as the steps and
    snapshot_times compute them: from now plus the notice, before the horizon)."""
    first = seconds_ceil(now + timedelta(minutes=notice_min))
    last = seconds_ceil(months_later(now.astimezone(STOCKHOLM), months))
    first_on_grid = GRID_ORIGIN - (GRID_ORIGIN - first) // grid_s * grid_s
    last_on_grid = GRID_ORIGIN - (GRID_ORIGIN - last) // grid_s * grid_s - grid_s
    return first_on_grid, last_on_grid


def shown_in(
    now: datetime, notice_min: int, months: int, grid_s: int, days: tuple[datetime, datetime]
) -> tuple[int, int] | None:
    """As :func:`shown`, among the starts from ``days[0]`` to before ``days[1]``."""
    first, last = shown(now, notice_min, months, grid_s)
    start, end = seconds_ceil(days[0]), seconds_ceil(days[1])
    first = max(first, GRID_ORIGIN - (GRID_ORIGIN - start) // grid_s * grid_s)
    last = min(last, GRID_ORIGIN - (GRID_ORIGIN - end) // grid_s * grid_s - grid_s)
    return (first, last) if first <= last else None


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    "made",
    [
        "2026-12-08T10:00:30+01:00",  # on the grid's half-minute
        "2026-12-08T10:07:12+01:00",
        "2026-12-08T23:52:00+01:00",  # the day ends first
        "2027-01-31T10:00:30+01:00",  # the horizon on a short month's last day
        "2027-06-15T14:59:59+02:00",
    ],
)
@pytest.mark.parametrize("notice_min", [0, 120, 50])
def test_the_page_shows_the_same_starts_until_then_and_not_after(made, notice_min):
    now = at(made)
    until = clock_keeps_it_until(now, notice_min, 3, QUARTER, STOCKHOLM)
    assert now < until <= now + timedelta(seconds=QUARTER)
    assert until <= datetime(2026, 12, 9, tzinfo=STOCKHOLM) or now.day != 8
    before = shown(now, notice_min, 3, QUARTER)
    for moment in (now + (until - now) / 2, until - timedelta(microseconds=1)):
        assert shown(moment, notice_min, 3, QUARTER) == before
    next_midnight = datetime.combine(
        now.astimezone(STOCKHOLM).date() + timedelta(days=1), datetime.min.time(), STOCKHOLM
    )
    # Ended by a start coming or going, or by the day itself.
    assert shown(until + timedelta(seconds=1), notice_min, 3, QUARTER) != before or (
        until == next_midnight
    )


def test_a_page_made_when_the_notice_reaches_a_start_exactly_is_not_kept():
    now = at("2026-12-08T10:00:00+01:00")  # on the grid, and the notice whole quarters
    assert clock_keeps_it_until(now, 120, 3, QUARTER, STOCKHOLM) == now


def test_the_horizon_on_a_clock_change_day_bounds_it_by_the_minute():
    # Summer time starts on 2027-03-28 at 02:00, three months on: the horizon, the
    # same wall-clock time there, falls back an hour as the clock here passes 03:00.
    now = at("2026-12-28T02:58:30+01:00")
    until = clock_keeps_it_until(now, 0, 3, QUARTER, STOCKHOLM)
    assert until == at("2026-12-28T02:59:00+01:00")
    # Without the clock change, a grid step's worth (the next start at the horizon).
    a_day_later = now + timedelta(days=1)
    assert clock_keeps_it_until(a_day_later, 0, 3, QUARTER, STOCKHOLM) == a_day_later + timedelta(
        seconds=90
    )


WEEK_LATER = (at("2026-12-21T00:00:00+01:00"), at("2027-01-01T00:00:00+01:00"))
"""A week asked for two weeks on, with its month (Monday 21 December to New Year)."""
AT_THE_HORIZON = (at("2027-03-01T00:00:00+01:00"), at("2027-04-01T00:00:00+02:00"))
"""The month the horizon of 8 December falls in (three months on)."""


@pytest.mark.parametrize("days", [WEEK_LATER, AT_THE_HORIZON])
@pytest.mark.parametrize("made", ["2026-12-08T10:00:30+01:00", "2026-12-08T10:07:12+01:00"])
def test_a_page_of_later_days_shows_the_same_starts_until_then_and_not_after(made, days):
    now = at(made)
    until = clock_keeps_it_until(now, 120, 3, QUARTER, STOCKHOLM, days)
    before = shown_in(now, 120, 3, QUARTER, days)
    for moment in (now + (until - now) / 2, until - timedelta(microseconds=1)):
        assert shown_in(moment, 120, 3, QUARTER, days) == before
    if days is WEEK_LATER:  # neither the notice nor the horizon comes near it today
        assert until == at("2026-12-09T00:00:00+01:00")
    else:  # the horizon brings a start into the month within a grid step
        assert until <= now + timedelta(seconds=QUARTER)
        assert shown_in(until + timedelta(seconds=1), 120, 3, QUARTER, days) != before
