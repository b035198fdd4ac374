"""A sync's publish moves the tenant's ``reference`` counter once, not once per range
(connectors.store.schedules.replace_ranges): on SQLite it writes with the counter
triggers of ``free_range`` suspended inside its own transaction and bumps once itself;
the triggers are back before anyone else can write, also when the publish fails."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import IntegrityError

from connectors.store import schedules
from connectors.store.availability_version import versions
from connectors.store.db import session_scope, write_session_scope
from connectors.store.models import FreeRange, OpusDatabase, Tenant
from tests.helpers import sync_tenant

REFUSED = (IntegrityError, sqlite3.IntegrityError)
"""The bulk insert runs on the driver's cursor: its errors are the driver's."""


def reference_counter(store: Engine) -> int:
    with session_scope(store) as session:
        tenant_id = session.scalars(select(Tenant.id)).one()
        return versions(session)[(tenant_id, "reference")]


def free_range_triggers(store: Engine) -> dict[str, str]:
    if store.dialect.name == "postgresql":
        query = (
            "SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relname = 'free_range' "
            "AND NOT t.tgisinternal"
        )
    else:
        query = (
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'free_range'"
        )
    with store.connect() as connection:
        return dict(connection.execute(text(query)).all())


def published_rows(store: Engine, how_many: int) -> pd.DataFrame:
    """``how_many`` published ranges, as the frame the sync inserts."""
    with session_scope(store) as session:
        rows = session.execute(
            select(*FreeRange.__table__.columns).order_by(FreeRange.opus_range_id).limit(how_many)
        ).all()
    frame = pd.DataFrame(rows, columns=list(FreeRange.__table__.columns.keys()))
    for column in ("starts_at", "ends_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[us, UTC]")
    return frame


def test_an_incremental_sync_bumps_once_not_once_per_range(
    store, demo_tenant: str, opus_sqlite: Path
):
    sync_tenant(store, demo_tenant)
    with sqlite3.connect(opus_sqlite) as connection:
        connection.execute(
            "UPDATE OnlineFreeRange SET EndTime = datetime(EndTime, '-30 minutes') "
            "WHERE FreeRangeID BETWEEN 10 AND 29"
        )
        connection.execute("DELETE FROM OnlineFreeRange WHERE FreeRangeID BETWEEN 40 AND 49")
    before = reference_counter(store)

    (counts,) = sync_tenant(store, demo_tenant)

    assert (counts.changed, counts.removed) == (20, 10)
    # SQLite: once. PostgreSQL: once per statement (statement triggers), the delete
    # and the UPDATE of the changed ones in place.
    expected = 1 if store.dialect.name == "sqlite" else 2
    assert reference_counter(store) - before == expected


def test_the_triggers_are_back_after_a_sync_and_count_every_other_write(
    store, demo_tenant: str, opus_sqlite: Path
):
    triggers = free_range_triggers(store)
    assert len(triggers) == 3
    sync_tenant(store, demo_tenant)
    with sqlite3.connect(opus_sqlite) as connection:
        connection.execute("DELETE FROM OnlineFreeRange WHERE FreeRangeID BETWEEN 40 AND 49")
    sync_tenant(store, demo_tenant)
    assert free_range_triggers(store) == triggers

    rows = published_rows(store, 5)
    with write_session_scope(store) as session:
        session.execute(FreeRange.__table__.delete())
    before = reference_counter(store)
    with write_session_scope(store) as session:  # one statement of five rows
        session.execute(insert(FreeRange).values(rows.to_dict("records")))
    row_triggers = store.dialect.name == "sqlite"
    assert reference_counter(store) - before == (5 if row_triggers else 1)


def test_a_publish_that_fails_midway_leaves_the_triggers_and_the_counter(
    sqlite_store: Engine, demo_sqlite_tenant: str
):
    store = sqlite_store
    sync_tenant(store, demo_sqlite_tenant)
    triggers = free_range_triggers(store)
    good = published_rows(store, 3)
    bad = good.assign(ends_at=good["starts_at"])  # breaks ends_after_start
    ids = good["opus_range_id"].to_numpy()
    with session_scope(store) as session:
        database_id = session.scalars(select(OpusDatabase.id)).one()
    before, published = reference_counter(store), published_rows(store, 10**6)

    # The error ends the transaction: nothing of it stays, the triggers are there.
    with pytest.raises(REFUSED), write_session_scope(store) as session:
        schedules.replace_ranges(session.connection(), database_id, ids, bad)
    assert free_range_triggers(store) == triggers
    assert reference_counter(store) == before
    pd.testing.assert_frame_equal(published_rows(store, 10**6), published)

    # A caller that catches the error and goes on: the triggers are back before it
    # writes again, so its own later write is counted.
    with write_session_scope(store) as session:
        connection = session.connection()
        with pytest.raises(REFUSED):
            schedules.replace_ranges(connection, database_id, np.empty(0, np.int64), bad)
        connection.execute(
            FreeRange.__table__.delete().where(FreeRange.opus_range_id == int(ids[0]))
        )
    assert free_range_triggers(store) == triggers
    assert reference_counter(store) == before + 1
