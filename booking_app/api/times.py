"""Bookable times for the API, from the store's one computation
(:func:`connectors.store.availability.bookable_times`): the same times the booking
pages offer, for the same rules (grid, minimum notice, horizon, weekends).

Three spec operations, one reading each (the spec describes none of them):
- ``/appointments/schedule/availabletimes``: every bookable start in the window;
- ``/appointments/schedule/overview/availabletimes``: the first bookable start of each
  day per clinic and clinician, for month and week views;
- ``/timeslots``: every bookable start in one calendar month (Stockholm time).

A treatment is required: a time is only bookable for a treatment's length. The window
defaults to 14 days from ``from`` (or now) and is capped at 31 days, so one request
never computes a whole horizon.

Times are answered as JSON-ready ``TimeSlotDTO`` dicts (see :func:`slot_json`), not as
pydantic objects: a month is thousands of times, and building a model per time cost
more than computing the times.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from booking_app.api.binding import EARLIEST_YEAR, LATEST_YEAR, STOCKHOLM, format_datetime
from booking_app.api.dto import AvailableTimesQuery, CalendarQuery
from booking_app.api.errors import BadRequest, FieldErrors
from booking_app.api.reference import (
    require_clinician,
    selected_clinics,
    staff,
    web_treatments,
)
from connectors.store.availability import bookable_times, rules_for
from connectors.store.models import Clinic, Tenant, Treatment

SlotJson = dict[str, Any]
DEFAULT_WINDOW = timedelta(days=14)
MAX_WINDOW = timedelta(days=31)
NEAREST_COUNT = 5
NEAREST_BEFORE, NEAREST_AFTER = timedelta(days=3), timedelta(days=7)
"""Where a 409 looks for the nearest free times: mostly later, as earlier ones pass."""


def published(tenant: Tenant) -> bool:
    # No settings row: never configured, closed (as the pages treat it).
    return tenant.settings is not None and tenant.settings.publish_opus_online


@dataclass(frozen=True)
class Asked:
    """A question of one of the three operations, checked: which times, where. The
    store's computation here and the one in memory (``snapshot_times``) answer it."""

    start: datetime
    end: datetime
    opus_treatment_id: int
    opus_clinic_id: str | None
    group_name: str | None
    opus_clinician_id: int | None
    extra_notice: timedelta = timedelta(0)
    """*delay* of ``/timeslots``: added to the minimum notice."""


def in_window(query: AvailableTimesQuery, now: datetime) -> Asked:
    """The two window operations' question: from ``from`` (or now), 14 days by
    default, at most 31."""
    start = query.from_ or now
    end = query.to or start + DEFAULT_WINDOW
    if end <= start:
        raise BadRequest("invalid_request", fields={"request.to": ["window_order"]})
    return Asked(
        start,
        min(end, start + MAX_WINDOW),
        _required_treatment(query.treatment_id, "request.treatmentID"),
        query.clinic_id,
        query.group_name,
        query.clinician_id,
    )


def in_month(query: CalendarQuery) -> Asked:
    """``/timeslots``' question: one calendar month, Stockholm time."""
    errors = FieldErrors()
    if not 1 <= query.month <= 12:
        errors.add("month", "month_range")
    if not EARLIEST_YEAR <= query.year <= LATEST_YEAR:
        errors.add("year", "datetime_range")
    errors.raise_if_any()
    delay = min(query.delay or 0, int(MAX_WINDOW.total_seconds() // 60))
    return Asked(
        datetime(query.year, query.month, 1, tzinfo=STOCKHOLM),
        datetime(query.year + query.month // 12, query.month % 12 + 1, 1, tzinfo=STOCKHOLM),
        _required_treatment(query.treatment_id, "treatmentID"),
        query.clinic_id,
        query.group_name,
        query.clinician_id,
        timedelta(minutes=delay),
    )


def _required_treatment(opus_treatment_id: int | None, name: str) -> int:
    if opus_treatment_id is None:
        raise BadRequest("invalid_request", fields={name: ["field_required"]})
    return opus_treatment_id


def available_times(
    session: Session, tenant: Tenant, query: AvailableTimesQuery, now: datetime
) -> list[SlotJson]:
    return _times(session, tenant, now, in_window(query, now))


def overview(
    session: Session, tenant: Tenant, query: AvailableTimesQuery, now: datetime
) -> list[SlotJson]:
    first: dict[tuple, SlotJson] = {}
    for slot in available_times(session, tenant, query, now):
        day = slot["Start"][:10]  # the local (Stockholm) date: Start is local time
        first.setdefault((day, slot["ClinicID"], slot["ClinicianID"]), slot)
    return list(first.values())


def calendar(
    session: Session, tenant: Tenant, query: CalendarQuery, now: datetime
) -> list[SlotJson]:
    return _times(session, tenant, now, in_month(query))


def nearest_times(
    session: Session,
    tenant: Tenant,
    clinic: Clinic,
    treatment: Treatment,
    around: datetime,
    now: datetime,
    preferred_practitioner_id: int | None = None,
) -> list[SlotJson]:
    """The free times nearest ``around`` at the clinic, for the treatment, with any of
    its clinicians (the asked-for one first on a tie), in time order."""
    if not published(tenant):
        return []
    members = staff(session, tenant.id, [clinic])
    opus_ids = {m.practitioner.id: m.practitioner.opus_clinician_id for m in members}
    rules = rules_for(tenant.settings, treatment, clinic, now)
    slots = bookable_times(
        session,
        tenant.id,
        clinic.id,
        treatment,
        rules,
        around - NEAREST_BEFORE,
        around + NEAREST_AFTER,
        now,
        list(opus_ids),
    )
    nearest = sorted(
        slots,
        key=lambda s: (abs(s.starts_at - around), s.practitioner_id != preferred_practitioner_id),
    )[:NEAREST_COUNT]
    return [
        slot_json(s.starts_at, s.ends_at, clinic, opus_ids[s.practitioner_id], treatment)
        for s in sorted(nearest, key=lambda s: (s.starts_at, s.practitioner_id))
    ]


def _times(session: Session, tenant: Tenant, now: datetime, asked: Asked) -> list[SlotJson]:
    # Unknown ids are 404 whether or not times are published.
    listed = selected_clinics(session, tenant.id, asked.opus_clinic_id, asked.group_name)
    treatments = {
        t.opus_database_id: t for t in web_treatments(session, tenant.id, asked.opus_treatment_id)
    }
    if asked.opus_clinician_id is not None:
        require_clinician(session, tenant.id, asked.opus_clinician_id)
    if not published(tenant):
        return []
    members = staff(session, tenant.id, listed)
    found: list[tuple[datetime, int, SlotJson]] = []
    formatted: dict[datetime, str] = {}  # clinicians share start times: format each once
    for order, clinic in enumerate(listed):
        treatment = treatments.get(clinic.opus_database_id)
        at_clinic = {
            m.practitioner.id: m.practitioner.opus_clinician_id
            for m in members
            if m.clinic.id == clinic.id
            and asked.opus_clinician_id in (None, m.practitioner.opus_clinician_id)
        }
        if treatment is None or not at_clinic:
            continue
        rules = rules_for(tenant.settings, treatment, clinic, now)
        if asked.extra_notice:
            rules = dataclasses.replace(rules, earliest=rules.earliest + asked.extra_notice)
        for s in bookable_times(
            session,
            tenant.id,
            clinic.id,
            treatment,
            rules,
            asked.start,
            asked.end,
            now,
            list(at_clinic),
        ):
            slot = slot_json(
                s.starts_at, s.ends_at, clinic, at_clinic[s.practitioner_id], treatment, formatted
            )
            found.append((s.starts_at, order, slot))
    # Time first, then the operator's clinic order; a clinic's own order (by
    # practitioner) survives the stable sort.
    found.sort(key=lambda item: (item[0], item[1]))
    return [slot for _, _, slot in found]


def slot_json(
    starts_at: datetime,
    ends_at: datetime,
    clinic: Clinic,
    opus_clinician_id: int,
    treatment: Treatment,
    formatted: dict[datetime, str] | None = None,
) -> SlotJson:
    """A free time as ``TimeSlotDTO`` JSON; ``ID`` 0, as it is no reservation yet.
    ``formatted`` memoises date-time texts across the times of one answer."""
    memo = {} if formatted is None else formatted
    if starts_at not in memo:
        memo[starts_at] = format_datetime(starts_at)
    if ends_at not in memo:
        memo[ends_at] = format_datetime(ends_at)
    return {
        "ID": 0,
        "Start": memo[starts_at],
        "End": memo[ends_at],
        "ClinicID": clinic.opus_clinic_id,
        "ClinicianID": opus_clinician_id,
        "TreatmentID": treatment.opus_treatment_id,
    }
