"""A sync killed with SIGKILL in the middle of publishing leaves the store exactly as
before the run, and the next run completes it.

The child process stops inside the publishing transaction at a chosen step (after
that step's writes), says so, and waits to be killed: the kill lands mid-transaction
every time, not by luck of timing. It publishes what this process extracted and judged
(handed over pickled): the kill is about publishing, and judging again in a fresh
process would import Great Expectations once more (seconds of CPU per test).
"""

from __future__ import annotations

import os
import pickle
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.store import schedules
from connectors.store.db import session_scope
from connectors.store.models import FreeRange, QuarantinedRow, SyncRun, SyncState
from demo.opus_data import DemoSpec, generate, write
from demo.store_seed import seed_demo_tenant
from flows.schedule_sync import extract_database, judge_database
from tests.helpers import sync_tenant

CHILD = """
import pickle, sys, time
import connectors.store.schedules as store
from connectors.store.db import make_engine
from flows.schedule_sync import publish_tenant

url, verdicts_path, step = sys.argv[1:4]
original = getattr(store, step)

def stop_here(*args, **kwargs):
    result = original(*args, **kwargs)
    print("inside", flush=True)
    time.sleep(60)
    return result

setattr(store, step, stop_here)
with open(verdicts_path, "rb") as file:
    plan, verdicts = pickle.load(file)
publish_tenant(make_engine(url), plan, verdicts)
print("published", flush=True)
"""


def store_snapshot(engine) -> tuple[int, ...]:
    with session_scope(engine) as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (FreeRange, SyncState, SyncRun, QuarantinedRow)
        )


@pytest.mark.parametrize("step", ["replace_ranges", "replace_quarantine", "save_state"])
def test_sigkill_while_publishing_changes_nothing_and_the_next_run_completes(
    store, tmp_path: Path, start_day, step: str
):
    demo = generate(DemoSpec(start=start_day, days=21, bad_rows=True))
    opus_path = tmp_path / "opus.db"
    with sqlite3.connect(opus_path) as connection:
        write(demo, connection, "sqlite")
    with session_scope(store) as session:
        subdomain = seed_demo_tenant(session, demo, opus_path).subdomain
    with session_scope(store) as session:
        plan = schedules.plan_tenant(session, subdomain)
    verdicts = [
        judge_database(
            extract_database(db, plan.months_to_sync, timezone="Europe/Stockholm", timeout_s=5),
            store,
        )
        for db in plan.databases
    ]
    handed_over = tmp_path / "verdicts.pickle"
    handed_over.write_bytes(pickle.dumps((plan, verdicts)))
    before = store_snapshot(store)

    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            store.url.render_as_string(hide_password=False),
            str(handed_over),
            step,
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    try:
        assert child.stdout.readline().strip() == "inside"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()

    assert store_snapshot(store) == before  # all of the run, or nothing
    (counts,) = sync_tenant(store, subdomain)
    assert counts.mode == "full"
    assert counts.added + counts.quarantined == len(demo.free_ranges)
    assert counts.quarantined == 9  # the demo's bad rows, and the good range one overlaps
    assert store_snapshot(store)[0] == counts.added
