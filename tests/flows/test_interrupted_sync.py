"""A sync killed with SIGKILL in the middle of publishing leaves the store exactly as
before the run, and the next run completes it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from connectors.store.db import session_scope
from connectors.store.models import FreeRange, QuarantinedRow, SyncRun, SyncState
from demo.opus_data import DemoSpec, generate, write
from demo.store_seed import seed_demo_tenant
from tests.conftest import sync_tenant

CHILD = """
import sys
from connectors.store.db import make_engine, session_scope
from connectors.store.schedules import plan_tenant
from flows.schedule_sync import extract_database, judge_database, publish_tenant

engine = make_engine(sys.argv[1])
with session_scope(engine) as session:
    plan = plan_tenant(session, sys.argv[2])
verdicts = [judge_database(extract_database(db, plan.months_to_sync, timezone="Europe/Stockholm",
            timeout_s=5), engine) for db in plan.databases]
print("publishing", flush=True)
publish_tenant(engine, plan, verdicts)
print("published", flush=True)
"""


def store_snapshot(engine) -> tuple[int, int, int, int]:
    with session_scope(engine) as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (FreeRange, SyncState, SyncRun, QuarantinedRow)
        )


def test_sigkill_while_publishing_changes_nothing_and_the_next_run_completes(
    store, tmp_path: Path, start_day
):
    demo = generate(
        DemoSpec(start=start_day, clinics=40, clinicians_per_clinic=4, days=60, bad_rows=True)
    )
    opus_path = tmp_path / "opus.db"
    with sqlite3.connect(opus_path) as connection:
        write(demo, connection, "sqlite")
    with session_scope(store) as session:
        subdomain = seed_demo_tenant(session, demo, opus_path).subdomain
    before = store_snapshot(store)
    url = store.url.render_as_string(hide_password=False)

    killed_while_publishing = 0
    for delay in (0.0, 0.05, 0.15, 0.3):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, url, subdomain],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parents[2],
        )
        assert child.stdout.readline().strip() == "publishing"
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        finished = child.stdout.read().strip() == "published"
        if not finished:
            killed_while_publishing += 1
            assert store_snapshot(store) == before  # all of the run, or nothing

        else:
            break  # this run got through: its result is checked below like the next one's

    assert killed_while_publishing >= 2, "the kills all came too late to prove anything"
    sync_tenant(store, subdomain)
    with session_scope(store) as session:
        refused = session.scalar(
            select(func.count())
            .select_from(QuarantinedRow)
            .where(QuarantinedRow.stream == "free_range")
        )
    assert store_snapshot(store)[0] + refused == len(demo.free_ranges)
    assert refused == 9  # the demo's bad rows, and the good range one of them overlaps
