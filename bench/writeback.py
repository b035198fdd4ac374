"""Write-back benchmark: confirmed through the API → appointment in Opus.

    python -m bench.writeback [--bookings 120] [--rate 2]

Runs the demo stack in a temporary folder: the demo Opus database (SQLite) and store,
a Prefect server, the worker (``opus-online worker``) and the booking app. Bookings
are confirmed through the public API (``POST /bookings``) at a steady rate; a watcher
reads the Opus database every 50 ms and notes when each booking's appointment
(found by its appointment key) first appears. The same bookings then go through
:func:`flows.write_back.write_back_due` called directly, without Prefect: the floor
the worker's latency is measured against.

``--fleet``: several write-back workers. A PostgreSQL store (``OPUS_BENCH_DATABASE_URL``,
default the local server) with ``--bookings`` confirmed bookings over ``--databases``
Opus databases (SQLite files, one per clinic) is drained by 1 and then 2 worker
processes (``write_back_due`` in a loop, as ``opus-online worker`` runs it, without
Prefect), three times each: bookings per second from "go" to the last write-back,
p95 of the bookings' time from "go" to their write-back, duplicates in Opus, medians
and the ratio of 2-worker to 1-worker throughput.

The last line printed is one JSON object: ``bookings``, ``p50_s``, ``p95_s``,
``max_s``, ``duplicates`` (appointment keys in Opus more than once), ``lost``
(confirmed bookings not in Opus at the end), ``direct_p50_s`` and the ratio of the
worker's p50 to it, and ``target_p95_s`` (5).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select

from bench.site import free_port, serve
from bench.sync import sync_once
from connectors.store.db import engine_for, session_scope
from connectors.store.models import Booking
from demo.opus_data import TOWNS
from demo.store_seed import DEMO_API_KEY, DEMO_SUBDOMAIN
from validations.patient import luhn_check_digit

API = "/api/public/v1"
TARGET_P95_S = 5.0
CLINICS = [town[0] for town in TOWNS]


def personal_number(serial: int) -> str:
    # 001-999: the serial 000 is never issued, and the API refuses it.
    nine = f"850101{serial % 999 + 1:03d}"
    return f"19{nine}{luhn_check_digit(nine)}"


def start_prefect(folder: Path) -> tuple[subprocess.Popen, dict[str, str]]:
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(folder / "prefect"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "OPUS_DATA_DIR": str(folder),
    }
    command = [sys.executable, "-m", "prefect", "server", "start"]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return server, env
        except httpx.HTTPError:
            time.sleep(0.5)
    server.kill()
    raise RuntimeError("the Prefect server did not start")


class Watcher(threading.Thread):
    """Notes when each appointment key first shows up in the Opus database."""

    def __init__(self, opus_path: Path) -> None:
        super().__init__(daemon=True)
        self.opus_path = opus_path
        self.seen: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        connection = sqlite3.connect(self.opus_path, timeout=30)
        while not self.stop.is_set():
            keys = connection.execute(
                "SELECT IdempotencyKey FROM OnlineAppointment WHERE IdempotencyKey IS NOT NULL"
            ).fetchall()
            moment = time.monotonic()
            for (key,) in keys:
                self.seen.setdefault(key, moment)
            time.sleep(0.05)
        connection.close()


def free_times(client: httpx.Client, days: int = 35) -> list[dict]:
    times = []
    for clinic in CLINICS:
        start = datetime.now(UTC) + timedelta(days=1)
        response = client.get(
            f"{API}/appointments/schedule/availabletimes",
            params={
                "request.clinicID": clinic,
                "request.treatmentID": 1,
                "request.from": start.isoformat(),
                "request.to": (start + timedelta(days=days)).isoformat(),
            },
        )
        response.raise_for_status()
        times += response.json()
    return times


def confirm_at_a_steady_rate(
    client: httpx.Client, slots: list[dict], count: int, rate: float
) -> dict[int, float]:
    """Booking id → the moment its confirmation came back."""
    confirmed: dict[int, float] = {}
    next_at = time.monotonic()
    for serial, slot in enumerate(slots):
        if len(confirmed) == count:
            break
        time.sleep(max(0.0, next_at - time.monotonic()))
        body = {
            "Patient": {
                "PatientPersonalIdentification": personal_number(serial),
                "FirstName": "Bench",
                "LastName": f"Patient {serial}",
                "Email": f"bench{serial}@example.se",
            },
            "TimeSlot": {**slot, "ID": 0},
        }
        response = client.post(f"{API}/bookings", json=body)
        if response.status_code == 409:  # overlaps a time booked a moment ago
            continue
        response.raise_for_status()
        confirmed[int(response.json())] = time.monotonic()
        next_at += 1 / rate
    return confirmed


def keys_of(store_url: str, booking_ids: list[int]) -> dict[int, str]:
    with session_scope(engine_for(store_url)) as session:
        rows = session.execute(
            select(Booking.id, Booking.appointment_key).where(Booking.id.in_(booking_ids))
        ).all()
    return dict(rows)


def duplicates_in(opus_path: Path) -> int:
    connection = sqlite3.connect(opus_path)
    try:
        return connection.execute(
            "SELECT COUNT(*) FROM (SELECT IdempotencyKey FROM OnlineAppointment "
            "WHERE IdempotencyKey IS NOT NULL GROUP BY IdempotencyKey HAVING COUNT(*) > 1)"
        ).fetchone()[0]
    finally:
        connection.close()


def direct_latency(store_url: str, client: httpx.Client, slots: list[dict], count: int) -> float:
    """Median seconds for write_back_due alone to put one confirmed booking into Opus."""
    from flows.write_back import write_back_due

    engine = engine_for(store_url)
    timings = []
    for slot in slots:
        if len(timings) == count:
            break
        confirmed = confirm_at_a_steady_rate(client, [slot], 1, rate=1000)
        if not confirmed:
            continue
        started = time.perf_counter()
        report = write_back_due(engine)
        timings.append(time.perf_counter() - started)
        assert report.outcomes.get("created") == 1, report
    return statistics.median(timings)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(args: argparse.Namespace) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bench-writeback-"))
    os.environ["OPUS_DATA_DIR"] = str(folder)
    from demo.run import prepare_demo_data
    from opus_online.config import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    prepare_demo_data(settings)
    store_url = settings.resolved_store_url
    sync_once(engine_for(store_url), DEMO_SUBDOMAIN)

    children: list[subprocess.Popen] = []
    try:
        prefect, env = start_prefect(folder)
        children.append(prefect)
        worker = subprocess.Popen(
            [sys.executable, "-m", "opus_online.cli", "worker"],
            env={**env, "OPUS_STORE_URL": store_url},
            stderr=subprocess.DEVNULL,
        )
        children.append(worker)
        app, base = serve(store_url, folder)
        children.append(app)
        client = httpx.Client(
            base_url=base,
            headers={"Host": f"{DEMO_SUBDOMAIN}.localhost", "apiKey": DEMO_API_KEY},
            timeout=30,
        )
        slots = free_times(client)
        watcher = Watcher(settings.demo_opus_path)
        watcher.start()
        confirmed = confirm_at_a_steady_rate(client, slots, args.bookings, args.rate)
        keys = keys_of(store_url, list(confirmed))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not set(keys.values()) <= set(watcher.seen):
            time.sleep(0.2)
        watcher.stop.set()
        watcher.join()
        latencies = [
            watcher.seen[key] - confirmed[booking_id]
            for booking_id, key in keys.items()
            if key in watcher.seen
        ]
        lost = sum(key not in watcher.seen for key in keys.values())
        worker.terminate()
        worker.wait()
        direct = direct_latency(store_url, client, slots[len(confirmed) * 3 :], 20)
        p50 = statistics.median(latencies)
        return {
            "bookings": len(confirmed),
            "rate_per_s": args.rate,
            "p50_s": round(p50, 3),
            "p95_s": round(percentile(latencies, 0.95), 3),
            "max_s": round(max(latencies), 3),
            "duplicates": duplicates_in(settings.demo_opus_path),
            "lost": lost,
            "direct_p50_s": round(direct, 4),
            "p50_vs_direct": round(p50 / direct, 1),
            "target_p95_s": TARGET_P95_S,
        }
    finally:
        for child in reversed(children):
            child.terminate()
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()


# -- several workers: python -m bench.writeback --fleet -----------------------------------

FLEET_WORKER = """
import sys, time
from pathlib import Path
from connectors.store.db import make_engine
from flows.write_back import write_back_due
engine = make_engine(sys.argv[1], pool_size=3, max_overflow=2)
stop = Path(sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()
while not stop.exists():
    if write_back_due(engine, timeout_s=20).handled == 0:
        time.sleep(0.05)
"""


def fleet_store(folder: Path, server_url: str, databases: int, bookings: int) -> str:
    """A PostgreSQL store, template for every run: the demo tenant with ``databases``
    clinics, synced, and ``bookings`` confirmed bookings spread over them."""
    from sqlalchemy import create_engine, text

    from connectors.store import bookings as store_bookings
    from connectors.store.db import make_engine, migrate, write_session_scope
    from demo.opus_data import DemoSpec, generate, write
    from demo.store_seed import seed_demo_tenant

    name = f"bench_writeback_{os.getpid()}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    migrate(url)
    demo = generate(DemoSpec(days=42, clinics=databases, clinicians_per_clinic=4))
    with sqlite3.connect(folder / "opus.db") as connection:
        write(demo, connection, "sqlite")
    engine = make_engine(url)
    with session_scope(engine) as session:
        subdomain = seed_demo_tenant(session, demo, folder / "opus.db").subdomain
    sync_once(engine, subdomain)
    per_clinic = -(-bookings // databases)
    from connectors.store.availability import bookable_times, rules_for
    from connectors.store.models import Clinic, Tenant, Treatment

    now = datetime.now(UTC)
    made = 0
    for clinic_id in demo.clinics["ClinicID"]:
        with write_session_scope(engine) as session:
            tenant = session.scalars(select(Tenant)).one()
            clinic = session.scalars(select(Clinic).where(Clinic.opus_clinic_id == clinic_id)).one()
            treatment = session.scalars(
                select(Treatment).where(Treatment.opus_treatment_id == 1)
            ).one()
            rules = rules_for(tenant.settings, treatment, clinic, now)
            slots = bookable_times(
                session, tenant.id, clinic.id, treatment, rules, now, now + timedelta(days=42), now
            )
            apart, last = [], {}
            for slot in sorted(slots, key=lambda s: (s.practitioner_id, s.starts_at)):
                previous = last.get(slot.practitioner_id)
                if previous is None or slot.starts_at >= previous + timedelta(minutes=90):
                    apart.append(slot)
                    last[slot.practitioner_id] = slot.starts_at
            mine = 0
            for serial, slot in enumerate(sorted(apart, key=lambda s: s.starts_at)):
                if mine == per_clinic or made == bookings:
                    break
                request = store_bookings.Request(
                    tenant.id, clinic.id, treatment.id, slot.starts_at, slot.practitioner_id
                )
                try:
                    with session.begin_nested():
                        held = store_bookings.hold(session, request, now)
                        held.personal_number = personal_number(serial)
                        held.first_name, held.last_name = "Bench", f"Patient {serial}"
                        store_bookings.confirm(session, held, now)
                except store_bookings.TimeTaken:
                    continue
                mine, made = mine + 1, made + 1
    engine.dispose()
    return url


def fleet_run(template_url: str, folder: Path, workers: int, run: int) -> dict:
    """One drain of every due booking by ``workers`` worker processes, each Opus
    database (one per clinic) its own SQLite file: throughput and p95 latency (from the
    moment the workers are told to go to the booking's write-back)."""
    from sqlalchemy import create_engine, text

    from connectors.store.db import make_engine
    from connectors.store.models import Clinic, OpusDatabase

    admin = create_engine(template_url, isolation_level="AUTOCOMMIT")
    name = f"{admin.url.database}_{workers}_{run}"
    with create_engine(
        admin.url.set(database="postgres"), isolation_level="AUTOCOMMIT"
    ).connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        c.execute(text(f'CREATE DATABASE {name} TEMPLATE "{admin.url.database}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    with session_scope(engine) as session:
        for clinic in session.scalars(select(Clinic)):
            path = folder / f"opus-{workers}-{run}-{clinic.opus_clinic_id}.db"
            with sqlite3.connect(folder / "opus.db") as original, sqlite3.connect(path) as copy:
                original.backup(copy)
            database = OpusDatabase(
                tenant_id=clinic.tenant_id,
                name=clinic.opus_clinic_id,
                connection_ref=f"sqlite:///{path}",
            )
            session.add(database)
            session.flush()
            clinic.opus_database_id = database.id
        total = session.scalar(select(func.count()).select_from(Booking))
    stop = folder / f"stop-{workers}-{run}"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", FLEET_WORKER, url, str(stop)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    try:
        for process in processes:
            assert process.stdout.readline().strip() == "ready"
        started = datetime.now(UTC)
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        while True:
            with session_scope(engine) as session:
                behind = session.scalar(
                    select(func.count()).where(Booking.change_seq > Booking.written_seq)
                )
            if not behind:
                break
            time.sleep(0.05)
        with session_scope(engine) as session:
            written = list(session.scalars(select(Booking.written_back_at)))
    finally:
        stop.touch()
        for process in processes:
            process.wait(timeout=60)
        engine.dispose()
    latencies = [(moment - started).total_seconds() for moment in written]
    duplicates = sum(duplicates_in(path) for path in folder.glob(f"opus-{workers}-{run}-*.db"))
    return {
        "bookings": total,
        "per_s": total / max(latencies),
        "p95_s": percentile(latencies, 0.95),
        "duplicates": duplicates,
    }


def fleet(args: argparse.Namespace) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bench-writeback-fleet-"))
    server = os.environ.get(
        "OPUS_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    template = fleet_store(folder, server, args.databases, args.bookings)
    results: dict[int, list[dict]] = {1: [], 2: []}
    for run in range(3):
        for workers in (1, 2):
            results[workers].append(fleet_run(template, folder, workers, run))
    summary: dict = {"bookings": args.bookings, "opus_databases": args.databases}
    for workers, runs in results.items():
        summary[f"w{workers}_per_s"] = round(statistics.median(r["per_s"] for r in runs), 1)
        summary[f"w{workers}_p95_s"] = round(statistics.median(r["p95_s"] for r in runs), 3)
        summary[f"w{workers}_duplicates"] = sum(r["duplicates"] for r in runs)
    summary["throughput_2_vs_1"] = round(summary["w2_per_s"] / summary["w1_per_s"], 2)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bookings", type=int, default=120)
    parser.add_argument("--rate", type=float, default=2.0, help="confirmations per second")
    parser.add_argument(
        "--fleet",
        action="store_true",
        help="1 and 2 worker processes draining --bookings over --databases Opus databases",
    )
    parser.add_argument("--databases", type=int, default=10)
    args = parser.parse_args()
    result = fleet(args) if args.fleet else run(args)
    for key, value in result.items():
        print(f"{key:>16}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
