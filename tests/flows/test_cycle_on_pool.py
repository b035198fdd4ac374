"""A sync cycle through a real process work pool (``prefect worker start``) on a
PostgreSQL store: the cycle's run syncs the first shard itself, a worker's new process
syncs the other, and every tenant is synced once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
from sqlalchemy import Engine

from tests.flows.test_fleet import runs_of, seed

pytestmark = pytest.mark.prefect

POOL = "cycle-test"


def test_a_cycle_syncs_its_first_shard_itself_and_the_others_through_the_pool(
    prefect_harness, fleet_settings, postgres_store: Engine, demo, opus_sqlite, tmp_path: Path
):
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL

    from flows.deployments import deploy_to_work_pool

    # Names no other test of this Prefect server uses: artifacts are kept per name.
    tenants = ("pool-ett", "pool-tva", "pool-tre")
    seed(postgres_store, demo, opus_sqlite, *tenants)
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name=POOL, type="process"))
        deploy_to_work_pool(POOL)
        for deployment in client.read_deployments():  # only the runs this test starts
            client.pause_deployment(deployment.id)
    env = {
        **os.environ,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "OPUS_SYNC_SHARDS": "2",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        cycle = run_deployment("sync-all-tenants/every-tenant", timeout=240, poll_interval=1)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # its flow runs have ended; no need to wait
        worker.wait(timeout=30)

    assert cycle.state.is_completed(), cycle.state.message
    for subdomain in tenants:
        assert [r.status for r in runs_of(postgres_store, subdomain)] == ["succeeded"]
    with get_client(sync_client=True) as client:
        shards = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(like_=f"{cycle.name}-shard-"))
        )
    by_name = {run.name: run for run in shards}
    itself, pooled = by_name[f"{cycle.name}-shard-1-of-2"], by_name[f"{cycle.name}-shard-2-of-2"]
    assert itself.deployment_id is None and itself.parent_task_run_id is not None  # a subflow
    assert pooled.deployment_id is not None and pooled.work_pool_name == POOL
    assert itself.state.is_completed() and pooled.state.is_completed()
