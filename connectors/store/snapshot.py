"""One tenant's availability in memory: what an app process answers free-time questions
from, without a query per question.

A snapshot is read at the versions the database's counters had (``availability_version``,
kept by triggers, migration 0010) and is replaced when they move:

- :class:`Reference`, topic ``reference``: the tenant's settings, its live API key
  hashes, clinics with their added practitioners, web treatments, which treatment sets
  allow them (all as plain values, indexed for the questions asked), and the published
  free ranges (arrays of machine integers per clinic and practitioner);
- :class:`Taken`, topic ``bookings``: the time active bookings occupy (a hold only
  until it lapses: that frees its time without any write).

:func:`free_starts` cuts them into start times by exactly the rules of
:func:`connectors.store.availability.bookable_times` (tests compare the two on random
questions). It works in whole seconds: free time starts at its ceiling and ends at its
floor, taken time the other way round. Start times lie on a grid of whole minutes, so a
start fits the rounded time exactly when it fits the real one.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import chain, pairwise, repeat

import numpy as np
from sqlalchemy import BigInteger, ColumnElement, Integer, bindparam, cast, extract, func, select
from sqlalchemy.orm import Session, joinedload

from connectors.store.api_keys import KeyGrant, live_keys
from connectors.store.availability import (
    GRID_EPOCH,
    STOCKHOLM,
    is_public_holiday,
    range_membership,
)
from connectors.store.models import (
    ACTIVE_BOOKING,
    Booking,
    Clinic,
    ClinicPractitioner,
    FreeRange,
    Practitioner,
    Tenant,
    TenantSettings,
    Treatment,
    TreatmentSetMember,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)
TAKEN_LOOKBACK = timedelta(days=1)
"""Bookings that ended this long before the snapshot was read are left out: no question
asks about time before now."""


def seconds_floor(moment: datetime) -> int:
    return (moment - EPOCH) // SECOND


def seconds_ceil(moment: datetime) -> int:
    return -((EPOCH - moment) // SECOND)


GRID_ORIGIN = seconds_floor(GRID_EPOCH)


@dataclass(frozen=True)
class Ranges:
    """One practitioner's free ranges at one clinic, sorted by start (seconds). Arrays
    of machine integers: a million ranges take 24 MB, and ``bisect`` searches them."""

    starts: array
    ends: array
    set_ids: array
    longest: int

    def overlapping(self, lo: int, hi: int, allowed: frozenset[int]) -> list[tuple[int, int]]:
        """The ranges that overlap ``[lo, hi)`` and allow a treatment of ``allowed`` sets."""
        starts, ends, set_ids = self.starts, self.ends, self.set_ids
        return [
            (starts[i], ends[i])
            for i in range(bisect_left(starts, lo - self.longest), bisect_left(starts, hi))
            if ends[i] > lo and set_ids[i] in allowed
        ]


@dataclass(frozen=True, slots=True)
class ClinicFacts:
    """What a free-time question needs of a clinic."""

    id: int
    opus_clinic_id: str
    opus_database_id: int
    group: str
    """*Grupp*, case-folded; empty for none."""
    grid_minutes: int
    staff: tuple[tuple[int, int], ...]
    """(practitioner id, Opus clinician id) of its added practitioners still in Opus,
    in the operator's order."""


@dataclass(frozen=True, slots=True)
class TreatmentFacts:
    """What a free-time question needs of a treatment bookable on the web (minutes)."""

    id: int
    opus_treatment_id: int
    opus_database_id: int
    duration_min: int
    warm_up_min: int
    cool_down_min: int


@dataclass(frozen=True, slots=True)
class SettingsFacts:
    """The tenant's settings that shape free times (no row: not published)."""

    published: bool
    min_notice_minutes: int
    months_to_sync: int
    weekends: bool


@dataclass(frozen=True)
class Reference:
    """The tenant's reference data and free ranges, at ``version``, as plain values
    indexed for the questions asked (ORM objects cost a Python call per attribute)."""

    version: int
    keys: Mapping[str, KeyGrant]
    """The live API keys' hashes, with what each may do and from which pages."""
    settings: SettingsFacts
    clinics: tuple[ClinicFacts, ...]
    """Clinics still in Opus, in the operator's order."""
    clinics_by_opus_id: Mapping[str, tuple[ClinicFacts, ...]]
    clinician_ids: frozenset[int]
    """The Opus ids of all the tenant's practitioners."""
    treatments_by_opus_id: Mapping[int, Mapping[int, TreatmentFacts]]
    """Per Opus treatment id, per Opus database: those in Opus and bookable on the web."""
    sets_allowing: Mapping[int, frozenset[int]]
    """Per treatment id: the treatment sets (of free ranges) that allow it."""
    ranges: Mapping[tuple[int, int], Ranges]
    """Per (clinic id, practitioner id) of an added practitioner."""


@dataclass(frozen=True)
class Hold:
    blocks_from: int
    blocks_until: int
    expires_at: datetime | None
    """A hold's expiry; ``None`` for a confirmed booking."""


@dataclass(frozen=True)
class Taken:
    """The time active bookings occupy, per practitioner, at ``version``."""

    version: int
    since: int
    """Seconds: bookings that ended before this were not read."""
    by_practitioner: Mapping[int, tuple[Hold, ...]]


class OutsideSnapshot(Exception):
    """The question reaches before the bookings the snapshot read (a clock set back by
    more than a day): it is answered from the store instead."""


@dataclass(frozen=True)
class Geometry:
    """What of a treatment and a clinic shapes the start times (seconds)."""

    duration: int
    warm_up: int
    cool_down: int
    grid: int
    weekends: bool


def free_starts(
    reference: Reference,
    taken: Taken,
    clinic_id: int,
    treatment_id: int,
    geometry: Geometry,
    practitioner_ids: Sequence[int],
    start: int,
    end: int,
    now: datetime,
) -> list[tuple[int, int]]:
    """(moment, practitioner) of every start in ``[start, end)`` (seconds) at the
    clinic for the treatment with the given practitioners, sorted."""
    margin = geometry.warm_up + geometry.duration + geometry.cool_down
    lo, hi = start - margin, end + margin
    if lo < taken.since:
        raise OutsideSnapshot
    allowed = reference.sets_allowing.get(treatment_id, frozenset())
    found: list[tuple[int, int]] = []
    for practitioner in practitioner_ids:
        ranges = reference.ranges.get((clinic_id, practitioner))
        free = ranges.overlapping(lo, hi, allowed) if ranges is not None else None
        if not free:
            continue
        blocks = sorted(
            (hold.blocks_from, hold.blocks_until)
            for hold in taken.by_practitioner.get(practitioner, ())
            if hold.blocks_until > lo
            and hold.blocks_from < hi
            and (hold.expires_at is None or hold.expires_at > now)
        )
        for free_from, free_until in _subtract(free, blocks) if blocks else free:
            first = max(free_from + geometry.warm_up, start)
            last = min(free_until - geometry.duration - geometry.cool_down, end - 1)
            first = GRID_ORIGIN - (GRID_ORIGIN - first) // geometry.grid * geometry.grid
            moments = range(first, last + 1, geometry.grid)
            if not geometry.weekends:
                moments = _on_weekdays(moments)
            found.extend(zip(moments, repeat(practitioner)))
    found.sort()
    return found


def _on_weekdays(moments: range) -> Sequence[int]:
    """The moments on Stockholm weekdays that are no public holidays. A free range
    seldom crosses midnight: then one day's verdict is all of its moments'."""
    if not moments or _stockholm_day(moments[0]) != _stockholm_day(moments[-1]):
        return [moment for moment in moments if on_a_weekday(moment)]
    return moments if on_a_weekday(moments[0]) else ()


@lru_cache(maxsize=65536)  # the same grid moments come back in every question
def on_a_weekday(moment: int) -> bool:
    """Whether ``moment`` (seconds) falls on a Stockholm weekday that is no public
    holiday."""
    day = _stockholm_day(moment)
    return day.weekday() < 5 and not is_public_holiday(day)


@lru_cache(maxsize=65536)
def _stockholm_day(moment: int) -> date:
    return datetime.fromtimestamp(moment, STOCKHOLM).date()


def _subtract(
    ranges: list[tuple[int, int]], blocks: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """One practitioner's free ranges minus the (sorted) blocks (as ``availability``)."""
    free = []
    for range_from, range_until in ranges:
        cursor = range_from
        for blocked_from, blocked_until in blocks:
            if blocked_until <= cursor or blocked_from >= range_until:
                continue
            if blocked_from > cursor:
                free.append((cursor, blocked_from))
            cursor = max(cursor, blocked_until)
        if cursor < range_until:
            free.append((cursor, range_until))
    return free


# -- reading ---------------------------------------------------------------------------


def load_reference(session: Session, tenant_id: int, version: int) -> Reference | None:
    """The tenant's reference data and free ranges; ``None`` when it no longer exists.
    Read after its version, so the data are at least that new."""
    tenant = session.scalars(
        select(Tenant).where(Tenant.id == tenant_id).options(joinedload(Tenant.settings))
    ).one_or_none()
    if tenant is None:
        return None
    clinics = _clinics(session, tenant_id)
    by_opus_id: dict[str, list[ClinicFacts]] = defaultdict(list)
    for clinic in clinics:
        by_opus_id[clinic.opus_clinic_id].append(clinic)
    treatments: dict[int, dict[int, TreatmentFacts]] = defaultdict(dict)
    for t in session.scalars(
        select(Treatment).where(
            Treatment.tenant_id == tenant_id, Treatment.in_opus, Treatment.create_in_web
        )
    ):
        treatments[t.opus_treatment_id][t.opus_database_id] = TreatmentFacts(
            t.id,
            t.opus_treatment_id,
            t.opus_database_id,
            t.duration_min,
            t.warm_up_min,
            t.cool_down_min,
        )
    return Reference(
        version=version,
        keys=live_keys(session, tenant_id),
        settings=_settings(tenant.settings),
        clinics=clinics,
        clinics_by_opus_id={opus_id: tuple(found) for opus_id, found in by_opus_id.items()},
        clinician_ids=frozenset(
            session.scalars(
                select(Practitioner.opus_clinician_id).where(Practitioner.tenant_id == tenant_id)
            )
        ),
        treatments_by_opus_id=dict(treatments),
        sets_allowing=_sets_allowing(
            session, [t.id for by_database in treatments.values() for t in by_database.values()]
        ),
        ranges=_load_ranges(session, tenant_id),
    )


def _settings(settings: TenantSettings | None) -> SettingsFacts:
    if settings is None:
        return SettingsFacts(False, 0, 1, False)
    return SettingsFacts(
        settings.publish_opus_online,
        settings.min_notice_minutes,
        settings.months_to_sync,
        settings.weekend_booking_enabled,
    )


def _clinics(session: Session, tenant_id: int) -> tuple[ClinicFacts, ...]:
    staff: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for clinic_id, practitioner_id, opus_clinician_id in session.execute(
        select(ClinicPractitioner.clinic_id, Practitioner.id, Practitioner.opus_clinician_id)
        .join(Practitioner, Practitioner.id == ClinicPractitioner.practitioner_id)
        .where(
            ClinicPractitioner.tenant_id == tenant_id,
            ClinicPractitioner.added,
            ClinicPractitioner.in_opus,
            Practitioner.tenant_id == tenant_id,
            Practitioner.in_opus,
        )
        .order_by(ClinicPractitioner.display_order, Practitioner.id)
    ):
        staff[clinic_id].append((practitioner_id, opus_clinician_id))
    return tuple(
        ClinicFacts(
            c.id,
            c.opus_clinic_id,
            c.opus_database_id,
            (c.group or "").casefold(),
            c.time_grid_minutes,
            tuple(staff[c.id]),
        )
        for c in session.scalars(
            select(Clinic)
            .where(Clinic.tenant_id == tenant_id, Clinic.in_opus)
            .order_by(Clinic.display_order, Clinic.id)
        )
    )


def _sets_allowing(session: Session, treatment_ids: list[int]) -> dict[int, frozenset[int]]:
    sets: dict[int, set[int]] = defaultdict(set)
    for set_id, treatment_id in session.execute(
        select(TreatmentSetMember.treatment_set_id, TreatmentSetMember.treatment_id).where(
            TreatmentSetMember.treatment_id.in_(treatment_ids)
        )
    ):
        sets[treatment_id].add(set_id)
    return {treatment: frozenset(ids) for treatment, ids in sets.items()}


def _epoch_seconds(session: Session, column, rounding: str) -> ColumnElement[int]:
    """``column`` as whole seconds since 1970, rounded up (``ceil``) or down (``floor``),
    computed by the database: a million ranges would cost seconds of parsing here."""
    if session.get_bind().dialect.name == "postgresql":
        rounded = getattr(func, rounding)(extract("epoch", column))
        return cast(rounded, BigInteger)
    # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC; strftime('%s') drops the fraction.
    whole = cast(func.strftime("%s", column), Integer)
    if rounding == "floor":
        return whole
    return whole + (cast(func.substr(column, 21, 6), Integer) > 0)


_RANGE_COLUMNS = 5


def _load_ranges(session: Session, tenant_id: int) -> dict[tuple[int, int], Ranges]:
    # Through Core, and straight into numpy: ORM rows, or numpy reading rows one by one,
    # made a million ranges take 29 s instead of 3.
    rows = session.connection().execute(
        select(
            FreeRange.clinic_id,
            FreeRange.practitioner_id,
            FreeRange.treatment_set_id,
            _epoch_seconds(session, FreeRange.starts_at, "ceil"),
            _epoch_seconds(session, FreeRange.ends_at, "floor"),
        )
        .join(ClinicPractitioner, range_membership(bindparam("tenant_id")))
        .where(
            FreeRange.tenant_id == bindparam("tenant_id"),
            ClinicPractitioner.added,
            ClinicPractitioner.in_opus,
        ),
        {"tenant_id": tenant_id},
    )
    table = np.fromiter(chain.from_iterable(rows), dtype=np.int64).reshape(-1, _RANGE_COLUMNS)
    if not len(table):
        return {}
    table = table[np.lexsort((table[:, 3], table[:, 1], table[:, 0]))]
    owner = table[:, 0] * (1 << 32) + table[:, 1]
    bounds = [0, *np.flatnonzero(np.diff(owner)) + 1, len(table)]
    ranges = {}
    for first, last in pairwise(bounds):
        part = table[first:last]
        ranges[(int(part[0, 0]), int(part[0, 1]))] = Ranges(
            starts=_machine_integers(part[:, 3]),
            ends=_machine_integers(part[:, 4]),
            set_ids=_machine_integers(part[:, 2]),
            longest=int((part[:, 4] - part[:, 3]).max()),
        )
    return ranges


def _machine_integers(column: np.ndarray) -> array:
    integers = array("q")
    integers.frombytes(np.ascontiguousarray(column, dtype=np.int64).tobytes())
    return integers


_ACTIVE_BOOKINGS = select(
    Booking.practitioner_id,
    Booking.blocks_from,
    Booking.blocks_until,
    Booking.status,
    Booking.hold_expires_at,
).where(
    Booking.tenant_id == bindparam("tenant_id"),
    Booking.status.in_(ACTIVE_BOOKING),
    Booking.blocks_until > bindparam("since"),
)


def load_taken(session: Session, tenant_id: int, version: int, now: datetime) -> Taken:
    """The time the tenant's active bookings occupy, from a day before ``now`` on."""
    since = now - TAKEN_LOOKBACK
    by_practitioner: dict[int, list[Hold]] = defaultdict(list)
    for practitioner, blocks_from, blocks_until, status, expires_at in session.execute(
        _ACTIVE_BOOKINGS, {"tenant_id": tenant_id, "since": since}
    ):
        by_practitioner[practitioner].append(
            Hold(
                seconds_floor(blocks_from),
                seconds_ceil(blocks_until),
                None if status == "confirmed" else expires_at,
            )
        )
    return Taken(
        version=version,
        since=seconds_floor(since),
        by_practitioner={p: tuple(holds) for p, holds in by_practitioner.items()},
    )
