"""The three free-time answers of :mod:`booking_app.api.times`, from a tenant's snapshot
in memory, as the JSON bytes sent.

Same answers, byte for byte (tests compare them on random questions): the same lookups
and errors, the same rules, the same order. What differs is the work: no query, start
times cut in whole seconds, and each slot's JSON put together from pieces rendered once
per process (its times, its clinic, its clinician and treatment).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from pydantic_core import to_json

from booking_app.api.binding import STOCKHOLM, format_datetime
from booking_app.api.dto import AvailableTimesQuery, CalendarQuery
from booking_app.api.errors import BadRequest, NotFound
from booking_app.api.snapshots import TenantAvailability
from booking_app.api.times import Asked, in_month, in_window
from connectors.store.availability import months_later
from connectors.store.snapshot import (
    ClinicFacts,
    Geometry,
    Reference,
    free_starts,
    seconds_ceil,
)

MINUTE = 60

Slot = tuple[int, int, str, int, bytes]
"""(moment, clinic order, clinic's Opus id, clinician's Opus id, the slot's JSON)."""


def available_times(tenant: TenantAvailability, query: AvailableTimesQuery, now: datetime) -> bytes:
    return _array(_texts(_starts(tenant, now, in_window(query, now))))


def overview(tenant: TenantAvailability, query: AvailableTimesQuery, now: datetime) -> bytes:
    first: dict[tuple, bytes] = {}
    for moment, _, clinic, clinician, json in _slots(_starts(tenant, now, in_window(query, now))):
        first.setdefault((_local_day(moment), clinic, clinician), json)
    return _array(first.values())


def calendar(tenant: TenantAvailability, query: CalendarQuery, now: datetime) -> bytes:
    return _array(_texts(_starts(tenant, now, in_month(query))))


# -- the slots ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClinicStarts:
    """One clinic's starts for a question, in time order (then the clinic's own)."""

    order: int
    """The clinic's place in the operator's order of the clinics asked about."""
    clinic: ClinicFacts
    duration: int
    starts: list[tuple[int, int]]
    """(moment, practitioner id)."""
    opus_ids: dict[int, int]
    """Practitioner id → Opus clinician id."""
    treatment_opus_id: int

    def texts(self) -> list[bytes]:
        """Each start's JSON, from pieces rendered once per process."""
        clinic_json, duration = _json_text(self.clinic.opus_clinic_id), self.duration
        tails = {p: _tail(opus_id, self.treatment_opus_id) for p, opus_id in self.opus_ids.items()}
        return [
            _times_text(moment, duration) + clinic_json + tails[practitioner]
            for moment, practitioner in self.starts
        ]


def _texts(found: list[ClinicStarts]) -> list[bytes]:
    """The slots' JSON in the answer's order. Most questions name a clinic: its
    starts are in order already."""
    if len(found) == 1:
        return found[0].texts()
    return [slot[-1] for slot in _slots(found)]


def _slots(found: list[ClinicStarts]) -> list[Slot]:
    """Every clinic's slots in time order, then the operator's clinic order, then the
    clinic's own."""
    slots = [
        (moment, clinic.order, clinic.clinic.opus_clinic_id, clinic.opus_ids[practitioner], text)
        for clinic in found
        for (moment, practitioner), text in zip(clinic.starts, clinic.texts(), strict=True)
    ]
    if len(found) > 1:
        slots.sort(key=lambda slot: slot[:2])  # stable: a clinic's own order stays
    return slots


def _starts(tenant: TenantAvailability, now: datetime, asked: Asked) -> list[ClinicStarts]:
    """What ``times._times`` computes, with the same errors in the same order: per
    clinic asked about (in the operator's order), its starts; clinics without any left
    out."""
    reference = tenant.reference
    listed = _selected_clinics(reference, asked.opus_clinic_id, asked.group_name)
    treatments = reference.treatments_by_opus_id.get(asked.opus_treatment_id)
    if not treatments:
        raise NotFound("treatment_not_found")
    clinician = asked.opus_clinician_id
    if clinician is not None and clinician not in reference.clinician_ids:
        raise NotFound("clinician_not_found")
    settings = reference.settings
    if not settings.published:
        return []
    # As rules_for: the minimum notice and the publishing horizon.
    notice = timedelta(minutes=settings.min_notice_minutes) + asked.extra_notice
    first = max(asked.start, now + notice)
    last = min(asked.end, months_later(now.astimezone(STOCKHOLM), settings.months_to_sync))
    if first >= last:
        return []
    # Starts are whole seconds: moment >= first and moment < last.
    first_s, last_s = seconds_ceil(first), seconds_ceil(last)
    found: list[ClinicStarts] = []
    for order, clinic in enumerate(listed):
        treatment = treatments.get(clinic.opus_database_id)
        staff = [
            (practitioner, opus_id)
            for practitioner, opus_id in clinic.staff
            if clinician in (None, opus_id)
        ]
        if treatment is None or not staff:
            continue
        geometry = Geometry(
            duration=treatment.duration_min * MINUTE,
            warm_up=treatment.warm_up_min * MINUTE,
            cool_down=treatment.cool_down_min * MINUTE,
            grid=clinic.grid_minutes * MINUTE,
            weekends=settings.weekends,
        )
        starts = free_starts(
            reference,
            tenant.taken,
            clinic.id,
            treatment.id,
            geometry,
            [practitioner for practitioner, _ in staff],
            first_s,
            last_s,
            now,
        )
        if starts:
            found.append(
                ClinicStarts(
                    order,
                    clinic,
                    geometry.duration,
                    starts,
                    dict(staff),
                    treatment.opus_treatment_id,
                )
            )
    return found


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


# -- JSON --------------------------------------------------------------------------------


def _array(slots) -> bytes:
    return b"[" + b",".join(slots) + b"]"


@lru_cache(maxsize=4096)
def _json_text(value: str) -> bytes:
    return to_json(value)


@lru_cache(maxsize=65536)
def _tail(opus_clinician_id: int, opus_treatment_id: int) -> bytes:
    """A slot's JSON after its clinic's id."""
    return b',"ClinicianID":%d,"TreatmentID":%d}' % (opus_clinician_id, opus_treatment_id)


@lru_cache(maxsize=65536)  # the same grid moments come back in every question
def _times_text(moment: int, duration: int) -> bytes:
    """A slot's JSON up to its clinic's id, as ``times.slot_json`` has it."""
    starts_at = datetime.fromtimestamp(moment, UTC)
    return b'{"ID":0,"Start":"%b","End":"%b","ClinicID":' % (
        format_datetime(starts_at).encode(),
        format_datetime(starts_at + timedelta(seconds=duration)).encode(),
    )


@lru_cache(maxsize=65536)
def _local_day(moment: int) -> str:
    """The Stockholm date of ``moment``, as the overview groups by it."""
    return format_datetime(datetime.fromtimestamp(moment, UTC))[:10]
