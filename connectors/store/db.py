"""Engines, sessions and migrations of the booking store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

MIGRATIONS = Path(__file__).with_name("migrations")
_IMMEDIATE = "sqlite_begin_immediate"
# A statement's error and its log line leave out the values bound to it: they are
# patients' personal numbers, names, addresses and phone numbers.
_ENGINE = {"hide_parameters": True}


def _pool(pool_size: int | None, max_overflow: int | None) -> dict:
    """The pool's sizes: the settings' (``OPUS_STORE_POOL_SIZE``,
    ``OPUS_STORE_MAX_OVERFLOW``) unless given. The defaults, up to 50 connections, are
    more than the 40 threads FastAPI runs sync endpoints and dependencies on: with
    fewer, 40 requests can each hold a thread while waiting for a connection that only
    a thread could give back, and the app stalls. A fleet of many processes on one
    PostgreSQL sets them lower (the sum must stay under ``max_connections``)."""
    from opus_online.config import get_settings

    settings = get_settings()
    return {
        "pool_size": settings.store_pool_size if pool_size is None else pool_size,
        "max_overflow": settings.store_max_overflow if max_overflow is None else max_overflow,
        "pool_timeout": settings.store_pool_timeout_s,
    }


def make_engine(
    url: str, *, pool_size: int | None = None, max_overflow: int | None = None
) -> Engine:
    """An engine with the store's connection rules applied.

    SQLite: WAL so the booking site reads while a sync writes; foreign keys on;
    a busy timeout rather than an immediate "database is locked".
    """
    options = {**_ENGINE, **_pool(pool_size, max_overflow)}
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; take it over so that a
        # transaction starts when SQLAlchemy says so (needed for BEGIN IMMEDIATE).
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **options)


def _sqlite_begin(conn) -> None:
    # BEGIN IMMEDIATE for a transaction opened by write_session_scope: it takes the
    # write lock first and waits out the busy timeout for it. A plain BEGIN reads first,
    # and when another writer commits meanwhile its upgrade to writing fails at once
    # with "database is locked" (WAL cannot move a reader's snapshot forward).
    immediate = conn.get_execution_options().get(_IMMEDIATE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event issues BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # 64 MB of page cache: a bulk sync updates three B-trees of a million rows each.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


@lru_cache
def engine_for(url: str) -> Engine:
    return make_engine(url)


def new_session(engine: Engine) -> Session:
    # The Session class itself, not a sessionmaker per call: each sessionmaker()
    # defines a new Session subclass, whose event dispatch SQLAlchemy then sets up on
    # its first session (a fifth of a millisecond on every request).
    return Session(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error.

    The transaction begins at the first statement: a request answered from memory
    opens none, and skips the commit of an empty one (a tenth of a page from memory).
    """
    with new_session(engine) as session:
        yield session
        # As session.begin() ends one: a transaction that a failed flush deactivated
        # (its error caught inside) is rolled back by closing, not committed.
        transaction = session.get_transaction()
        if transaction is not None and transaction.is_active:
            session.commit()


@contextmanager
def write_session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction that will write: like :func:`session_scope`, but on SQLite it
    holds the write lock from its first statement, so concurrent writers queue (up to
    the busy timeout) instead of failing. Other databases ignore the option."""
    immediate = engine.execution_options(**{_IMMEDIATE: True})
    with new_session(immediate) as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the store's schema to the newest migration."""
    command.upgrade(alembic_config(url), "head")
