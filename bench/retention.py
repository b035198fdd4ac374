"""Retention benchmark: removing a year of visit events while page views go on.

    python -m bench.retention [--events 10000000] [--days 365] [--batch 2000]

Fills a fresh PostgreSQL store (``--store``, default a new database on the local
server, dropped at the end) with N visit events over ``--days`` days, as the visit
statistics benchmark does (:func:`bench.visits.fill_events`: in time order, as the app
appends them), and makes their daily statistics (as the hourly flow would have). Then,
on a day when every one of those events is past the tenants' retention (400 days by
default), it runs :func:`flows.retention_run.run_retention` and reports:

* how long the run took, and events deleted per second;
* what a page view's beacon waits for meanwhile, two ways, every ``--beacon-every-ms``:
  ``beacon_requests``, the beacon ``POST /besok`` handled by the whole app in process
  (raw ASGI calls, as :mod:`bench.visits` does; the app's recorder writes the events
  to the store in the background, as in production), and ``beacon_inserts``, one visit
  event inserted in its own transaction (:func:`connectors.store.visits.write_visits`,
  the store's part, which the page view itself never waits for). Each is recorded
  during the run and, for comparison, for 10 s before it (same process, same load):
  p50, p99, max, and how many took over 50 ms (the issue's bound);
* the WAL written and the checkpoints made meanwhile (the disk's share of the waits;
  server-wide figures: other databases' work on the server counts too), and what the
  beacon inserts' connection waited for (sampled).

The machine's load (``/proc/loadavg``) is printed with the figures: under load they
are noisy, the ratio of the two latency columns less so. The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench.visits import FIRST_DAY, SERVER, TZ, _call, fill_events, fresh_store
from connectors.store.db import make_engine
from connectors.store.models import Tenant, VisitEvent
from connectors.store.visits import Visit, write_visits
from flows.retention_run import BATCH, REST
from flows.visit_stats import run_days
from tests.dashboards.stats_data import make_chain

RUN = """
import json, sys, time
from datetime import datetime
from zoneinfo import ZoneInfo
from connectors.store.db import make_engine
from flows.retention_run import run_retention

engine = make_engine(sys.argv[1])
start = time.perf_counter()  # CLOCK_MONOTONIC: the parent's clock too
outcome = run_retention(
    engine, datetime.fromisoformat(sys.argv[2]), ZoneInfo("Europe/Stockholm"),
    batch=int(sys.argv[3]), rest=float(sys.argv[4]),
)
seconds = time.perf_counter() - start
deleted = outcome.counts.rows.get(("visit_event", "delete"), 0)
print(json.dumps({"start": start, "seconds": seconds, "deleted": deleted}))
"""


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Beacons(threading.Thread):
    """Inserts one visit event at a time, as a page view's beacon ends up in the
    store, and records how long each insert took (ms)."""

    def __init__(self, url: str, tenant_id: int, every_s: float, at: datetime) -> None:
        super().__init__(name="beacons", daemon=True)
        self.engine = make_engine(make_url(url).update_query_dict({"application_name": "beacon"}))
        self.tenant_id = tenant_id
        self.at = at  # the benchmark's "now": kept by retention
        self.every_s = every_s
        self.samples: list[tuple[float, float]] = []  # (when, ms)
        self.stop = threading.Event()

    def run(self) -> None:
        visitor = 0
        while not self.stop.is_set():
            visitor += 1
            visit = Visit(self.tenant_id, self.at, visitor, "start", "/", "google.se", "mobile")
            began = time.perf_counter()
            write_visits(self.engine, [visit])
            done = time.perf_counter()
            self.samples.append((done, (done - began) * 1000))
            self.stop.wait(max(0.0, self.every_s - (done - began)))

    def between(self, start: float, end: float) -> list[float]:
        return sorted(ms for at, ms in self.samples if start <= at <= end)


class AppBeacons(threading.Thread):
    """Page views' beacons through the whole app, in process, one every ``every_s``;
    records how long each request took (ms)."""

    def __init__(self, url: str, every_s: float) -> None:
        super().__init__(name="app-beacons", daemon=True)
        from booking_app.main import create_app
        from opus_online.config import Settings

        with make_engine(url).connect() as connection:
            subdomain = connection.execute(
                select(Tenant.subdomain).order_by(Tenant.id).limit(1)
            ).scalar_one()
        settings = Settings(store_url=url, base_domain="bench.test", secret_key="bench-" * 6)
        self.app = create_app(settings)
        self.host = f"{subdomain}.bench.test"
        key = self.app.state.tracker.sign("start", "/")
        self.body = json.dumps(
            {"p": "start", "u": "/", "k": key, "r": "https://www.google.se/"}
        ).encode()
        self.every_s = every_s
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        asyncio.run(self._run())
        self.app.state.tracker.recorder.close()

    async def _run(self) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            address = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
            began = time.perf_counter()
            status = await _call(self.app, "POST", "/besok", self.host, self.body, address)
            done = time.perf_counter()
            assert status == 204, status
            self.samples.append((done, (done - began) * 1000))
            await asyncio.sleep(max(0.0, self.every_s - (done - began)))

    between = Beacons.between


class Waits(threading.Thread):
    """What the beacon inserts' connection waits for while it works, sampled from
    ``pg_stat_activity`` every 5 ms: a lock (the run's fault), or I/O, or nothing (the
    CPU: on a loaded machine, queueing for it)."""

    def __init__(self, url: str) -> None:
        super().__init__(name="waits", daemon=True)
        self.engine = make_engine(url)
        self.seen: dict[str, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        query = text(
            "SELECT coalesce(wait_event_type || ':' || wait_event, 'cpu') FROM pg_stat_activity"
            " WHERE application_name = 'beacon' AND state = 'active'"
        )
        with self.engine.connect() as connection:
            while not self.stop.wait(0.005):
                for (what,) in connection.execute(query):
                    self.seen[what] = self.seen.get(what, 0) + 1
                connection.rollback()


def wal_and_checkpoints(engine) -> tuple[int, int]:
    with engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn, "
                "(SELECT checkpoints_req + checkpoints_timed FROM pg_stat_bgwriter)"
            )
        ).one()


def figures(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"count": 0}
    return {
        "count": len(samples),
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 2),
        "max_ms": round(samples[-1], 2),
        "over_50_ms": sum(ms > 50 for ms in samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--tenants", type=int, default=3)
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--rest", type=float, default=REST, help="pause/batch time ratio")
    parser.add_argument("--beacon-every-ms", type=float, default=20)
    parser.add_argument("--store", help="a PostgreSQL store URL (default: a new database)")
    args = parser.parse_args()

    url = fresh_store(args.store)
    try:
        engine = make_engine(url)
        chains = [make_chain(engine, f"gallring{i}") for i in range(args.tenants)]
        began = time.perf_counter()
        fill_events(url, chains, args.events, args.days)
        filled = time.perf_counter() - began
        began = time.perf_counter()
        run_days(engine, FIRST_DAY, FIRST_DAY + timedelta(days=args.days - 1), TZ)
        aggregated = time.perf_counter() - began
        # As autovacuum would have, long since.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE visit_event"))
        print(f"filled {args.events} events in {filled:.1f} s; statistics {aggregated:.1f} s")

        # A day when the whole year is past 400 days' retention.
        last = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=TZ) + timedelta(
            days=args.days
        )
        now = (last + timedelta(days=402)).astimezone(UTC)
        beacons = Beacons(url, chains[0].tenant_id, args.beacon_every_ms / 1000, now)
        requests = AppBeacons(url, args.beacon_every_ms / 1000)
        beacons.start()
        requests.start()
        time.sleep(2)  # connections made, caches (tenant, salt) warm
        quiet_start = time.perf_counter()
        time.sleep(10)
        wal, checkpoints = wal_and_checkpoints(engine)
        waits = Waits(url)
        waits.start()
        launched = time.perf_counter()
        # The run in a process of its own, as a Prefect worker runs it: the beacons'
        # process (the app's stand-in) shares no interpreter lock with it.
        child = subprocess.run(
            [sys.executable, "-c", RUN, url, now.isoformat(), str(args.batch), str(args.rest)],
            check=True,
            capture_output=True,
            text=True,
        )
        run = json.loads(child.stdout.strip().splitlines()[-1])
        start, seconds = run["start"], run["seconds"]
        deleted = run["deleted"]
        wal_after, checkpoints_after = wal_and_checkpoints(engine)
        for thread in (waits, beacons, requests):
            thread.stop.set()
            thread.join()
        with engine.connect() as connection:
            left = connection.execute(
                select(func.count()).select_from(VisitEvent).where(VisitEvent.at < last)
            ).scalar_one()
        result = {
            "events": args.events,
            "days": args.days,
            "batch": args.batch,
            "rest": args.rest,
            "store": "postgresql",
            "deleted": deleted,
            "older_events_left": left,
            "retention_s": round(seconds, 2),
            "deleted_per_s": round(deleted / seconds),
            "wal_mb": round((wal_after - wal) / 2**20),
            "checkpoints": checkpoints_after - checkpoints,
            "beacon_requests_during": figures(requests.between(start, start + seconds)),
            "beacon_requests_before": figures(requests.between(quiet_start, launched)),
            "beacon_inserts_during": figures(beacons.between(start, start + seconds)),
            "beacon_inserts_before": figures(beacons.between(quiet_start, launched)),
            "beacon_insert_waits": dict(sorted(waits.seen.items(), key=lambda kv: -kv[1])),
            "load": load(),
        }
        print(json.dumps(result))
    finally:
        if not args.store:
            name = make_url(url).database
            with create_engine(SERVER, isolation_level="AUTOCOMMIT").connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
