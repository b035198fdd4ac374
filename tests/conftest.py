"""Shared fixtures. Unit tests need nothing; integration fixtures use the real
PostgreSQL server and ODBC driver, skip with the reason when one is missing, and
fail instead when CI=true (a green CI run must have run everything)."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text, update
from sqlalchemy.engine import make_url

from connectors.store.db import make_engine, migrate, session_scope
from connectors.store.models import OpusDatabase
from demo.opus_data import DemoOpus, DemoSpec, generate, write
from demo.store_seed import seed_demo_tenant
from tests import clock, scheduling
from tests.helpers import ODBC_ENV, odbc_connection_string, sync_tenant

POSTGRES_URL = os.environ.get(
    "OPUS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ODBC_DRIVER = os.environ.get("OPUS_TEST_ODBC_DRIVER", "PostgreSQL Unicode")

# Apps under test read the store's change counters before every free-time question, so
# a test sees its own writes at once (tests of the polling set it themselves).
os.environ.setdefault("OPUS_AVAILABILITY_POLL_S", "0")


CLOCK_LINE = pytest.StashKey[str]()
"""The run's day, as the header and the summary print it."""


def pytest_configure(config: pytest.Config) -> None:
    # Before any test (and before xdist starts its workers, which inherit the choice).
    config.stash[CLOCK_LINE] = clock.start()


def pytest_report_header(config: pytest.Config) -> str:
    return config.stash[CLOCK_LINE]


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    # Again at the end (also with -q), next to the failures it may explain.
    terminalreporter.write_line(config.stash[CLOCK_LINE])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log) -> scheduling.FileOrPrefectScheduling:
    return scheduling.FileOrPrefectScheduling(config, log)


def missing_service(reason: str) -> None:
    """Skip for a missing service, except in CI where it is a failure."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: every service must be present)")
    pytest.skip(reason)


# -- PostgreSQL --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Engine:
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        missing_service(
            f"PostgreSQL at {make_url(POSTGRES_URL).render_as_string()} unreachable: {exc}"
        )
    return engine


class PostgresDatabases:
    """Databases made on the test server, empty or as copies of a template; each is
    dropped by :meth:`drop`, or at the session's end."""

    def __init__(self, server: Engine) -> None:
        self.server = server
        self.created: set[str] = set()

    def create(self, purpose: str, template: str | None = None) -> str:
        name = f"opus_{purpose}_{uuid.uuid4().hex[:8]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with self.server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        self.created.add(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def drop(self, *names: str) -> None:
        with self.server.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                self.created.discard(name)


@pytest.fixture(scope="session")
def postgres_databases(postgres_server: Engine) -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(postgres_server)
    yield databases
    databases.drop(*databases.created)


@pytest.fixture(scope="session")
def postgres_database(postgres_databases: PostgresDatabases) -> Callable[..., str]:
    """Factory: a database for the session (a template); returns its URL."""
    return postgres_databases.create


@pytest.fixture
def postgres_database_for_test(
    postgres_databases: PostgresDatabases,
) -> Iterator[Callable[..., str]]:
    """Factory: a database for this test, dropped when it ends. (Dropped all at the
    session's end instead, a worker's hundreds of databases kept its last test ~20 s.)"""
    made: list[str] = []

    def create(purpose: str, template: str | None = None) -> str:
        url = postgres_databases.create(purpose, template)
        made.append(make_url(url).database)
        return url

    yield create
    postgres_databases.drop(*made)


# -- ODBC --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def odbc_driver() -> str:
    try:
        import pyodbc
    except ImportError as exc:
        missing_service(f"pyodbc cannot load unixODBC: {exc}")
    if ODBC_DRIVER not in pyodbc.drivers():
        missing_service(f"ODBC driver {ODBC_DRIVER!r} not installed (have {pyodbc.drivers()})")
    return ODBC_DRIVER


@pytest.fixture
def odbc_opus(
    postgres_database_for_test: Callable[..., str],
    odbc_driver: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[DemoOpus], str]:
    """Factory: a fresh PostgreSQL database holding ``demo``, written over ODBC; the
    connection string is in $OPUS_TEST_ODBC (ODBC_ENV). Returns the string."""

    def create(demo: DemoOpus) -> str:
        import pyodbc

        connection_string = odbc_connection_string(postgres_database_for_test("opus"), odbc_driver)
        connection = pyodbc.connect(connection_string, autocommit=False)
        try:
            write(demo, connection, "postgresql")  # creates the schema, loads, adds triggers
        finally:
            connection.close()
        monkeypatch.setenv(ODBC_ENV, connection_string)
        return connection_string

    return create


# -- stores and demo data ------------------------------------------------------------------


@pytest.fixture
def start_day() -> date:
    """Demo data starts tomorrow, so nothing in it has passed while a test runs."""
    return date.today() + timedelta(days=1)


@pytest.fixture
def demo(start_day: date) -> DemoOpus:
    return generate(DemoSpec(start=start_day, days=21))


@pytest.fixture
def opus_sqlite(tmp_path: Path, demo: DemoOpus) -> Path:
    path = tmp_path / "opus.db"
    connection = sqlite3.connect(path)
    write(demo, connection, "sqlite")
    connection.close()
    return path


# Each test's store is a copy of one migrated once per session: migrating (ten steps,
# dozens of triggers) cost seconds per test, copying costs milliseconds.


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("migrated") / "store.db"
    migrate(f"sqlite:///{path}")
    return path


def copy_sqlite(template: Path, path: Path) -> Path:
    # SQLite's backup, not a file copy: the template's last writes may be in its WAL.
    with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
    return path


@pytest.fixture
def sqlite_store(tmp_path: Path, migrated_sqlite: Path) -> Engine:
    return make_engine(f"sqlite:///{copy_sqlite(migrated_sqlite, tmp_path / 'store.db')}")


@pytest.fixture(scope="session")
def migrated_postgres(postgres_database: Callable[..., str]) -> str:
    url = postgres_database("template")
    migrate(url)  # (its engine is disposed after: a template must have no connections)
    return make_url(url).database


@pytest.fixture
def postgres_store(
    postgres_database_for_test: Callable[..., str], migrated_postgres: str
) -> Iterator[Engine]:
    url = postgres_database_for_test("store", template=migrated_postgres)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_kind(request: pytest.FixtureRequest) -> str:
    """Each store test runs on both stores."""
    return request.param


@pytest.fixture
def store(store_kind: str, request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue(f"{store_kind.replace('postgresql', 'postgres')}_store")


@pytest.fixture
def demo_tenant(store: Engine, demo: DemoOpus, opus_sqlite: Path) -> str:
    with session_scope(store) as session:
        return seed_demo_tenant(session, demo, opus_sqlite).subdomain


@pytest.fixture
def demo_sqlite_tenant(sqlite_store: Engine, demo: DemoOpus, opus_sqlite: Path) -> str:
    """The demo tenant in a SQLite store only (for tests that need one store)."""
    with session_scope(sqlite_store) as session:
        return seed_demo_tenant(session, demo, opus_sqlite).subdomain


# -- the demo tenant seeded and synced: once per session and store, copied per test -----
# Seeding and a real sync cost about half a second a test (more on PostgreSQL); a copy
# costs milliseconds. The copy's Opus database is the test's own ``opus_sqlite``, written
# from the same demo data (generated from the same seed and day), so a test that writes
# back or syncs again finds Opus as the template's sync left it.


def _seed_and_sync(url: str, folder: Path) -> None:
    demo = generate(DemoSpec(start=date.today() + timedelta(days=1), days=21))
    opus = folder / "opus.db"
    with closing(sqlite3.connect(opus)) as connection:
        write(demo, connection, "sqlite")
    engine = make_engine(url)
    with session_scope(engine) as session:
        subdomain = seed_demo_tenant(session, demo, opus).subdomain
    sync_tenant(engine, subdomain)
    engine.dispose()  # (a PostgreSQL template must have no connections)


@pytest.fixture(scope="session")
def synced_sqlite_template(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path) -> Path:
    folder = tmp_path_factory.mktemp("synced")
    path = copy_sqlite(migrated_sqlite, folder / "store.db")
    _seed_and_sync(f"sqlite:///{path}", folder)
    return path


@pytest.fixture(scope="session")
def synced_postgres_template(
    tmp_path_factory: pytest.TempPathFactory,
    postgres_database: Callable[..., str],
    migrated_postgres: str,
) -> str:
    url = postgres_database("synced", template=migrated_postgres)
    _seed_and_sync(url, tmp_path_factory.mktemp("synced"))
    return make_url(url).database


def _own_opus(engine: Engine, opus_sqlite: Path) -> Engine:
    """Point the copied tenant at this test's own copy of the demo's Opus database."""
    with session_scope(engine) as session:
        session.execute(
            update(OpusDatabase).values(connection_ref=f"sqlite:///{opus_sqlite.resolve()}")
        )
    return engine


@pytest.fixture
def synced_sqlite_store(tmp_path: Path, synced_sqlite_template: Path, opus_sqlite: Path) -> Engine:
    """The demo tenant seeded and synced once, in a SQLite store (a private copy)."""
    path = copy_sqlite(synced_sqlite_template, tmp_path / "store.db")
    return _own_opus(make_engine(f"sqlite:///{path}"), opus_sqlite)


@pytest.fixture
def synced_postgres_store(
    postgres_database_for_test: Callable[..., str], synced_postgres_template: str, opus_sqlite: Path
) -> Iterator[Engine]:
    engine = make_engine(postgres_database_for_test("store", template=synced_postgres_template))
    yield _own_opus(engine, opus_sqlite)
    engine.dispose()


@pytest.fixture
def synced(store_kind: str, request: pytest.FixtureRequest) -> Engine:
    """The demo tenant seeded and synced, on SQLite and on PostgreSQL in turn."""
    return request.getfixturevalue(f"synced_{store_kind.replace('postgresql', 'postgres')}_store")


# -- Prefect -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A temporary Prefect server and database for the whole session.

    Starting it takes 10 to 15 s, charged to the first test that asks for it; the tests
    share two workers (tests/scheduling.py), so a run pays it twice."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def flow_settings(monkeypatch, sqlite_store: Engine, tmp_path: Path) -> Iterator[None]:
    """Point the flows' settings at this test's store, with quick retries."""
    from opus_online.config import get_settings

    monkeypatch.setenv("OPUS_STORE_URL", str(sqlite_store.url))
    monkeypatch.setenv("OPUS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OPUS_OPUS_RETRIES", "2")
    monkeypatch.setenv("OPUS_OPUS_RETRY_DELAY_S", "0")
    monkeypatch.setenv("OPUS_OPUS_CONNECT_TIMEOUT_S", "2")
    # Nowhere, rather than the demo's mail catcher and SMS stand-in (a running demo on
    # this machine must never receive a test's messages); tests that send start their own.
    monkeypatch.setenv("OPUS_SMTP_PORT", "9")
    monkeypatch.setenv("OPUS_SMS_GATEWAY_URL", "http://127.0.0.1:9/a1/sms")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


# -- browser -----------------------------------------------------------------------------

CHROMIUM = os.environ.get("OPUS_TEST_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    """Debian's Chromium driven by Playwright (which must not download a browser).

    Module-scoped: Playwright's sync API keeps an event loop running while it is
    open, which would turn Prefect's sync client into an async one in later tests.
    """
    if not Path(CHROMIUM).exists():
        missing_service(f"Chromium not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        missing_service(f"playwright not installed: {exc}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


# -- BankID ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def bankid_standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """The BankID RP API stand-in on loopback, with mutual TLS (its own test CA)."""
    from demo.bankid_server import BankIDStandIn

    server = BankIDStandIn(tmp_path_factory.mktemp("bankid")).start()
    yield server
    server.stop()
