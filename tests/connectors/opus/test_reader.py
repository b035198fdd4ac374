"""The Opus reader on the demo's SQLite database: schema check, streams, time zones."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from connectors.opus import reader as reader_module
from connectors.opus.connection import OpusConnection, OpusSchemaError, OpusSource, opened
from connectors.opus.reader import (
    CLINICIANS,
    CLINICS,
    FREE_RANGES,
    TREATMENTS,
    OpusReader,
    Window,
    local_to_utc,
)
from connectors.opus.schema import create_schema, statements
from demo.opus_data import DemoOpus

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def connection(opus_sqlite: Path) -> Iterator[OpusConnection]:
    with opened(OpusSource("Huvuddatabas", f"sqlite:///{opus_sqlite}")) as connection:
        yield connection


@pytest.fixture
def reader(connection: OpusConnection) -> OpusReader:
    return OpusReader(connection)


def _window(demo: DemoOpus) -> Window:
    """A window that cuts through the demo: from noon of its third day for a week."""
    first_day = demo.free_ranges["StartTime"].min().normalize()
    start = (first_day + pd.Timedelta(days=2, hours=12)).to_pydatetime()
    return Window(start=start, end=start + timedelta(days=7))


def _in_window(ranges: pd.DataFrame, window: Window) -> pd.DataFrame:
    return ranges[(ranges["EndTime"] > window.start) & (ranges["StartTime"] < window.end)]


def _execute(connection: OpusConnection, sql: str, params: tuple = ()) -> None:
    cursor = connection.cursor()
    cursor.execute(sql, params)
    cursor.close()
    connection.commit()


# -- check_schema ----------------------------------------------------------------------------


def test_check_schema_passes_on_the_full_schema(reader: OpusReader) -> None:
    reader.check_schema()


def _sqlite_opus(path: Path, skip: Callable[[str], bool] = lambda s: False) -> OpusSource:
    connection = sqlite3.connect(path)
    for statement in statements("sqlite"):
        if not skip(statement):
            connection.execute(statement)
    connection.commit()
    connection.close()
    return OpusSource("Huvuddatabas", f"sqlite:///{path}")


def test_check_schema_names_a_missing_table(tmp_path: Path) -> None:
    source = _sqlite_opus(
        tmp_path / "opus.db", lambda s: s.startswith("CREATE TABLE OnlineFreeRangeTreatment")
    )
    with opened(source) as connection, pytest.raises(OpusSchemaError) as raised:
        OpusReader(connection).check_schema()
    message = str(raised.value)
    assert "table OnlineFreeRangeTreatment is missing" in message
    assert "'Huvuddatabas'" in message


def test_check_schema_names_a_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "opus.db"
    source = _sqlite_opus(path, lambda s: "OnlineFreeRange (" in s or "ON OnlineFreeRange " in s)
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE TABLE OnlineFreeRange (FreeRangeID INT NOT NULL PRIMARY KEY, ClinicID TEXT, "
        "ClinicianID INT, StartTime DATETIME2, EndTime DATETIME2)"
    )
    connection.commit()
    connection.close()
    with opened(source) as opus, pytest.raises(OpusSchemaError) as raised:
        OpusReader(opus).check_schema()
    assert "table OnlineFreeRange has no column RowVersion" in str(raised.value)


def test_check_schema_passes_on_the_table_the_missing_column_test_builds(tmp_path: Path) -> None:
    """Control for the test above: the same table with RowVersion passes."""
    path = tmp_path / "opus.db"
    source = _sqlite_opus(path, lambda s: "OnlineFreeRange (" in s or "ON OnlineFreeRange " in s)
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE TABLE OnlineFreeRange (FreeRangeID INT NOT NULL PRIMARY KEY, ClinicID TEXT, "
        "ClinicianID INT, StartTime DATETIME2, EndTime DATETIME2, RowVersion BIGINT)"
    )
    connection.commit()
    connection.close()
    with opened(source) as opus:
        OpusReader(opus).check_schema()


# -- reference data --------------------------------------------------------------------------


def test_reference_data_has_opus_columns_and_the_demos_rows(
    reader: OpusReader, demo: DemoOpus
) -> None:
    reference = reader.reference_data()
    assert list(reference.clinics.columns) == list(CLINICS.columns)
    assert list(reference.clinicians.columns) == list(CLINICIANS.columns)
    assert list(reference.treatments.columns) == list(TREATMENTS.columns)
    assert list(reference.clinician_clinics.columns) == ["ClinicianID", "ClinicID"]

    assert reference.clinics["ClinicID"].tolist() == demo.clinics["ClinicID"].tolist()
    assert reference.clinics["Name"].tolist() == demo.clinics["Name"].tolist()
    assert reference.clinics["Address2"].isna().all()  # the demo leaves it empty
    assert reference.clinicians["ClinicianID"].tolist() == demo.clinicians["ClinicianID"].tolist()
    assert reference.clinicians["LastName"].tolist() == demo.clinicians["LastName"].tolist()
    assert len(reference.clinician_clinics) == len(demo.clinician_clinics)

    treatments = reference.treatments.set_index("TreatmentID")
    assert treatments["Duration"].to_dict() == dict(
        zip(demo.treatments["TreatmentID"], demo.treatments["Duration"], strict=True)
    )
    assert not treatments.loc[8, "CreateInWeb"]  # Rotfyllning: booked by the clinic only
    assert treatments.loc[1, "CreateInWeb"]
    assert pd.isna(treatments.loc[8, "BookingText"])

    assert str(reference.clinicians["ClinicianID"].dtype) == "Int64"
    assert str(reference.clinicians["Active"].dtype) == "boolean"
    assert str(reference.treatments["ChangeInWeb"].dtype) == "boolean"
    assert isinstance(reference.clinics["ClinicID"].dtype, pd.StringDtype)


# -- free ranges, full -----------------------------------------------------------------------


@pytest.mark.parametrize("links_read", ["joined", "by id span"])
def test_full_read_returns_the_ranges_in_the_window(
    reader: OpusReader, demo: DemoOpus, links_read: str, monkeypatch
) -> None:
    """Links either joined to the ranges in SQL, or read over the ranges' span of ids
    and the other ranges' dropped (connectors.opus.reader.OpusReader._links)."""
    if links_read == "by id span":
        monkeypatch.setattr(reader_module, "_DENSE_FROM", 0)
        monkeypatch.setattr(reader_module, "_DENSE_SHARE", 0.0)
    window = _window(demo)
    extract = reader.free_ranges(window)
    expected = _in_window(demo.free_ranges, window)

    assert not extract.incremental
    assert list(extract.ranges.columns) == [*FREE_RANGES.columns, "starts_at", "ends_at"]
    assert 0 < len(expected) < len(demo.free_ranges)  # the window really cuts
    assert len(extract.ranges) == len(expected)
    assert sorted(extract.ranges["FreeRangeID"]) == sorted(expected["FreeRangeID"])

    ranges = extract.ranges.set_index("FreeRangeID")
    demo_ranges = demo.free_ranges.set_index("FreeRangeID")
    some = expected["FreeRangeID"].iloc[0]
    assert ranges.loc[some, "StartTime"] == demo_ranges.loc[some, "StartTime"]
    assert ranges.loc[some, "ClinicID"] == demo_ranges.loc[some, "ClinicID"]

    links = expected[["FreeRangeID"]].merge(demo.free_range_treatments)
    assert sorted(map(tuple, extract.treatments.to_numpy().tolist())) == sorted(
        map(tuple, links.to_numpy().tolist())
    )


def test_full_read_gives_utc_moments(reader: OpusReader, demo: DemoOpus) -> None:
    extract = reader.free_ranges(_window(demo))
    ranges = extract.ranges
    assert str(ranges["starts_at"].dtype) == "datetime64[us, UTC]"
    assert str(ranges["ends_at"].dtype) == "datetime64[us, UTC]"
    assert str(ranges["StartTime"].dtype) == "datetime64[us]"
    for row in ranges.head(20).itertuples():
        local = row.StartTime.to_pydatetime().replace(tzinfo=STOCKHOLM)
        assert row.starts_at == pd.Timestamp(local).tz_convert("UTC")
        assert row.ends_at - row.starts_at == row.EndTime - row.StartTime


def test_full_read_includes_ranges_without_times_for_quarantine(
    connection: OpusConnection, demo: DemoOpus
) -> None:
    window = _window(demo)
    _execute(
        connection,
        "INSERT INTO OnlineFreeRange (FreeRangeID, ClinicID, ClinicianID, StartTime, EndTime) "
        "VALUES (9001, 'UPP1', 1, NULL, ?), (9002, 'UPP1', 1, ?, NULL), "
        "(9003, 'UPP1', 1, NULL, NULL), (9004, 'UPP1', 1, '2001-01-01 08:00:00', "
        "'2001-01-01 09:00:00')",
        (connection.param(window.start + timedelta(hours=1)), connection.param(window.end)),
    )
    extract = OpusReader(connection).free_ranges(window)
    ids = set(extract.ranges["FreeRangeID"])
    assert {9001, 9002, 9003} <= ids
    assert 9004 not in ids  # long past: outside the window
    no_times = extract.ranges.set_index("FreeRangeID").loc[[9001, 9003]]
    assert no_times["StartTime"].isna().all() and no_times["starts_at"].isna().all()
    assert {9001, 9002, 9003} <= set(OpusReader(connection).free_range_ids(window))
    assert len(extract.ranges) == len(_in_window(demo.free_ranges, window)) + 3


def test_ids_in_window_and_watermark(connection: OpusConnection, demo: DemoOpus) -> None:
    reader = OpusReader(connection)
    window = _window(demo)
    extract = reader.free_ranges(window)
    ids = reader.free_range_ids(window)
    assert ids.dtype == "int64"
    assert list(ids) == sorted(_in_window(demo.free_ranges, window)["FreeRangeID"])
    assert reader.count_in_window(window) == len(ids)
    assert extract.ids_in_window is None  # a full extract has every range itself
    # the watermark is the table's, not the window's
    assert extract.watermark == demo.free_ranges["RowVersion"].max()
    assert extract.watermark > extract.ranges["RowVersion"].max()

    _execute(connection, "UPDATE OnlineFreeRange SET ClinicianID = 2 WHERE FreeRangeID = 1")
    assert reader.free_ranges(window).watermark > extract.watermark


# -- free ranges, incremental ----------------------------------------------------------------


def test_incremental_read_returns_changed_rows_and_rows_the_window_grew_over(
    connection: OpusConnection, demo: DemoOpus
) -> None:
    reader = OpusReader(connection)
    first = _window(demo)
    before = reader.free_ranges(first)

    ranges = demo.free_ranges
    inside = _in_window(ranges, first)
    changed = int(inside["FreeRangeID"].iloc[3])
    removed = int(inside["FreeRangeID"].iloc[4])
    far_future = int(ranges.loc[ranges["StartTime"].idxmax(), "FreeRangeID"])
    _execute(
        connection,
        "UPDATE OnlineFreeRange SET EndTime = datetime(EndTime, '-15 minutes') "
        "WHERE FreeRangeID = ?",
        (changed,),
    )
    _execute(  # a range's treatments are part of the range
        connection,
        "INSERT INTO OnlineFreeRangeTreatment (FreeRangeID, TreatmentID) VALUES (?, 8)",
        (far_future,),
    )

    second = Window(start=first.start + timedelta(days=1), end=first.end + timedelta(days=2))
    _execute(connection, "DELETE FROM OnlineFreeRange WHERE FreeRangeID = ?", (removed,))
    extract = reader.free_ranges(
        second, changed_since=before.watermark, previous_window_end=first.end, compare_ids=True
    )
    grown = ranges[(ranges["StartTime"] >= first.end) & (ranges["StartTime"] < second.end)]
    assert len(grown) > 0
    assert extract.incremental
    # changed rows (wherever they are: the judge sorts out the window) + the grown-over ones
    assert set(extract.ranges["FreeRangeID"]) == {changed, far_future, *grown["FreeRangeID"]}
    assert len(extract.ranges) == len(grown) + 2
    assert (
        extract.ranges.set_index("FreeRangeID").loc[[changed, far_future], "RowVersion"]
        > before.watermark
    ).all()

    end = extract.ranges.set_index("FreeRangeID").loc[changed, "EndTime"]
    assert end == ranges.set_index("FreeRangeID").loc[changed, "EndTime"] - pd.Timedelta(minutes=15)
    assert set(extract.treatments["FreeRangeID"]) == set(extract.ranges["FreeRangeID"])
    assert (
        (extract.treatments["FreeRangeID"] == far_future) & (extract.treatments["TreatmentID"] == 8)
    ).any()
    # removals come from Opus's deletion log; compare_ids reads every id as well
    assert list(extract.deleted_ids) == [removed]
    expected_ids = sorted(set(_in_window(ranges, second)["FreeRangeID"]) - {removed})
    assert list(extract.ids_in_window) == expected_ids
    assert extract.count_in_window == len(expected_ids)


def test_incremental_read_without_changes_or_growth_is_empty(
    reader: OpusReader, demo: DemoOpus
) -> None:
    window = _window(demo)
    before = reader.free_ranges(window)
    again = reader.free_ranges(
        window, changed_since=before.watermark, previous_window_end=window.end
    )
    assert again.ranges.empty
    assert again.treatments.empty
    assert list(again.ranges.columns) == [*FREE_RANGES.columns, "starts_at", "ends_at"]
    assert again.watermark == before.watermark
    assert len(again.deleted_ids) == 0 and again.ids_in_window is None


# -- time zones and types --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        ("2026-03-29 02:30:00", None),  # spring forward: 02:00–03:00 does not exist
        ("2026-10-25 02:30:00", None),  # fall back: 02:00–03:00 happens twice
        ("2026-03-29 08:00:00", "2026-03-29 06:00:00"),  # summer time: UTC+2
        ("2026-10-25 08:00:00", "2026-10-25 07:00:00"),  # winter time: UTC+1
        ("2026-03-29 01:59:00", "2026-03-29 00:59:00"),
    ],
)
def test_local_to_utc_across_dst(local: str, utc: str | None) -> None:
    result = local_to_utc(
        pd.Series([pd.Timestamp(local)], dtype="datetime64[us]"), "Europe/Stockholm"
    )
    if utc is None:
        assert pd.isna(result.iloc[0])
    else:
        assert result.iloc[0] == pd.Timestamp(utc, tz="UTC")


def test_local_to_utc_keeps_missing_times_missing() -> None:
    result = local_to_utc(
        pd.Series([pd.NaT, pd.Timestamp("2026-12-01 09:00")], dtype="datetime64[us]"),
        "Europe/Stockholm",
    )
    assert pd.isna(result.iloc[0])
    assert result.iloc[1] == pd.Timestamp("2026-12-01 08:00", tz="UTC")


def test_unparseable_values_become_missing(tmp_path: Path) -> None:
    path = tmp_path / "opus.db"
    connection = sqlite3.connect(path)
    create_schema(connection, "sqlite")
    connection.execute(
        "INSERT INTO OnlineFreeRange (FreeRangeID, ClinicID, ClinicianID, StartTime, EndTime) "
        "VALUES (1, 'UPP1', 1, 'inte en tid', '2026-12-01 10:00:00'), "
        "(2, 'UPP1', 'två', '2026-12-01 10:00:00', '2026-12-01T11:30:00')"
    )
    connection.execute(
        "INSERT INTO OnlineTreatment (TreatmentID, Name, Duration, CreateInWeb) "
        "VALUES (1, 'Undersökning', 'fyrtiofem', 'ja'), (2, 'Lagning', '60', '0')"
    )
    connection.commit()
    connection.close()
    with opened(OpusSource("Huvuddatabas", f"sqlite:///{path}")) as opus:
        reader = OpusReader(opus)
        ranges = reader.read(FREE_RANGES, "ORDER BY FreeRangeID").set_index("FreeRangeID")
        treatments = reader.read(TREATMENTS, "ORDER BY TreatmentID").set_index("TreatmentID")

    assert str(ranges["StartTime"].dtype) == "datetime64[us]"
    assert pd.isna(ranges.loc[1, "StartTime"])
    assert ranges.loc[1, "EndTime"] == pd.Timestamp("2026-12-01 10:00")
    assert pd.isna(ranges.loc[2, "ClinicianID"])
    assert ranges.loc[2, "EndTime"] == pd.Timestamp("2026-12-01 11:30")  # ISO 'T' form too

    assert str(treatments["Duration"].dtype) == "Int64"
    assert pd.isna(treatments.loc[1, "Duration"])
    assert treatments.loc[2, "Duration"] == 60
    assert pd.isna(treatments.loc[1, "CreateInWeb"])
    assert treatments.loc[2, "CreateInWeb"] is False or not treatments.loc[2, "CreateInWeb"]


TIME_TEXTS = [
    "2026-12-08 09:00:00",
    "2026-12-08T09:00:00",
    "2026-12-08 09:00:00.5",
    "2026-12-08 09:00",
    "2026-12-08",
    "2026-12-08 9:00:00",
    "20261208",
    "2026-12-08 09:00:00.1234567",
    "2026-02-30 10:00:00",
    "2026-12-08 24:00:00",
    "inte en tid",
    None,
]


@pytest.mark.parametrize("text", TIME_TEXTS)
def test_rows_are_typed_as_the_general_path_types_them(text: str | None) -> None:
    """The column-wise fast path (connectors.opus.reader._fast_column) gives what
    pandas gives, or leaves the column to pandas: for each text alone, and among
    ordinary rows."""
    rows = [
        (1, "UPP1", 7, "2026-12-08 08:00:00", text, 11),
        (2, None, None, text, "2026-12-08 10:00:00", 12),
    ]
    general = reader_module._typed(
        pd.DataFrame.from_records(rows, columns=list(FREE_RANGES.columns)),
        dict(FREE_RANGES.columns),
    )
    typed = reader_module._frame_of([rows[:1], rows[1:]], FREE_RANGES.columns)
    pd.testing.assert_frame_equal(typed, general)
