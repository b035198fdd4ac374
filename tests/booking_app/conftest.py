"""Fixtures for the booking app: a store the real schedule sync has filled, and a
client that reaches the demo tenant's page by its host name."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from connectors.store.db import session_scope
from demo.opus_data import DemoOpus
from demo.store_seed import DEMO_SUBDOMAIN, seed_demo_tenant
from tests.booking_app.booking_pages import client_for
from tests.helpers import sync_tenant


@pytest.fixture
def synced_store(sqlite_store: Engine, demo: DemoOpus, opus_sqlite: Path) -> Engine:
    """The SQLite store with the demo tenant seeded and synced once."""
    with session_scope(sqlite_store) as session:
        seed_demo_tenant(session, demo, opus_sqlite)
    sync_tenant(sqlite_store, DEMO_SUBDOMAIN)
    return sqlite_store


@pytest.fixture
def client(synced_store: Engine) -> TestClient:
    return client_for(synced_store)
