"""Bookable times for the time step: a week, a month's days, the first free time and
the times nearest one that was lost.

The times themselves come from the tenant's snapshot in memory, the one the public
API answers from (:mod:`booking_app.api.snapshots`, cut by
:func:`connectors.store.snapshot.free_starts`), or, when there is none (still loading,
dropped for memory, a question it cannot answer), from the store
(:func:`connectors.store.availability.bookable_times`): the same times either way
(free ranges minus bookings, on the clinic's grid, after the minimum notice, within
the horizon, weekends and holidays only with *Helgbokning*; tests compare the two).
This module only asks about the right clinics, treatments and practitioners, and
arranges the answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from connectors.store.availability import (
    STOCKHOLM,
    Slot,
    bookable_times,
    months_later,
    rules_for,
)
from connectors.store.models import Clinic, TenantSettings, Treatment
from connectors.store.snapshot import Geometry, OutsideSnapshot, free_starts, seconds_ceil

if TYPE_CHECKING:
    from booking_app.api.snapshots import TenantAvailability

FIRST_FREE_WINDOW = timedelta(days=28)
NEAREST_COUNT = 6
NEAREST_BEFORE = timedelta(days=3)
NEAREST_AFTER = timedelta(days=14)


@dataclass(frozen=True)
class TimeSearch:
    """Where to look: the treatments of ``treatment_ids`` at ``clinic_ids`` (a
    treatment is asked for only at clinics of its own Opus database), with
    ``practitioner_ids`` or, when ``None``, any added practitioner."""

    tenant_id: int
    clinic_ids: tuple[int, ...]
    treatment_ids: tuple[int, ...]
    practitioner_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class TimeChoice:
    """A start time as one button shows it. ``clinic_id``/``practitioner_id`` are set
    when the button is for that clinic or practitioner, ``None`` when it stands for
    several (the patient has not chosen, or chose "any")."""

    starts_at: datetime
    clinic_id: int | None
    practitioner_id: int | None


@dataclass(frozen=True)
class Day:
    day: date
    times: tuple[TimeChoice, ...]


def find_slots(
    session: Session,
    settings: TenantSettings,
    search: TimeSearch,
    start: datetime,
    end: datetime,
    now: datetime,
    snapshot: TenantAvailability | None = None,
) -> list[Slot]:
    """Every bookable slot of ``search`` in ``[start, end)``, by time then clinic:
    from ``snapshot`` when it is given and can answer, else from the store."""
    if snapshot is not None:
        found = slots_in_snapshot(snapshot, settings, search, start, end, now)
        if found is not None:
            return found
    clinics = [session.get(Clinic, c) for c in search.clinic_ids]
    treatments = [session.get(Treatment, t) for t in search.treatment_ids]
    order = {c: i for i, c in enumerate(search.clinic_ids)}
    slots: list[Slot] = []
    for clinic in clinics:
        if clinic is None or clinic.tenant_id != search.tenant_id:
            continue
        for treatment in treatments:
            if (
                treatment is None
                or treatment.tenant_id != search.tenant_id
                or treatment.opus_database_id != clinic.opus_database_id
            ):
                continue
            slots += bookable_times(
                session,
                search.tenant_id,
                clinic.id,
                treatment,
                rules_for(settings, treatment, clinic, now),
                start,
                end,
                now,
                search.practitioner_ids,
            )
    return sorted(slots, key=lambda s: (s.starts_at, order[s.clinic_id], s.practitioner_id))


def slots_in_snapshot(
    snapshot: TenantAvailability,
    settings: TenantSettings,
    search: TimeSearch,
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[Slot] | None:
    """What :func:`find_slots` finds in the store, found in ``snapshot``: the same
    clinics and treatments in the same order, the same rules (``rules_for``), the same
    sort. ``None`` when the snapshot cannot say: a clinic or treatment it does not hold
    (not in Opus, not bookable on the web, another tenant's: the store decides), or a
    question reaching before the bookings it read."""
    found = _starts_in_snapshot(snapshot, settings, search, start, end, now)
    if found is None:
        return None
    order = {c: i for i, c in enumerate(search.clinic_ids)}
    slots = [
        Slot(_moment(moment), _moment(moment + duration), practitioner, clinic_id)
        for moment, duration, practitioner, clinic_id in found
    ]
    return sorted(slots, key=lambda s: (s.starts_at, order[s.clinic_id], s.practitioner_id))


def days_in_snapshot(
    snapshot: TenantAvailability,
    settings: TenantSettings,
    search: TimeSearch,
    start: datetime,
    end: datetime,
    now: datetime,
    tz: tzinfo,
) -> set[date] | None:
    """The local days of :func:`slots_in_snapshot` (the month's calendar), without
    making, sorting and converting a slot per start."""
    found = _starts_in_snapshot(snapshot, settings, search, start, end, now)
    if found is None:
        return None
    return {_local_day(moment, tz) for moment in {starts[0] for starts in found}}


def _starts_in_snapshot(
    snapshot: TenantAvailability,
    settings: TenantSettings,
    search: TimeSearch,
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[tuple[int, int, int, int]] | None:
    """(start, duration, practitioner, clinic) in seconds and ids, unsorted, for
    :func:`slots_in_snapshot`; ``None`` when the snapshot cannot say."""
    clinics = [snapshot.clinics_by_id.get(c) for c in search.clinic_ids]
    treatments = [snapshot.treatments_by_id.get(t) for t in search.treatment_ids]
    if None in clinics or None in treatments:
        return None
    # As rules_for: the minimum notice and the publishing horizon.
    first = max(start, now + timedelta(minutes=settings.min_notice_minutes))
    last = min(end, months_later(now.astimezone(STOCKHOLM), settings.months_to_sync))
    if first >= last:
        return []
    # Starts are whole seconds (a whole-minute grid): moment >= first and < last.
    first_s, last_s = seconds_ceil(first), seconds_ceil(last)
    with_ranges = snapshot.practitioners_with_ranges
    wanted = None if search.practitioner_ids is None else sorted(set(search.practitioner_ids))
    found: list[tuple[int, int, int, int]] = []
    try:
        for clinic in clinics:
            practitioners = with_ranges.get(clinic.id, ()) if wanted is None else wanted
            for treatment in treatments:
                if treatment.opus_database_id != clinic.opus_database_id or not practitioners:
                    continue
                geometry = Geometry(
                    duration=treatment.duration_min * 60,
                    warm_up=treatment.warm_up_min * 60,
                    cool_down=treatment.cool_down_min * 60,
                    grid=clinic.grid_minutes * 60,
                    weekends=settings.weekend_booking_enabled,
                )
                found += (
                    (moment, geometry.duration, p, clinic.id)
                    for moment, p in free_starts(
                        snapshot.reference,
                        snapshot.taken,
                        clinic.id,
                        treatment.id,
                        geometry,
                        practitioners,
                        first_s,
                        last_s,
                        now,
                    )
                )
    except OutsideSnapshot:
        return None
    return found


@lru_cache(maxsize=65536)
def _local_day(moment: int, tz: tzinfo) -> date:
    return datetime.fromtimestamp(moment, tz).date()


@lru_cache(maxsize=65536)  # the same grid moments come back on every page
def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def choices(slots: Iterable[Slot], by_clinic: bool, by_practitioner: bool) -> list[TimeChoice]:
    """One button per start (per clinic, per practitioner, when those are shown)."""
    seen: dict[TimeChoice, None] = {}
    for slot in slots:
        choice = TimeChoice(
            slot.starts_at,
            slot.clinic_id if by_clinic else None,
            slot.practitioner_id if by_practitioner else None,
        )
        seen.setdefault(choice, None)
    return list(seen)


def day_start(day: date, tz: tzinfo) -> datetime:
    """Local midnight of ``day``, in UTC."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week(choices_: Iterable[TimeChoice], monday: date, tz: tzinfo) -> list[Day]:
    """Monday to Sunday, each with its times (possibly none)."""
    by_day: dict[date, list[TimeChoice]] = {monday + timedelta(days=i): [] for i in range(7)}
    for choice in choices_:
        day = choice.starts_at.astimezone(tz).date()
        if day in by_day:
            by_day[day].append(choice)
    return [Day(day, tuple(times)) for day, times in by_day.items()]


def month_bounds(first: date) -> tuple[date, date]:
    """The first day of ``first``'s month and of the next one."""
    first = first.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


def month_weeks(first: date) -> list[list[date | None]]:
    """The month as calendar rows, Monday first; ``None`` pads the edges."""
    start, end = month_bounds(first)
    rows: list[list[date | None]] = []
    day = monday_of(start)
    while day < end:
        rows.append(
            [d if start <= d < end else None for d in (day + timedelta(i) for i in range(7))]
        )
        day += timedelta(days=7)
    return rows


def days_with_times(slots: Iterable[Slot], tz: tzinfo) -> set[date]:
    return {slot.starts_at.astimezone(tz).date() for slot in slots}


def horizon_end(settings: TenantSettings, now: datetime, tz: tzinfo) -> datetime:
    """No time is offered past the publishing horizon (see ``rules_for``)."""
    return months_later(now.astimezone(tz), settings.months_to_sync)


def first_free(
    session: Session,
    settings: TenantSettings,
    search: TimeSearch,
    now: datetime,
    tz: tzinfo,
    snapshot: TenantAvailability | None = None,
) -> Slot | None:
    """The earliest bookable slot of ``search``, looking a few weeks at a time so
    that a clinic with times this week answers quickly."""
    start, end = now, horizon_end(settings, now, tz)
    while start < end:
        window_end = min(start + FIRST_FREE_WINDOW, end)
        slots = find_slots(session, settings, search, start, window_end, now, snapshot)
        if slots:
            return slots[0]
        start = window_end
    return None


def nearest(
    session: Session,
    settings: TenantSettings,
    search: TimeSearch,
    wanted: datetime,
    now: datetime,
    count: int = NEAREST_COUNT,
    snapshot: TenantAvailability | None = None,
) -> list[Slot]:
    """The ``count`` bookable slots nearest ``wanted`` (a time that was taken), in
    time order: what the patient is offered instead."""
    slots = find_slots(
        session, settings, search, wanted - NEAREST_BEFORE, wanted + NEAREST_AFTER, now, snapshot
    )
    unique: dict[tuple[datetime, int], Slot] = {}
    for slot in slots:
        unique.setdefault((slot.starts_at, slot.clinic_id), slot)
    closest = sorted(unique.values(), key=lambda s: abs(s.starts_at - wanted))[:count]
    return sorted(closest, key=lambda s: s.starts_at)
