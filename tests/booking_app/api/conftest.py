"""Fixtures for the public API: the demo tenant synced in a store (SQLite, or both
stores where the store's own behaviour is under test) and a client holding its key."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.booking_app.api.api_client import api_client


@pytest.fixture
def api(synced_store: Engine) -> TestClient:
    """A client of the demo tenant's API with its key (SQLite store)."""
    return api_client(synced_store)


@pytest.fixture
def api_both(synced: Engine) -> TestClient:
    """The same, on each store in turn."""
    return api_client(synced)
