"""Bulk writes of whole DataFrames into the store, inside the caller's transaction.

The ORM is right for a clinic's settings and wrong for a million free ranges: here
SQLite gets one ``executemany`` and PostgreSQL one ``COPY``. Times go in as text in
exactly the form the ORM writes (UTC), formatted by Arrow in one vectorised pass.
"""

from __future__ import annotations

import io
import re
from contextlib import closing
from itertools import chain

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection, text

_KEYS_TABLE = "tmp_bulk_keys"
_BATCH_TABLE = "tmp_bulk_batch"
_UPDATE_TABLE = "tmp_bulk_update"


def insert_frame(connection: Connection, table_name: str, frame: pd.DataFrame) -> int:
    """Insert every row of ``frame`` (columns named like the table's) into the table."""
    if frame.empty:
        return 0
    columns = list(frame.columns)
    arrow = _arrow_with_text_times(frame)
    if connection.dialect.name == "postgresql":
        _copy(connection, table_name, columns, arrow)
    else:
        placeholders = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table_name} ({', '.join(columns)}) VALUES ({placeholders})"
        rows = zip(*(arrow.column(c).to_pylist() for c in columns), strict=True)
        connection.connection.driver_connection.cursor().executemany(sql, rows)
    return len(frame)


def update_frame(
    connection: Connection,
    table_name: str,
    frame: pd.DataFrame,
    key_columns: tuple[str, ...],
    indexed: tuple[str, ...] = (),
) -> int:
    """Update the rows of the table whose ``key_columns`` match a row of ``frame`` with
    that row's other columns, in place: a changed row keeps its place in the table and
    its key's index entry, so the write touches a page or two per row rather than the
    five or six a delete and an insert do (and SQLite's WAL, and the checkpoint that
    copies it back, as many). Returns how many rows ``frame`` has (each should exist).

    ``indexed``: columns of a secondary index. SQLite rewrites an index entry whenever
    its column is assigned, even to the same value, so on SQLite a row whose values of
    these are unchanged (most changes: a range ends earlier) leaves them out."""
    if frame.empty:
        return 0
    values = [c for c in frame.columns if c not in key_columns]
    if connection.dialect.name == "postgresql":  # PostgreSQL compares values itself (HOT)
        _update_from_copy(connection, table_name, frame, key_columns, values)
        return len(frame)
    arrow = _arrow_with_text_times(frame)
    lists = {c: arrow.column(c).to_pylist() for c in frame.columns}
    matches = " AND ".join(f"{c} = ?" for c in key_columns)
    same = " AND ".join(f"{c} IS ?" for c in indexed) or "1"
    passes = [(values, f"NOT ({same})")]
    if indexed:
        passes.insert(0, ([c for c in values if c not in indexed], same))
    with _driver_cursor(connection) as cursor:
        for assigned, condition in passes:
            assignments = ", ".join(f"{c} = ?" for c in assigned)
            rows = zip(*(lists[c] for c in (*assigned, *key_columns, *indexed)), strict=True)
            cursor.executemany(
                f"UPDATE {table_name} SET {assignments} WHERE {matches} AND {condition}", rows
            )
    return len(frame)


def _update_from_copy(
    connection: Connection,
    table_name: str,
    frame: pd.DataFrame,
    key_columns: tuple[str, ...],
    values: list[str],
) -> None:
    """PostgreSQL: the rows COPYed into a temporary table, then one UPDATE ... FROM it."""
    definition = ", ".join(f"{c} {_temp_type(frame[c], True)}" for c in frame.columns)
    connection.execute(text(f"DROP TABLE IF EXISTS {_UPDATE_TABLE}"))
    connection.execute(text(f"CREATE TEMP TABLE {_UPDATE_TABLE} ({definition}) ON COMMIT DROP"))
    _copy(connection, _UPDATE_TABLE, list(frame.columns), _arrow_with_text_times(frame))
    assignments = ", ".join(f"{c} = u.{c}" for c in values)
    matches = " AND ".join(f"t.{c} = u.{c}" for c in key_columns)
    connection.execute(
        text(f"UPDATE {table_name} t SET {assignments} FROM {_UPDATE_TABLE} u WHERE {matches}")
    )


def delete_keys(
    connection: Connection,
    table_name: str,
    scope: dict[str, int],
    key_column: str,
    keys: np.ndarray,
) -> int:
    """Delete the rows within ``scope`` (e.g. one Opus database) whose ``key_column``
    is in ``keys``, through a temporary key table so that a million keys cost one
    statement instead of a million."""
    if len(keys) == 0:
        return 0
    _load_keys(connection, keys)
    conditions = " AND ".join(f"{column} = :{column}" for column in scope)
    result = connection.execute(
        text(
            f"DELETE FROM {table_name} WHERE {conditions} AND {key_column} IN "
            f"(SELECT key FROM {_KEYS_TABLE})"
        ),
        scope,
    )
    return result.rowcount


def read_int_columns(connection: Connection, sql: str, params: dict, width: int = 1) -> np.ndarray:
    """Integer columns of a query, straight into an (n, width) numpy array."""
    chunks = []
    with _driver_cursor(connection) as cursor:
        cursor.execute(*_driver_sql(connection, sql, params))
        while rows := cursor.fetchmany(200_000):
            flat = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=len(rows) * width)
            chunks.append(flat.reshape(len(rows), width))
    return np.concatenate(chunks) if chunks else np.empty((0, width), dtype=np.int64)


def select_joined(
    connection: Connection, frame: pd.DataFrame, sql: str, params: dict
) -> list[tuple]:
    """Run ``sql`` with ``{batch}`` standing for a temporary table holding ``frame``:
    a join against thousands of rows without thousands of bound parameters. (The
    queries join the batch to other tables: an empty batch selects nothing.)"""
    postgres = connection.dialect.name == "postgresql"
    if frame.empty:
        return []
    if len(frame) <= _INLINE_ROWS:
        return _select_inline(connection, frame, sql, params)
    definition = ", ".join(
        f"{column} {_temp_type(frame[column], postgres)}" for column in frame.columns
    )
    suffix = " ON COMMIT DROP" if postgres else ""
    connection.execute(text(f"DROP TABLE IF EXISTS {_BATCH_TABLE}"))
    connection.execute(text(f"CREATE TEMP TABLE {_BATCH_TABLE} ({definition}){suffix}"))
    insert_frame(connection, _BATCH_TABLE, frame)
    if postgres:  # a temporary table has no statistics: say it is small, or PostgreSQL
        connection.execute(text(f"ANALYZE {_BATCH_TABLE}"))  # may scan what it joins
    with _driver_cursor(connection) as cursor:
        cursor.execute(*_driver_sql(connection, sql.format(batch=_BATCH_TABLE), params))
        return cursor.fetchall()


_INLINE_ROWS = 200
"""A batch this short goes into the query itself as a ``VALUES`` list: a temporary
table costs four statements (five round trips on PostgreSQL, with ANALYZE), which
was much of an incremental sync of a small tenant with a handful of changes."""


def _select_inline(connection: Connection, frame: pd.DataFrame, sql: str, params: dict) -> list:
    postgres = connection.dialect.name == "postgresql"
    marker = "%s" if postgres else "?"
    columns = list(frame.columns)
    one = ", ".join(
        f"CAST({marker} AS {_temp_type(frame[c], postgres)})" if postgres else marker
        for c in columns
    )
    values = ", ".join(f"({one})" for _ in range(len(frame)))
    if postgres:  # moments as moments: text would be read in the session's time zone
        lists = [
            frame[c].dt.to_pydatetime().tolist()
            if isinstance(frame[c].dtype, pd.DatetimeTZDtype)
            else frame[c].tolist()
            for c in columns
        ]
    else:  # as the temporary table holds them: UTC text, which SQLite compares
        arrow = _arrow_with_text_times(frame)
        lists = [arrow.column(c).to_pylist() for c in columns]
    bound = [value for row in zip(*lists, strict=True) for value in row]
    query, tail = _driver_sql(connection, sql.format(batch=_BATCH_TABLE), params)
    with _driver_cursor(connection) as cursor:
        cursor.execute(
            f"WITH {_BATCH_TABLE} ({', '.join(columns)}) AS (VALUES {values}) {query}",
            (*bound, *tail),
        )
        return cursor.fetchall()


def _driver_cursor(connection: Connection) -> closing:
    """The driver's own cursor, closed however its query ends: SQLAlchemy's result
    rows cost more than these queries."""
    return closing(connection.connection.driver_connection.cursor())


def _temp_type(series: pd.Series, postgres: bool) -> str:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return "TIMESTAMPTZ" if postgres else "TEXT"
    return "BIGINT"


def _driver_sql(connection: Connection, sql: str, params: dict) -> tuple[str, tuple]:
    """``:name`` parameters in the driver's own style, for the fast driver-level path."""
    names = re.findall(r":(\w+)", sql)
    marker = "%s" if connection.dialect.name == "postgresql" else "?"
    return re.sub(r":(\w+)", marker, sql), tuple(params[n] for n in names)


def _load_keys(connection: Connection, keys: np.ndarray) -> None:
    connection.execute(text(f"DROP TABLE IF EXISTS {_KEYS_TABLE}"))
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"CREATE TEMP TABLE {_KEYS_TABLE} (key BIGINT) ON COMMIT DROP"))
        _copy(connection, _KEYS_TABLE, ["key"], pa.table({"key": pa.array(keys, pa.int64())}))
    else:
        connection.execute(text(f"CREATE TEMP TABLE {_KEYS_TABLE} (key INTEGER PRIMARY KEY)"))
        connection.connection.driver_connection.cursor().executemany(
            f"INSERT OR IGNORE INTO {_KEYS_TABLE} (key) VALUES (?)", ((k,) for k in keys.tolist())
        )


def _arrow_with_text_times(frame: pd.DataFrame) -> pa.Table:
    """Arrow table of ``frame`` with every timezone-aware column as UTC text
    ('2026-03-29 08:00:00.000000'), the form the ORM's SQLite dialect reads back."""
    columns = {}
    for name in frame.columns:
        series = frame[name]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            naive = series.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
            columns[name] = pa.array(naive.to_numpy()).cast(pa.string())
        else:
            columns[name] = pa.array(series, from_pandas=True)
    return pa.table(columns)


def _copy(connection: Connection, table_name: str, columns: list[str], arrow: pa.Table) -> None:
    buffer = io.BytesIO()
    pa_csv.write_csv(arrow, buffer, pa_csv.WriteOptions(include_header=False))
    cursor = connection.connection.driver_connection.cursor()
    # Text times are UTC; say so, whatever the server's TimeZone setting is.
    cursor.execute("SET LOCAL TIME ZONE 'UTC'")
    with cursor.copy(
        f"COPY {table_name} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
    ) as copy:
        copy.write(buffer.getbuffer())
