"""A notification names its tenant (PostgreSQL): the round it wakes reads that
tenant's counters alone, not the whole country's, and reloads its snapshot; a change
of what decides free times (here the tenant's subdomain) still takes a whole round."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text, update

from booking_app.api import snapshots
from booking_app.api.snapshots import Availability
from connectors.store.db import session_scope
from connectors.store.models import Tenant
from demo.store_seed import seed_demo_tenant
from tests.helpers import eventually


def test_a_notified_round_reads_the_named_tenant_only(
    postgres_store: Engine, demo, opus_sqlite: Path, monkeypatch: pytest.MonkeyPatch
):
    with session_scope(postgres_store) as session:
        tenant_id = seed_demo_tenant(session, demo, opus_sqlite).id
    every, named = [], []
    monkeypatch.setattr(snapshots, "versions", _counting(snapshots.versions, every))
    monkeypatch.setattr(snapshots, "versions_of_some", _counting(snapshots.versions_of_some, named))
    # Polling an hour apart: within the test only notifications start rounds.
    availability = Availability(
        postgres_store.url.render_as_string(hide_password=False),
        lambda: datetime.now(UTC),
        poll_s=3600,
    )
    assert availability.listener is not None
    availability.start()
    try:
        eventually(lambda: availability.in_memory(tenant_id) is not None, "the snapshot")
        eventually(availability.listener.listening.is_set, "the listener")
        _bump_bookings(postgres_store, tenant_id, availability)  # after the listener's round
        whole_rounds, named_rounds = len(every), len(named)

        _bump_bookings(postgres_store, tenant_id, availability)
        assert len(every) == whole_rounds
        assert named[named_rounds:] == [({tenant_id},)]  # this bump's round: that tenant only

        with session_scope(postgres_store) as session:
            session.execute(update(Tenant).where(Tenant.id == tenant_id).values(subdomain="nytt"))
        eventually(
            lambda: availability.for_host("nytt.example.se", "example.se") is not None,
            "the new subdomain",
        )
        assert len(every) > whole_rounds
    finally:
        availability.stop()


def _counting(function, calls: list):
    def counted(session, *arguments):
        calls.append(tuple(set(a) for a in arguments))
        return function(session, *arguments)

    return counted


def _bump_bookings(engine: Engine, tenant_id: int, availability: Availability) -> None:
    """Move the tenant's bookings counter (as a booking's trigger does) and wait until
    the snapshot follows."""
    before = availability.in_memory(tenant_id).versions[1]
    with session_scope(engine) as session:
        session.execute(
            text(
                "UPDATE availability_version SET version = version + 1 "
                "WHERE tenant_id = :tenant AND topic = 'bookings'"
            ),
            {"tenant": tenant_id},
        )
    eventually(
        lambda: availability.in_memory(tenant_id).versions[1] > before, "the bookings reload"
    )
