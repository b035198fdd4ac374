"""`opus-online demo`: the whole product on one machine.

1. the demo Opus database (SQLite) and the booking store, built when missing or stale;
2. a local Prefect server with its UI;
3. the deployments served (the schedule sync every few minutes), after one first sync,
   and the worker that writes each confirmed booking back to Opus at once;
4. the booking app on port 8000.

Each runs as a child process; Ctrl-C (or SIGTERM) stops them all, newest first.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx

from connectors.store.db import engine_for, migrate, session_scope
from demo.opus_data import DemoSpec, generate, write
from demo.store_seed import DEMO_API_KEY, DEMO_SUBDOMAIN, seed_demo_tenant
from opus_online.config import Settings, get_settings

RUNS_DRY_WITHIN = timedelta(days=14)


def run_demo(reset: bool = False) -> int:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    prepare_demo_data(settings, reset=reset)

    prefect_url = f"http://127.0.0.1:{settings.prefect_port}"
    env = {
        **os.environ,
        "PREFECT_HOME": str((settings.data_dir / "prefect").resolve()),
        "PREFECT_API_URL": f"{prefect_url}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_API_URL": f"{prefect_url}/api",
        "OPUS_DATA_DIR": str(settings.data_dir.resolve()),
    }
    children: list[subprocess.Popen] = []

    def stop(*_args) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    cli = [sys.executable, "-m", "opus_online.cli"]
    try:
        print("Starting the Prefect server …", flush=True)
        children.append(
            _start(
                [
                    sys.executable,
                    "-m",
                    "prefect",
                    "server",
                    "start",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(settings.prefect_port),
                ],
                env,
            )
        )
        _wait_for(f"{prefect_url}/api/health", children[-1], "Prefect server", timeout_s=120)
        print("First schedule sync …", flush=True)
        subprocess.run([*cli, "sync"], env=env, check=False)
        children.append(_start([*cli, "serve"], env))
        children.append(_start([*cli, "worker"], env))  # write-back as bookings confirm
        children.append(_start([*cli, "app"], env))
        _wait_for(
            f"http://{settings.app_host}:{settings.app_port}/healthz", children[-1], "booking app"
        )
        booking = f"http://{DEMO_SUBDOMAIN}.{settings.base_domain}:{settings.app_port}/"
        print(
            "\nOpus Online demo is running:\n"
            f"  booking page (demo tenant)  {booking}\n"
            f"  public API (Opus v1)        {booking}api/public/v1/clinics\n"
            f"    API key (header apiKey)   {DEMO_API_KEY}\n"
            f"    OpenAPI document          {booking}api/public/v1/swagger.json\n"
            f"  Prefect UI (flows, runs)    {prefect_url}/\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        while all(child.poll() is None for child in children):
            time.sleep(1)
        print("A demo process stopped unexpectedly; stopping the rest.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping …", flush=True)
        return 0
    finally:
        for child in reversed(children):
            _stop(child)


def prepare_demo_data(settings: Settings, reset: bool = False) -> None:
    """Build the demo Opus database and seed the store, unless they exist and are
    fresh. Demo times run six weeks from the day they were made; once fewer than two
    weeks are left the demo is rebuilt, store included (row versions start over)."""
    opus_path = settings.demo_opus_path
    store_path = settings.data_dir / "store.db"
    if reset or (opus_path.exists() and _runs_dry(opus_path)):
        for path in (
            opus_path,
            store_path,
            store_path.with_suffix(".db-wal"),
            store_path.with_suffix(".db-shm"),
        ):
            path.unlink(missing_ok=True)
    demo = generate(DemoSpec(days=42, bad_rows=True))
    if not opus_path.exists():
        print(f"Building the demo Opus database {opus_path} …", flush=True)
        connection = sqlite3.connect(opus_path)
        write(demo, connection, "sqlite")
        connection.close()
    url = settings.resolved_store_url
    migrate(url)
    with session_scope(engine_for(url)) as session:
        seed_demo_tenant(session, demo, opus_path)


def _runs_dry(opus_path: Path) -> bool:
    connection = sqlite3.connect(opus_path)
    try:
        (last,) = connection.execute("SELECT MAX(StartTime) FROM OnlineFreeRange").fetchone()
    finally:
        connection.close()
    return last is None or datetime.fromisoformat(last).date() < date.today() + RUNS_DRY_WITHIN


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    # A process group of its own: Ctrl-C reaches us once, and we stop children in order.
    return subprocess.Popen(command, env=env, start_new_session=True)


def _wait_for(url: str, child: subprocess.Popen, what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"{what} exited with code {child.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{what} did not answer at {url} within {timeout_s:.0f} s")


def _stop(child: subprocess.Popen) -> None:
    if child.poll() is not None:
        return
    os.killpg(child.pid, signal.SIGTERM)
    try:
        child.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
