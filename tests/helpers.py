"""Plain helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from connectors.store.availability import bookable_times, rules_for
from connectors.store.bookings import Request
from connectors.store.db import session_scope
from connectors.store.models import Clinic, Tenant, Treatment

ODBC_ENV = "OPUS_TEST_ODBC"
"""The environment variable the ``odbc_opus`` fixture puts its connection string in."""


def sync_tenant(engine: Engine, subdomain: str, now: datetime | None = None) -> list:
    """One schedule sync of a tenant through the real steps, without Prefect."""
    from connectors.store.schedules import plan_tenant
    from flows.schedule_sync import extract_database, judge_database, publish_tenant

    with session_scope(engine) as session:
        plan = plan_tenant(session, subdomain)
    verdicts = [
        judge_database(
            extract_database(
                db, plan.months_to_sync, timezone="Europe/Stockholm", timeout_s=5, now=now
            ),
            engine,
        )
        for db in plan.databases
    ]
    return publish_tenant(engine, plan, verdicts)


def synced_demo_store(demo, folder: Path, name: str = "store") -> Engine:
    """A SQLite store in ``folder`` with the demo tenant, synced once from ``demo``
    (a :class:`demo.opus_data.DemoOpus`) written as that tenant's Opus database."""
    from connectors.store.db import make_engine, migrate
    from demo.opus_data import write
    from demo.store_seed import DEMO_SUBDOMAIN, seed_demo_tenant

    opus = folder / f"opus-{name}.db"
    connection = sqlite3.connect(opus)
    write(demo, connection, "sqlite")
    connection.close()
    url = f"sqlite:///{folder / f'{name}.db'}"
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        seed_demo_tenant(session, demo, opus)
    sync_tenant(engine, DEMO_SUBDOMAIN)
    return engine


def odbc_connection_string(url: str, driver: str) -> str:
    parsed = make_url(url)
    return (
        f"DRIVER={{{driver}}};SERVER={parsed.host or '127.0.0.1'};PORT={parsed.port or 5432};"
        f"DATABASE={parsed.database};UID={parsed.username or 'postgres'};"
        f"PWD={parsed.password or ''};"
    )


@contextmanager
def app_on_loopback(settings, **config) -> Iterator[int]:
    """The booking app under a real uvicorn on a free loopback port, in a thread;
    yields the port. ``config``: more uvicorn options (e.g. ``backlog``)."""
    import uvicorn

    from booking_app.main import create_app

    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=0, log_level="warning", **config
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the booking app did not start"
        time.sleep(0.05)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=15)


# -- free times and requests in the demo tenant --------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def first_slots(session, clinic="UPP1", treatment=1, days=14):
    tenant = session.scalars(select(Tenant)).one()
    clinic_row = session.scalars(select(Clinic).where(Clinic.opus_clinic_id == clinic)).one()
    treatment_row = session.scalars(
        select(Treatment).where(Treatment.opus_treatment_id == treatment)
    ).one()
    rules = rules_for(tenant.settings, treatment_row, clinic_row, _now())
    slots = bookable_times(
        session,
        tenant.id,
        clinic_row.id,
        treatment_row,
        rules,
        _now(),
        _now() + timedelta(days=days),
        _now(),
    )
    return tenant, clinic_row, treatment_row, slots


def apart(slots: list, count: int, key=lambda s: (s.practitioner_id, s.starts_at.date())) -> list:
    """The first ``count`` of ``slots`` that can all be held together: one per
    practitioner and day (``key``). A practitioner's next grid times overlap the one
    before, warm-up and cool-down included, and on some days the demo's first times
    are such back-to-back starts, so "every other slot" is not enough."""
    chosen = list({key(s): s for s in reversed(slots)}.values())[::-1]
    assert len(chosen) >= count, f"only {len(chosen)} times can be held together"
    return chosen[:count]


def request_for(tenant, clinic, treatment, slot, any_practitioner=False) -> Request:
    return Request(
        tenant.id,
        clinic.id,
        treatment.id,
        slot.starts_at,
        None if any_practitioner else slot.practitioner_id,
    )


def all_at_once(count: int, work: Callable[[], object], timeout_s: float = 120) -> list:
    """What ``work()`` returned in each of ``count`` threads released together, in
    thread order (``None`` for a thread that raised or did not finish)."""
    start = threading.Barrier(count)
    answers: list = [None] * count

    def one(i: int) -> None:
        start.wait()
        answers[i] = work()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout_s)
    return answers


def eventually(check: Callable[[], object], what: str, within_s: float = 30.0) -> object:
    """Ask ``check`` until it gives something true (returned), failing after
    ``within_s`` seconds with what was waited for: long enough for a busy machine."""
    deadline = time.monotonic() + within_s
    while not (found := check()):
        assert time.monotonic() < deadline, f"waited {within_s} s in vain for {what}"
        time.sleep(0.02)
    return found
