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

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pandas as pd
from sqlalchemy import and_, select
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
_MINUTE_US = 60_000_000


@dataclass(frozen=True)
class Slot:
    """One bookable appointment: when, with whom, where."""

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
    local_now = now.astimezone(STOCKHOLM)
    horizon = (
        pd.Timestamp(local_now) + pd.DateOffset(months=settings.months_to_sync)
    ).to_pydatetime()
    return Rules(
        duration=timedelta(minutes=treatment.duration_min),
        warm_up=timedelta(minutes=treatment.warm_up_min),
        cool_down=timedelta(minutes=treatment.cool_down_min),
        grid_minutes=clinic.time_grid_minutes,
        earliest=now + timedelta(minutes=settings.min_notice_minutes),
        latest=horizon,
        weekends=settings.weekend_booking_enabled,
    )


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
    if ranges.empty:
        return []
    taken = _taken(session, ranges["practitioner_id"].unique(), start - margin, end + margin, now)
    return _slots(ranges, taken, rules, start, end, clinic_id)


def _free_ranges(
    session: Session,
    tenant_id: int,
    clinic_id: int,
    treatment_id: int,
    start: datetime,
    end: datetime,
    practitioner_ids: Iterable[int] | None,
) -> pd.DataFrame:
    query = (
        select(FreeRange.practitioner_id, FreeRange.starts_at, FreeRange.ends_at)
        .join(
            ClinicPractitioner,
            and_(
                ClinicPractitioner.clinic_id == FreeRange.clinic_id,
                ClinicPractitioner.practitioner_id == FreeRange.practitioner_id,
                ClinicPractitioner.tenant_id == tenant_id,
            ),
        )
        .join(
            TreatmentSetMember,
            and_(
                TreatmentSetMember.treatment_set_id == FreeRange.treatment_set_id,
                TreatmentSetMember.treatment_id == treatment_id,
            ),
        )
        .where(
            FreeRange.tenant_id == tenant_id,
            FreeRange.clinic_id == clinic_id,
            FreeRange.starts_at < end,
            FreeRange.ends_at > start,
            ClinicPractitioner.added,
            ClinicPractitioner.in_opus,
        )
    )
    if practitioner_ids is not None:
        query = query.where(FreeRange.practitioner_id.in_(list(practitioner_ids)))
    rows = session.execute(query).all()
    return pd.DataFrame(rows, columns=["practitioner_id", "starts_at", "ends_at"])


def _taken(
    session: Session, practitioners: np.ndarray, start: datetime, end: datetime, now: datetime
) -> pd.DataFrame:
    """The time active bookings occupy; a hold past its expiry no longer counts."""
    rows = session.execute(
        select(Booking.practitioner_id, Booking.blocks_from, Booking.blocks_until).where(
            Booking.practitioner_id.in_([int(p) for p in practitioners]),
            Booking.status.in_(ACTIVE_BOOKING),
            Booking.blocks_from < end,
            Booking.blocks_until > start,
            (Booking.status == "confirmed") | (Booking.hold_expires_at > now),
        )
    ).all()
    return pd.DataFrame(rows, columns=["practitioner_id", "starts_at", "ends_at"])


def _micros(values: pd.Series | list[datetime]) -> np.ndarray:
    series = pd.Series(pd.to_datetime(values, utc=True))
    return series.dt.tz_localize(None).astype("datetime64[us]").to_numpy().view("int64")


def _slots(
    ranges: pd.DataFrame,
    taken: pd.DataFrame,
    rules: Rules,
    start: datetime,
    end: datetime,
    clinic_id: int,
) -> list[Slot]:
    free = _subtract(ranges, taken)
    if free.empty:
        return []
    grid = rules.grid_minutes * _MINUTE_US
    before = int(rules.warm_up.total_seconds() * 1e6)
    after = int((rules.duration + rules.cool_down).total_seconds() * 1e6)
    lo, hi = _micros([start])[0], _micros([end])[0]
    # The first and last grid start each free segment allows, clipped to [start, end).
    first = np.maximum(free["from"].to_numpy() + before, lo)
    first = -(-first // grid) * grid  # round up to the grid
    last = np.minimum(free["until"].to_numpy() - after, hi - 1)
    count = np.where(last >= first, (last - first) // grid + 1, 0)
    if count.sum() == 0:
        return []
    owner = np.repeat(np.arange(len(free)), count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    starts_us = first[owner] + offset * grid
    practitioners = free["practitioner_id"].to_numpy()[owner]
    starts = pd.to_datetime(starts_us, unit="us", utc=True)
    keep = np.ones(len(starts), dtype=bool)
    if not rules.weekends:
        local = starts.tz_convert(STOCKHOLM)
        keep &= local.day_of_week < 5
        keep &= ~np.isin(
            local.date, list(_holidays_between(local.min().date(), local.max().date()))
        )
    order = np.lexsort((practitioners[keep], starts_us[keep]))
    duration = rules.duration
    kept_starts, kept_practitioners = starts[keep][order], practitioners[keep][order]
    return [
        Slot(s.to_pydatetime(), (s + duration).to_pydatetime(), int(p), clinic_id)
        for s, p in zip(kept_starts, kept_practitioners, strict=True)
    ]


def _subtract(ranges: pd.DataFrame, taken: pd.DataFrame) -> pd.DataFrame:
    """Free ranges minus taken intervals, per practitioner, as microsecond segments."""
    segments = []
    taken_by = {
        p: sorted(zip(_micros(g["starts_at"]), _micros(g["ends_at"]), strict=True))
        for p, g in taken.groupby("practitioner_id")
    }
    for practitioner, group in ranges.groupby("practitioner_id"):
        blocks = taken_by.get(practitioner, [])
        for a, b in zip(_micros(group["starts_at"]), _micros(group["ends_at"]), strict=True):
            cursor = a
            for t0, t1 in blocks:
                if t1 <= cursor or t0 >= b:
                    continue
                if t0 > cursor:
                    segments.append((practitioner, cursor, t0))
                cursor = max(cursor, t1)
            if cursor < b:
                segments.append((practitioner, cursor, b))
    return pd.DataFrame(segments, columns=["practitioner_id", "from", "until"])


@cache
def _holidays_of(year: int) -> frozenset[date]:
    """Swedish public holidays and the eves that are kept as such (midsommar-,
    jul- and nyårsafton)."""
    days = holidays.Sweden(years=year, include_sundays=False, categories=("public", "de_facto"))
    return frozenset(days)


def _holidays_between(first: date, last: date) -> set[date]:
    return set().union(*(_holidays_of(y) for y in range(first.year, last.year + 1)))


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
