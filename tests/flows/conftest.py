"""Fixtures of the flows' tests."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine


@pytest.fixture
def fleet_settings(monkeypatch, flow_settings, postgres_store: Engine):
    """The flows' settings on this test's PostgreSQL store."""
    from opus_online.config import get_settings

    monkeypatch.setenv("OPUS_STORE_URL", postgres_store.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    return monkeypatch
