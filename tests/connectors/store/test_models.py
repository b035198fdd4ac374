"""The store enforces its rules itself, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError, StatementError

from connectors.store import bulk
from connectors.store.db import alembic_config, session_scope
from connectors.store.models import (
    Clinic,
    FreeRange,
    OpusDatabase,
    Practitioner,
    Tenant,
    TenantSettings,
    TreatmentSet,
)


def test_migrations_match_the_models(store):
    command.check(alembic_config(store.url.render_as_string(hide_password=False)))


def make_tenant(session, subdomain="klinik") -> Tenant:
    tenant = Tenant(name="Klinik", subdomain=subdomain, settings=TenantSettings())
    session.add(tenant)
    session.flush()
    return tenant


def test_settings_have_the_defaults(store):
    with session_scope(store) as session:
        settings = make_tenant(session).settings
        session.flush()
        session.refresh(settings)
        assert settings.step_order == ("clinic", "treatment", "practitioner", "time")
        assert settings.publish_opus_online and not settings.publish_boka_vard
        assert settings.months_to_sync == 3 and settings.change_cutoff_hours == 24


@pytest.mark.parametrize(
    "change",
    [
        {"second_step": "clinic"},  # a step twice: not an order
        {"first_step": "payment"},  # not a step
        {"months_to_sync": 0},
        {"sms_sender": "TandmottagningenAB"},  # longer than an SMS sender id may be
        {"color_primary": "blue"},
        {"color_accent": "#;}*{x:"},  # seven characters, but CSS injection, not a colour
    ],
)
def test_settings_that_make_no_sense_are_refused_by_the_database(store, change):
    # PostgreSQL refuses an over-long value as a DataError before any CHECK runs
    with pytest.raises((IntegrityError, DataError)), session_scope(store) as session:
        tenant = make_tenant(session)
        for name, value in change.items():
            setattr(tenant.settings, name, value)
        session.flush()


def test_a_connection_string_cannot_be_stored_only_a_reference(store):
    with pytest.raises(IntegrityError), session_scope(store) as session:
        tenant = make_tenant(session)
        session.add(
            OpusDatabase(
                tenant_id=tenant.id,
                name="Opus",
                connection_ref="DRIVER={ODBC Driver 18 for SQL Server};SERVER=x;PWD=secret",
            )
        )
        session.flush()


def test_subdomains_are_unique_and_lower_case(store):
    with session_scope(store) as session:
        make_tenant(session, "klinik")
    with pytest.raises(IntegrityError), session_scope(store) as session:
        make_tenant(session, "klinik")
    with pytest.raises(IntegrityError), session_scope(store) as session:
        make_tenant(session, "Klinik")


def test_naive_times_are_refused(store):
    with pytest.raises(StatementError, match="naive datetime"), session_scope(store) as session:
        session.execute(select(FreeRange).where(FreeRange.starts_at > datetime(2026, 1, 1)))


def test_bulk_rows_read_back_through_the_orm_as_the_same_utc_moments(store, demo_tenant):
    with session_scope(store) as session:
        tenant = session.scalars(select(Tenant)).one()
        database = tenant.databases[0]
        clinic = session.scalars(select(Clinic)).first()
        practitioner = session.scalars(select(Practitioner)).first()
        treatment_set = TreatmentSet(opus_database_id=database.id, opus_treatment_ids="1")
        session.add(treatment_set)
        session.flush()
        starts = pd.Series(
            pd.to_datetime(["2026-03-29 00:30", "2026-10-25 00:30"]).tz_localize("UTC")
        )
        frame = pd.DataFrame(
            {
                "opus_database_id": database.id,
                "opus_range_id": [1, 2],
                "tenant_id": tenant.id,
                "clinic_id": clinic.id,
                "practitioner_id": practitioner.id,
                "treatment_set_id": treatment_set.id,
                "starts_at": starts.astype("datetime64[us, UTC]"),
                "ends_at": (starts + pd.Timedelta(hours=1)).astype("datetime64[us, UTC]"),
                "row_version": [10, 11],
            }
        )
        connection = session.connection()
        assert bulk.insert_frame(connection, "free_range", frame) == 2
        read = session.scalars(select(FreeRange).order_by(FreeRange.opus_range_id)).all()
        assert [r.starts_at for r in read] == [
            datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        ]
        found = session.scalars(
            select(FreeRange.opus_range_id).where(
                FreeRange.starts_at >= datetime(2026, 10, 25, tzinfo=UTC)
            )
        ).all()
        assert found == [2]
        deleted = bulk.delete_keys(
            connection,
            "free_range",
            {"opus_database_id": database.id},
            "opus_range_id",
            np.array([1]),
        )
        assert deleted == 1
        session.expire_all()
        assert session.scalars(select(FreeRange.opus_range_id)).all() == [2]


def test_bulk_update_rewrites_rows_in_place_whether_or_not_their_indexed_columns_changed(
    store, demo_tenant
):
    with session_scope(store) as session:
        tenant = session.scalars(select(Tenant)).one()
        database = tenant.databases[0]
        clinic = session.scalars(select(Clinic)).first()
        practitioner = session.scalars(select(Practitioner)).first()
        treatment_set = TreatmentSet(opus_database_id=database.id, opus_treatment_ids="1")
        session.add(treatment_set)
        session.flush()
        starts = pd.Series(pd.to_datetime(["2026-03-29 08:00"] * 3).tz_localize("UTC"))
        frame = pd.DataFrame(
            {
                "opus_database_id": database.id,
                "opus_range_id": [1, 2, 3],
                "tenant_id": tenant.id,
                "clinic_id": clinic.id,
                "practitioner_id": practitioner.id,
                "treatment_set_id": treatment_set.id,
                "starts_at": starts.astype("datetime64[us, UTC]"),
                "ends_at": (starts + pd.Timedelta(hours=1)).astype("datetime64[us, UTC]"),
                "row_version": [10, 11, 12],
            }
        )
        connection = session.connection()
        bulk.insert_frame(connection, "free_range", frame)
        # Range 1 ends earlier (indexed columns as they were), range 2 starts later.
        changed = frame.iloc[:2].copy()
        changed["ends_at"] -= pd.Timedelta(minutes=15)
        changed.loc[1, "starts_at"] += pd.Timedelta(minutes=15)
        changed["row_version"] = [20, 21]
        key = ("opus_database_id", "opus_range_id")
        indexed = ("practitioner_id", "starts_at")
        assert bulk.update_frame(connection, "free_range", changed, key, indexed) == 2
        read = session.execute(
            select(FreeRange.opus_range_id, FreeRange.starts_at, FreeRange.ends_at).order_by(
                FreeRange.opus_range_id
            )
        ).all()
        assert [(r.opus_range_id, r.starts_at.hour, r.starts_at.minute) for r in read] == [
            (1, 8, 0),
            (2, 8, 15),
            (3, 8, 0),
        ]
        assert [(r.ends_at.hour, r.ends_at.minute) for r in read] == [(8, 45), (8, 45), (9, 0)]
        # Found through the index by the new start, and not by the old one.
        later = select(FreeRange.opus_range_id).where(
            FreeRange.practitioner_id == practitioner.id,
            FreeRange.starts_at >= datetime(2026, 3, 29, 8, 10, tzinfo=UTC),
        )
        assert session.scalars(later).all() == [2]
        versions = session.scalars(select(FreeRange.row_version).order_by(FreeRange.opus_range_id))
        assert versions.all() == [20, 21, 12]


@pytest.mark.parametrize("values", [{"connect_timeout_s": 0}, {"retries": 11}])
def test_an_opus_databases_own_connect_limits_out_of_range_are_refused(store, values):
    with pytest.raises(IntegrityError), session_scope(store) as session:
        tenant = make_tenant(session)
        database = OpusDatabase(tenant_id=tenant.id, name="Opus", connection_ref="env:OPUS")
        session.add(database)
        session.flush()
        for name, value in values.items():  # on update (SQLite: its own trigger)
            setattr(database, name, value)
        session.flush()
