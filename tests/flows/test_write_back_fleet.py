"""Write-back with several writers at once, on PostgreSQL, in real processes: workers
killed mid-batch, a lock whose connection drops mid-batch, and the scheduled run
beside them. Every booking reaches Opus exactly once; cancelled ones stay cancelled."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from connectors.store import bookings
from connectors.store.bookings import Request, TimeTaken
from connectors.store.db import session_scope, write_session_scope
from connectors.store.models import Booking, Clinic, OpusDatabase
from connectors.store.write_back_lock import LOCK_SPACE
from demo.opus_data import DemoSpec, generate, write
from demo.store_seed import seed_demo_tenant
from flows.write_back import write_back_due
from tests.flows.write_back_helpers import PERSONAL_NUMBER, OpusBook, cancel, now
from tests.helpers import first_slots, sync_tenant

ROOT = Path(__file__).resolve().parents[2]
DAYS = 21
PATIENT = {
    "personal_number": PERSONAL_NUMBER,
    "first_name": "Astrid",
    "last_name": "Lind",
    "email": "astrid@example.se",
    "mobile": "+46701234567",
}

# A write-back worker without Prefect (the flow adds only its run and artifact): it
# starts (imports) while the test makes its bookings, writes on "go", and stops once
# the stop file exists (the test makes it when the store has heard of every booking)
# and a round found nothing to do. Last line: its totals.
WORKER = """
import json, sys, time
from collections import Counter
from pathlib import Path
from connectors.store.db import make_engine
from flows.write_back import write_back_due
engine = make_engine(sys.argv[1], pool_size=2, max_overflow=2)
stop, once = Path(sys.argv[2]), sys.argv[3] == "once"
print("ready", flush=True)
sys.stdin.readline()
outcomes, lost, busy = Counter(), 0, 0
while True:
    report = write_back_due(engine, timeout_s=20)
    outcomes.update(report.outcomes)
    lost, busy = lost + report.lost, busy + report.busy
    if once or (report.handled == 0 and stop.exists()):
        break
    if report.handled == 0:
        time.sleep(0.05)
print(json.dumps({"outcomes": outcomes, "lost": lost, "busy": busy}), flush=True)
"""


class Worker:
    def __init__(self, store: Engine, stop: Path, once: bool = False) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                store.url.render_as_string(hide_password=False),
                str(stop),
                "once" if once else "loop",
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def go(self) -> None:
        assert self.process.stdout.readline().strip() == "ready"
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def totals(self) -> dict:
        out, _ = self.process.communicate(timeout=120)
        assert self.process.returncode == 0, out
        return json.loads(out.strip().splitlines()[-1])

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


@dataclass
class Fleet:
    store: Engine
    source: OpusBook  # the Opus database the tenant was synced from
    clinics: list[str]  # Opus clinic ids
    opus: dict[str, OpusBook] = field(default_factory=dict)  # by clinic, once split

    def split(self, folder: Path) -> None:
        """Give every clinic an Opus database of its own (a copy of the source), so
        its bookings are written there. (After booking: the store books a treatment
        only in its clinic's database, and the copies hold the same treatments.)"""
        with session_scope(self.store) as session:
            for clinic in session.scalars(select(Clinic).order_by(Clinic.id)):
                path = folder / f"opus-{clinic.opus_clinic_id}.db"
                with (
                    closing(sqlite3.connect(self.source.path)) as original,
                    closing(sqlite3.connect(path)) as copy,
                ):
                    original.backup(copy)
                database = OpusDatabase(
                    tenant_id=clinic.tenant_id,
                    name=clinic.opus_clinic_id,
                    connection_ref=f"sqlite:///{path}",
                )
                session.add(database)
                session.flush()
                clinic.opus_database_id = database.id
                self.opus[clinic.opus_clinic_id] = OpusBook(path)


def written(books: Iterable[OpusBook]) -> int:
    return sum(
        book.rows("SELECT COUNT(*) AS n FROM OnlineAppointment WHERE IdempotencyKey IS NOT NULL")[
            0
        ]["n"]
        for book in books
    )


@pytest.fixture
def fleet(postgres_store: Engine, tmp_path: Path, start_day: date) -> Fleet:
    """The demo tenant with 10 clinics, synced."""
    demo = generate(DemoSpec(start=start_day, days=DAYS, clinics=10, clinicians_per_clinic=3))
    source = tmp_path / "opus.db"
    with closing(sqlite3.connect(source)) as connection:
        write(demo, connection, "sqlite")
    with session_scope(postgres_store) as session:
        subdomain = seed_demo_tenant(session, demo, source).subdomain
    sync_tenant(postgres_store, subdomain)
    return Fleet(postgres_store, OpusBook(source), list(demo.clinics["ClinicID"]))


def book_across(fleet: Fleet, per_clinic: int) -> list[Booking]:
    """``per_clinic`` confirmed bookings in every clinic, none overlapping another
    (one transaction per clinic, a savepoint per booking: hundreds in seconds)."""
    made = []
    for clinic in fleet.clinics:
        with write_session_scope(fleet.store) as session:
            tenant, clinic_row, treatment, slots = first_slots(session, clinic, 1, DAYS)
            # A practitioner's times 90 minutes apart at least: never two overlapping.
            apart, last = [], {}
            for slot in sorted(slots, key=lambda s: (s.practitioner_id, s.starts_at)):
                previous = last.get(slot.practitioner_id)
                if previous is None or slot.starts_at >= previous + timedelta(minutes=90):
                    apart.append(slot)
                    last[slot.practitioner_id] = slot.starts_at
            apart.sort(key=lambda s: s.starts_at)
            mine = []
            for slot in apart:
                if len(mine) == per_clinic:
                    break
                request = Request(
                    tenant.id, clinic_row.id, treatment.id, slot.starts_at, slot.practitioner_id
                )
                try:
                    with session.begin_nested():
                        held = bookings.hold(session, request, now())
                        for name, value in PATIENT.items():
                            setattr(held, name, value)
                        mine.append(bookings.confirm(session, held, now()))
                except TimeTaken:  # a practitioner of two clinics
                    continue
            assert len(mine) == per_clinic, f"{clinic}: only {len(mine)} free times"
        made += mine
    return made


def behind(store: Engine) -> int:
    """Bookings whose latest change Opus has not heard of."""
    with session_scope(store) as session:
        return session.scalar(select(func.count()).where(Booking.change_seq > Booking.written_seq))


def wait_until_written(store: Engine) -> None:
    deadline = time.monotonic() + 120  # a bound for a hung writer, not a timing claim
    while behind(store):
        assert time.monotonic() < deadline, f"{behind(store)} bookings never written"
        time.sleep(0.1)


def assert_once_each(fleet: Fleet, made: list[Booking], cancelled: set[int]) -> None:
    """Every booking's appointment is in its clinic's Opus database exactly once (and
    in no other), booked or, for the cancelled ones, cancelled or never made; the store
    has heard of every change."""
    assert behind(fleet.store) == 0
    with session_scope(fleet.store) as session:
        clinic_of = dict(session.execute(select(Clinic.id, Clinic.opus_clinic_id)).all())
    for clinic, opus in fleet.opus.items():
        rows = opus.rows(
            "SELECT IdempotencyKey AS key, Status AS status FROM OnlineAppointment"
            " WHERE IdempotencyKey IS NOT NULL"
        )
        keys = [r["key"] for r in rows]
        assert len(keys) == len(set(keys)), f"{clinic}: an appointment written twice"
        status = {r["key"]: r["status"] for r in rows}
        mine = [b for b in made if clinic_of[b.clinic_id] == clinic]
        assert set(keys) <= {b.appointment_key for b in mine}
        for b in mine:
            if b.id in cancelled:
                assert status.get(b.appointment_key, "cancelled") == "cancelled"
            else:
                assert status.get(b.appointment_key) == "booked"


# Slow: 80 bookings over 10 Opus databases (a tenant of 10 clinics seeded and synced)
# and two worker processes that start (import) while they are made.
@pytest.mark.slow
def test_two_workers_and_the_scheduled_run_one_killed_mid_batch_write_each_booking_once(
    fleet: Fleet, tmp_path: Path
):
    stop = tmp_path / "stop"
    workers = [Worker(fleet.store, stop), Worker(fleet.store, stop)]  # importing meanwhile
    made = book_across(fleet, 8)
    assert len(made) == 80
    fleet.split(tmp_path)
    for worker in workers:
        worker.go()
    # Patients cancel while the workers write: some before, some after their write.
    cancelled = set()
    for booking in made[::8]:
        cancel(fleet.store, booking)
        cancelled.add(booking.id)
    # (Progress read from the store: reading the Opus files would slow their writers.)
    while behind(fleet.store) > 64:  # a fifth written
        assert workers[0].process.poll() is None, "the worker finished before the kill"
        time.sleep(0.02)
    workers[0].kill()
    assert workers[0].process.returncode == -signal.SIGKILL
    assert behind(fleet.store) > 0, "killed after the batch"

    scheduled = write_back_due(fleet.store)  # the safety-net run, beside the survivor
    wait_until_written(fleet.store)
    stop.touch()
    survivor = workers[1].totals()

    assert survivor["lost"] == 0 and scheduled.lost == 0
    assert survivor["outcomes"]
    assert_once_each(fleet, made, cancelled)


def test_a_writer_whose_lock_connection_drops_stops_and_the_other_finishes(
    fleet: Fleet, tmp_path: Path
):
    writer = Worker(fleet.store, tmp_path / "stop", once=True)  # importing meanwhile
    made = book_across(fleet, 10)  # 100 bookings in the tenant's one Opus database
    opus = fleet.source
    with session_scope(fleet.store) as session:
        database_id = session.scalar(select(OpusDatabase.id))
    writer.go()
    while behind(fleet.store) > len(made) - 5:
        assert writer.process.poll() is None, "the writer finished before its lock was lost"
        time.sleep(0.005)
    # Hold the writer at its next Opus transaction, then drop its lock's connection.
    blocker = sqlite3.connect(opus.path, timeout=30, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    at_loss = written([opus])
    with fleet.store.connect() as connection:
        dropped = (
            connection.execute(
                text(
                    # pg_locks is the whole server's: this store's database only (other
                    # tests' stores hold the same keys in theirs).
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND granted AND classid = :space AND objid = :id AND objsubid = 2"
                    " AND database = (SELECT oid FROM pg_database"
                    " WHERE datname = current_database())"
                ),
                {"space": LOCK_SPACE, "id": database_id},
            )
            .scalars()
            .all()
        )
    assert dropped == [True]
    blocker.execute("ROLLBACK")
    blocker.close()

    totals = writer.totals()
    assert totals["lost"] == 1
    assert written([opus]) == at_loss  # nothing after the loss: its open write rolled back
    assert sum(totals["outcomes"].values()) == at_loss < len(made)
    other = write_back_due(fleet.store)
    assert other.outcomes == {"created": len(made) - at_loss}
    rows = opus.rows(
        "SELECT IdempotencyKey AS key FROM OnlineAppointment WHERE IdempotencyKey IS NOT NULL"
    )
    assert sorted(r["key"] for r in rows) == sorted(b.appointment_key for b in made)
    with session_scope(fleet.store) as session:
        assert not session.scalar(
            select(func.count()).where(Booking.change_seq > Booking.written_seq)
        )
