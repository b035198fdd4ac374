"""Fleet benchmark: many tenants on a Prefect work pool.

    python -m bench.fleet [--tenants 1000] [--ranges 1000] [--workers 2] [--skip-writeback]

Builds T tenants, each with its own Opus database (SQLite, a copy of one demo chain cut
to R free ranges) and one PostgreSQL store; starts a Prefect server on PostgreSQL
(``PREFECT_API_DATABASE_CONNECTION_URL``), a *process* work pool, W ``prefect worker``
processes, and registers the deployments with ``opus-online deploy`` (schedules paused:
the benchmark starts the cycles). Then, in one run:

* ``full_cycle_s``: a run of ``sync-all-tenants/every-tenant`` on an empty store, from
  its creation until it completed (shard processes started, every tenant synced);
* ``incremental_cycle_s``: the same after 1% of every tenant's ranges changed and
  0.1% were removed;
* ``unreachable_extra_s``: how much longer that cycle takes (after the same changes
  again) with one tenant's Opus a socket that accepts and stays silent;
* ``killed_worker_missed``: one worker and its flow runs killed with SIGKILL mid-cycle;
  once the dead runs' leases expired, the next cycle (on the workers left) must sync
  every tenant: the tenants it did not;
* ``writeback_p95_s``, ``writeback_duplicates``, ``writeback_lost``: 200 bookings over
  50 tenants confirmed in the store at a steady rate, two ``opus-online worker``
  processes writing them back; latency from confirmation to the store saying written,
  duplicates and losses counted in the Opus databases at the end.

The last line is one JSON object with those keys, ``tenants``, ``ranges``, ``workers``,
``cycle_timings`` (every cycle, for the growth from 100 to 1,000 tenants),
``peak_rss_mb`` and ``cpu_s`` per process kind. Settings of the run: ``--shards`` (one
per worker by default: the cycle's own run syncs the first), ``--threads`` a shard
(4), tenant deadline 30 s, Opus connect timeout 5 s and one retry, workers polling
every 2 s (Prefect's default is 10 s).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import func, select, update

from bench.site import free_port
from bench.sync import build_opus, fresh_store, mutate_opus
from connectors.store.db import make_engine, migrate, session_scope, write_session_scope
from connectors.store.models import Booking, OpusDatabase, SyncRun, Tenant, WorkerLease
from demo.store_seed import seed_demo_tenant

CYCLE = "sync-all-tenants/every-tenant"
POOL = "bench-fleet"
TENANT_TIMEOUT_S = 30
PREFECT = [sys.executable, "-m", "prefect"]
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


# -- processes -----------------------------------------------------------------------------


class Processes:
    """The children, each in its own process group (a kill takes its flow runs too),
    and the peak resident memory and the CPU seconds of every kind, sampled from /proc
    (a flow run's CPU as of its last sample, at most half a second before it ended)."""

    def __init__(self) -> None:
        self.children: dict[str, subprocess.Popen] = {}
        self.peak_mb: dict[str, float] = {}
        self._cpu_s: dict[int, tuple[str, float]] = {}  # pid: (kind, CPU seconds so far)
        self.stop = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def start(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        with open(log, "ab") as out:
            self.children[name] = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill(self, name: str) -> None:
        os.killpg(self.children.pop(name).pid, signal.SIGKILL)

    def stop_all(self) -> None:
        self.stop.set()
        for child in self.children.values():
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for child in self.children.values():
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)

    def _sample(self) -> None:
        while not self.stop.wait(0.5):
            roots = {child.pid: name for name, child in list(self.children.items())}
            for pid, parent, rss_mb, cpu_s in _processes():
                if pid in roots:
                    kind = roots[pid].rstrip("0123456789")
                elif parent in roots and roots[parent].startswith("pool-worker"):
                    kind = "flow-run"
                else:
                    continue
                self.peak_mb[kind] = max(self.peak_mb.get(kind, 0.0), rss_mb)
                self._cpu_s[pid] = (kind, cpu_s)

    def cpu_s(self) -> dict[str, float]:
        """CPU seconds spent so far, per kind of process."""
        totals: dict[str, float] = {}
        for kind, seconds in list(self._cpu_s.values()):
            totals[kind] = totals.get(kind, 0.0) + seconds
        return {kind: round(seconds, 1) for kind, seconds in sorted(totals.items())}


def _processes():
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss = fields.get("VmRSS", "0 kB").split()[0]
        try:  # utime and stime, in clock ticks: fields 14 and 15, after the ')' of comm
            ticks = (entry / "stat").read_text().rsplit(")", 1)[1].split()[11:13]
        except (OSError, IndexError):
            continue
        cpu_s = sum(int(t) for t in ticks) / TICKS_PER_S
        yield int(entry.name), int(fields.get("PPid", "0")), int(rss) / 1024, cpu_s


def wait_http(url: str, seconds: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer")


class SilentServer:
    """Accepts connections and never answers: an Opus that hangs."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)
        self.port = self.socket.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.held.append(self.socket.accept()[0])
            except OSError:
                return


# -- the tenants ---------------------------------------------------------------------------


def build_tenants(store_url: str, count: int, ranges: int, folder: Path) -> list[Path]:
    master, demo = build_opus(ranges, folder)
    engine = make_engine(store_url)
    paths = []
    with session_scope(engine) as session:
        for number in range(count):
            path = folder / f"opus-{number:04d}.db"
            shutil.copyfile(master, path)
            seed_demo_tenant(session, demo, path, subdomain=f"t{number:04d}")
            paths.append(path)
    engine.dispose()
    return paths


def synced_since(engine, moment: datetime) -> int:
    with session_scope(engine) as session:
        return session.scalar(
            select(func.count(func.distinct(SyncRun.tenant_id))).where(
                SyncRun.status == "succeeded", SyncRun.started_at >= moment
            )
        )


def run_cycle(engine, tenants: int) -> tuple[float, int]:
    """One cycle through the work pool; (seconds, tenants synced in it)."""
    from prefect.deployments import run_deployment

    started_at = datetime.now(UTC)
    started = time.monotonic()
    run = run_deployment(CYCLE, timeout=None, poll_interval=1)
    seconds = time.monotonic() - started
    synced = synced_since(engine, started_at)
    print(
        f"  cycle {run.name}: {run.state.type.value} in {seconds:.1f} s, {synced}/{tenants} synced"
    )
    return seconds, synced


def wait_for_leases_to_expire(engine) -> None:
    while True:
        with session_scope(engine) as session:
            last = session.scalar(
                select(func.max(WorkerLease.expires_at)).where(WorkerLease.name.like("sync:%"))
            )
        if last is None or last < datetime.now(UTC):
            return
        time.sleep(1)


# -- write-back ----------------------------------------------------------------------------


def confirm_bookings(engine, tenants: int, per_tenant: int, rate: float) -> dict[int, datetime]:
    """Hold and confirm bookings round-robin over the first ``tenants`` tenants, one
    every 1/rate s; booking id → the moment its confirmation was committed."""
    from connectors.store import bookings
    from connectors.store.availability import bookable_times, rules_for
    from connectors.store.bookings import Request
    from connectors.store.models import Clinic, Treatment

    now = datetime.now(UTC)
    plans = []
    with session_scope(engine) as session:
        for tenant in session.scalars(select(Tenant).order_by(Tenant.id).limit(tenants)):
            clinics = session.scalars(select(Clinic).where(Clinic.tenant_id == tenant.id)).all()
            treatments = session.scalars(
                select(Treatment).where(Treatment.tenant_id == tenant.id).order_by(Treatment.id)
            ).all()
            for clinic, treatment in ((c, t) for c in clinics for t in treatments):
                rules = rules_for(tenant.settings, treatment, clinic, now)
                slots = bookable_times(
                    session, tenant.id, clinic.id, treatment, rules, now, now + timedelta(28), now
                )
                # One a practitioner and day: such times never overlap each other.
                apart = list({(s.practitioner_id, s.starts_at.date()): s for s in slots}.values())
                if len(apart) >= per_tenant:
                    plans.append((tenant.id, clinic.id, treatment.id, apart[:per_tenant]))
                    break
    confirmed: dict[int, datetime] = {}
    next_at = time.monotonic()
    for round_ in range(per_tenant):
        for tenant_id, clinic_id, treatment_id, slots in plans:
            if round_ >= len(slots):
                continue
            time.sleep(max(0.0, next_at - time.monotonic()))
            slot = slots[round_]
            with write_session_scope(engine) as session:
                request = Request(
                    tenant_id, clinic_id, treatment_id, slot.starts_at, slot.practitioner_id
                )
                held = bookings.hold(session, request, datetime.now(UTC))
                held.personal_number = "199001012385"  # made up, Luhn-valid
                held.first_name, held.last_name = "Bench", f"Patient {len(confirmed)}"
                held.email = "bench@example.se"
                booking = bookings.confirm(session, held, datetime.now(UTC))
                session.flush()
                booking_id = booking.id
            confirmed[booking_id] = datetime.now(UTC)
            next_at += 1 / rate
    return confirmed


def written_at(
    engine, confirmed: dict[int, datetime], patience_s: float = 90
) -> dict[int, datetime]:
    """When each booking was written to Opus, by the store's own record (the writer's
    ``written_back_at``), once all are written or ``patience_s`` has passed."""
    deadline = time.monotonic() + patience_s
    while True:
        with session_scope(engine) as session:
            done = dict(
                session.execute(
                    select(Booking.id, Booking.written_back_at).where(
                        Booking.id.in_(confirmed), Booking.written_seq >= Booking.change_seq
                    )
                ).all()
            )
        if len(done) == len(confirmed) or time.monotonic() > deadline:
            return done
        time.sleep(0.5)


def opus_keys(paths: list[Path]) -> list[str]:
    keys = []
    for path in paths:
        with sqlite3.connect(path) as connection:
            keys += [
                k
                for (k,) in connection.execute(
                    "SELECT IdempotencyKey FROM OnlineAppointment WHERE IdempotencyKey IS NOT NULL"
                )
            ]
    return keys


def writeback_part(engine, store_url, paths, env, processes, folder, args) -> dict:
    for number in (1, 2):
        processes.start(
            f"writeback-worker{number}",
            [sys.executable, "-m", "opus_online.cli", "worker"],
            env,
            folder / f"writeback-{number}.log",
        )
    time.sleep(5)  # the workers' imports
    tenants = min(50, len(paths))
    confirmed = confirm_bookings(engine, tenants, max(1, 200 // tenants), args.writeback_rate)
    written = written_at(engine, confirmed)
    latencies = sorted((written[b] - confirmed[b]).total_seconds() for b in written)
    with session_scope(engine) as session:
        wanted = set(
            session.scalars(select(Booking.appointment_key).where(Booking.id.in_(confirmed)))
        )
    keys = opus_keys(paths[:tenants])
    return {
        "writeback_bookings": len(confirmed),
        # Not written within the patience: outside the percentiles, so said apart.
        "writeback_unwritten": len(confirmed) - len(written),
        "writeback_p50_s": round(float(np.percentile(latencies, 50)), 2) if latencies else None,
        "writeback_p95_s": round(float(np.percentile(latencies, 95)), 2) if latencies else None,
        "writeback_duplicates": len(keys) - len(set(keys)),
        "writeback_lost": len(wanted - set(keys)),
    }


# -- the run -------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    processes = Processes()
    store_url, drop_store = fresh_store("postgresql", folder, args.postgres_url)
    prefect_db_url, drop_prefect_db = fresh_store("postgresql", folder, args.postgres_url)
    silent = SilentServer()
    port = free_port()
    # Every child keeps the bytecode it compiles, as the image's precompiled install
    # does: else each flow run's process would compile Prefect and pandas anew.
    children_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env = {
        **children_env,
        "PREFECT_HOME": str(folder / "prefect"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "OPUS_DATA_DIR": str(folder),
        "OPUS_STORE_URL": store_url,
        "OPUS_SYNC_SHARDS": str(args.shards or args.workers),
        "OPUS_SYNC_THREADS": str(args.threads),
        "OPUS_SYNC_TENANT_TIMEOUT_S": str(TENANT_TIMEOUT_S),
        "OPUS_OPUS_CONNECT_TIMEOUT_S": "5",
        "OPUS_OPUS_RETRIES": "1",
        "OPUS_OPUS_RETRY_DELAY_S": "1",
        "OPUS_SYNC_INTERVAL_MINUTES": "30",  # how long a cycle waits for its shards
        "OPUS_BENCH_SILENT": (
            "DRIVER={PostgreSQL Unicode};SERVER=127.0.0.1;"
            f"PORT={silent.port};DATABASE=opus;UID=opus;PWD=x;"
        ),
    }
    os.environ.update({k: env[k] for k in ("PREFECT_HOME", "PREFECT_API_URL", "OPUS_STORE_URL")})
    try:
        started = time.monotonic()
        migrate(store_url)
        paths = build_tenants(store_url, args.tenants, args.ranges, folder)
        print(f"built {args.tenants} tenants in {time.monotonic() - started:.0f} s")
        engine = make_engine(store_url)

        server_env = {
            **env,
            "PREFECT_API_DATABASE_CONNECTION_URL": prefect_db_url.replace(
                "postgresql+psycopg", "postgresql+asyncpg"
            ),
        }
        processes.start(
            "prefect-server",
            [*PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            server_env,
            folder / "server.log",
        )
        wait_http(f"http://127.0.0.1:{port}/api/health")
        subprocess.run(
            [*PREFECT, "work-pool", "create", POOL, "--type", "process"], env=env, check=True
        )
        subprocess.run(
            [sys.executable, "-m", "opus_online.cli", "deploy", "--pool", POOL], env=env, check=True
        )
        pause_schedules()
        for number in range(1, args.workers + 1):
            processes.start(
                f"pool-worker{number}",
                [*PREFECT, "worker", "start", "--pool", POOL, "--name", f"w{number}"],
                env,
                folder / f"worker-{number}.log",
            )
        time.sleep(3)

        if args.writeback_only:
            sync_in_process(engine, args.tenants)  # the bookings need published times
            cycles: dict = {}
        else:
            cycles = cycles_part(engine, paths, processes, args, env, folder)
        writeback = {}
        if not args.skip_writeback:
            print("write-back")
            try:
                writeback = writeback_part(engine, store_url, paths, env, processes, folder, args)
            except Exception as exc:  # the cycles' figures stand; say what failed
                writeback = {"writeback_error": repr(exc)[:300]}
        incremental_s, silent_s = cycles.get("incremental_cycle_s"), cycles.get("silent_cycle_s")
        return {
            "tenants": args.tenants,
            "ranges": args.ranges,
            "workers": args.workers,
            "full_cycle_s": cycles.get("full_cycle_s"),
            "incremental_cycle_s": incremental_s,
            "unreachable_extra_s": (round(silent_s - incremental_s, 1) if cycles else None),
            "killed_worker_missed": cycles.get("killed_worker_missed"),
            "writeback_p95_s": writeback.get("writeback_p95_s"),
            "writeback_duplicates": writeback.get("writeback_duplicates"),
            "writeback_lost": writeback.get("writeback_lost"),
            "cycle_timings": cycles | writeback,
            "peak_rss_mb": {k: round(v) for k, v in sorted(processes.peak_mb.items())},
            "cpu_s": processes.cpu_s(),
            "targets": {
                "incremental_cycle_s": 60,
                "full_cycle_s": 300,
                "unreachable_extra_s": 10,
                "writeback_p95_s": 5,
            },
        }
    finally:
        processes.stop_all()
        if not args.keep:
            drop_store()
            drop_prefect_db()
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept {folder}")


def cycles_part(engine, paths: list[Path], processes: Processes, args, env, folder) -> dict:
    """The four cycles through the work pool: full, incremental, incremental with one
    Opus silent, and one that loses a worker (then the next, which must miss none)."""
    print("full cycle")
    full_s, full_synced = run_cycle(engine, args.tenants)
    print(f"  CPU seconds so far: {processes.cpu_s()}")
    rng = np.random.default_rng(7)
    for path in paths:
        mutate_opus(path, args.ranges, rng)
    print("incremental cycle")
    incremental_s, incremental_synced = run_cycle(engine, args.tenants)
    print(f"  CPU seconds so far: {processes.cpu_s()}")

    for path in paths:
        mutate_opus(path, args.ranges, rng)
    point(engine, "t0000", "env:OPUS_BENCH_SILENT")
    print("incremental cycle, one Opus silent")
    silent_s, silent_synced = run_cycle(engine, args.tenants)
    point(engine, "t0000", f"sqlite:///{paths[0]}")
    figures = {
        "full_cycle_s": round(full_s, 1),
        "full_synced": full_synced,
        "incremental_cycle_s": round(incremental_s, 1),
        "incremental_synced": incremental_synced,
        "silent_cycle_s": round(silent_s, 1),
        "silent_cycle_synced": silent_synced,
    }
    print(json.dumps(figures), flush=True)  # should the last part not end

    print("a worker killed mid-cycle")
    figures["killed_worker_missed"] = killed_worker_cycle(engine, processes, args, env, folder)
    return figures


def sync_in_process(engine, tenants: int) -> None:
    """Every tenant synced once here, without the pool (``--writeback-only``)."""
    from flows.fleet import sync_tenants
    from opus_online.config import get_settings

    subdomains = [f"t{number:04d}" for number in range(tenants)]
    outcomes = sync_tenants(engine, subdomains, get_settings())
    synced = sum(outcome.status == "synced" for outcome in outcomes)
    print(f"synced {synced}/{tenants} tenants in this process")


def pause_schedules() -> None:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for deployment in client.read_deployments():
            client.pause_deployment(deployment.id)


def point(engine, subdomain: str, connection_ref: str) -> None:
    with session_scope(engine) as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.subdomain == subdomain))
        session.execute(
            update(OpusDatabase)
            .where(OpusDatabase.tenant_id == tenant_id)
            .values(connection_ref=connection_ref)
        )


def killed_worker_cycle(engine, processes: Processes, args, env, folder: Path) -> int:
    """Kill worker 1 (and its flow runs) once a third of the tenants are synced; when
    the dead runs' leases have expired, run the next cycle on the workers left."""
    from prefect.deployments import run_deployment

    started_at = datetime.now(UTC)
    run_deployment(CYCLE, timeout=0)
    while synced_since(engine, started_at) < max(1, args.tenants // 3):
        time.sleep(0.2)
    processes.kill("pool-worker1")
    print(f"  killed worker 1 with {synced_since(engine, started_at)} tenants synced")
    if args.workers == 1:  # someone must run the next cycle: a machine coming back
        processes.start(
            "pool-worker1",
            [*PREFECT, "worker", "start", "--pool", POOL, "--name", "w1b"],
            env,
            folder / "worker-1b.log",
        )
    wait_for_leases_to_expire(engine)
    _, synced = run_cycle(engine, args.tenants)
    return args.tenants - synced


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--ranges", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shards", type=int, help="shards of a cycle (default: --workers)")
    parser.add_argument("--threads", type=int, default=4, help="tenants a shard syncs at once")
    parser.add_argument("--writeback-rate", type=float, default=4.0, help="bookings per second")
    parser.add_argument("--skip-writeback", action="store_true")
    parser.add_argument(
        "--writeback-only",
        action="store_true",
        help="no cycles: sync every tenant in this process, then measure write-back",
    )
    parser.add_argument("--keep", action="store_true", help="keep the folder and databases")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "OPUS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    result = run(parser.parse_args())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
