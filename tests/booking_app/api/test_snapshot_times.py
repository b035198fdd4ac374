"""The free times answered from memory are the store's, byte for byte: random questions
asked both ways, on both stores, with holds (live and lapsed), confirmed bookings and
changed settings in between."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from pydantic_core import to_json
from sqlalchemy import Engine, select

from booking_app.api import snapshot_times, times
from booking_app.api.dto import AvailableTimesQuery, CalendarQuery
from booking_app.api.errors import ApiError
from booking_app.api.snapshots import Availability
from connectors.store.bookings import confirm, hold
from connectors.store.db import session_scope
from connectors.store.models import Clinic, Practitioner, Tenant, TenantSettings, Treatment
from tests.helpers import apart, first_slots, request_for


def _answer(compute, *args):
    try:
        return compute(*args)
    except ApiError as error:
        return (type(error).__name__, str(error))


def _as_bytes(answer):
    return answer if isinstance(answer, tuple) else to_json(answer)


def _questions(session, rng: random.Random, now: datetime, count: int) -> list[dict]:
    clinics = [c.opus_clinic_id for c in session.scalars(select(Clinic))]
    groups = sorted({c.group_name for c in session.scalars(select(Clinic)) if c.group_name})
    treatments = [t.opus_treatment_id for t in session.scalars(select(Treatment))]
    clinicians = [p.opus_clinician_id for p in session.scalars(select(Practitioner))]
    found = []
    for _ in range(count):
        start = now + timedelta(
            days=rng.randrange(-2, 40),
            minutes=rng.randrange(0, 1440),
            microseconds=rng.randrange(10**6),
        )
        found.append(
            {
                "from_": rng.choice([None, start]),
                "to": rng.choice([None, start + timedelta(hours=rng.randrange(1, 24 * 35))]),
                "treatment_id": rng.choice([*treatments, *treatments, 999, None]),
                "clinic_id": rng.choice([None, None, *clinics, "NOPE"]),
                "clinician_id": rng.choice([None, None, None, *clinicians, 4242]),
                "group_name": rng.choice([None, None, None, *groups, "okänd"]),
            }
        )
    return found


def _availability(engine: Engine, now: datetime) -> Availability:
    return Availability(engine.url.render_as_string(False), lambda: now, 0)


def _compare(
    engine: Engine, availability: Availability, now: datetime, rng: random.Random, count: int = 60
) -> int:
    """Ask ``count`` random questions of each kind both ways, the snapshot brought up to
    date as the app does before each question; the number of times seen."""
    seen = 0
    with session_scope(engine) as session:
        tenant = session.scalars(select(Tenant)).one()
        memory = availability.checked(tenant.id)
        for fields in _questions(session, rng, now, count):
            query = AvailableTimesQuery.model_construct(**fields)
            for ask_store, ask_memory in (
                (times.available_times, snapshot_times.available_times),
                (times.overview, snapshot_times.overview),
            ):
                expected = _as_bytes(_answer(ask_store, session, tenant, query, now))
                assert _answer(ask_memory, memory, query, now) == expected, fields
                seen += expected.count(b'"Start"') if isinstance(expected, bytes) else 0
            month = (now + timedelta(days=rng.randrange(0, 60))).month
            calendar = CalendarQuery.model_construct(
                year=now.year + (month < now.month),
                month=rng.choice([month, month, 13]),
                clinic_id=fields["clinic_id"],
                clinician_id=fields["clinician_id"],
                treatment_id=fields["treatment_id"],
                delay=rng.choice([None, 0, 90, 10**6]),
                group_name=fields["group_name"],
            )
            expected = _as_bytes(_answer(times.calendar, session, tenant, calendar, now))
            assert _answer(snapshot_times.calendar, memory, calendar, now) == expected
    return seen


def test_memory_answers_the_stores_times(synced: Engine):
    now = datetime.now(UTC).replace(microsecond=123456)
    assert _compare(synced, _availability(synced, now), now, random.Random(1)) > 300


def test_memory_follows_holds_bookings_and_settings(synced: Engine):
    now = datetime.now(UTC).replace(microsecond=654321)
    availability = _availability(synced, now)
    rng = random.Random(2)
    _compare(synced, availability, now, rng, 10)  # loaded before the changes
    with session_scope(synced) as session:
        tenant, clinic, treatment, slots = first_slots(session)
        chosen = apart(slots, 6)
        *_holds, first, second = (
            hold(session, request_for(tenant, clinic, treatment, slot), now, lasts=lasts)
            for slot, lasts in zip(
                chosen, [timedelta(minutes=3), *[timedelta(minutes=30)] * 5], strict=True
            )
        )
        for booking in (first, second):
            confirm(session, booking, now)
    _compare(synced, availability, now, rng, 30)  # the short hold still counts
    _compare(synced, availability, now + timedelta(minutes=5), rng, 30)  # it has lapsed
    with session_scope(synced) as session:
        settings = session.scalars(select(TenantSettings)).one()
        settings.weekend_booking_enabled = not settings.weekend_booking_enabled
        settings.min_notice_minutes = 600
        settings.months_to_sync = 1
    _compare(synced, availability, now, rng, 40)
    with session_scope(synced) as session:
        session.scalars(select(TenantSettings)).one().publish_opus_online = False
    _compare(synced, availability, now, rng, 20)
