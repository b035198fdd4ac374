"""`opus-online demo`: the whole product on one machine.

1. the demo Opus database (SQLite) and the booking store, built when missing or stale;
2. a local Prefect server with its UI;
3. the deployments served (the schedule sync every few minutes), after one first sync,
   and the worker that writes each confirmed booking back to Opus at once (and sends
   the patients' e-mail and SMS);
4. the booking app on port 8000;
5. a mail catcher and an SMS gateway stand-in, where the patients' messages arrive.

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
from urllib.parse import urlsplit

import httpx

from connectors.store.db import engine_for, migrate, session_scope
from demo.opus_data import DemoSpec, generate, write
from demo.store_seed import DEMO_API_KEY, DEMO_SUBDOMAIN, seed_demo_tenant
from opus_online.config import Settings, get_settings

RUNS_DRY_WITHIN = timedelta(days=14)
DEMO_BANKID_PORT = 8443


def _bankid_dir(settings: Settings) -> Path:
    return (settings.data_dir / "bankid").resolve()


def _bankid_env(settings: Settings) -> dict[str, str]:
    """Where the app finds the BankID stand-in and its test certificates."""
    folder = _bankid_dir(settings)
    return {
        "OPUS_BANKID_URL": f"https://127.0.0.1:{DEMO_BANKID_PORT}",
        "OPUS_BANKID_CA_FILE": str(folder / "ca.pem"),
        "OPUS_BANKID_CERT_FILE": str(folder / "rp.pem"),
        "OPUS_BANKID_KEY_FILE": str(folder / "rp-key.pem"),
    }


MAIL_CATCHER_WEB_PORT = 8025


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
        **_notification_env(settings),
    }
    children: list[subprocess.Popen] = []

    def stop(*_args) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    cli = [sys.executable, "-m", "opus_online.cli"]
    env.update(_bankid_env(settings))
    try:
        # The BankID stand-in plays the patient's phone too: every login completes as
        # the demo person a few seconds after it starts (see demo/bankid_server.py).
        children.append(
            _start(
                [
                    sys.executable,
                    "-m",
                    "demo.bankid_server",
                    "--dir",
                    str(_bankid_dir(settings)),
                    "--port",
                    str(DEMO_BANKID_PORT),
                    "--auto-complete-after",
                    "6",
                ],
                env,
            )
        )
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
        mail_web, sms_web = _start_message_stand_ins(settings, env, children)
        market_web = _start_marketplace(settings, env, children)
        print("First schedule sync …", flush=True)
        subprocess.run([*cli, "sync"], env=env, check=False)
        children.append(_start([*cli, "serve"], env))
        children.append(_start([*cli, "worker"], env))  # write-back as bookings confirm
        children.append(_start([*cli, "app"], env))
        _wait_for(
            f"http://{settings.app_host}:{settings.app_port}/healthz", children[-1], "booking app"
        )
        booking = f"http://{DEMO_SUBDOMAIN}.{settings.base_domain}:{settings.app_port}/"
        # The operator pages' own origin (OPUS_ADMIN_HOST, default admin.<base_domain>).
        admin = f"http://{settings.resolved_admin_host}:{settings.app_port}/admin/"
        print(
            "\nOpus Online demo is running:\n"
            f"  booking page (demo tenant)  {booking}\n"
            f"  operator pages, dashboards  {admin}\n"
            f"  public API (Opus v1)        {booking}api/public/v1/clinics\n"
            f"    API key (header apiKey)   {DEMO_API_KEY}\n"
            f"    OpenAPI document          {booking}api/public/v1/swagger.json\n"
            f"  Prefect UI (flows, runs)    {prefect_url}/\n"
            "  BankID login (stand-in)     completes as Tolvan Tolvansson after ~6 s\n"
            f"  e-mail to patients          {mail_web}\n"
            f"  SMS to patients             {sms_web}\n"
            f"  Boka vård (stand-in)        {market_web}\n"
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


def _notification_env(settings: Settings) -> dict[str, str]:
    """Links in the demo's messages lead to the demo's booking page (plain HTTP, its
    port); mail and SMS go to the stand-ins (the settings' defaults, unless set)."""
    url = f"http://{{subdomain}}.{settings.base_domain}:{settings.app_port}"
    return {"OPUS_PUBLIC_BASE_URL": os.environ.get("OPUS_PUBLIC_BASE_URL", url)}


def _start_message_stand_ins(
    settings: Settings, env: dict[str, str], children: list[subprocess.Popen]
) -> tuple[str, str]:
    """The mail catcher on the SMTP port and the SMS stand-in on the gateway port that
    the settings name; returns the pages that show what they received."""
    mail_web = f"http://127.0.0.1:{MAIL_CATCHER_WEB_PORT}/"
    catcher = ["--smtp-port", str(settings.smtp_port), "--web-port", str(MAIL_CATCHER_WEB_PORT)]
    children.append(_start([sys.executable, "-m", "demo.mail_catcher", *catcher], env))
    _wait_for(mail_web, children[-1], "mail catcher")
    port = str(urlsplit(settings.sms_gateway_url).port or 80)
    login = ["--username", settings.sms_gateway_username, "--password"]
    login.append(settings.sms_gateway_password.get_secret_value())
    children.append(_start([sys.executable, "-m", "demo.sms_gateway", "--port", port, *login], env))
    sms_web = f"http://127.0.0.1:{port}/"
    _wait_for(sms_web, children[-1], "SMS gateway stand-in")
    return mail_web, sms_web


DEMO_MARKETPLACE_TOKEN = "demo-boka-vard-token-not-a-secret"


def _start_marketplace(
    settings: Settings, env: dict[str, str], children: list[subprocess.Popen]
) -> str:
    """The Boka vård stand-in where the settings' marketplace URL points, with the demo
    tenant's account already activated; what it holds survives a restart (a JSON file),
    as the publish state in the store does. Turn on *Publicera på "Boka vård"* in
    /admin and the next `boka-vard` run publishes."""
    port = str(urlsplit(settings.marketplace_url).port or 80)
    env.setdefault("OPUS_MARKETPLACE_TOKEN", DEMO_MARKETPLACE_TOKEN)
    state = str((settings.data_dir / "boka-vard.json").resolve())
    command = [sys.executable, "-m", "demo.fhir_marketplace", "--port", port, "--active"]
    command += ["--account", DEMO_SUBDOMAIN, "--token", env["OPUS_MARKETPLACE_TOKEN"]]
    children.append(_start([*command, "--state", state], env))
    web = f"http://127.0.0.1:{port}/"
    _wait_for(web, children[-1], "Boka vård stand-in")
    return web


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
