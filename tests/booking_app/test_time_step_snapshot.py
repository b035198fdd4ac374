"""The patient pages' time step answered from the tenant's snapshot in memory (the
API's) finds exactly the slots the store finds, on random questions; and the pages use
it."""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select

from booking_app import times
from booking_app.api.snapshots import Availability
from booking_app.main import create_app
from booking_app.times import TimeSearch
from connectors.store.availability import STOCKHOLM
from connectors.store.bookings import hold
from connectors.store.db import engine_for, session_scope
from connectors.store.models import Clinic, Practitioner, Treatment
from opus_online.config import Settings
from tests.booking_app.booking_pages import BASE_DOMAIN, TENANT_HOST, store_url
from tests.helpers import apart, first_slots, request_for


def test_the_snapshot_finds_the_same_slots_as_the_store(synced_store: Engine):
    now = datetime.now(UTC)
    with session_scope(synced_store) as session:
        tenant, clinic, treatment, slots = first_slots(session)
        for slot in apart(slots, 4):  # taken time counts too
            hold(session, request_for(tenant, clinic, treatment, slot), now)
        tenant_id = tenant.id
        clinic_ids = list(session.scalars(select(Clinic.id).where(Clinic.tenant_id == tenant_id)))
        treatment_ids = list(
            session.scalars(
                select(Treatment.id).where(
                    Treatment.tenant_id == tenant_id, Treatment.create_in_web, Treatment.in_opus
                )
            )
        )
        practitioner_ids = list(
            session.scalars(select(Practitioner.id).where(Practitioner.tenant_id == tenant_id))
        )
    snapshot = Availability(store_url(synced_store), lambda: now, poll_s=0).checked(tenant_id)
    assert snapshot is not None

    rng = random.Random(18)
    found = answered = 0
    with session_scope(synced_store) as session:
        for _ in range(80):
            settings = SimpleNamespace(
                min_notice_minutes=rng.choice([0, 60, 24 * 60]),
                months_to_sync=rng.choice([1, 3]),
                weekend_booking_enabled=rng.random() < 0.5,
            )
            search = TimeSearch(
                tenant_id,
                tuple(rng.sample(clinic_ids, rng.randint(1, len(clinic_ids)))),
                tuple(rng.sample(treatment_ids, rng.randint(1, 2))),
                rng.choice([None, tuple(rng.sample(practitioner_ids, rng.randint(1, 3)))]),
            )
            start = now + timedelta(minutes=rng.randint(-12 * 60, 40 * 24 * 60))
            end = start + timedelta(days=rng.choice([1, 7, 31]), minutes=rng.randint(0, 59))
            from_store = times.find_slots(session, settings, search, start, end, now)
            in_memory = times.slots_in_snapshot(snapshot, settings, search, start, end, now)
            if in_memory is not None:  # None: the snapshot cannot say, the store answers
                assert in_memory == from_store, (search, start, end, settings)
                answered += 1
            found += bool(from_store)
    assert answered == 80
    assert found > 20  # most questions have answers


def test_the_time_step_reads_no_free_ranges_from_the_store(synced_store: Engine):
    """With the tenant's snapshot in memory, the time step page asks the store nothing
    about free ranges or bookings' times, and after the first page nothing at all: the
    tenant, its clinics, treatments and practitioners are read once per version of its
    reference counter."""
    settings = Settings(
        store_url=store_url(synced_store),
        base_domain=BASE_DOMAIN,
        availability_poll_s=60,
        snapshot_preload="*",
    )
    with session_scope(synced_store) as session:
        _, clinic, treatment, slots = first_slots(session)
        clinic_id, treatment_id = clinic.id, treatment.id
        practitioner_id = slots[0].practitioner_id
        day = slots[0].starts_at.astimezone(STOCKHOLM).date()
        monday = day - timedelta(days=day.weekday())
    store = engine_for(settings.resolved_store_url)  # the app's engine
    statements: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        statements.append(statement)

    def page(client: TestClient, week: date):
        params = {"clinic": clinic_id, "treatment": treatment_id, "week": week.isoformat()}
        return client.get("/boka", params={**params, "practitioner": practitioner_id})

    with TestClient(create_app(settings), base_url=f"http://{TENANT_HOST}") as client:
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "not ready"
            time.sleep(0.05)
        assert client.app.state.availability._tenants
        event.listen(store, "before_cursor_execute", record)
        try:
            first = page(client, monday)
            looked_up = len(statements)
            second = page(client, monday + timedelta(days=7))
        finally:
            event.remove(store, "before_cursor_execute", record)
    assert first.status_code == second.status_code == 200 and 'name="slot"' in first.text
    assert not [s for s in statements if "free_range" in s]
    assert statements[looked_up:] == []


def test_the_pages_show_a_change_of_a_practitioner_at_once(booking_client, booking_store):
    """The steps' lookups kept in memory follow the reference counter: a practitioner
    renamed shows on the next page (each question checks the counters in tests)."""
    with session_scope(booking_store) as session:
        _, clinic, treatment, slots = first_slots(session)
        path = (
            f"/boka?clinic={clinic.id}&treatment={treatment.id}"
            f"&practitioner={slots[0].practitioner_id}"
        )
    assert booking_client.get(path).status_code == 200
    with session_scope(booking_store) as session:
        session.get(Practitioner, slots[0].practitioner_id).last_name = "Nyttnamn"
    assert "Nyttnamn" in booking_client.get(path).text
