"""The Prefect flows under Prefect's test harness: artifacts, retries, failures."""

from __future__ import annotations

import time

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
    LogFilter,
    LogFilterFlowRunId,
)
from sqlalchemy import func, select, update

from connectors.store.db import session_scope
from connectors.store.models import FreeRange, OpusAppointment, OpusDatabase, SyncRun
from tests.helpers import odbc_connection_string

pytestmark = pytest.mark.prefect


def flow_run_logs(flow_run_id, containing: str, timeout_s: float = 20) -> list:
    """The run's logs, once one of them mentions ``containing``: Prefect ships logs
    to its API in the background, a moment after they are written."""
    deadline = time.monotonic() + timeout_s
    with get_client(sync_client=True) as client:
        while True:
            logs = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
            )
            if any(containing in log.message for log in logs) or time.monotonic() > deadline:
                return logs
            time.sleep(0.2)


def test_sync_flow_publishes_and_leaves_an_artifact(
    prefect_harness, flow_settings, sqlite_store, demo_sqlite_tenant
):
    from flows.sync_schedules import sync_schedules

    state = sync_schedules(demo_sqlite_tenant, return_state=True)

    assert state.is_completed()
    (counts,) = state.result()
    with session_scope(sqlite_store) as session:
        assert session.scalar(select(func.count()).select_from(FreeRange)) == counts.added > 0
        run = session.scalars(select(SyncRun)).one()
    assert (run.status, run.mode, run.added) == ("succeeded", "full", counts.added)
    with get_client(sync_client=True) as client:
        (artifact,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[f"sync-{demo_sqlite_tenant}"]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]),
            )
        )
    assert artifact.type == "table"
    assert f'"added": {counts.added}' in artifact.data
    assert '"quarantined": 0' in artifact.data
    with session_scope(sqlite_store) as session:  # reception's appointments came along
        assert session.scalar(select(func.count()).select_from(OpusAppointment)) > 0


def test_unreachable_opus_fails_the_run_names_the_database_and_hides_the_password(
    prefect_harness, flow_settings, sqlite_store, demo_sqlite_tenant, odbc_driver, monkeypatch
):
    from flows.sync_schedules import sync_schedules

    closed_port = "postgresql+psycopg://opus_online:hunter2secret@127.0.0.1:1/opus"
    monkeypatch.setenv("OPUS_TEST_DOWN", odbc_connection_string(closed_port, odbc_driver))
    with session_scope(sqlite_store) as session:
        session.execute(update(OpusDatabase).values(connection_ref="env:OPUS_TEST_DOWN"))

    state = sync_schedules(demo_sqlite_tenant, return_state=True)

    assert state.is_failed()
    with session_scope(sqlite_store) as session:
        assert session.scalar(select(func.count()).select_from(FreeRange)) == 0  # unchanged
        run = session.scalars(select(SyncRun)).one()
    assert run.status == "failed"
    assert "Huvuddatabas" in run.message and "127.0.0.1:1" in run.message
    assert "hunter2secret" not in run.message
    logs = flow_run_logs(state.state_details.flow_run_id, containing="Huvuddatabas")
    with get_client(sync_client=True) as client:
        task_runs = client.read_task_runs()
    text = "\n".join(log.message for log in logs)
    assert "hunter2secret" not in text
    assert "Huvuddatabas" in text
    # Prefect retried the extract twice (OPUS_OPUS_RETRIES=2) before giving up.
    extract_runs = [
        t
        for t in task_runs
        if t.name.startswith("extract") and t.flow_run_id == state.state_details.flow_run_id
    ]
    assert [t.run_count for t in extract_runs] == [3]


def test_a_tenant_that_publishes_nowhere_is_not_synced(
    prefect_harness, flow_settings, sqlite_store, demo_sqlite_tenant
):
    from connectors.store.models import TenantSettings
    from flows.sync_schedules import sync_schedules

    with session_scope(sqlite_store) as session:
        session.execute(
            update(TenantSettings).values(publish_opus_online=False, publish_boka_vard=False)
        )

    assert sync_schedules(demo_sqlite_tenant) == []
    with session_scope(sqlite_store) as session:
        assert session.scalar(select(func.count()).select_from(FreeRange)) == 0
        assert session.scalar(select(func.count()).select_from(SyncRun)) == 0
