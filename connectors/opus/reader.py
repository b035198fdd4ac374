"""Read the Opus streams into pandas DataFrames.

The frames keep Opus's own column names, so a quarantine reason such as
"EndTime before StartTime" points reception at the field they can fix in Opus.
Times come back as Opus keeps them: local wall-clock time, without a zone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from itertools import chain
from operator import itemgetter
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from connectors.opus.connection import OpusConnection, OpusSchemaError, redact

Kind = Literal["str", "int", "time", "bool"]
_FETCH_ROWS = 100_000
# Links are read by range id alone, without joining the ranges, when the ranges read
# are at least this many and this share of their span of ids (see OpusReader._links).
_DENSE_FROM = 10_000
_DENSE_SHARE = 0.5
# A range is in the publishing window when it reaches into it. Rows without times are
# counted in, so that validation sees them and reports them.
_IN_WINDOW = "(({r}EndTime > ? AND {r}StartTime < ?) OR {r}StartTime IS NULL OR {r}EndTime IS NULL)"


@dataclass(frozen=True)
class Table:
    name: str
    columns: dict[str, Kind]

    @property
    def column_list(self) -> str:
        return ", ".join(self.columns)


CLINICS = Table(
    "OnlineClinic",
    {
        "ClinicID": "str",
        "Name": "str",
        "Address1": "str",
        "Address2": "str",
        "PostalCode": "str",
        "City": "str",
        "Phone": "str",
        "Email": "str",
    },
)
CLINICIANS = Table(
    "OnlineClinician",
    {"ClinicianID": "int", "FirstName": "str", "LastName": "str", "Title": "str", "Active": "bool"},
)
CLINICIAN_CLINICS = Table("OnlineClinicianClinic", {"ClinicianID": "int", "ClinicID": "str"})
TREATMENTS = Table(
    "OnlineTreatment",
    {
        "TreatmentID": "int",
        "Name": "str",
        "Description": "str",
        "Duration": "int",
        "WarmUpDuration": "int",
        "CoolDownDuration": "int",
        "CreateInWeb": "bool",
        "ChangeInWeb": "bool",
        "CancelInWeb": "bool",
        "ChangeInWebLimit": "int",
        "BookingText": "str",
    },
)
FREE_RANGES = Table(
    "OnlineFreeRange",
    {
        "FreeRangeID": "int",
        "ClinicID": "str",
        "ClinicianID": "int",
        "StartTime": "time",
        "EndTime": "time",
        "RowVersion": "int",
    },
)
FREE_RANGE_DELETIONS = Table("OnlineFreeRangeDeleted", {"FreeRangeID": "int", "RowVersion": "int"})
FREE_RANGE_TREATMENTS = Table(
    "OnlineFreeRangeTreatment", {"FreeRangeID": "int", "TreatmentID": "int"}
)
PATIENTS = Table(
    "OnlinePatient",
    {
        "PatientID": "int",
        "PersonalNumber": "str",
        "FirstName": "str",
        "LastName": "str",
        "Address1": "str",
        "Address2": "str",
        "PostalCode": "str",
        "City": "str",
        "Email": "str",
        "MobilePhone": "str",
        "RowVersion": "int",
    },
)
APPOINTMENTS = Table(
    "OnlineAppointment",
    {
        "AppointmentID": "int",
        "ClinicID": "str",
        "ClinicianID": "int",
        "TreatmentID": "int",
        "PatientID": "int",
        "StartTime": "time",
        "EndTime": "time",
        "BookingText": "str",
        "Status": "str",
        "IdempotencyKey": "str",
        "RowVersion": "int",
    },
)
PENDING_PATIENT_UPDATES = Table(
    "OnlinePendingPatientUpdate",
    {
        "UpdateID": "int",
        "PatientID": "int",
        "Address1": "str",
        "Address2": "str",
        "PostalCode": "str",
        "City": "str",
        "RequestedAt": "time",
        "Status": "str",
        "IdempotencyKey": "str",
    },
)
ALL_TABLES = (
    CLINICS,
    CLINICIANS,
    CLINICIAN_CLINICS,
    TREATMENTS,
    FREE_RANGES,
    FREE_RANGE_TREATMENTS,
    FREE_RANGE_DELETIONS,
    PATIENTS,
    APPOINTMENTS,
    PENDING_PATIENT_UPDATES,
)
SCHEDULE_TABLES = ALL_TABLES[:7]


@dataclass(frozen=True)
class Window:
    """The publishing window in Opus's local time: from now to now + months to sync."""

    start: datetime
    end: datetime


@dataclass
class ReferenceData:
    clinics: pd.DataFrame
    clinicians: pd.DataFrame
    clinician_clinics: pd.DataFrame
    treatments: pd.DataFrame


REFERENCE_TABLES = (CLINICS, CLINICIANS, CLINICIAN_CLINICS, TREATMENTS)


@dataclass(frozen=True)
class ReferenceRows:
    """The reference tables' rows, untyped (see :meth:`OpusReader.reference_rows`)."""

    rows: dict[str, list[tuple]]
    """By table name."""

    def digest(self) -> hashlib._Hash:
        """A digest of every row, whatever their order: each row's text, sorted."""
        digest = hashlib.sha256()
        for name, rows in self.rows.items():
            digest.update(f"{name}\0".encode())
            for text in sorted(map(repr, rows)):
                digest.update(f"{text}\n".encode())
        return digest

    def frames(self) -> ReferenceData:
        clinics, clinicians, clinician_clinics, treatments = (
            _frame_of([self.rows[table.name]], table.columns) for table in REFERENCE_TABLES
        )
        return ReferenceData(clinics, clinicians, clinician_clinics, treatments)


@dataclass
class FreeRangeExtract:
    """Free ranges read in one run, with the treatments each allows.

    ``ranges`` has Opus's columns plus ``starts_at``/``ends_at`` in UTC. A full
    extract holds every range in the window. An incremental one holds the ranges
    changed since the last run and those the window has grown over; ``deleted_ids``
    the ranges removed since; ``count_in_window`` how many ranges the window holds in
    all (to check the store against); and, when asked for, ``ids_in_window`` every id
    in the window (to find removals the deletion log missed).
    ``watermark`` is the row version up to which this run has seen every change.
    """

    ranges: pd.DataFrame
    treatments: pd.DataFrame
    watermark: int
    window: Window
    incremental: bool
    deleted_ids: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    count_in_window: int | None = None
    ids_in_window: np.ndarray | None = None


class OpusReader:
    def __init__(self, connection: OpusConnection, timezone: str = "Europe/Stockholm") -> None:
        self.connection = connection
        self.timezone = timezone

    # -- schema --------------------------------------------------------------------

    def check_schema(self, tables: tuple[Table, ...] = SCHEDULE_TABLES) -> None:
        """Raise :class:`OpusSchemaError` naming the first missing table or column."""
        for table in tables:
            if self._probe(f"SELECT {table.column_list} FROM {table.name} WHERE 1 = 0"):
                continue
            if not self._probe(f"SELECT * FROM {table.name} WHERE 1 = 0"):
                raise OpusSchemaError(f"{self.connection.label}: table {table.name} is missing")
            for column in table.columns:
                if not self._probe(f"SELECT {column} FROM {table.name} WHERE 1 = 0"):
                    raise OpusSchemaError(
                        f"{self.connection.label}: table {table.name} has no column {column}"
                    )

    def _probe(self, sql: str) -> bool:
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql)
            cursor.fetchall()
            return True
        except Exception:
            self.connection.rollback()  # PostgreSQL aborts the transaction on an error
            return False
        finally:
            cursor.close()

    # -- streams -------------------------------------------------------------------

    def read(
        self, table: Table, where: str = "", params: tuple = (), alias: str = ""
    ) -> pd.DataFrame:
        prefix = f"{alias}." if alias else ""
        columns = ", ".join(prefix + c for c in table.columns)
        sql = f"SELECT {columns} FROM {table.name} {alias} {where}"
        return self._frame(sql, params, table.columns)

    def reference_data(self) -> ReferenceData:
        return self.reference_rows().frames()

    def reference_rows(self) -> ReferenceRows:
        """The reference tables' rows as the driver gives them: enough to tell whether
        anything changed, and typed into frames only when something did."""
        return ReferenceRows(
            {
                table.name: [
                    row
                    for rows in self._chunks(f"SELECT {table.column_list} FROM {table.name}", ())
                    for row in rows
                ]
                for table in REFERENCE_TABLES
            }
        )

    def free_ranges(
        self,
        window: Window,
        *,
        changed_since: int | None = None,
        previous_window_end: datetime | None = None,
        compare_ids: bool = False,
    ) -> FreeRangeExtract:
        """All ranges in the window, or (with ``changed_since``) only those changed
        since that row version plus those the window has grown over since the last
        run, with the removals since. An incremental run counts the window's ranges
        too (``count_in_window``), from the ids when it compares them."""
        watermark = self.watermark()
        param = self.connection.param
        if changed_since is None:
            where = f"WHERE {_IN_WINDOW.format(r='r.')}"
            params: tuple = (param(window.start), param(window.end))
        else:
            grown_from = previous_window_end or window.end
            where = "WHERE r.RowVersion > ? OR (r.StartTime >= ? AND r.StartTime < ?)"
            params = (changed_since, param(grown_from), param(window.end))
        ranges = self.read(FREE_RANGES, where, params, alias="r")
        ranges["starts_at"] = local_to_utc(ranges["StartTime"], self.timezone)
        ranges["ends_at"] = local_to_utc(ranges["EndTime"], self.timezone)
        links = self._links(ranges["FreeRangeID"], where, params)
        extract = FreeRangeExtract(
            ranges=ranges,
            treatments=pd.DataFrame(links, columns=list(FREE_RANGE_TREATMENTS.columns)),
            watermark=watermark,
            window=window,
            incremental=changed_since is not None,
        )
        if changed_since is not None:
            extract.deleted_ids = self._ints(
                "SELECT FreeRangeID FROM OnlineFreeRangeDeleted WHERE RowVersion > ?",
                (changed_since,),
                width=1,
            ).ravel()
            if compare_ids:
                extract.ids_in_window = self.free_range_ids(window)
                extract.count_in_window = len(extract.ids_in_window)
            else:
                extract.count_in_window = self.count_in_window(window)
        return extract

    def _links(self, range_ids: pd.Series, where: str, params: tuple) -> np.ndarray:
        """(FreeRangeID, TreatmentID) of the ranges read, as an (n, 2) array.

        When the ranges read are most of their span of ids (a full run: ids are given
        in order, and the window holds the newest), the links of that span are read
        by their key alone and the few of other ranges dropped here: a join through the
        driver cost twice the plain read (2.8 s of a million-range extract). A sparse
        batch (an incremental run's changes, scattered over all ids) joins, so that
        it reads only its own links."""
        ids = range_ids.dropna().to_numpy("int64")
        if len(ids) < _DENSE_FROM:
            return self._joined_links(where, params)
        low, high = int(ids.min()), int(ids.max())
        if len(ids) < _DENSE_SHARE * (high - low + 1):
            return self._joined_links(where, params)
        links = self._ints(
            "SELECT FreeRangeID, TreatmentID FROM OnlineFreeRangeTreatment "
            "WHERE FreeRangeID >= ? AND FreeRangeID <= ?",
            (low, high),
            width=2,
        )
        wanted = np.zeros(high - low + 1, dtype=bool)
        wanted[ids - low] = True
        return links[wanted[links[:, 0] - low]]

    def _joined_links(self, where: str, params: tuple) -> np.ndarray:
        return self._ints(
            "SELECT t.FreeRangeID, t.TreatmentID FROM OnlineFreeRangeTreatment t "
            f"JOIN OnlineFreeRange r ON r.FreeRangeID = t.FreeRangeID {where}",
            params,
            width=2,
        )

    def count_in_window(self, window: Window) -> int:
        cursor = self.connection.cursor()
        try:
            cursor.execute(
                f"SELECT COUNT(*) FROM OnlineFreeRange WHERE {_IN_WINDOW.format(r='')}",
                (self.connection.param(window.start), self.connection.param(window.end)),
            )
            return int(cursor.fetchone()[0])
        finally:
            cursor.close()

    def free_range_ids(self, window: Window) -> np.ndarray:
        """Sorted ids of every range in the window."""
        ids = self._ints(
            f"SELECT FreeRangeID FROM OnlineFreeRange WHERE {_IN_WINDOW.format(r='')}",
            (self.connection.param(window.start), self.connection.param(window.end)),
            width=1,
        )
        return np.sort(ids.ravel())

    def watermark(self) -> int:
        """The row version up to which every change of the free ranges is committed.

        On SQL Server a transaction still in flight may hold a lower rowversion than one
        already committed, so we stop below MIN_ACTIVE_ROWVERSION(). Rows above the
        watermark are simply read again next run.
        """
        if self.connection.dialect == "mssql":
            sql = "SELECT CAST(MIN_ACTIVE_ROWVERSION() AS BIGINT) - 1"
        else:
            sql = (
                "SELECT COALESCE(MAX(v), 0) FROM ("
                "SELECT MAX(RowVersion) AS v FROM OnlineFreeRange UNION ALL "
                "SELECT MAX(RowVersion) AS v FROM OnlineFreeRangeDeleted) versions"
            )
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql)
            return int(cursor.fetchone()[0])
        finally:
            cursor.close()

    def appointments(self, changed_since: int = 0) -> pd.DataFrame:
        return self.read(APPOINTMENTS, "WHERE RowVersion > ?", (changed_since,))

    def patients(self, changed_since: int = 0) -> pd.DataFrame:
        return self.read(PATIENTS, "WHERE RowVersion > ?", (changed_since,))

    # -- plumbing ------------------------------------------------------------------

    def _frame(self, sql: str, params: tuple, columns: dict[str, Kind]) -> pd.DataFrame:
        return _frame_of(self._chunks(sql, params), columns)

    def _ints(self, sql: str, params: tuple, width: int) -> np.ndarray:
        """A query of NOT NULL integer columns straight into an (n, width) array:
        several times faster than a DataFrame for the millions of link rows."""
        chunks = [
            np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=len(rows) * width)
            for rows in self._chunks(sql, params)
        ]
        flat = np.concatenate(chunks) if chunks else np.empty(0, dtype=np.int64)
        return flat.reshape(-1, width)

    def _chunks(self, sql: str, params: tuple) -> Iterator[list[tuple]]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(_FETCH_ROWS):
                # sqlite3 gives tuples; pyodbc gives Row objects, which pandas mistakes
                yield rows if isinstance(rows[0], tuple) else [tuple(r) for r in rows]
        except Exception as exc:
            raise RuntimeError(
                f"{self.connection.label}: query failed: {redact(str(exc))}"
            ) from None
        finally:
            cursor.close()


def _frame_of(chunks: Iterable[list[tuple]], columns: dict[str, Kind]) -> pd.DataFrame:
    """Chunks of rows as one typed frame.

    Column by column rather than through ``DataFrame.from_records``, which spent
    about two seconds of a million-range extract building and inferring object
    columns; columns whose values are all of the usual Python type take a fast path
    (:func:`_fast_column`), any other goes through :func:`_typed` as before."""
    values: list[list] = [[] for _ in columns]
    getters = [itemgetter(i) for i in range(len(columns))]
    for rows in chunks:
        for column, get in zip(values, getters, strict=True):
            column.extend(map(get, rows))
    if not values or not values[0]:  # most incremental reads: typing costs a millisecond a column
        return _empty(tuple(columns.items())).copy()
    frame = {}
    for (name, kind), column in zip(columns.items(), values, strict=True):
        fast = _fast_column(column, kind)
        frame[name] = (
            fast
            if fast is not None
            else _typed(pd.DataFrame({name: pd.Series(column, dtype=object)}), {name: kind})[name]
        )
    return pd.DataFrame(frame)


def _fast_column(values: list, kind: Kind) -> pd.Series | None:
    """The typed column :func:`_typed` would make, for the common cases only: integers
    all ``int``, times all text that Arrow parses (SQLite's ISO text), possibly
    missing. None for anything else: the caller takes the general path."""
    types = set(map(type, values))
    types.discard(type(None))
    try:
        if kind == "int" and types <= {int}:
            return pd.Series(pd.array(pa.array(values, pa.int64()), dtype="Int64"))
        if kind == "time" and types <= {str}:
            moments = pa.array(values, pa.string()).cast(pa.timestamp("us"))
            return pd.Series(moments.to_numpy(zero_copy_only=False), dtype="datetime64[us]")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError):
        return None  # a text Arrow does not read as a time, an integer past 64 bits
    return None


@cache
def _empty(columns: tuple[tuple[str, Kind], ...]) -> pd.DataFrame:
    """A typed frame without rows (copied before use: frames are changed in place)."""
    return _typed(pd.DataFrame({c: pd.Series(dtype=object) for c, _ in columns}), dict(columns))


def local_to_utc(local: pd.Series, timezone: str) -> pd.Series:
    """Opus's wall-clock times as UTC moments. A time that does not exist (spring
    forward) or exists twice (fall back) becomes missing rather than guessed."""
    return local.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")


def _typed(frame: pd.DataFrame, columns: dict[str, Kind]) -> pd.DataFrame:
    """Give each column one dtype whatever the driver returned (text times on SQLite,
    datetimes over ODBC; 0/1 or True/False). Unparseable values become missing, which
    validation then reports."""
    for column, kind in columns.items():
        values = frame[column]
        if kind == "int":
            frame[column] = pd.to_numeric(values, errors="coerce").astype("Int64")
        elif kind == "bool":
            frame[column] = pd.to_numeric(values, errors="coerce").astype("Int64").astype("boolean")
        elif kind == "time":
            frame[column] = pd.to_datetime(values, errors="coerce", format="ISO8601").astype(
                "datetime64[us]"
            )
        else:
            frame[column] = values.astype("string")
    return frame
