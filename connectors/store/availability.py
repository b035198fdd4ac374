"""Bookable times: the free ranges the sync published, minus the time active
bookings hold, cut into start times for one treatment.

A start ``s`` is bookable with practitioner P for treatment T when
- ``[s - warm-up, s + duration + cool-down)`` lies inside one free range of P at the
  clinic whose treatment set allows T, and overlaps no active booking of P;
- ``s`` is on the clinic's grid (08:00, 08:15, … for 15 minutes), at least the
  tenant's minimum notice from now and before the end of the publishing horizon;
- ``s`` is not on a weekend or a Swedish public holiday, unless *Helgbokning
  aktiverad*.
The computation is vectorised over all ranges of a query; queries read only the
ranges and bookings of the asked-for practitioners and days.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import BindParameter, ColumnElement, and_, bindparam, select
from sqlalchemy.orm import Session

from connectors.store.models import (
    ACTIVE_BOOKING,
    Booking,
    Clinic,
    ClinicPractitioner,
    FreeRange,
    Practitioner,
    TenantSettings,
    Treatment,
    TreatmentSetMember,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")


class Slot(NamedTuple):
    """One bookable appointment: when, with whom, where. (A tuple: a week's times are
    hundreds of these per request, and a frozen dataclass is slow to make.)"""

    starts_at: datetime
    ends_at: datetime
    practitioner_id: int
    clinic_id: int


@dataclass(frozen=True)
class Rules:
    """What besides the ranges decides which starts are offered."""

    duration: timedelta
    warm_up: timedelta
    cool_down: timedelta
    grid_minutes: int
    earliest: datetime
    """Now plus the minimum notice."""
    latest: datetime
    """The end of the publishing horizon: no appointment starts after it."""
    weekends: bool
    """*Helgbokning aktiverad*: weekends and public holidays are bookable too."""


def rules_for(
    settings: TenantSettings, treatment: Treatment, clinic: Clinic, now: datetime
) -> Rules:
    return Rules(
        duration=timedelta(minutes=treatment.duration_min),
        warm_up=timedelta(minutes=treatment.warm_up_min),
        cool_down=timedelta(minutes=treatment.cool_down_min),
        grid_minutes=clinic.time_grid_minutes,
        earliest=now + timedelta(minutes=settings.min_notice_minutes),
        latest=months_later(now.astimezone(STOCKHOLM), settings.months_to_sync),
        weekends=settings.weekend_booking_enabled,
    )


def months_later(moment: datetime, months: int) -> datetime:
    """The same wall-clock time ``months`` calendar months on, on the month's last day
    when it is shorter (31 January + 1 month is 28 or 29 February): the publishing
    horizon, as the sync's window reads it."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))


def bookable_times(
    session: Session,
    tenant_id: int,
    clinic_id: int,
    treatment: Treatment,
    rules: Rules,
    start: datetime,
    end: datetime,
    now: datetime,
    practitioner_ids: Iterable[int] | None = None,
) -> list[Slot]:
    """Every bookable start in ``[start, end)`` at one clinic, for one treatment, with
    the given practitioners (all the clinic's added practitioners when ``None``),
    sorted by time, then practitioner."""
    start, end = max(start, rules.earliest), min(end, rules.latest)
    if start >= end or not treatment.create_in_web:
        return []
    margin = rules.warm_up + rules.duration + rules.cool_down
    ranges = _free_ranges(
        session, tenant_id, clinic_id, treatment.id, start - margin, end + margin, practitioner_ids
    )
    if not ranges:
        return []
    taken = taken_intervals(session, {r[0] for r in ranges}, start - margin, end + margin, now)
    return bookable_slots(ranges, taken, rules, start, end, clinic_id)


Span = tuple[int, datetime, datetime]
"""(practitioner id, from, until): a free range, or time a booking occupies."""


def range_membership(tenant_id: int | BindParameter[int]) -> ColumnElement[bool]:
    """Join condition: a free range with its practitioner's membership of its clinic,
    within one tenant (where *Lägg till* lives)."""
    return and_(
        ClinicPractitioner.clinic_id == FreeRange.clinic_id,
        ClinicPractitioner.practitioner_id == FreeRange.practitioner_id,
        ClinicPractitioner.tenant_id == tenant_id,
    )


# The two queries of every availability question, built once: building a statement
# (coercing each comparison, computing its cache key) cost more than running it.
_FREE_RANGES = (
    select(FreeRange.practitioner_id, FreeRange.starts_at, FreeRange.ends_at)
    .join(ClinicPractitioner, range_membership(bindparam("tenant_id")))
    .join(
        TreatmentSetMember,
        and_(
            TreatmentSetMember.treatment_set_id == FreeRange.treatment_set_id,
            TreatmentSetMember.treatment_id == bindparam("treatment_id"),
        ),
    )
    .where(
        FreeRange.tenant_id == bindparam("tenant_id"),
        FreeRange.clinic_id == bindparam("clinic_id"),
        FreeRange.starts_at < bindparam("end"),
        FreeRange.ends_at > bindparam("start"),
        ClinicPractitioner.added,
        ClinicPractitioner.in_opus,
    )
)
_FREE_RANGES_OF = _FREE_RANGES.where(
    FreeRange.practitioner_id.in_(bindparam("practitioners", expanding=True))
)
_TAKEN = select(Booking.practitioner_id, Booking.blocks_from, Booking.blocks_until).where(
    Booking.practitioner_id.in_(bindparam("practitioners", expanding=True)),
    Booking.status.in_(ACTIVE_BOOKING),
    Booking.blocks_from < bindparam("end"),
    Booking.blocks_until > bindparam("start"),
    (Booking.status == "confirmed") | (Booking.hold_expires_at > bindparam("now")),
)


def _free_ranges(
    session: Session,
    tenant_id: int,
    clinic_id: int,
    treatment_id: int,
    start: datetime,
    end: datetime,
    practitioner_ids: Iterable[int] | None,
) -> list[Span]:
    params = {
        "tenant_id": tenant_id,
        "clinic_id": clinic_id,
        "treatment_id": treatment_id,
        "start": start,
        "end": end,
    }
    if practitioner_ids is None:
        return [tuple(row) for row in session.execute(_FREE_RANGES, params)]
    params["practitioners"] = list(practitioner_ids)
    return [tuple(row) for row in session.execute(_FREE_RANGES_OF, params)]


def taken_intervals(
    session: Session, practitioners: set[int], start: datetime, end: datetime, now: datetime
) -> list[Span]:
    """The time active bookings occupy; a hold past its expiry no longer counts."""
    params = {"practitioners": list(practitioners), "start": start, "end": end, "now": now}
    return [tuple(row) for row in session.execute(_TAKEN, params)]


def bookable_slots(
    ranges: list[Span],
    taken: list[Span],
    rules: Rules,
    start: datetime,
    end: datetime,
    clinic_id: int,
) -> list[Slot]:
    """Cut free time into starts. Plain Python on purpose: a query holds tens of
    ranges, and at that size pandas' set-up costs more than the arithmetic."""
    grid = timedelta(minutes=rules.grid_minutes)
    found: list[tuple[datetime, int]] = []
    for practitioner, free_from, free_until in _subtract(ranges, taken):
        first = max(free_from + rules.warm_up, start)
        last = min(free_until - rules.duration - rules.cool_down, end - timedelta(microseconds=1))
        moment = GRID_EPOCH + -(-(first - GRID_EPOCH) // grid) * grid  # round up to the grid
        while moment <= last:
            found.append((moment, practitioner))
            moment += grid
    if not rules.weekends:
        found = [(moment, p) for moment, p in found if _weekday(moment)]
    found.sort()
    return [
        Slot(moment, moment + rules.duration, practitioner, clinic_id)
        for moment, practitioner in found
    ]


def _subtract(ranges: list[Span], taken: list[Span]) -> list[Span]:
    """Free ranges minus taken time, per practitioner."""
    taken_by: dict[int, list[tuple[datetime, datetime]]] = {}
    for practitioner, blocked_from, blocked_until in taken:
        taken_by.setdefault(practitioner, []).append((blocked_from, blocked_until))
    for blocks in taken_by.values():
        blocks.sort()
    free = []
    for practitioner, range_from, range_until in ranges:
        cursor = range_from
        for blocked_from, blocked_until in taken_by.get(practitioner, ()):
            if blocked_until <= cursor or blocked_from >= range_until:
                continue
            if blocked_from > cursor:
                free.append((practitioner, cursor, blocked_from))
            cursor = max(cursor, blocked_until)
        if cursor < range_until:
            free.append((practitioner, cursor, range_until))
    return free


@lru_cache(maxsize=65536)  # the same grid moments come back in every question
def _weekday(moment: datetime) -> bool:
    """A weekday in Stockholm that is not a public holiday."""
    day = moment.astimezone(STOCKHOLM).date()
    return day.weekday() < 5 and not is_public_holiday(day)


GRID_EPOCH = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday at midnight UTC: grids line up on it


@cache
def _holidays_of(year: int) -> frozenset[date]:
    """Swedish public holidays and the eves that are kept as such (midsommar-,
    jul- and nyårsafton)."""
    days = holidays.Sweden(years=year, include_sundays=False, categories=("public", "de_facto"))
    return frozenset(days)


def is_public_holiday(day: date) -> bool:
    return day in _holidays_of(day.year)


def practitioners_at(session: Session, tenant_id: int, clinic_id: int) -> list[Practitioner]:
    """The clinic's added practitioners still in Opus, in the operator's order."""
    return list(
        session.scalars(
            select(Practitioner)
            .join(ClinicPractitioner, ClinicPractitioner.practitioner_id == Practitioner.id)
            .where(
                ClinicPractitioner.tenant_id == tenant_id,
                ClinicPractitioner.clinic_id == clinic_id,
                ClinicPractitioner.added,
                ClinicPractitioner.in_opus,
                Practitioner.tenant_id == tenant_id,
            )
            .order_by(ClinicPractitioner.display_order, Practitioner.id)
        )
    )
