"""The availability version counters (migration 0010), on both stores: the database's
triggers move a tenant's counter on every committed change of what decides its free
times, and nothing else's."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from alembic import command
from sqlalchemy import Engine, delete, insert, inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors.store import bulk
from connectors.store.availability_version import versions
from connectors.store.db import alembic_config, session_scope, write_session_scope
from connectors.store.models import (
    ApiKey,
    AvailabilityVersion,
    Booking,
    Clinic,
    ClinicPractitioner,
    FreeRange,
    OpusDatabase,
    Practitioner,
    Tenant,
    TenantSettings,
    Treatment,
    TreatmentSet,
    TreatmentSetMember,
)
from tests.helpers import sync_tenant

T0 = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)  # a Monday, far ahead


@dataclass
class Chain:
    """One tenant's rows, as ids: an Opus database with a clinic, three practitioners
    (the first two working at the clinic), three treatments and a treatment set."""

    tenant: int
    database: int
    clinic: int
    practitioners: list[int]
    treatments: list[int]
    treatment_set: int


def make_chain(session, subdomain: str, settings: bool = True) -> Chain:
    tenant = Tenant(name=subdomain.title(), subdomain=subdomain)
    if settings:
        tenant.settings = TenantSettings()
    database = OpusDatabase(name="Opus", connection_ref=f"env:OPUS_{subdomain.upper()}")
    tenant.databases.append(database)
    session.add(tenant)
    session.flush()
    clinic = Clinic(
        tenant_id=tenant.id, opus_database_id=database.id, opus_clinic_id="UPP1", name="Uppsala"
    )
    practitioners = [
        Practitioner(tenant_id=tenant.id, opus_database_id=database.id, opus_clinician_id=n)
        for n in (1, 2, 3)
    ]
    treatments = [
        Treatment(
            tenant_id=tenant.id,
            opus_database_id=database.id,
            opus_treatment_id=n,
            name=f"Behandling {n}",
            duration_min=30,
        )
        for n in (1, 2, 3)
    ]
    treatment_set = TreatmentSet(opus_database_id=database.id, opus_treatment_ids="1")
    session.add_all([clinic, *practitioners, *treatments, treatment_set])
    session.flush()
    session.add_all(
        ClinicPractitioner(
            clinic_id=clinic.id, practitioner_id=p.id, tenant_id=tenant.id, added=True
        )
        for p in practitioners[:2]
    )
    session.add(
        TreatmentSetMember(treatment_set_id=treatment_set.id, treatment_id=treatments[0].id)
    )
    session.flush()
    return Chain(
        tenant.id,
        database.id,
        clinic.id,
        [p.id for p in practitioners],
        [t.id for t in treatments],
        treatment_set.id,
    )


@pytest.fixture
def chains(store) -> tuple[Chain, Chain]:
    """Two tenants: ``a``, whose changes the tests make (without settings, so that
    tests can insert them), and ``b``, whose counters must never move."""
    with session_scope(store) as session:
        return make_chain(session, "a", settings=False), make_chain(session, "b")


def counters(store: Engine) -> dict[tuple[int, str], int]:
    with session_scope(store) as session:
        return versions(session)


def moved(before: dict, after: dict) -> dict[tuple[int, str], int]:
    """The counters that changed, and by how much."""
    assert before.keys() == after.keys()
    return {key: after[key] - before[key] for key in before if after[key] != before[key]}


def committed(store: Engine, *statements) -> dict[tuple[int, str], int]:
    """Run ``statements`` in one committed transaction: the counters that moved."""
    before = counters(store)
    with write_session_scope(store) as session:
        for statement in statements:
            session.execute(statement)
    return moved(before, counters(store))


def range_row(chain: Chain, opus_range_id: int, practitioner: int = 0, **fields) -> dict:
    starts = T0 + timedelta(minutes=30 * opus_range_id)
    return {
        "opus_database_id": chain.database,
        "opus_range_id": opus_range_id,
        "tenant_id": chain.tenant,
        "clinic_id": chain.clinic,
        "practitioner_id": chain.practitioners[practitioner],
        "treatment_set_id": chain.treatment_set,
        "starts_at": starts,
        "ends_at": starts + timedelta(minutes=30),
        "row_version": 1,
    } | fields


# -- rows ------------------------------------------------------------------------------------


def test_a_new_tenant_gets_both_counters_at_zero(store):
    with session_scope(store) as session:
        session.add(Tenant(name="Ny", subdomain="ny"))
        session.flush()
        tenant_id = session.scalars(select(Tenant.id)).one()
    assert counters(store) == {(tenant_id, "reference"): 0, (tenant_id, "bookings"): 0}


def test_only_the_two_topics_are_rows(store, chains):
    with pytest.raises(IntegrityError, match="topic_known"), session_scope(store) as session:
        session.add(AvailabilityVersion(tenant_id=chains[0].tenant, topic="visits"))
        session.flush()


def test_deleting_a_tenant_deletes_its_counters_and_bumps_nothing_on_the_way(store, chains):
    a, b = chains
    with write_session_scope(store) as session:
        session.execute(insert(FreeRange).values([range_row(a, n) for n in range(1, 11)]))
        session.add(booking(a, "a1"))
    before = counters(store)
    with write_session_scope(store) as session:  # bookings first: they block the cascade
        session.execute(delete(Booking).where(Booking.tenant_id == a.tenant))
        session.execute(delete(Tenant).where(Tenant.id == a.tenant))
    after = counters(store)
    assert after == {key: v for key, v in before.items() if key[0] == b.tenant}
    with session_scope(store) as session:
        assert session.scalar(select(FreeRange.tenant_id).limit(1)) is None


# -- reference -------------------------------------------------------------------------------

REFERENCE_ROWS = {
    # table: (model, the inserted row, the update), all of tenant a
    "tenant_settings": lambda c: (TenantSettings, {"tenant_id": c.tenant}, {"months_to_sync": 6}),
    "opus_database": lambda c: (
        OpusDatabase,
        {"tenant_id": c.tenant, "name": "Extra", "connection_ref": "env:EXTRA"},
        {"enabled": False},
    ),
    "clinic": lambda c: (
        Clinic,
        {
            "tenant_id": c.tenant,
            "opus_database_id": c.database,
            "opus_clinic_id": "VAS1",
            "name": "Västerås",
        },
        {"time_grid_minutes": 30},
    ),
    "practitioner": lambda c: (
        Practitioner,
        {"tenant_id": c.tenant, "opus_database_id": c.database, "opus_clinician_id": 9},
        {"active": False},
    ),
    "clinic_practitioner": lambda c: (
        ClinicPractitioner,
        {"clinic_id": c.clinic, "practitioner_id": c.practitioners[2], "tenant_id": c.tenant},
        {"added": True},
    ),
    "treatment": lambda c: (
        Treatment,
        {
            "tenant_id": c.tenant,
            "opus_database_id": c.database,
            "opus_treatment_id": 9,
            "name": "Extra",
            "duration_min": 30,
        },
        {"duration_min": 45},
    ),
    "api_key": lambda c: (
        ApiKey,
        {"tenant_id": c.tenant, "name": "Kassa", "key_hash": "0" * 64, "prefix": "oo_00000"},
        {"revoked_at": T0},
    ),
    "free_range": lambda c: (FreeRange, range_row(c, 1), {"ends_at": T0 + timedelta(hours=2)}),
    "treatment_set": lambda c: (
        TreatmentSet,
        {"opus_database_id": c.database, "opus_treatment_ids": "1,2"},
        {"opus_treatment_ids": "1,2,3"},
    ),
    # The member's one column besides the key is the key: an update that sets it to
    # what it is is still an update, and bumps.
    "treatment_set_member": lambda c: (
        TreatmentSetMember,
        {"treatment_set_id": c.treatment_set, "treatment_id": c.treatments[1]},
        {"treatment_id": c.treatments[1]},
    ),
}


@pytest.mark.parametrize("table", REFERENCE_ROWS)
def test_each_reference_change_bumps_that_tenants_reference_counter_once(store, chains, table):
    a, _ = chains
    model, row, change = REFERENCE_ROWS[table](a)
    assert model.__tablename__ == table
    before = counters(store)
    with write_session_scope(store) as session:
        key = session.execute(insert(model).values(row)).inserted_primary_key
    assert moved(before, counters(store)) == {(a.tenant, "reference"): 1}
    this_row = [
        column == value for column, value in zip(inspect(model).primary_key, key, strict=True)
    ]

    assert committed(store, update(model).where(*this_row).values(change)) == {
        (a.tenant, "reference"): 1
    }
    assert committed(store, delete(model).where(*this_row)) == {(a.tenant, "reference"): 1}


def test_a_change_to_the_tenant_row_bumps_its_reference_counter(store, chains):
    a, _ = chains
    change = update(Tenant).where(Tenant.id == a.tenant).values(name="Nytt namn")
    assert committed(store, change) == {(a.tenant, "reference"): 1}


def test_a_rolled_back_change_bumps_nothing(store, chains):
    a, _ = chains
    before = counters(store)
    with pytest.raises(RuntimeError), write_session_scope(store) as session:
        session.execute(update(Clinic).where(Clinic.id == a.clinic).values(name="Bort"))
        raise RuntimeError("changed my mind")
    assert counters(store) == before


def test_deleting_an_opus_database_bumps_its_tenant_through_the_cascade(store, chains):
    a, _ = chains
    with write_session_scope(store) as session:
        session.execute(insert(FreeRange).values([range_row(a, n) for n in range(1, 11)]))
    result = committed(store, delete(OpusDatabase).where(OpusDatabase.id == a.database))
    assert set(result) == {(a.tenant, "reference")}  # once per row on the way, or more


def test_many_ranges_in_one_statement_bump_once_on_postgresql(store, chains):
    """A sync writes a million ranges: PostgreSQL bumps once per statement (statement
    triggers); SQLite, which has only row triggers, once per row."""
    a, _ = chains
    postgres = store.dialect.name == "postgresql"
    rows = [range_row(a, n, practitioner=n % 2) for n in range(1, 1001)]
    # Multi-row VALUES, one statement (an executemany would be a statement per row)
    inserted = committed(store, insert(FreeRange).values(rows))
    assert inserted == {(a.tenant, "reference"): 1 if postgres else 1000}
    later = update(FreeRange).where(FreeRange.tenant_id == a.tenant).values(row_version=2)
    assert committed(store, later) == {(a.tenant, "reference"): 1 if postgres else 1000}
    assert committed(store, delete(FreeRange).where(FreeRange.tenant_id == a.tenant)) == {
        (a.tenant, "reference"): 1 if postgres else 1000
    }


def test_the_syncs_bulk_writes_bump_the_reference_counter(store, chains):
    """What the sync itself runs: COPY (PostgreSQL) or executemany (SQLite) of ranges,
    and a delete of a million keys through a temporary table."""
    a, _ = chains
    frame = pd.DataFrame([range_row(a, n) for n in range(1, 501)])
    for column in ("starts_at", "ends_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[us, UTC]")
    before = counters(store)
    with write_session_scope(store) as session:
        bulk.insert_frame(session.connection(), "free_range", frame)
    assert set(moved(before, counters(store))) == {(a.tenant, "reference")}
    before = counters(store)
    with write_session_scope(store) as session:
        keys = np.arange(1, 101)
        scope = {"opus_database_id": a.database}
        bulk.delete_keys(session.connection(), "free_range", scope, "opus_range_id", keys)
    assert set(moved(before, counters(store))) == {(a.tenant, "reference")}


def test_a_sync_bumps_the_reference_counter_and_one_that_changes_nothing_does_not(
    store, demo_tenant
):
    with session_scope(store) as session:
        tenant_id = session.scalars(select(Tenant.id)).one()
    before = counters(store)
    sync_tenant(store, demo_tenant)
    assert set(moved(before, counters(store))) == {(tenant_id, "reference")}
    # Opus unchanged: the next run writes nothing that counts, and no snapshot reloads.
    before = counters(store)
    sync_tenant(store, demo_tenant)
    assert moved(before, counters(store)) == {}


# -- bookings --------------------------------------------------------------------------------


def booking(chain: Chain, reference: str, practitioner: int = 0, hour: int = 0) -> Booking:
    starts = T0 + timedelta(hours=hour)
    return Booking(
        reference=reference,
        idempotency_key=f"key-{reference}",
        tenant_id=chain.tenant,
        clinic_id=chain.clinic,
        practitioner_id=chain.practitioners[practitioner],
        treatment_id=chain.treatments[0],
        starts_at=starts,
        ends_at=starts + timedelta(minutes=30),
        blocks_from=starts,
        blocks_until=starts + timedelta(minutes=35),
        status="held",
        hold_expires_at=starts - timedelta(days=1),
    )


@pytest.fixture
def booked(store, chains) -> tuple[Chain, int]:
    """Tenant a's held booking (hour 0, first practitioner), its id."""
    a, _ = chains
    with write_session_scope(store) as session:
        row = booking(a, "a1")
        session.add(row)
        session.flush()
        return a, row.id


def test_a_new_booking_bumps_the_bookings_counter(store, chains):
    a, _ = chains
    before = counters(store)
    with write_session_scope(store) as session:
        session.add(booking(a, "a1"))
    assert moved(before, counters(store)) == {(a.tenant, "bookings"): 1}


@pytest.mark.parametrize(
    "change",
    [
        {"status": "confirmed", "hold_expires_at": None, "confirmed_at": T0},
        {"status": "cancelled"},
        {"hold_expires_at": T0},
        {"practitioner_id": 1},  # the second practitioner (index)
        {"blocks_until": T0 + timedelta(minutes=40)},
        {"blocks_from": T0 - timedelta(minutes=5)},
    ],
    ids=lambda change: "+".join(change),
)
def test_a_change_that_moves_a_bookings_time_bumps_the_bookings_counter(store, booked, change):
    a, booking_id = booked
    if "practitioner_id" in change:
        change = {"practitioner_id": a.practitioners[change["practitioner_id"]]}
    statement = update(Booking).where(Booking.id == booking_id).values(change)
    assert committed(store, statement) == {(a.tenant, "bookings"): 1}


@pytest.mark.parametrize(
    "change",
    [
        {"write_back_attempts": 1, "write_back_error": "Opus svarar inte"},
        {"change_seq": 1, "written_seq": 1, "written_back_at": T0, "opus_appointment_id": 7},
        {"first_name": "Anna", "email": "anna@example.se", "code_attempts": 1},
        {"status": "held"},  # set to what it is: no change
    ],
    ids=lambda change: "+".join(change),
)
def test_a_change_that_leaves_the_time_as_it_is_bumps_nothing(store, booked, change):
    _, booking_id = booked
    statement = update(Booking).where(Booking.id == booking_id).values(change)
    assert committed(store, statement) == {}


def test_deleting_a_booking_bumps_the_bookings_counter(store, booked):
    a, booking_id = booked
    assert committed(store, delete(Booking).where(Booking.id == booking_id)) == {
        (a.tenant, "bookings"): 1
    }


def test_a_write_back_that_fails_over_and_over_bumps_nothing(store, booked):
    _, booking_id = booked
    before = counters(store)
    for attempt in range(1, 6):
        with write_session_scope(store) as session:
            row = session.get_one(Booking, booking_id)
            row.write_back_attempts = attempt
            row.write_back_next_at = T0 + timedelta(minutes=attempt)
    assert moved(before, counters(store)) == {}


def test_booking_transactions_of_one_tenant_both_commit_and_both_count(postgres_store):
    """Two open transactions, each with its own booking of one tenant (different
    practitioners): the first commits, then the second, and the counter counts both.
    (SQLite has one writer at a time: there the second could not even start.)"""
    store = postgres_store
    with session_scope(store) as session:
        a = make_chain(session, "a")
    before = counters(store)
    first, second = Session(store), Session(store)
    try:
        first.add(booking(a, "first", practitioner=0))
        first.flush()
        second.execute(text("SET LOCAL lock_timeout = '5s'"))  # fail, not hang
        second.add(booking(a, "second", practitioner=1))
        second.flush()
        first.commit()
        second.commit()
    finally:
        first.close()
        second.close()
    assert moved(before, counters(store)) == {(a.tenant, "bookings"): 2}


def test_a_booking_waits_for_the_counter_only_in_its_commit(postgres_store):
    """The bookings counter is bumped at commit (a deferred trigger): a transaction
    that holds the counter row does not hold up another's booking, only its commit,
    which then goes through once the first has committed; the counter counts both."""
    store = postgres_store
    with session_scope(store) as session:
        a = make_chain(session, "a")
    before = counters(store)
    first, second = Session(store), Session(store)
    try:
        first.add(booking(a, "first", practitioner=0))
        first.flush()
        # As if in its commit: run the deferred bump now, so it holds the counter row.
        first.execute(text("SET CONSTRAINTS tr_booking_availability_insert IMMEDIATE"))
        second.execute(text("SET LOCAL lock_timeout = '5s'"))  # fail, not hang
        second.add(booking(a, "second", practitioner=1))
        second.flush()  # not held up: its booking row is not the counter row

        errors: list[BaseException] = []

        def commit_second() -> None:
            try:
                second.commit()
            except BaseException as exc:  # reported below
                errors.append(exc)

        waiting = threading.Thread(target=commit_second)
        waiting.start()
        waiting.join(timeout=0.5)
        assert waiting.is_alive(), "the second commit did not wait for the counter row"
        first.commit()
        waiting.join(timeout=10)
        assert not waiting.is_alive()
        assert not errors, errors
    finally:
        first.close()
        second.close()
    assert moved(before, counters(store)) == {(a.tenant, "bookings"): 2}
    with session_scope(store) as session:
        assert set(session.scalars(select(Booking.reference))) == {"first", "second"}


# -- the schema ------------------------------------------------------------------------------

EXPECTED_TRIGGERS = {
    "tenant",
    "tenant_settings",
    "opus_database",
    "clinic",
    "practitioner",
    "clinic_practitioner",
    "treatment",
    "api_key",
    "free_range",
    "treatment_set",
    "treatment_set_member",
    "booking",
}


def test_every_covered_table_has_its_triggers(store):
    """A later SQLite batch migration that recreates one of these tables drops its
    triggers: it must create them again, or this fails."""
    if store.dialect.name == "postgresql":
        query = (
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE 'tr_%_availability%'"
        )
        per_table = {"tenant": 2, "free_range": 3, "booking": 3}
    else:
        query = (
            "SELECT tbl_name, name FROM sqlite_master "
            "WHERE type = 'trigger' AND name LIKE 'tr_%_availability_%'"
        )
        per_table = {"tenant": 2}
    with store.connect() as connection:
        found: dict[str, int] = {}
        for table, _ in connection.execute(text(query)):
            found[table] = found.get(table, 0) + 1
    default = 1 if store.dialect.name == "postgresql" else 3
    assert found == {table: per_table.get(table, default) for table in EXPECTED_TRIGGERS}


def test_migration_0010_goes_down_and_up_and_counts_existing_tenants(store, chains):
    a, b = chains
    url = store.url.render_as_string(hide_password=False)
    store.dispose()
    command.downgrade(alembic_config(url), "0009")
    with store.connect() as connection:
        assert "availability_version" not in inspect(connection).get_table_names()
        connection.execute(text("UPDATE clinic SET name = 'Utan räknare'"))  # no trigger left
        connection.commit()
    command.upgrade(alembic_config(url), "head")
    expected = {(t, topic): 0 for t in (a.tenant, b.tenant) for topic in ("reference", "bookings")}
    assert counters(store) == expected
    assert committed(store, update(Clinic).where(Clinic.id == b.clinic).values(name="X")) == {
        (b.tenant, "reference"): 1
    }
