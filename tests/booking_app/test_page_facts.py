"""The booking steps' facts and the tenant row, kept per reference version: when many
requests find them missing at once (a process just started, a sync just moved the
counter), the store is read once, not once per request."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, select

from booking_app import page_facts
from booking_app.page_facts import PageFactsCache, TenantCache
from connectors.store.db import session_scope
from connectors.store.models import Tenant
from tests.helpers import all_at_once

REQUESTS_AT_ONCE = 16


@pytest.fixture
def store_reads(monkeypatch) -> list[int]:
    """Each read of the store by the caches, made slow enough that every request
    arrives while the first is still reading."""
    reads: list[int] = []
    real = page_facts.session_scope

    @contextmanager
    def counted(engine):
        reads.append(1)
        time.sleep(0.2)
        with real(engine) as session:
            yield session

    monkeypatch.setattr(page_facts, "session_scope", counted)
    return reads


def _tenant_id(store: Engine) -> int:
    with session_scope(store) as session:
        return session.scalars(select(Tenant.id)).first()


@pytest.mark.parametrize("cache", [PageFactsCache, TenantCache])
def test_requests_that_find_the_facts_missing_at_once_read_the_store_once(
    cache, synced_sqlite_store: Engine, store_reads: list[int]
) -> None:
    tenant_id = _tenant_id(synced_sqlite_store)
    kept = cache(synced_sqlite_store.url.render_as_string(hide_password=False))

    answers = all_at_once(REQUESTS_AT_ONCE, lambda: kept.get(tenant_id, 7))

    assert len(store_reads) == 1
    assert all(answer is answers[0] for answer in answers) and answers[0] is not None
    # A newer counter is read again, once.
    newer = all_at_once(REQUESTS_AT_ONCE, lambda: kept.get(tenant_id, 8))
    assert len(store_reads) == 2
    assert newer[0] is not answers[0] and all(answer is newer[0] for answer in newer)
