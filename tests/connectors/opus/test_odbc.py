"""The ODBC path for real: pyodbc + unixODBC + psqlODBC against PostgreSQL.

The demo is written into a fresh PostgreSQL database over ODBC and read back through
the connector; what comes out must equal what the same demo gives on SQLite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from connectors.opus.connection import OpusConnection, OpusSource, opened
from connectors.opus.reader import OpusReader, Window
from connectors.store.db import session_scope
from connectors.store.models import FreeRange, OpusDatabase, QuarantinedRow
from connectors.store.schedules import plan_tenant
from demo.opus_data import DemoOpus, DemoSpec, generate
from demo.store_seed import seed_demo_tenant
from flows.schedule_sync import extract_database, judge_database, publish_tenant
from tests.helpers import ODBC_ENV

pytestmark = [pytest.mark.odbc, pytest.mark.postgres]

SOURCE = OpusSource("Huvuddatabas", f"env:{ODBC_ENV}")


@pytest.fixture
def odbc(odbc_opus: Callable[[DemoOpus], str], demo: DemoOpus) -> Iterator[OpusConnection]:
    odbc_opus(demo)
    with opened(SOURCE) as connection:
        yield connection


@pytest.fixture
def sqlite(opus_sqlite: Path) -> Iterator[OpusConnection]:
    with opened(OpusSource("Huvuddatabas", f"sqlite:///{opus_sqlite}")) as connection:
        yield connection


def _window(demo: DemoOpus) -> Window:
    first_day = demo.free_ranges["StartTime"].min().normalize()
    start = (first_day + pd.Timedelta(days=2, hours=12)).to_pydatetime()
    return Window(start=start, end=start + timedelta(days=7))


def _sorted(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    return frame.sort_values(key, ignore_index=True)


def test_the_connection_is_odbc_to_postgresql(odbc: OpusConnection) -> None:
    assert odbc.dialect == "postgresql"
    assert type(odbc.dbapi).__module__ == "pyodbc"
    OpusReader(odbc).check_schema()


def test_free_ranges_over_odbc_equal_those_from_sqlite(
    odbc: OpusConnection, sqlite: OpusConnection, demo: DemoOpus
) -> None:
    window = _window(demo)
    from_odbc = OpusReader(odbc).free_ranges(window)
    from_sqlite = OpusReader(sqlite).free_ranges(window)

    assert len(from_odbc.ranges) > 0
    pd.testing.assert_frame_equal(
        _sorted(from_odbc.ranges, "FreeRangeID"), _sorted(from_sqlite.ranges, "FreeRangeID")
    )
    pd.testing.assert_frame_equal(
        _sorted(from_odbc.treatments, ["FreeRangeID", "TreatmentID"]),
        _sorted(from_sqlite.treatments, ["FreeRangeID", "TreatmentID"]),
    )
    assert list(OpusReader(odbc).free_range_ids(window)) == list(
        OpusReader(sqlite).free_range_ids(window)
    )
    assert from_odbc.watermark == from_sqlite.watermark


def test_reference_data_over_odbc_equals_that_from_sqlite(
    odbc: OpusConnection, sqlite: OpusConnection
) -> None:
    from_odbc = OpusReader(odbc).reference_data()
    from_sqlite = OpusReader(sqlite).reference_data()
    keys = {
        "clinics": ["ClinicID"],
        "clinicians": ["ClinicianID"],
        "clinician_clinics": ["ClinicianID", "ClinicID"],
        "treatments": ["TreatmentID"],
    }
    for name, key in keys.items():
        odbc_frame, sqlite_frame = getattr(from_odbc, name), getattr(from_sqlite, name)
        assert len(odbc_frame) > 0, name
        pd.testing.assert_frame_equal(_sorted(odbc_frame, key), _sorted(sqlite_frame, key))


def test_row_version_triggers_drive_incremental_reads_on_postgresql(
    odbc: OpusConnection, demo: DemoOpus
) -> None:
    window = _window(demo)
    reader = OpusReader(odbc)
    before = reader.free_ranges(window)
    ids = before.ranges["FreeRangeID"].astype(int).tolist()
    moved, relinked = ids[0], ids[1]

    cursor = odbc.cursor()
    cursor.execute(
        "UPDATE OnlineFreeRange SET EndTime = EndTime - INTERVAL '15 minutes' "
        "WHERE FreeRangeID = ?",
        moved,
    )
    cursor.execute(
        "DELETE FROM OnlineFreeRangeTreatment WHERE FreeRangeID = ? AND TreatmentID = "
        "(SELECT MIN(TreatmentID) FROM OnlineFreeRangeTreatment WHERE FreeRangeID = ?)",
        relinked,
        relinked,
    )
    cursor.execute(
        "INSERT INTO OnlineFreeRange (FreeRangeID, ClinicID, ClinicianID, StartTime, EndTime) "
        "VALUES (900001, 'UPP1', 1, ?, ?)",
        window.start + timedelta(hours=30),
        window.start + timedelta(hours=31),
    )
    cursor.close()
    odbc.commit()

    cursor = odbc.cursor()
    cursor.execute("DELETE FROM OnlineFreeRange WHERE FreeRangeID = ?", ids[2])
    cursor.close()
    odbc.commit()

    after = reader.free_ranges(window, changed_since=before.watermark, compare_ids=True)
    assert after.incremental
    assert set(after.ranges["FreeRangeID"]) == {moved, relinked, 900001}
    assert (after.ranges["RowVersion"] > before.watermark).all()
    assert after.watermark > after.ranges["RowVersion"].max()  # the deletion came last
    assert list(after.deleted_ids) == [ids[2]]
    end = after.ranges.set_index("FreeRangeID").loc[moved, "EndTime"]
    assert end == before.ranges.set_index("FreeRangeID").loc[moved, "EndTime"] - pd.Timedelta(
        minutes=15
    )
    assert 900001 in after.ids_in_window and ids[2] not in after.ids_in_window
    assert after.count_in_window == len(after.ids_in_window) == len(before.ranges)


# -- the whole sync, from ODBC into the store --------------------------------------------------


def _sync(engine: Engine, subdomain: str):
    with session_scope(engine) as session:
        plan = plan_tenant(session, subdomain)
    verdicts = [
        judge_database(
            extract_database(
                database, plan.months_to_sync, timezone="Europe/Stockholm", timeout_s=10
            ),
            engine,
        )
        for database in plan.databases
    ]
    return publish_tenant(engine, plan, verdicts)


def test_sync_from_odbc_publishes_exactly_the_valid_ranges(
    odbc_opus: Callable[[DemoOpus], str], sqlite_store: Engine, start_day: date, tmp_path: Path
) -> None:
    demo = generate(DemoSpec(start=start_day, days=21, bad_rows=True))
    connection_string = odbc_opus(demo)
    with session_scope(sqlite_store) as session:
        tenant = seed_demo_tenant(session, demo, tmp_path / "not-used.db")
        tenant.databases[0].connection_ref = f"env:{ODBC_ENV}"
        subdomain = tenant.subdomain
    with session_scope(sqlite_store) as session:
        assert session.scalars(select(OpusDatabase.connection_ref)).all() == [f"env:{ODBC_ENV}"]

    # What should be published, worked out from the demo alone: every range the
    # generator made, except those a bad row overlaps (a clinician cannot be in two
    # places); none of the bad rows. All of it lies within the default 3 months.
    ranges = demo.free_ranges
    bad = ranges.iloc[len(ranges) - 8 :]
    good = ranges.iloc[: len(ranges) - 8]
    assert bad["FreeRangeID"].min() > good["FreeRangeID"].max()
    overlapped = {
        int(g.FreeRangeID)
        for g in good.itertuples()
        for b in bad.dropna(subset=["ClinicianID"]).itertuples()
        if b.ClinicianID == g.ClinicianID
        and b.StartTime < b.EndTime
        and b.StartTime < g.EndTime
        and g.StartTime < b.EndTime
    }
    assert len(overlapped) == 1
    expected = set(good["FreeRangeID"].astype(int)) - overlapped

    (counts,) = _sync(sqlite_store, subdomain)

    with session_scope(sqlite_store) as session:
        published = set(session.scalars(select(FreeRange.opus_range_id)))
        refused = set(
            session.scalars(
                select(QuarantinedRow.source_id).where(QuarantinedRow.stream == "free_range")
            )
        )
    assert counts.mode == "full"
    assert published == expected
    assert counts.added == len(expected)
    assert counts.quarantined == 8 + len(overlapped)
    assert refused == {str(i) for i in [*bad["FreeRangeID"].astype(int), *overlapped]}
    assert counts.reasons["overlaps"] == 2

    # A second run is incremental, over ODBC too: a range shortened in Opus is
    # republished with its new end and nothing else changes.
    import pyodbc

    changed = min(expected)
    connection = pyodbc.connect(connection_string, autocommit=True)
    connection.execute(
        "UPDATE OnlineFreeRange SET EndTime = EndTime - INTERVAL '15 minutes' "
        "WHERE FreeRangeID = ?",
        changed,
    )
    connection.close()
    (again,) = _sync(sqlite_store, subdomain)
    assert again.mode == "incremental"
    assert (again.added, again.changed, again.removed) == (0, 1, 0)
    with session_scope(sqlite_store) as session:
        assert set(session.scalars(select(FreeRange.opus_range_id))) == expected
        row = session.get(FreeRange, (tenant.databases[0].id, changed))
        original = demo.free_ranges.set_index("FreeRangeID").loc[changed]
        assert row.ends_at - row.starts_at == (
            original["EndTime"] - original["StartTime"] - pd.Timedelta(minutes=15)
        )
