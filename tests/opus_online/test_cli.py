"""`opus-online sync`: one sync of every tenant, a summary, an exit code. Run as a
separate process against the session's Prefect test server, as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL
from sqlalchemy import update

from connectors.store.db import session_scope
from connectors.store.models import OpusDatabase

pytestmark = pytest.mark.prefect


def opus_online(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    return subprocess.run(
        [sys.executable, "-m", "opus_online.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parents[2],
    )


# Slow: the real command in its own process, which imports Prefect and Great Expectations
# (about 6 s of CPU) before the flow runs against the Prefect test server.
@pytest.mark.slow
def test_sync_prints_a_summary_and_succeeds(prefect_harness, flow_settings, demo_sqlite_tenant):
    result = opus_online("sync")

    assert result.returncode == 0, result.stderr
    assert f"{demo_sqlite_tenant}: database Huvuddatabas, mode full" in result.stdout
    assert "synced 1 of 1 tenants" in result.stdout


@pytest.mark.slow  # the real command in its own process, as above
def test_sync_exits_non_zero_when_a_tenant_fails(
    prefect_harness, flow_settings, sqlite_store, demo_sqlite_tenant
):
    with session_scope(sqlite_store) as session:
        session.execute(update(OpusDatabase).values(connection_ref="sqlite:////nowhere/opus.db"))

    result = opus_online("sync")

    assert result.returncode == 1
    assert "synced 0 of 1 tenants" in result.stdout
    assert f"{demo_sqlite_tenant}: FAILED" in result.stderr
    assert "/nowhere/opus.db does not exist" in result.stderr
