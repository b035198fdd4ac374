"""Retention benchmark: removing a year of visit events while page views go on.

    python -m bench.retention [--events 10000000] [--days 365] [--batch 5000]

Fills a fresh PostgreSQL store (``--store``, default a new database on the local
server, dropped at the end) with N visit events over ``--days`` days, as the visit
statistics benchmark does (:func:`bench.visits.fill_events`: in time order, as the app
appends them), and makes their daily statistics (as the hourly flow would have). Then,
on a day when every one of those events is past the tenants' retention (400 days by
default), it runs :func:`flows.retention_run.run_retention` and reports:

* how long the run took, and events deleted per second;
* what a page view's beacon waits for meanwhile: a thread inserts one visit event at a
  time (:func:`connectors.store.visits.write_visits`, what the app's recorder does, in
  its own transaction) every ``--beacon-every-ms``, and the latency of each insert is
  recorded during the run, and for comparison as long again before it (same process,
  same load). p50, p99 and max of both; the issue asks for at most 50 ms.

The machine's load (``/proc/loadavg``) is printed with the figures: under load they
are noisy, the ratio of the two latency columns less so. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench.visits import FIRST_DAY, SERVER, TZ, fill_events, fresh_store
from connectors.store.db import make_engine
from connectors.store.models import VisitEvent
from connectors.store.visits import Visit, write_visits
from flows.retention_run import BATCH, run_retention
from flows.visit_stats import run_days
from tests.dashboards.stats_data import make_chain


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Beacons(threading.Thread):
    """Inserts one visit event at a time, as a page view's beacon ends up in the
    store, and records how long each insert took (ms)."""

    def __init__(self, url: str, tenant_id: int, every_s: float, at: datetime) -> None:
        super().__init__(name="beacons", daemon=True)
        self.engine = make_engine(url)
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
        beacons.start()
        time.sleep(1)  # the beacons' connection made and warm
        quiet_start = time.perf_counter()
        time.sleep(10)
        start = time.perf_counter()
        outcome = run_retention(engine, now, TZ, batch=args.batch)
        seconds = time.perf_counter() - start
        beacons.stop.set()
        beacons.join()
        during = beacons.between(start, start + seconds)
        before = beacons.between(quiet_start, start)
        deleted = outcome.counts.rows.get(("visit_event", "delete"), 0)
        with engine.connect() as connection:
            left = connection.execute(
                select(func.count()).select_from(VisitEvent).where(VisitEvent.at < now)
            ).scalar_one()
        result = {
            "events": args.events,
            "days": args.days,
            "batch": args.batch,
            "store": "postgresql",
            "deleted": deleted,
            "older_events_left": left,
            "retention_s": round(seconds, 2),
            "deleted_per_s": round(deleted / seconds),
            "beacons_during": figures(during),
            "beacons_before": figures(before),
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
