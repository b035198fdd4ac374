"""A retention run killed (SIGKILL, a real process) in the middle of a batch loses that
batch whole, keeps the batches before it, and a new run finishes the work: on SQLite
(the killed process held the write lock) and on PostgreSQL (it held the advisory lock
and the batch's row locks)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine, func, select

from connectors.store.models import Booking, VisitEvent
from flows.retention_run import aggregate_missing_days, run_retention
from tests.connectors.store.retention_world import NOW, TZ, build, check_applied

ROOT = Path(__file__).resolve().parents[2]

# Stops inside the first batch of pseudonymisation, after its UPDATE, before its commit.
RUN_UNTIL_PSEUDONYMISING = """
import sys, time, pathlib
from connectors.store.db import make_engine
from flows.retention_run import aggregate_missing_days, run_retention
from tests.connectors.store.retention_world import NOW, TZ

marker = pathlib.Path(sys.argv[2])

def hook(step):
    if step == "booking:pseudonymise":
        marker.write_text(step)
        time.sleep(600)

run_retention(make_engine(sys.argv[1]), NOW, TZ, batch=2, hook=hook)
"""


def _pseudonymised(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).where(Booking.pseudonymised_at.is_not(None))
        ).scalar_one()


def test_a_run_killed_mid_batch_loses_that_batch_and_a_rerun_finishes(
    store: Engine, tmp_path: Path
) -> None:
    world = build(store)
    # The days' statistics made here, so that the killed process need not load pandas
    # and Prefect to make them (seconds on a loaded machine).
    aggregate_missing_days(store, NOW, TZ)
    marker = tmp_path / "in-batch"
    url = store.url.render_as_string(hide_password=False)
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_UNTIL_PSEUDONYMISING, url, str(marker)], cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert process.poll() is None, "the run ended before the batch"
            assert time.monotonic() < deadline, "the run never reached the batch"
            time.sleep(0.1)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    # The batches before it stand (old visit events are gone); its own did not commit.
    with store.connect() as connection:
        assert connection.execute(select(func.count()).select_from(VisitEvent)).scalar() == 9
    assert _pseudonymised(store) == 0
    # PostgreSQL lets the lock go once it sees the connection drop: a rerun that comes
    # too soon stands aside, so try again for a little while.
    deadline = time.monotonic() + 30
    while not (outcome := run_retention(store, NOW, TZ, batch=2)).ran:
        assert time.monotonic() < deadline, "the killed run's lock was never released"
        time.sleep(0.2)
    assert outcome.counts.rows[("booking", "pseudonymise")] == 3
    check_applied(store, world)
