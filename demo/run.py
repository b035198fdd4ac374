"""`opus-online demo`: the whole product on one machine.

1. the demo Opus database (SQLite) and the booking store, built when missing or stale;
2. a local Prefect server with its UI;
3. the deployments served (the schedule sync every few minutes), after one first sync,
   and the worker that writes each confirmed booking back to Opus at once (and sends
   the patients' e-mail and SMS);
4. the booking app on port 8000;
5. a mail catcher and an SMS gateway stand-in, where the patients' messages arrive.

Each runs as a child process in a process group of its own; Ctrl-C (or SIGTERM, to
the runner or to its whole group) stops them all, newest first, within
:data:`STOP_WITHIN_S`; a second signal while stopping kills what is left at once, and a
child whose runner died (even by SIGKILL) is told by the kernel to stop too.
After the first sync two one-shot children play the demo's past
(:mod:`demo.history`, first start only) and publish to the Boka vård stand-in once,
while the rest starts.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select

from connectors.store.db import engine_for, migrate, session_scope
from connectors.store.models import Tenant
from demo.opus_data import DemoSpec, generate, write
from demo.processes import (
    DEMO_BANKID_PORT,
    MAIL_CATCHER_WEB_PORT,
    busy_port,
    interrupt_on_signals,
    start,
    stop_all,
    wait_for,
)
from demo.store_seed import (
    DEMO_API_KEY,
    DEMO_CLINIC_SITE,
    DEMO_PUBLISHABLE_KEY,
    DEMO_SUBDOMAIN,
    seed_demo_tenant,
    show_the_product,
)
from opus_online.config import Settings, get_settings

RUNS_DRY_WITHIN = timedelta(days=14)


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


def run_demo(reset: bool = False) -> int:
    settings = get_settings()
    busy = busy_port(settings)
    if busy is not None:
        print(busy, file=sys.stderr)
        return 1
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
    one_shots: list[subprocess.Popen] = []  # may end by themselves
    prefect_server: list[subprocess.Popen] = []

    interrupt_on_signals()
    cli = [sys.executable, "-m", "opus_online.cli"]
    env.update(_bankid_env(settings))
    try:
        # The BankID stand-in plays the patient's phone too: every login completes as
        # the demo person a few seconds after it starts (see demo/bankid_server.py).
        children.append(
            start(
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
            start(
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
        prefect_server.append(children[-1])  # stopped last: the others report to it
        wait_for(f"{prefect_url}/api/health", children[-1], "Prefect server", timeout_s=120)
        mail_web, sms_web = _start_message_stand_ins(settings, env, children)
        market_web = _start_marketplace(settings, env, children)
        print("First schedule sync …", flush=True)
        subprocess.run([*cli, "sync"], env=env, check=False, start_new_session=True)
        children.append(start([*cli, "serve"], env))
        children.append(start([*cli, "worker"], env))  # write-back as bookings confirm
        children.append(start([*cli, "app"], env))
        wait_for(
            f"http://{settings.app_host}:{settings.app_port}/healthz", children[-1], "booking app"
        )
        # Once the demo answers, and at a lower priority, so that they do not slow it down.
        one_shots.append(start([sys.executable, "-c", PUBLISH_ONCE], env, nice=5))
        one_shots.append(start([sys.executable, "-m", "demo.history"], env, nice=10))
        booking = f"http://{DEMO_SUBDOMAIN}.{settings.base_domain}:{settings.app_port}/"
        clinic_site = _start_clinic_site(booking, env, children)
        # The operator pages' own origin (OPUS_ADMIN_HOST, default admin.<base_domain>).
        admin = f"http://{settings.resolved_admin_host}:{settings.app_port}/admin/"
        print(
            "\nOpus Online demo is running:\n"
            f"  booking page (demo tenant)  {booking}\n"
            f"  operator pages, dashboards  {admin}\n"
            f"  public API (Opus v1)        {booking}api/public/v1/clinics\n"
            f"    API key (header apiKey)   {DEMO_API_KEY}\n"
            f"    OpenAPI document          {booking}api/public/v1/swagger.json\n"
            f"  the clinic's own website    {clinic_site}  (widget, API from the browser)\n"
            f"  Prefect UI (flows, runs)    {prefect_url}/\n"
            "  BankID login (stand-in)     completes as Tolvan Tolvansson after ~6 s\n"
            '  återbudslista               after booking: "Meddela mig om en tidigare tid";\n'
            "                              a cancellation sends the first in line an SMS\n"
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
        stop_all([*children, *one_shots], last=tuple(prefect_server))


REMINDER_AFTER_S = "60"
"""The demo's reminders come this long after a booking (not days before the visit)."""


def _notification_env(settings: Settings) -> dict[str, str]:
    """Links in the demo's messages lead to the demo's booking page (plain HTTP, its
    port); mail and SMS go to the stand-ins (the settings' defaults, unless set). A
    booking's reminder arrives a minute after it is made, planned within seconds."""
    url = f"http://{{subdomain}}.{settings.base_domain}:{settings.app_port}"
    return {
        "OPUS_PUBLIC_BASE_URL": os.environ.get("OPUS_PUBLIC_BASE_URL", url),
        "OPUS_REMINDER_DEMO_AFTER_S": os.environ.get(
            "OPUS_REMINDER_DEMO_AFTER_S", REMINDER_AFTER_S
        ),
        "OPUS_REMINDER_PLAN_INTERVAL_S": os.environ.get("OPUS_REMINDER_PLAN_INTERVAL_S", "5"),
    }


def _start_message_stand_ins(
    settings: Settings, env: dict[str, str], children: list[subprocess.Popen]
) -> tuple[str, str]:
    """The mail catcher on the SMTP port and the SMS stand-in on the gateway port that
    the settings name; returns the pages that show what they received."""
    mail_web = f"http://127.0.0.1:{MAIL_CATCHER_WEB_PORT}/"
    catcher = ["--smtp-port", str(settings.smtp_port), "--web-port", str(MAIL_CATCHER_WEB_PORT)]
    children.append(start([sys.executable, "-m", "demo.mail_catcher", *catcher], env))
    wait_for(mail_web, children[-1], "mail catcher")
    port = str(urlsplit(settings.sms_gateway_url).port or 80)
    login = ["--username", settings.sms_gateway_username, "--password"]
    login.append(settings.sms_gateway_password.get_secret_value())
    children.append(start([sys.executable, "-m", "demo.sms_gateway", "--port", port, *login], env))
    sms_web = f"http://127.0.0.1:{port}/"
    wait_for(sms_web, children[-1], "SMS gateway stand-in")
    return mail_web, sms_web


DEMO_MARKETPLACE_TOKEN = "demo-boka-vard-token-not-a-secret"


def _start_clinic_site(booking: str, env: dict[str, str], children: list[subprocess.Popen]) -> str:
    """A clinic's own website on another origin, calling the API with the demo's
    publishable key and embedding the booking widget."""
    port = urlsplit(DEMO_CLINIC_SITE).port
    command = [sys.executable, "-m", "demo.clinic_site", "--port", str(port)]
    command += ["--booking-url", booking.rstrip("/"), "--api-key", DEMO_PUBLISHABLE_KEY]
    children.append(start(command, env))
    return f"{DEMO_CLINIC_SITE}/"


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
    children.append(start([*command, "--state", state], env))
    web = f"http://127.0.0.1:{port}/"
    wait_for(web, children[-1], "Boka vård stand-in")
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
        new = session.scalar(select(Tenant.id).where(Tenant.subdomain == DEMO_SUBDOMAIN)) is None
        tenant = seed_demo_tenant(session, demo, opus_path)
        if new:  # an operator's later changes stay as they are
            show_the_product(session, tenant, datetime.now(UTC))


def _runs_dry(opus_path: Path) -> bool:
    connection = sqlite3.connect(opus_path)
    try:
        (last,) = connection.execute("SELECT MAX(StartTime) FROM OnlineFreeRange").fetchone()
    finally:
        connection.close()
    return last is None or datetime.fromisoformat(last).date() < date.today() + RUNS_DRY_WITHIN


PUBLISH_ONCE = "from flows.marketplace import sync_boka_vard; sync_boka_vard()"
"""The first publish to Boka vård at once, not when the 5-minute schedule comes round."""
