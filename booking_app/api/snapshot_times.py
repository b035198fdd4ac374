"""The three free-time answers of :mod:`booking_app.api.times`, from a tenant's snapshot
in memory, as the JSON bytes sent.

Same answers, byte for byte (tests compare them on random questions): the same lookups
and errors, the same rules, the same order. What differs is the work. Start times are
cut per clinic, treatment and local day (a *fragment*), rendered to JSON once, and kept
with the snapshot; a question is then a few dictionary look-ups, a binary search at
each end of its window, and a join of byte strings. A fragment is made again when the
snapshot changes, or when a hold it counted (or left out) lapses.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import accumulate

from pydantic_core import to_json

from booking_app.api.binding import EARLIEST_YEAR, LATEST_YEAR, STOCKHOLM, format_datetime
from booking_app.api.dto import AvailableTimesQuery, CalendarQuery
from booking_app.api.errors import BadRequest, FieldErrors, NotFound
from booking_app.api.snapshots import TenantAvailability
from booking_app.api.times import MAX_WINDOW, window
from connectors.store.availability import months_later
from connectors.store.snapshot import (
    ClinicFacts,
    Geometry,
    Reference,
    Starts,
    TreatmentFacts,
    free_starts,
    seconds_ceil,
    slice_of,
)

MINUTE = 60


@dataclass(frozen=True)
class Fragment:
    """A clinic's start times on one local day for one treatment, rendered: slot ``i``
    is ``body[offsets[i]:offsets[i + 1]]``, its JSON followed by a comma."""

    starts: Starts
    clinician_ids: tuple[int, ...]
    offsets: tuple[int, ...]
    body: bytes


@dataclass(frozen=True)
class Part:
    """The slots ``first`` to ``last`` of a fragment that a question takes."""

    order: int
    clinic: str
    """The clinic's Opus id."""
    day: date
    fragment: Fragment
    first: int
    last: int


def available_times(tenant: TenantAvailability, query: AvailableTimesQuery, now: datetime) -> bytes:
    start, end = window(query, now)
    return _join(
        _parts(
            tenant,
            now,
            start,
            end,
            opus_clinic_id=query.clinic_id,
            group_name=query.group_name,
            opus_treatment_id=_required_treatment(query.treatment_id, "request.treatmentID"),
            opus_clinician_id=query.clinician_id,
        ),
        query.clinician_id,
    )


def overview(tenant: TenantAvailability, query: AvailableTimesQuery, now: datetime) -> bytes:
    start, end = window(query, now)
    parts = _parts(
        tenant,
        now,
        start,
        end,
        opus_clinic_id=query.clinic_id,
        group_name=query.group_name,
        opus_treatment_id=_required_treatment(query.treatment_id, "request.treatmentID"),
        opus_clinician_id=query.clinician_id,
    )
    first: dict[tuple, bytes] = {}
    for day, clinic, clinician, slot in _slots(parts, query.clinician_id):
        first.setdefault((day, clinic, clinician), slot)
    return _array(list(first.values()))


def calendar(tenant: TenantAvailability, query: CalendarQuery, now: datetime) -> bytes:
    errors = FieldErrors()
    if not 1 <= query.month <= 12:
        errors.add("month", "month_range")
    if not EARLIEST_YEAR <= query.year <= LATEST_YEAR:
        errors.add("year", "datetime_range")
    errors.raise_if_any()
    first = datetime(query.year, query.month, 1, tzinfo=STOCKHOLM)
    following = datetime(query.year + query.month // 12, query.month % 12 + 1, 1, tzinfo=STOCKHOLM)
    delay = timedelta(minutes=min(query.delay or 0, int(MAX_WINDOW.total_seconds() // 60)))
    parts = _parts(
        tenant,
        now,
        first,
        following,
        opus_clinic_id=query.clinic_id,
        group_name=query.group_name,
        opus_treatment_id=_required_treatment(query.treatment_id, "treatmentID"),
        opus_clinician_id=query.clinician_id,
        extra_notice=delay,
    )
    return _join(parts, query.clinician_id)


def _required_treatment(opus_treatment_id: int | None, name: str) -> int:
    if opus_treatment_id is None:
        raise BadRequest("invalid_request", fields={name: ["field_required"]})
    return opus_treatment_id


# -- which clinics, which days -----------------------------------------------------------


def _parts(
    tenant: TenantAvailability,
    now: datetime,
    start: datetime,
    end: datetime,
    *,
    opus_clinic_id: str | None,
    group_name: str | None,
    opus_treatment_id: int,
    opus_clinician_id: int | None,
    extra_notice: timedelta = timedelta(0),
) -> list[Part]:
    """What ``times._times`` computes, as slices of fragments (clinician filter aside),
    with the same errors in the same order."""
    reference = tenant.reference
    listed = _selected_clinics(reference, opus_clinic_id, group_name)
    treatments = reference.treatments_by_opus_id.get(opus_treatment_id)
    if not treatments:
        raise NotFound("treatment_not_found")
    if opus_clinician_id is not None and opus_clinician_id not in reference.clinician_ids:
        raise NotFound("clinician_not_found")
    settings = reference.settings
    if not settings.published:
        return []
    # As rules_for: the minimum notice and the publishing horizon.
    first = max(start, now + timedelta(minutes=settings.min_notice_minutes) + extra_notice)
    last = min(end, months_later(now.astimezone(STOCKHOLM), settings.months_to_sync))
    if first >= last:
        return []
    # Slots are whole seconds: moment >= first and moment < last.
    first_s, last_s = seconds_ceil(first), seconds_ceil(last)
    days = list(_local_days(first, last))
    parts = []
    for order, clinic in enumerate(listed):
        treatment = treatments.get(clinic.opus_database_id)
        if treatment is None or not clinic.staff:
            continue
        for day in days:
            day_start, day_end = _day_bounds(day)
            fragment = _fragment(tenant, clinic, treatment, day, now)
            lo, hi = slice_of(fragment.starts, max(first_s, day_start), min(last_s, day_end))
            if lo < hi:
                parts.append(Part(order, clinic.opus_clinic_id, day, fragment, lo, hi))
    return parts


def _selected_clinics(
    reference: Reference, opus_clinic_id: str | None, group_name: str | None
) -> Sequence[ClinicFacts]:
    """As ``reference.selected_clinics``, with the same errors."""
    if opus_clinic_id is None:
        listed = reference.clinics
    else:
        listed = reference.clinics_by_opus_id.get(opus_clinic_id.strip(), ())
        if not listed:
            raise NotFound("clinic_not_found")
        if len(listed) > 1:
            raise BadRequest("id_ambiguous")
    if group_name is None:
        return listed
    group = group_name.strip().casefold()
    return [c for c in listed if c.group == group]


def _local_days(first: datetime, last: datetime) -> Iterator[date]:
    """The Stockholm dates of ``[first, last)``."""
    day = first.astimezone(STOCKHOLM).date()
    final = (last - timedelta(microseconds=1)).astimezone(STOCKHOLM).date()
    while day <= final:
        yield day
        day += timedelta(days=1)


@lru_cache(maxsize=4096)
def _day_bounds(day: date) -> tuple[int, int]:
    """The seconds of a Stockholm day's first moment and of the next day's."""
    following = day + timedelta(days=1)
    return (
        seconds_ceil(datetime.combine(day, time(), STOCKHOLM)),
        seconds_ceil(datetime.combine(following, time(), STOCKHOLM)),
    )


# -- fragments ---------------------------------------------------------------------------


def _fragment(
    tenant: TenantAvailability,
    clinic: ClinicFacts,
    treatment: TreatmentFacts,
    day: date,
    now: datetime,
) -> Fragment:
    def make() -> Fragment:
        geometry = Geometry(
            duration=treatment.duration_min * MINUTE,
            warm_up=treatment.warm_up_min * MINUTE,
            cool_down=treatment.cool_down_min * MINUTE,
            grid=clinic.grid_minutes * MINUTE,
            weekends=tenant.reference.settings.weekends,
        )
        day_start, day_end = _day_bounds(day)
        starts = free_starts(
            tenant.reference,
            tenant.taken,
            clinic.id,
            treatment.id,
            geometry,
            [practitioner for practitioner, _ in clinic.staff],
            day_start,
            day_end,
            day,
            now,
        )
        return _render(starts, clinic, treatment, geometry.duration)

    return tenant.fragment(
        (clinic.id, treatment.id, day), make, lambda found: found.starts.valid_at(now)
    )


def _render(
    starts: Starts, clinic: ClinicFacts, treatment: TreatmentFacts, duration: int
) -> Fragment:
    """Each start as ``times.slot_json`` would serialise it, followed by a comma."""
    opus_ids = dict(clinic.staff)
    clinic_id = _json_text(clinic.opus_clinic_id)
    tails = {p: _tail(opus_id, treatment.opus_treatment_id) for p, opus_id in clinic.staff}
    pieces = [
        _times_text(moment, duration) + clinic_id + tails[practitioner]
        for moment, practitioner in zip(starts.moments, starts.practitioners, strict=True)
    ]
    offsets = (0, *accumulate(map(len, pieces)))
    clinicians = tuple(opus_ids[p] for p in starts.practitioners)
    return Fragment(starts, clinicians, offsets, b"".join(pieces))


@lru_cache(maxsize=4096)
def _json_text(value: str) -> bytes:
    return to_json(value)


@lru_cache(maxsize=65536)
def _tail(opus_clinician_id: int, opus_treatment_id: int) -> bytes:
    """A slot's JSON after its clinic's id."""
    return b',"ClinicianID":%d,"TreatmentID":%d},' % (opus_clinician_id, opus_treatment_id)


@lru_cache(maxsize=65536)  # the same grid moments come back in every fragment
def _times_text(moment: int, duration: int) -> bytes:
    """A slot's JSON up to its clinic's id."""
    starts_at = datetime.fromtimestamp(moment, UTC)
    return b'{"ID":0,"Start":"%b","End":"%b","ClinicID":' % (
        format_datetime(starts_at).encode(),
        format_datetime(starts_at + timedelta(seconds=duration)).encode(),
    )


# -- answers -----------------------------------------------------------------------------


def _join(parts: list[Part], opus_clinician_id: int | None) -> bytes:
    """The slots of ``parts`` in time order, then clinic order, as a JSON array."""
    if opus_clinician_id is None and len({p.order for p in parts}) <= 1:
        # One clinic's days, already in time order: slices of rendered bytes.
        body = b"".join(
            p.fragment.body[p.fragment.offsets[p.first] : p.fragment.offsets[p.last]] for p in parts
        )
        return b"[" + body[:-1] + b"]" if body else b"[]"
    return _array([slot for *_, slot in _slots(parts, opus_clinician_id)])


def _slots(parts: list[Part], opus_clinician_id: int | None) -> list[tuple[date, str, int, bytes]]:
    """(day, clinic's Opus id, clinician, slot JSON) of every slot, sorted by time and
    then clinic order (a clinic's own order kept, as the sort is stable)."""
    found = []
    for part in parts:
        fragment = part.fragment
        for i in range(part.first, part.last):
            clinician = fragment.clinician_ids[i]
            if opus_clinician_id is not None and clinician != opus_clinician_id:
                continue
            slot = fragment.body[fragment.offsets[i] : fragment.offsets[i + 1] - 1]
            slot_of = (part.day, part.clinic, clinician, slot)
            found.append((fragment.starts.moments[i], part.order, slot_of))
    found.sort(key=lambda item: (item[0], item[1]))
    return [item for *_, item in found]


def _array(slots: list[bytes]) -> bytes:
    return b"[" + b",".join(slots) + b"]"
