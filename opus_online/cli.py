"""The `opus-online` command.

opus-online demo      everything on one machine: demo data, Prefect UI, flows, booking page
opus-online serve     register the flows' deployments with Prefect and run them on schedule
opus-online deploy    register the deployments with a work pool (workers run them)
opus-online sync      one schedule sync of every tenant, then a summary
opus-online migrate   bring the booking store's schema up to date
opus-online app [--workers N]
                      the booking app alone (N processes on one port)
opus-online worker    write bookings back to Opus as soon as they are confirmed
opus-online check     production settings and whether every outside service answers
opus-online admin create-user --email E --tenant SUBDOMAIN [--role R]
                      an operator account for the pages at /admin
opus-online patient export --tenant SUBDOMAIN
                      a patient's data as JSON (personal number on standard input)
opus-online patient erase --tenant SUBDOMAIN [--yes]
                      what erasure would do; with --yes, erase the patient's data
"""

from __future__ import annotations

import argparse
import logging
import sys

from connectors.privacy import install_log_scrubbing
from opus_online.config import get_settings
from opus_online.logs import configure_logging, uvicorn_log_config
from opus_online.production import UnsafeProduction, refuse_unsafe_start


def build_parser() -> argparse.ArgumentParser:
    """The command line, also for the test that checks the commands compose.yaml runs."""
    parser = argparse.ArgumentParser(prog="opus-online", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the whole demo on this machine")
    demo.add_argument("--reset", action="store_true", help="rebuild the demo data from scratch")
    commands.add_parser("serve", help="serve the Prefect deployments (with schedules)")
    deploy = commands.add_parser("deploy", help="register the deployments with a work pool")
    deploy.add_argument("--pool", help="the process work pool (default: OPUS_SYNC_WORK_POOL)")
    sync = commands.add_parser("sync", help="sync every tenant once and print a summary")
    sync.add_argument("--tenant", help="only this tenant (subdomain)")
    commands.add_parser("migrate", help="migrate the booking store")
    app = commands.add_parser("app", help="run the booking app")
    app.add_argument(
        "--workers",
        type=int,
        default=1,
        help="app processes on the one port (default 1); each keeps its own snapshots, "
        "so use a PostgreSQL store for more than one",
    )
    commands.add_parser("worker", help="run flows as soon as there is work (write-back)")
    check = commands.add_parser("check", help="settings and connectivity, as a table")
    check.add_argument("--timeout", type=float, default=5.0, help="seconds per service (default 5)")
    admin = commands.add_parser("admin", help="operator accounts").add_subparsers(
        dest="admin_command", required=True
    )
    create_user = admin.add_parser("create-user", help="create an operator account")
    create_user.add_argument("--email", required=True)
    create_user.add_argument(
        "--tenant", action="append", default=[], help="a tenant's subdomain (repeatable)"
    )
    create_user.add_argument("--role", default="administrator", help="default: administrator")
    create_user.add_argument("--name", default="", help="shown in the audit log")
    create_user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    patient = commands.add_parser(
        "patient", help="a patient's data: export or erase (personal number on stdin)"
    ).add_subparsers(dest="patient_command", required=True)
    for name, text in (("export", "the patient's data as JSON on stdout"), ("erase", "erase")):
        command = patient.add_parser(name, help=text)
        command.add_argument("--tenant", required=True, help="the tenant's subdomain")
        if name == "erase":
            command.add_argument(
                "--yes", action="store_true", help="erase (without it: only say what it would do)"
            )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    install_log_scrubbing()  # before any command logs (the flows' processes do it too)
    settings = get_settings()
    if settings.log_format == "json":
        configure_logging("json")  # text: each command's own (uvicorn's, Prefect's)
    if args.command == "check":
        from opus_online.check import run_check

        return run_check(settings, timeout_s=args.timeout)
    try:
        refuse_unsafe_start(settings)  # OPUS_ENV=production: all problems in one message
    except UnsafeProduction as refused:
        print(refused, file=sys.stderr)
        return 2

    if args.command == "demo":
        from demo.run import run_demo

        return run_demo(reset=args.reset)
    if args.command == "serve":
        from flows.deployments import serve_deployments

        serve_deployments()
        return 0
    if args.command == "deploy":
        from flows.deployments import deploy_to_work_pool

        pool = args.pool or get_settings().sync_work_pool
        print(f"registered {len(deploy_to_work_pool(pool))} deployments with work pool {pool!r}")
        return 0
    if args.command == "sync":
        return _sync(args.tenant)
    if args.command == "migrate":
        from connectors.store.db import migrate

        migrate(get_settings().resolved_store_url)
        return 0
    if args.command == "app":
        return _app(args.workers)
    if args.command == "worker":
        from flows.worker import run_worker

        if settings.log_format == "text":
            logging.basicConfig(level=logging.INFO)
        run_worker()
        return 0
    if args.command == "admin":
        from opus_online.admin_users import NewUser, run

        user = NewUser(args.email, tuple(args.tenant), args.role, args.name)
        return run(user, args.password_stdin, get_settings().resolved_store_url)
    if args.command == "patient":
        from opus_online import patient_cli

        yes = getattr(args, "yes", False)
        return patient_cli.run(args.patient_command, args.tenant, yes, get_settings())
    return 2


def _sync(only: str | None) -> int:
    from connectors.store.db import engine_for, migrate, session_scope
    from connectors.store.schedules import tenant_subdomains
    from flows.sync_schedules import summary_line, sync_schedules

    url = get_settings().resolved_store_url
    migrate(url)
    with session_scope(engine_for(url)) as session:
        subdomains = [only] if only else tenant_subdomains(session)
    failures = 0
    for subdomain in subdomains:
        state = sync_schedules(subdomain, return_state=True)
        if state.is_completed():
            for counts in state.result():
                print(f"{subdomain}: {summary_line(counts)}")
        else:
            failures += 1
            print(f"{subdomain}: FAILED: {state.message}", file=sys.stderr)
    print(f"synced {len(subdomains) - failures} of {len(subdomains)} tenants")
    return 1 if failures else 0


def _app(workers: int = 1) -> int:
    import uvicorn

    settings = get_settings()
    if workers < 1:
        print("--workers must be at least 1", file=sys.stderr)
        return 2
    if workers > 1 and settings.resolved_store_url.startswith("sqlite"):
        # SQLite takes one writer at a time, and its processes could learn of each
        # other's bookings only by polling: one process serves a SQLite store.
        print("several app processes need a PostgreSQL store (OPUS_STORE_URL)", file=sys.stderr)
        return 2
    options = {
        "factory": True,
        "host": settings.app_host,
        "port": settings.app_port,
        "workers": workers,
        "log_config": uvicorn_log_config(settings.log_format),
        "access_log": settings.access_log,
    }
    if workers == 1:
        uvicorn.run("booking_app.main:create_app", **options)
    else:
        from opus_online import app_processes

        app_processes.serve(uvicorn.Config("booking_app.main:create_app", **options))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
