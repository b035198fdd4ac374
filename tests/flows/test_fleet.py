"""The sync cycle fanned out (flows/fleet.py) on a PostgreSQL store: a tenant whose Opus
refuses or never answers costs only its own bounded time, and no tenant is synced by
two runs at once (the store lease)."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from sqlalchemy import Engine, func, select, update

from connectors.store import sync_lease
from connectors.store.db import session_scope
from connectors.store.models import FreeRange, OpusDatabase, SyncRun, Tenant, WorkerLease
from demo.store_seed import seed_demo_tenant
from tests.helpers import odbc_connection_string

pytestmark = pytest.mark.prefect


class SilentServer:
    """A TCP server that accepts connections and never says a word; counts them."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.port: int = self.server.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.held.append(self.server.accept()[0])
            except OSError:  # closed at teardown
                return

    def close(self) -> None:
        self.server.close()
        for connection in self.held:
            connection.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture
def silent_port(silent_server: SilentServer) -> int:
    return silent_server.port


def seed(store: Engine, demo, opus: Path, *subdomains: str) -> None:
    with session_scope(store) as session:
        for subdomain in subdomains:
            seed_demo_tenant(session, demo, opus, subdomain=subdomain)


def point_at(store: Engine, subdomain: str, connection_ref: str) -> None:
    with session_scope(store) as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.subdomain == subdomain))
        session.execute(
            update(OpusDatabase)
            .where(OpusDatabase.tenant_id == tenant_id)
            .values(connection_ref=connection_ref)
        )


def ranges_of(store: Engine, subdomain: str) -> int:
    with session_scope(store) as session:
        return session.scalar(
            select(func.count())
            .select_from(FreeRange)
            .join(Tenant, Tenant.id == FreeRange.tenant_id)
            .where(Tenant.subdomain == subdomain)
        )


def runs_of(store: Engine, subdomain: str) -> list[SyncRun]:
    with session_scope(store) as session:
        return list(
            session.scalars(
                select(SyncRun)
                .join(Tenant, Tenant.id == SyncRun.tenant_id)
                .where(Tenant.subdomain == subdomain)
                .order_by(SyncRun.started_at)
            )
        )


def test_a_cycle_syncs_every_other_tenant_when_one_opus_refuses_and_one_stays_silent(
    prefect_harness, fleet_settings, postgres_store, demo, opus_sqlite, odbc_driver, silent_port
):
    from flows.sync_schedules import sync_all_tenants
    from opus_online.config import get_settings

    # Only the ODBC login timeout (2 s, flow_settings) ends the silent server's
    # connect; the tenants' deadline (default 120 s) never bites the others here.
    fleet_settings.setenv("OPUS_SYNC_THREADS", "2")
    fleet_settings.setenv("OPUS_OPUS_RETRIES", "1")
    get_settings.cache_clear()
    seed(postgres_store, demo, opus_sqlite, "silent", "refused", "norr", "syd")
    fleet_settings.setenv(
        "OPUS_TEST_SILENT",
        odbc_connection_string(f"postgresql://u:p@127.0.0.1:{silent_port}/opus", odbc_driver),
    )
    fleet_settings.setenv(
        "OPUS_TEST_REFUSED",
        odbc_connection_string("postgresql://u:p@127.0.0.1:1/opus", odbc_driver),
    )
    point_at(postgres_store, "silent", "env:OPUS_TEST_SILENT")
    point_at(postgres_store, "refused", "env:OPUS_TEST_REFUSED")

    # Called directly, the cycle runs its shards here, one after the other.
    state = sync_all_tenants(shards=2, return_state=True)

    assert state.is_failed()
    for subdomain in ("norr", "syd"):
        assert ranges_of(postgres_store, subdomain) > 0
        assert [r.status for r in runs_of(postgres_store, subdomain)] == ["succeeded"]
    assert ranges_of(postgres_store, "silent") == ranges_of(postgres_store, "refused") == 0
    (silent,) = runs_of(postgres_store, "silent")
    assert silent.status == "failed" and "timeout expired" in silent.message
    (refused,) = runs_of(postgres_store, "refused")
    assert refused.status == "failed" and "127.0.0.1:1" in refused.message
    with get_client(sync_client=True) as client:
        (artifact,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["sync-silent"]))
        )
        (synced,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["sync-syd"]))
        )
    assert '"status": "failed"' in artifact.data and "timeout expired" in artifact.data
    assert '"status": "synced"' in synced.data
    assert lease_holders(postgres_store) == 0  # every run gave its lease back


def test_the_sync_uses_each_opus_databases_own_connect_timeout_and_retries(
    prefect_harness, fleet_settings, postgres_store, demo, opus_sqlite, odbc_driver, silent_server
):
    from flows.fleet import sync_tenants
    from flows.sync_schedules import sync_schedules
    from opus_online.config import get_settings

    # Globally a login timeout longer than the tenant's deadline, and no retries; the
    # database's own (Kliniker tab): 1 s and 1 retry.
    fleet_settings.setenv("OPUS_OPUS_CONNECT_TIMEOUT_S", "60")
    fleet_settings.setenv("OPUS_OPUS_RETRIES", "0")
    fleet_settings.setenv("OPUS_SYNC_TENANT_TIMEOUT_S", "30")
    get_settings.cache_clear()
    seed(postgres_store, demo, opus_sqlite, "silent")
    fleet_settings.setenv(
        "OPUS_TEST_SILENT",
        odbc_connection_string(f"postgresql://u:p@127.0.0.1:{silent_server.port}/o", odbc_driver),
    )
    point_at(postgres_store, "silent", "env:OPUS_TEST_SILENT")
    with session_scope(postgres_store) as session:
        session.execute(update(OpusDatabase).values(connect_timeout_s=1, retries=1))

    # The cycle: each connect ends at its own 1 s (with the global 60 s the tenant
    # would be given up at its deadline instead), tried twice.
    (outcome,) = sync_tenants(postgres_store, ["silent"], get_settings())
    assert outcome.status == "failed" and "timeout expired" in outcome.message
    assert len(silent_server.held) == 2
    # The one-tenant flow: its extract task is retried once as well.
    state = sync_schedules("silent", return_state=True)
    assert state.is_failed()
    assert len(silent_server.held) == 4
    assert [r.status for r in runs_of(postgres_store, "silent")] == ["failed", "failed"]


def test_a_tenant_stuck_in_a_driver_call_is_given_up_at_its_deadline_and_publishes_nothing(
    fleet_settings, postgres_store, demo, opus_sqlite, odbc_opus
):
    import pyodbc

    from flows.fleet import sync_tenants
    from opus_online.config import get_settings

    # Opus answers the login, then its query waits on a lock: a statement that never
    # returns, inside the ODBC driver (psqlODBC has no query timeout). Deadline 2 s.
    connection_string = odbc_opus(demo)
    fleet_settings.setenv("OPUS_SYNC_TENANT_TIMEOUT_S", "2")
    get_settings.cache_clear()
    seed(postgres_store, demo, opus_sqlite, "norr")
    point_at(postgres_store, "norr", "env:OPUS_TEST_ODBC")
    opus = pyodbc.connect(connection_string, autocommit=False)
    opus.execute("LOCK TABLE OnlineClinic, OnlineFreeRange IN ACCESS EXCLUSIVE MODE")
    try:
        (outcome,) = sync_tenants(postgres_store, ["norr"], get_settings())
        assert outcome.status == "timed out"
        assert lease_holders(postgres_store) == 1  # still held: the thread may wake
    finally:
        opus.rollback()
        opus.close()
    wait_for(lambda: lease_holders(postgres_store) == 0, 60)  # it woke, saw its deadline, left
    assert ranges_of(postgres_store, "norr") == 0
    (given_up,) = runs_of(postgres_store, "norr")
    assert given_up.status == "failed" and "within 2 s" in given_up.message


def test_a_manual_run_during_a_cycle_waits_and_the_tenant_is_synced_once_at_a_time(
    prefect_harness, fleet_settings, postgres_store, demo, opus_sqlite
):
    from flows.fleet import sync_tenants
    from flows.sync_schedules import sync_schedules
    from opus_online.config import get_settings

    fleet_settings.setenv("OPUS_OPUS_CONNECT_TIMEOUT_S", "30")  # also SQLite's busy wait
    fleet_settings.setenv("OPUS_SYNC_TENANT_TIMEOUT_S", "30")
    get_settings.cache_clear()
    settings = get_settings()
    seed(postgres_store, demo, opus_sqlite, "norr")
    # Opus busy: the cycle's sync takes the lease, then waits for Opus to let it read.
    opus = sqlite3.connect(opus_sqlite, isolation_level=None)
    opus.execute("BEGIN EXCLUSIVE")
    cycle = threading.Thread(target=sync_tenants, args=(postgres_store, ["norr"], settings))
    cycle.start()
    wait_for(lambda: lease_holders(postgres_store) == 1)
    manual: list = []
    by_hand = threading.Thread(
        target=lambda: manual.append(sync_schedules("norr", return_state=True))
    )
    by_hand.start()
    time.sleep(1.5)  # the manual run, unleased, would be reading now too
    opus.execute("COMMIT")
    opus.close()
    cycle.join(60)
    by_hand.join(60)

    assert manual[0].is_completed()
    first, second = runs_of(postgres_store, "norr")
    assert first.status == second.status == "succeeded"
    assert (first.mode, second.mode) == ("full", "incremental")
    assert second.started_at >= first.finished_at  # one after the other, never together
    assert lease_holders(postgres_store) == 0


def test_the_lease_is_one_holders_until_it_expires(store):
    seed_lease = timedelta(seconds=30)
    assert sync_lease.take(store, "norr", "a", seed_lease)
    assert not sync_lease.take(store, "norr", "b", seed_lease)
    assert sync_lease.take(store, "syd", "b", seed_lease)  # another tenant: free
    assert sync_lease.renew(store, "norr", "a", seed_lease)
    assert not sync_lease.renew(store, "norr", "b", seed_lease)
    # "a" died: after its lease, "b" takes over and "a" can no longer renew (publish).
    later = sync_lease.utcnow() + timedelta(seconds=31)
    assert sync_lease.take(store, "norr", "b", seed_lease, now=later)
    assert not sync_lease.renew(store, "norr", "a", seed_lease)
    sync_lease.give_back(store, "norr", "a")  # not a's any more: stays b's
    assert not sync_lease.take(store, "norr", "c", seed_lease)
    sync_lease.give_back(store, "norr", "b")
    assert sync_lease.take(store, "norr", "c", seed_lease)


def lease_holders(store: Engine) -> int:
    with session_scope(store) as session:
        return session.scalar(select(func.count()).select_from(WorkerLease))


def wait_for(condition, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_deploy_registers_every_deployment_with_the_work_pool(prefect_harness, flow_settings):
    from prefect.client.schemas.actions import WorkPoolCreate

    from flows.deployments import deploy_to_work_pool

    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="fleet-test", type="process"))
        ids = deploy_to_work_pool("fleet-test")
        registered = {client.read_deployment(i).name: client.read_deployment(i) for i in ids}
    assert {"every-tenant", "shard", "one-tenant", "write-back"} <= set(registered)
    assert {d.work_pool_name for d in registered.values()} == {"fleet-test"}
    # Workers import the installed package: module paths, nothing to pull.
    assert registered["shard"].entrypoint == "flows.fleet.sync_shard"
    assert registered["every-tenant"].schedules  # the cycle's interval
    assert registered["daily"].entrypoint == "flows.retention.retention_flow"
    assert registered["daily"].schedules  # retention, once a day


def test_deploy_leaves_one_automation_that_crashes_runs_without_heartbeats(
    prefect_harness, flow_settings
):
    from prefect.client.schemas.objects import StateType

    from flows.deployments import (
        ZOMBIE_AFTER,
        ZOMBIE_AUTOMATION,
        ensure_zombie_runs_automation,
    )

    ensure_zombie_runs_automation()
    ensure_zombie_runs_automation()  # deploy again after an upgrade: still one
    with get_client(sync_client=True) as client:
        (automation,) = client.read_automations_by_name(ZOMBIE_AUTOMATION)
    assert automation.enabled
    assert automation.trigger.after == {"prefect.flow-run.heartbeat"}
    assert automation.trigger.within == ZOMBIE_AFTER
    assert [action.state for action in automation.actions] == [StateType.CRASHED]
