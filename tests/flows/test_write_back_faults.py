"""Write-back under the faults the issue names: killed mid-batch, Opus over ODBC on
PostgreSQL, and the flow and worker under Prefect."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from sqlalchemy import Engine, func, select, update

from connectors.store.bookings import TimeTaken
from connectors.store.db import session_scope
from connectors.store.models import Booking, OpusDatabase, TenantSettings
from demo.opus_data import DemoOpus
from flows.write_back import write_back_due
from tests.flows.write_back_helpers import OpusBook, book, cancel, free_slots, now, rebook, reload
from tests.helpers import ODBC_ENV, sync_tenant

ROOT = Path(__file__).resolve().parents[2]

KILLABLE = """
import sys
from connectors.store.db import make_engine
from flows.write_back import write_back_due
print("started", flush=True)
write_back_due(make_engine(sys.argv[1]), limit=10_000)
print("finished", flush=True)
"""


def book_many(engine: Engine, count: int) -> list[Booking]:
    """``count`` confirmed bookings, on whichever free times do not overlap."""
    made: list[Booking] = []
    for clinic in ("UPP1", "UPP2", "ENK1"):
        tenant_id, clinic_id, treatment_id, slots = free_slots(engine, clinic=clinic, days=21)
        for slot in slots:
            if len(made) == count:
                return made
            try:
                made.append(book(engine, slot, (tenant_id, clinic_id, treatment_id)))
            except TimeTaken:
                continue
    raise AssertionError(f"only {len(made)} free times for {count} bookings")


# Slow: 200 bookings made one by one as patients would, then a write-back process that
# starts (imports) and is killed; fewer bookings would let it finish before the kill.
@pytest.mark.slow
def test_killed_in_the_middle_of_a_batch_then_run_again_every_booking_is_in_opus_once(
    sqlite_store, demo_sqlite_tenant, opus_sqlite
):
    sync_tenant(sqlite_store, demo_sqlite_tenant)
    # 200: enough to kill the worker mid-batch, and free on any three weeks of the demo's,
    # julafton's and Easter's included (300 were not, from nyårsafton).
    made = book_many(sqlite_store, 200)
    opus = OpusBook(opus_sqlite)
    free_before = sum(opus.free_minutes(c) for c in range(1, 20))
    worker = subprocess.Popen(
        [sys.executable, "-c", KILLABLE, str(sqlite_store.url)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout.readline().strip() == "started"
    written = 0
    while written < 30 and worker.poll() is None:
        written = opus.rows(
            "SELECT COUNT(*) AS n FROM OnlineAppointment WHERE Status = 'booked'"
            " AND IdempotencyKey IS NOT NULL"
        )[0]["n"]
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert worker.returncode == -signal.SIGKILL, "write-back finished before it could be killed"
    assert 0 < written < len(made)

    # Its lease lasts 30 s; a later run takes over once it has run out.
    report = write_back_due(sqlite_store, clock=lambda: now() + timedelta(minutes=2))

    assert report.outcomes["failed"] == 0
    keys = [b.appointment_key for b in made]
    in_opus = opus.rows(
        "SELECT IdempotencyKey, COUNT(*) AS n FROM OnlineAppointment "
        "WHERE IdempotencyKey IS NOT NULL GROUP BY IdempotencyKey"
    )
    assert sorted(r["IdempotencyKey"] for r in in_opus) == sorted(keys)
    assert {r["n"] for r in in_opus} == {1}
    # Each booking took its blocked time out of the free time exactly once.
    blocked = sum(int((b.blocks_until - b.blocks_from).total_seconds()) // 60 for b in made)
    assert sum(opus.free_minutes(c) for c in range(1, 20)) == free_before - blocked
    with session_scope(sqlite_store) as session:
        behind = session.scalar(
            select(func.count()).where(Booking.change_seq > Booking.written_seq)
        )
    assert behind == 0


# -- Opus on PostgreSQL over ODBC ----------------------------------------------------------


class OdbcBook:
    def __init__(self, connection_string: str) -> None:
        self.connection_string = connection_string

    def rows(self, sql: str, params: tuple = ()) -> list[dict]:
        import pyodbc

        connection = pyodbc.connect(self.connection_string, autocommit=True)
        try:
            cursor = connection.execute(sql, params)
            names = [d[0].lower() for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            connection.close()


@pytest.mark.odbc
def test_write_back_over_odbc_to_postgresql(
    store, demo_tenant, demo: DemoOpus, odbc_opus: Callable[[DemoOpus], str]
):
    opus = OdbcBook(odbc_opus(demo))
    with session_scope(store) as session:
        session.execute(update(OpusDatabase).values(connection_ref=f"env:{ODBC_ENV}"))
        session.execute(
            update(TenantSettings).values(user_message_enabled=True, campaign_code_enabled=True)
        )
    sync_tenant(store, demo_tenant)
    tenant_id, clinic_id, treatment_id, slots = free_slots(store)
    ids = (tenant_id, clinic_id, treatment_id)
    booking = book(store, slots[0], ids, message="Ärende: ﬁlling ✓", campaign_code="HÖST 2026")
    [before] = opus.rows("SELECT COUNT(*) AS n FROM OnlineFreeRange")

    assert write_back_due(store).outcomes == {"created": 1}
    assert write_back_due(store).handled == 0

    [appointment] = opus.rows(
        "SELECT * FROM OnlineAppointment WHERE IdempotencyKey = ?", (booking.appointment_key,)
    )
    assert appointment["bookingtext"] == "Webbokning: undersökning\nÄrende: ﬁlling ✓\nCC: HÖST 2026"
    assert appointment["status"] == "booked"
    [patient] = opus.rows(
        "SELECT * FROM OnlinePatient WHERE PatientID = ?", (appointment["patientid"],)
    )
    assert patient["personalnumber"] == booking.personal_number
    assert patient["patientid"] > len(demo.patients)  # a fresh id, not a demo patient's

    later = next(s for s in slots if s.starts_at >= booking.starts_at + timedelta(days=2))
    moved = rebook(store, booking, later)
    assert write_back_due(store).outcomes == {"moved": 1}
    cancel(store, moved)
    assert write_back_due(store).outcomes == {"cancelled": 1}
    [after] = opus.rows(
        "SELECT * FROM OnlineAppointment WHERE IdempotencyKey = ?", (booking.appointment_key,)
    )
    assert (after["appointmentid"], after["status"]) == (appointment["appointmentid"], "cancelled")
    assert opus.rows("SELECT COUNT(*) AS n FROM OnlineFreeRange") == [before]
    assert reload(store, moved).written_seq == reload(store, moved).change_seq


# -- under Prefect -------------------------------------------------------------------------


@pytest.mark.prefect
def test_the_flow_leaves_an_artifact_naming_conflicts(
    prefect_harness, flow_settings, sqlite_store, demo_sqlite_tenant, opus_sqlite
):
    import sqlite3

    from flows.write_back import write_back

    sync_tenant(sqlite_store, demo_sqlite_tenant)
    tenant_id, clinic_id, treatment_id, slots = free_slots(sqlite_store)
    ids = (tenant_id, clinic_id, treatment_id)
    fine, doomed = book(sqlite_store, slots[0], ids), book(sqlite_store, slots[-1], ids)
    connection = sqlite3.connect(opus_sqlite)
    with connection:
        # Reception closes the last day's free time before write-back gets there.
        connection.execute(
            "DELETE FROM OnlineFreeRange WHERE StartTime >= ?",
            (slots[-1].starts_at.strftime("%Y-%m-%d 00:00:00"),),
        )
    connection.close()

    state = write_back(return_state=True)

    assert state.is_completed()
    report = state.result()
    assert report.outcomes == {"created": 1, "conflict": 1}
    with get_client(sync_client=True) as client:
        (artifact,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["write-back"]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]),
            )
        )
    assert "| created | 1 |" in artifact.data
    assert f"booking {doomed.id}: no_longer_free" in artifact.data
    assert reload(sqlite_store, fine).status == "confirmed"


@pytest.mark.prefect
def test_the_worker_writes_a_confirmed_booking_back_without_waiting_for_a_schedule(
    prefect_harness, flow_settings, sqlite_store, demo_sqlite_tenant, opus_sqlite
):
    from flows.worker import run_worker
    from opus_online.config import get_settings

    sync_tenant(sqlite_store, demo_sqlite_tenant)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker,
        kwargs={"settings": get_settings(), "poll_s": 0.1, "keep_going": lambda: not stop.is_set()},
    )
    thread.start()
    try:
        tenant_id, clinic_id, treatment_id, slots = free_slots(sqlite_store)
        booking = book(sqlite_store, slots[0], (tenant_id, clinic_id, treatment_id))
        opus = OpusBook(opus_sqlite)
        deadline = time.monotonic() + 60  # a bound for a hung worker, not a timing claim
        while not opus.appointments(booking.appointment_key) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join()
    assert len(opus.appointments(booking.appointment_key)) == 1
