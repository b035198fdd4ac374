"""Fixtures for the booking app: a store the real schedule sync has filled, and a
client that reaches the demo tenant's page by its host name."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from connectors.store.db import make_engine
from demo.opus_data import DemoOpus, DemoSpec, generate
from tests.booking_app.booking_pages import client_for
from tests.booking_app.login_steps import Clock
from tests.helpers import synced_demo_store


@pytest.fixture
def synced_store(synced_sqlite_store: Engine) -> Engine:
    """The SQLite store with the demo tenant seeded and synced once."""
    return synced_sqlite_store


@pytest.fixture
def client(synced_store: Engine) -> TestClient:
    return client_for(synced_store)


# -- the booking path's tests: one synced store per session, copied per test -------------


@pytest.fixture(scope="session")
def booking_demo() -> DemoOpus:
    """The demo chain, starting tomorrow, for three weeks."""
    return generate(DemoSpec(start=date.today() + timedelta(days=1), days=21))


@pytest.fixture(scope="session")
def synced_template(tmp_path_factory: pytest.TempPathFactory, booking_demo: DemoOpus) -> Path:
    """A SQLite store synced once from the demo's Opus database, for copying: the
    real sync costs half a second, a copy a few milliseconds."""
    folder = tmp_path_factory.mktemp("booking-template")
    synced_demo_store(booking_demo, folder).dispose()
    return folder / "store.db"


@pytest.fixture
def booking_store(synced_template: Path, tmp_path: Path) -> Engine:
    """A private copy of the synced store (SQLite's backup API copies WAL content too)."""
    target = tmp_path / "store.db"
    source, copy = sqlite3.connect(synced_template), sqlite3.connect(target)
    source.backup(copy)
    source.close()
    copy.close()
    return make_engine(f"sqlite:///{target}")


@pytest.fixture
def booking_client(booking_store: Engine) -> TestClient:
    return client_for(booking_store)


@pytest.fixture
def clock() -> Clock:
    """The app's "now", which the test moves."""
    return Clock()


@pytest.fixture
def clocked(booking_store: Engine, clock: Clock) -> TestClient:
    """A client of the booking store whose app reads ``clock``."""
    return client_for(booking_store, clock=clock)
