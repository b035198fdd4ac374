"""Connections to an Opus database.

A tenant's Opus databases are stored by *reference*, never by connection string,
because the string holds a password:

* ``env:NAME``            the ODBC connection string is in environment variable NAME;
* ``prefect-secret:NAME`` it is in the Prefect Secret block NAME;
* ``sqlite:///PATH``      the embedded demo's SQLite file (no secret in it).

Every message that leaves this module names the database by its operator-given name
and its server, with passwords and personal data masked.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.opus.schema import Dialect
from connectors.privacy import scrub
from connectors.secret_refs import KINDS, UnresolvedSecret, resolve_secret

_SECRET_KEYS = r"(?:PWD|PASSWORD|PASS|ACCESSTOKEN|ACCESS_TOKEN|AUTHENTICATION_TOKEN)"
# A braced value may hold ';' and writes '}' as '}}' (ODBC's escaping).
_SECRET_PAIR = re.compile(
    rf"(\b{_SECRET_KEYS}\s*=\s*)(\{{(?:[^}}]|\}}\}})*\}}|[^;]*)", re.IGNORECASE
)
_URL_PASSWORD = re.compile(r"(//[^:/@\s]+:)([^@\s]+)(@)")


class OpusConnectionError(RuntimeError):
    """The Opus database could not be reached or refused the login."""


class OpusSchemaError(RuntimeError):
    """A table or column the connector needs is missing in the Opus database."""


def redact(text: str) -> str:
    """Mask passwords and tokens in a connection string or in a driver's message, and
    the personal data a driver quotes from the failed statement's values."""
    text = _SECRET_PAIR.sub(lambda m: m.group(1) + "***", text)
    return scrub(_URL_PASSWORD.sub(lambda m: m.group(1) + "***" + m.group(3), text))


@dataclass(frozen=True)
class OpusSource:
    """One Opus database of a tenant, as the operator named it (*Välj databas*)."""

    name: str
    connection_ref: str

    def __repr__(self) -> str:  # the reference is not secret, but keep reprs short
        return f"OpusSource({self.name!r})"


def resolve_connection_string(ref: str) -> str:
    """Turn a stored reference into the connection string it points at: a secret
    reference (see :mod:`connectors.secret_refs`), or a SQLite URL as it stands."""
    if ref.partition(":")[0] == "sqlite":
        return ref
    if ref.partition(":")[0] not in KINDS:  # not echoed: it may be a pasted connection string
        raise OpusConnectionError(
            "unknown connection reference; use env:NAME, prefect-secret:NAME or sqlite:///PATH"
        )
    try:
        return resolve_secret(ref, "Opus connection")
    except UnresolvedSecret as exc:
        raise OpusConnectionError(str(exc)) from exc


def describe(connection_string: str) -> str:
    """Server and database of a connection string, for messages (no credentials)."""
    if connection_string.startswith("sqlite:"):
        return connection_string.removeprefix("sqlite:///")
    parts = dict(
        (k.strip().upper(), v.strip())
        for k, _, v in (p.partition("=") for p in connection_string.split(";"))
        if k.strip()
    )
    server = parts.get("SERVER") or parts.get("SERVERNAME") or parts.get("DSN") or "?"
    if parts.get("PORT"):
        server = f"{server}:{parts['PORT']}"
    database = parts.get("DATABASE") or parts.get("INITIAL CATALOG")
    return f"{server}/{database}" if database else server


class OpusConnection:
    """A DB-API connection to one Opus database and the dialect its SQL speaks."""

    def __init__(self, dbapi: Any, dialect: Dialect, label: str) -> None:
        self.dbapi = dbapi
        self.dialect = dialect
        self.label = label

    def param(self, value: datetime) -> Any:
        # sqlite3 stores Opus times as text 'YYYY-MM-DD HH:MM:SS'; compare like with like.
        if self.dialect == "sqlite":
            return value.strftime("%Y-%m-%d %H:%M:%S")
        return value

    def cursor(self) -> Any:
        return self.dbapi.cursor()

    def commit(self) -> None:
        self.dbapi.commit()

    def rollback(self) -> None:
        self.dbapi.rollback()

    def close(self) -> None:
        self.dbapi.close()


@dataclass(frozen=True)
class ConnectLimits:
    """How long one connect to an Opus database may take, and how often a failed one
    is tried again."""

    timeout_s: int
    retries: int


def connect_limits(
    own_timeout_s: int | None,
    own_retries: int | None,
    *,
    default_timeout_s: int,
    default_retries: int,
) -> ConnectLimits:
    """An Opus database's own timeout and retry count (its columns ``connect_timeout_s``
    and ``retries``, set on the *Kliniker* tab), each falling back to the global setting
    (``OPUS_OPUS_CONNECT_TIMEOUT_S``, ``OPUS_OPUS_RETRIES``) when not set. Every path that
    connects to Opus (schedule sync, appointment mirror, write-back) asks this."""
    return ConnectLimits(
        timeout_s=own_timeout_s
        if own_timeout_s is not None and own_timeout_s > 0
        else default_timeout_s,
        retries=own_retries if own_retries is not None and own_retries >= 0 else default_retries,
    )


def connect(source: OpusSource, *, timeout_s: int = 15) -> OpusConnection:
    """Open a connection, or raise :class:`OpusConnectionError` with a safe message."""
    connection_string = resolve_connection_string(source.connection_ref)
    label = f"Opus database {source.name!r} ({redact(describe(connection_string))})"
    try:
        if connection_string.startswith("sqlite:"):
            return OpusConnection(_connect_sqlite(connection_string, timeout_s), "sqlite", label)
        dbapi = _connect_odbc(connection_string, timeout_s)
        return OpusConnection(dbapi, _odbc_dialect(dbapi), label)
    except OpusConnectionError:
        raise
    except Exception as exc:  # driver errors carry the driver's own words; keep them, masked
        raise OpusConnectionError(f"cannot connect to {label}: {redact(str(exc))}") from None


@contextmanager
def opened(source: OpusSource, *, timeout_s: int = 15) -> Iterator[OpusConnection]:
    connection = connect(source, timeout_s=timeout_s)
    try:
        yield connection
    finally:
        connection.close()


def _connect_sqlite(connection_string: str, timeout_s: int) -> sqlite3.Connection:
    path = Path(connection_string.removeprefix("sqlite:///"))
    if not path.exists():
        raise OpusConnectionError(f"the SQLite Opus database {path} does not exist")
    return sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=timeout_s)


def _connect_odbc(connection_string: str, timeout_s: int) -> Any:
    try:
        import pyodbc  # needs unixODBC's libodbc at import time, so only when used
    except ImportError as exc:
        raise OpusConnectionError(f"ODBC is not available on this machine: {exc}") from None
    connection = pyodbc.connect(connection_string, timeout=timeout_s, autocommit=False)
    # Per-query limit (a full extract is long). psqlODBC refuses the attribute: run without.
    with suppress(pyodbc.Error):
        connection.timeout = max(timeout_s * 20, 300)
    return connection


def _odbc_dialect(connection: Any) -> Dialect:
    import pyodbc

    name = connection.getinfo(pyodbc.SQL_DBMS_NAME).lower()
    if "postgres" in name:
        return "postgresql"
    if "sqlite" in name:
        return "sqlite"
    return "mssql"
