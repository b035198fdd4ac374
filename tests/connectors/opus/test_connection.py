"""Connection references, safe messages, and connecting (SQLite; ODBC where present)."""

from __future__ import annotations

import sqlite3
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest

from connectors.opus.connection import (
    OpusConnectionError,
    OpusSource,
    connect,
    connect_limits,
    describe,
    opened,
    redact,
    resolve_connection_string,
)
from tests.helpers import odbc_connection_string

# -- redact ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        (
            "DRIVER={ODBC Driver 18 for SQL Server};SERVER=db1;UID=opus;PWD=hunter2;Encrypt=yes",
            "hunter2",
            "DRIVER={ODBC Driver 18 for SQL Server};SERVER=db1;UID=opus;PWD=***;Encrypt=yes",
        ),
        (
            "Server=db1;Database=Opus;User Id=opus;Password=Tandv@rk1;",
            "Tandv@rk1",
            "Server=db1;Database=Opus;User Id=opus;Password=***;",
        ),
        ("SERVER=db1;pwd = lowercase;UID=x", "lowercase", "SERVER=db1;pwd = ***;UID=x"),
        (  # braces let a password hold ';' — the whole braced value is the password
            "SERVER=db1;PWD={ab;c=d;e};DATABASE=Opus",
            "ab;c=d;e",
            "SERVER=db1;PWD=***;DATABASE=Opus",
        ),
        (  # inside braces '}' is written '}}'
            "SERVER=db1;PWD={x}}y;z};DATABASE=Opus",
            "y;z",
            "SERVER=db1;PWD=***;DATABASE=Opus",
        ),
        (
            "postgresql+psycopg://opus:s3cr3t@db1:5432/opus",
            "s3cr3t",
            "postgresql+psycopg://opus:***@db1:5432/opus",
        ),
        (  # a driver message quoting a URL
            "could not connect: mssql://sa:Hemligt99@10.0.0.5/Opus refused",
            "Hemligt99",
            "could not connect: mssql://sa:***@10.0.0.5/Opus refused",
        ),
    ],
)
def test_redact_masks_passwords(text: str, secret: str, kept: str) -> None:
    masked = redact(text)
    assert secret not in masked
    assert masked == kept


def test_redact_leaves_text_without_secrets_alone() -> None:
    text = "SERVER=db1;PORT=1433;DATABASE=Opus;UID=opus"
    assert redact(text) == text


# -- describe --------------------------------------------------------------------------------


def test_describe_gives_server_port_and_database_without_credentials() -> None:
    text = describe(
        "DRIVER={PostgreSQL Unicode};SERVER=db.klinik.se;PORT=5432;DATABASE=opus;"
        "UID=opus;PWD=s3cret;"
    )
    assert text == "db.klinik.se:5432/opus"


def test_describe_understands_sql_server_keywords() -> None:
    text = describe("Driver={ODBC Driver 18};Server=tcp:db1,1433;Initial Catalog=Opus;Pwd=x")
    assert text == "tcp:db1,1433/Opus"


def test_describe_without_a_database_gives_the_server_or_dsn() -> None:
    assert describe("DSN=OpusDental;UID=sa;PWD=x") == "OpusDental"


def test_describe_of_the_demo_sqlite_reference_is_its_path() -> None:
    assert describe("sqlite:////srv/opus/demo.db") == "/srv/opus/demo.db"


def test_opus_source_repr_shows_only_the_name() -> None:
    assert repr(OpusSource("Huvuddatabas", "env:OPUS_DSN")) == "OpusSource('Huvuddatabas')"


# -- resolve_connection_string ---------------------------------------------------------------


def test_env_reference_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPUS_TEST_DSN", "SERVER=db1;DATABASE=Opus;PWD=x")
    assert resolve_connection_string("env:OPUS_TEST_DSN") == "SERVER=db1;DATABASE=Opus;PWD=x"


def test_missing_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPUS_NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(OpusConnectionError, match="OPUS_NOT_SET_ANYWHERE"):
        resolve_connection_string("env:OPUS_NOT_SET_ANYWHERE")


def test_sqlite_reference_is_its_own_connection_string() -> None:
    assert resolve_connection_string("sqlite:///tmp/opus.db") == "sqlite:///tmp/opus.db"


def test_unknown_reference_scheme_is_refused_without_echoing_it() -> None:
    with pytest.raises(OpusConnectionError) as raised:
        resolve_connection_string("DRIVER={x};SERVER=db1;PWD=s3cret")
    message = str(raised.value)
    assert "env:NAME" in message and "prefect-secret:NAME" in message
    assert "s3cret" not in message


# -- connecting to SQLite --------------------------------------------------------------------


def test_connect_to_a_missing_sqlite_file_fails_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "opus.db"
    with pytest.raises(OpusConnectionError, match="does not exist"):
        connect(OpusSource("Demo", f"sqlite:///{path}"))
    assert not path.exists()
    assert not path.parent.exists()


def test_connect_to_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "opus.db"
    sqlite3.connect(path).close()
    with opened(OpusSource("Demo", f"sqlite:///{path}")) as connection:
        assert connection.dialect == "sqlite"
        assert "'Demo'" in connection.label and str(path) in connection.label
        cursor = connection.cursor()
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


# -- connecting over ODBC --------------------------------------------------------------------


@pytest.mark.odbc
def test_odbc_failure_names_database_and_server_but_not_the_password(
    odbc_driver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "OPUS_TEST_CLOSED_PORT",
        f"DRIVER={{{odbc_driver}}};SERVER=127.0.0.1;PORT=1;DATABASE=opus;UID=opus;PWD=s3cret;",
    )
    with pytest.raises(OpusConnectionError) as raised:
        connect(OpusSource("Huvuddatabas", "env:OPUS_TEST_CLOSED_PORT"), timeout_s=5)
    message = str(raised.value)
    assert "'Huvuddatabas'" in message
    assert "127.0.0.1:1/opus" in message
    assert "s3cret" not in message
    # nor anywhere in the traceback an operator or a log would see
    assert "s3cret" not in "".join(traceback.format_exception(raised.value))


@pytest.mark.odbc
@pytest.mark.postgres
def test_odbc_connection_to_postgresql_reports_its_dialect(
    odbc_driver: str,
    postgres_database: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = postgres_database("conn")
    monkeypatch.setenv("OPUS_TEST_ODBC", odbc_connection_string(url, odbc_driver))
    with opened(OpusSource("Huvuddatabas", "env:OPUS_TEST_ODBC")) as connection:
        assert connection.dialect == "postgresql"
        assert "'Huvuddatabas'" in connection.label
        cursor = connection.cursor()
        cursor.execute("SELECT current_database()")
        assert cursor.fetchone()[0] == url.rsplit("/", 1)[1]


def test_an_opus_databases_own_limits_win_and_empty_ones_fall_back_to_the_global_settings():
    own = connect_limits(40, 0, default_timeout_s=15, default_retries=3)
    assert (own.timeout_s, own.retries) == (40, 0)  # 0 retries is a choice, kept
    default = connect_limits(None, None, default_timeout_s=15, default_retries=3)
    assert (default.timeout_s, default.retries) == (15, 3)
