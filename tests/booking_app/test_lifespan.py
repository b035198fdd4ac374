"""The app's startup puts what the process made before it (modules, the app, its
routes) out of the cycle collector's sight, once per process, and reads the tenants'
snapshots after that, so that a replaced snapshot is still collected.

In a process of its own: the first app of a process is the one that freezes, and the
test process has made many apps before this test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, select

from connectors.store.db import session_scope
from connectors.store.models import Tenant
from demo.store_seed import DEMO_SUBDOMAIN
from tests.booking_app.booking_pages import BASE_DOMAIN, SECRET, TENANT_HOST

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, json, sys, time
from fastapi.testclient import TestClient
from booking_app.main import create_app
from opus_online.config import Settings

settings = Settings(store_url=sys.argv[1], base_domain=sys.argv[2], secret_key=sys.argv[3],
                    snapshot_preload="*", availability_poll_s=0.25)
app = create_app(settings)
with TestClient(app, base_url="http://" + sys.argv[4]) as client:
    deadline = time.monotonic() + 60
    while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    snapshot = app.state.availability.in_memory(int(sys.argv[5]))
    seen = {id(o) for o in gc.get_objects()}  # the collector's generations, not the frozen
    first = {
        "frozen": gc.get_freeze_count(),
        "tracked": len(seen),
        "app_seen": id(app) in seen or id(app.router) in seen,
        "snapshot_seen": snapshot is not None and id(snapshot.reference) in seen,
    }
second = create_app(settings)
with TestClient(second, base_url="http://" + sys.argv[4]):
    first["second_app_seen"] = id(second) in {id(o) for o in gc.get_objects()}
print(json.dumps(first))
"""


def demo_tenant_id(store: Engine) -> int:
    with session_scope(store) as session:
        return session.scalar(select(Tenant.id).where(Tenant.subdomain == DEMO_SUBDOMAIN))


def test_startup_freezes_the_process_heap_once_and_not_the_snapshots(
    synced_sqlite_store: Engine, tmp_path: Path
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            synced_sqlite_store.url.render_as_string(hide_password=False),
            BASE_DOMAIN,
            SECRET,
            TENANT_HOST,
            str(demo_tenant_id(synced_sqlite_store)),
        ],
        cwd=ROOT,
        env={**os.environ, "OPUS_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    probe = json.loads(result.stdout.strip().splitlines()[-1])

    # Most of what a full collection walked is out of its sight, the app among it.
    assert probe["frozen"] > probe["tracked"]
    assert not probe["app_seen"]
    # The tenant's snapshot, read after, is still the collector's to free when replaced.
    assert probe["snapshot_seen"]
    # Once per process: a later app (a test's) is not frozen with what it made.
    assert probe["second_app_seen"]
