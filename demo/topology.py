"""compose.yaml's topology as processes on this machine, without containers: the store
on a PostgreSQL database, two ``opus-online app`` processes sharing one
``PROMETHEUS_MULTIPROC_DIR``, and the write-back worker, all in production-like
settings (JSON logs, a metrics token, an admin host). ``make topology`` runs
:func:`main`: it makes a fresh database, seeds and syncs the demo tenant, books a
time through one app, sees it refused through the other, waits for the worker to
write it to Opus, and prints what /metrics says. The tests start the same processes
(:func:`processes`).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx

ADMIN_HOST = "admin.localhost"
METRICS_TOKEN = "local-topology-metrics-token"
API = "/api/public/v1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Topology:
    app_ports: list[int]
    env: dict[str, str]
    children: list[subprocess.Popen] = field(default_factory=list)

    def url(self, app: int) -> str:
        return f"http://127.0.0.1:{self.app_ports[app]}"

    def metrics(self, app: int) -> str:
        headers = {"host": ADMIN_HOST, "authorization": f"Bearer {METRICS_TOKEN}"}
        response = httpx.get(f"{self.url(app)}/metrics", headers=headers, timeout=10)
        response.raise_for_status()
        return response.text


def _command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "opus_online.cli", *arguments]


@contextmanager
def processes(
    store_url: str,
    data_dir: Path,
    *,
    apps: int = 2,
    worker: bool = True,
    migrate: bool = True,
    **settings: str,
) -> Iterator[Topology]:
    """Migrate the store (``opus-online migrate``, as compose's one-shot service),
    start ``apps`` app processes (each ready: /readyz 200) and the worker; stop them
    all at the end. ``settings``: more OPUS_ variables."""
    metrics_dir = data_dir / "metrics"
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):  # as compose's tmpfs: empty at every start
        stale.unlink()
    env = {
        **os.environ,
        "OPUS_STORE_URL": store_url,
        "OPUS_DATA_DIR": str(data_dir),
        "OPUS_ADMIN_HOST": ADMIN_HOST,
        "OPUS_METRICS_TOKEN": METRICS_TOKEN,
        "OPUS_LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        **{f"OPUS_{name.upper()}": value for name, value in settings.items()},
    }
    if migrate:
        subprocess.run(_command("migrate"), env=env, check=True, timeout=300)
    topology = Topology([free_port() for _ in range(apps)], env)
    logs = data_dir / "logs"
    logs.mkdir(exist_ok=True)
    try:
        for number, port in enumerate(topology.app_ports, start=1):
            own = {**env, "OPUS_APP_PORT": str(port)}
            with open(logs / f"app{number}.log", "w") as log:
                topology.children.append(
                    subprocess.Popen(_command("app"), env=own, stdout=log, stderr=log)
                )
        if worker:
            with open(logs / "worker.log", "w") as log:
                topology.children.append(
                    subprocess.Popen(_command("worker"), env=env, stdout=log, stderr=log)
                )
        for app in range(apps):
            _wait_ready(topology, app)
        yield topology
    finally:
        for child in topology.children:
            child.send_signal(signal.SIGTERM)
        for child in topology.children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _wait_ready(topology: Topology, app: int, timeout_s: float = 240.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for child in topology.children:
            if child.poll() is not None:
                raise RuntimeError(f"a process stopped (status {child.returncode}); see logs/")
        try:
            if httpx.get(f"{topology.url(app)}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"app {app + 1} not ready within {timeout_s} s")


# -- make topology ------------------------------------------------------------------------


def _fresh_database(server_url: str, name: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def seed_and_sync(store_url: str, folder: Path) -> str:
    """The demo tenant in the store, synced once from a demo Opus database in
    ``folder`` (the sync's own steps, without Prefect). Its subdomain."""
    from connectors.store.db import engine_for, migrate, session_scope
    from connectors.store.schedules import plan_tenant
    from demo.opus_data import DemoSpec, generate, write
    from demo.store_seed import seed_demo_tenant
    from flows.schedule_sync import extract_database, judge_database, publish_tenant

    migrate(store_url)
    demo = generate(DemoSpec(start=date.today() + timedelta(days=1), days=21))
    opus = folder / "opus.db"
    with closing(sqlite3.connect(opus)) as connection:
        write(demo, connection, "sqlite")
    engine = engine_for(store_url)
    with session_scope(engine) as session:
        subdomain = seed_demo_tenant(session, demo, opus).subdomain
    with session_scope(engine) as session:
        plan = plan_tenant(session, subdomain)
    verdicts = [
        judge_database(
            extract_database(db, plan.months_to_sync, timezone="Europe/Stockholm", timeout_s=5),
            engine,
        )
        for db in plan.databases
    ]
    publish_tenant(engine, plan, verdicts)
    return subdomain


def book_through(topology: Topology, subdomain: str) -> tuple[dict, int]:
    """Book the first free time through app 1 (the public API, the demo's key); the
    same time through app 2 for another patient. The first booking and the second's
    status."""
    from demo.store_seed import DEMO_API_KEY

    headers = {"host": f"{subdomain}.localhost", "apiKey": DEMO_API_KEY}
    query = {"request.clinicID": "UPP1", "request.treatmentID": 1}
    with httpx.Client(headers=headers, timeout=30) as client:
        slot = client.get(
            f"{topology.url(0)}{API}/appointments/schedule/availabletimes", params=query
        ).json()[0]
        first = client.post(f"{topology.url(0)}{API}/bookings", json=_booking(slot, "1"))
        first.raise_for_status()
        second = client.post(f"{topology.url(1)}{API}/bookings", json=_booking(slot, "2"))
    return first.json(), second.status_code


def _booking(slot: dict, serial: str) -> dict:
    from validations.patient import luhn_check_digit

    born, issued = "19800101", f"00{serial}"
    number = f"{born}{issued}{luhn_check_digit(born[2:] + issued)}"
    patient = {
        "PatientPersonalIdentification": number,
        "FirstName": "Test",
        "LastName": "Topologi",
        "Email": f"topologi{serial}@example.se",
        "MobilePhoneNumber": "070-123 45 67",
    }
    return {"Patient": patient, "TimeSlot": slot}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.topology", description=__doc__)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "OPUS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
        help="a PostgreSQL server (any database on it) where opus_topology is made",
    )
    args = parser.parse_args(argv)
    from sqlalchemy import func, select

    from connectors.store.db import engine_for, session_scope
    from connectors.store.models import Booking

    store_url = _fresh_database(args.postgres, "opus_topology")
    with tempfile.TemporaryDirectory(prefix="opus-topology-") as folder:
        data_dir = Path(folder)
        subdomain = seed_and_sync(store_url, data_dir)
        with processes(store_url, data_dir) as topology:
            print(f"apps on {topology.app_ports}, worker running; booking through app 1")
            _, refused = book_through(topology, subdomain)
            print(f"booked through app 1; the same time through app 2: HTTP {refused}")
            deadline = time.monotonic() + 120
            while True:
                with session_scope(engine_for(store_url)) as session:
                    due = session.scalar(
                        select(func.count()).where(Booking.change_seq > Booking.written_seq)
                    )
                if not due:
                    print("written back to Opus by the worker")
                    break
                if time.monotonic() > deadline:
                    print("NOT written back within 120 s; see the worker's log", file=sys.stderr)
                    return 1
                time.sleep(0.5)
            scrape = topology.metrics(1)
            for line in scrape.splitlines():
                if line.startswith(("opus_bookings_total", "opus_write_back_due ", "opus_holds")):
                    print(f"  {line}")
    return 0 if refused == 409 else 1


if __name__ == "__main__":
    raise SystemExit(main())
