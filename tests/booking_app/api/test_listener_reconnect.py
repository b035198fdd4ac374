"""The app's LISTEN connection for changed availability (PostgreSQL) survives being
terminated by the server (pg_terminate_backend: an administrator, a failover, an idle
killer): it connects again, LISTENs again, and hears the next change."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text, update

from booking_app.api.snapshots import Availability
from connectors.store.availability_version import APPLICATION_NAME
from connectors.store.db import session_scope
from connectors.store.models import TenantSettings
from demo.store_seed import seed_demo_tenant
from tests.helpers import eventually


@pytest.fixture
def demo_tenant_on_postgres(postgres_store: Engine, demo, opus_sqlite: Path) -> int:
    with session_scope(postgres_store) as session:
        return seed_demo_tenant(session, demo, opus_sqlite).id


def _listeners(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return list(
            connection.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE application_name = :name AND datname = current_database()"
                ),
                {"name": APPLICATION_NAME},
            )
        )


def test_the_listener_reconnects_after_its_backend_is_terminated_and_hears_again(
    postgres_store: Engine, demo_tenant_on_postgres: int
):
    tenant_id = demo_tenant_on_postgres
    # Polling an hour apart: within the test only a notification can move a snapshot.
    availability = Availability(
        postgres_store.url.render_as_string(hide_password=False),
        lambda: datetime.now(UTC),
        poll_s=3600,
    )
    listener = availability.listener
    assert listener is not None
    availability.start()
    try:
        eventually(lambda: availability.in_memory(tenant_id) is not None, "the snapshot")
        eventually(listener.listening.is_set, "the listener")
        first = listener.backend_pid
        assert _listeners(postgres_store) == [first]

        with postgres_store.connect() as connection:
            assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        eventually(
            lambda: listener.listening.is_set() and listener.backend_pid not in (None, first),
            "the listener to connect again",
        )
        assert _listeners(postgres_store) == [listener.backend_pid]  # one, the new one

        heard = listener.heard
        before = availability.in_memory(tenant_id).versions
        with session_scope(postgres_store) as session:  # a change of the tenant's settings
            session.execute(
                update(TenantSettings)
                .where(TenantSettings.tenant_id == tenant_id)
                .values(welcome_text="Välkommen tillbaka")
            )
        eventually(lambda: listener.heard > heard, "the change's notification")
        eventually(
            lambda: availability.in_memory(tenant_id).versions[0] > before[0],
            "the snapshot to be read again",
        )
    finally:
        availability.stop()
