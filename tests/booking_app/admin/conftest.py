"""Fixtures for the operator pages' browser tests."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from opus_online.config import Settings
from tests.booking_app.booking_pages import SECRET, store_url
from tests.helpers import app_on_loopback


@pytest.fixture
def live_app(booking_store: Engine):
    """The app on a loopback port, for Chromium; reach a tenant as
    ``http://<subdomain>.localhost:<port>`` (Chromium resolves it to loopback)."""
    settings = Settings(
        store_url=store_url(booking_store), base_domain="localhost", secret_key=SECRET
    )
    with app_on_loopback(settings) as port:
        yield port
