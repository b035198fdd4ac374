"""Visit statistics benchmark.

    python -m bench.stats --events 10000000 [--days 30] [--tenants 3] [--repeat 3]

Fills a fresh PostgreSQL store (``--store``, default a new database on the local
server) with N visit events spread over ``--days`` days and ``--tenants`` tenants (in
time order, as the app appends them), and N/100 bookings with free ranges; then

1. runs the aggregation (:func:`flows.visit_stats.run_days`, without Prefect, whose
   start-up is not the aggregation's work) over every day, ``--repeat`` times (a re-run
   replaces the same days' rows), and reports events per second;
2. measures what tracking adds to a page view: the beacon request ``POST /besok``
   handled by the app in process (raw ASGI calls, so the HTTP client's own cost is not
   counted), p50 and p99 over ``--beacons`` requests from different addresses:
   ``tracking_overhead``, the tracking handler's own work, and ``beacon_request``,
   the whole request through every middleware of the app. The page itself does not
   wait for either: the script sends the beacon after the page has loaded.

The last line printed is one JSON object with the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from fastapi import Request
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from connectors.store.db import make_engine, migrate, session_scope
from connectors.store.models import VISIT_PAGES, Booking
from flows.visit_stats import run_days
from tests.dashboards.stats_data import Chain, free_range, make_chain

TZ = ZoneInfo("Europe/Stockholm")
FIRST_DAY = date(2025, 10, 1)  # the range holds the autumn DST day
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def fresh_store(url: str | None) -> str:
    if url:
        migrate(url)
        return url
    name = f"bench_visits_{uuid.uuid4().hex[:8]}"
    with create_engine(SERVER, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    migrate(url)
    return url


def fill_events(url: str, chains: list[Chain], n: int, days: int, seed: int = 1) -> None:
    """N events of N/8 visitors (some 8 page views each over the span), spread evenly
    over the days.

    They are written in time order, as the beacons arrive and the app appends them:
    chunk i holds the i-th slice of the time span, sorted. (Random order would scatter
    each day's rows over every page of the table, which no real store sees.)"""
    rng = np.random.default_rng(seed)
    start = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=TZ).astimezone(UTC)
    start_us = int(start.timestamp() * 1e6)
    span_us = days * 86_400 * 1_000_000
    engine = make_engine(url)
    chunks = -(-n // 2_000_000)
    for i in range(chunks):
        size = n // chunks + (i < n % chunks)
        lo, hi = start_us + span_us * i // chunks, start_us + span_us * (i + 1) // chunks
        at = pd.to_datetime(np.sort(rng.integers(lo, hi, size)), unit="us", utc=True)
        frame = pd.DataFrame(
            {
                "tenant_id": np.asarray([c.tenant_id for c in chains])[
                    rng.integers(0, len(chains), size)
                ],
                "at": at.strftime("%Y-%m-%d %H:%M:%S.%f+00"),
                "visitor": rng.integers(0, max(1, n // 8), size),
                "page": np.asarray(VISIT_PAGES)[rng.integers(0, len(VISIT_PAGES), size)],
                "path": "/boka",
                "source": np.asarray(["google.se", "", "facebook.com", "nyhetsbrev"])[
                    rng.integers(0, 4, size)
                ],
                "device": np.asarray(["mobile", "desktop", "tablet"])[rng.integers(0, 3, size)],
            }
        )
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, header=False)
        raw = engine.raw_connection()
        try:
            with (
                raw.cursor() as cursor,
                cursor.copy(
                    "COPY visit_event (tenant_id, at, visitor, page, path, source, device) "
                    "FROM STDIN (FORMAT csv)"
                ) as copy,
            ):
                copy.write(buffer.getvalue())
            raw.commit()
        finally:
            raw.close()
    with engine.connect() as connection:
        connection.execute(text("ANALYZE visit_event"))
        connection.commit()


def fill_bookings(url: str, chains: list[Chain], n: int, days: int) -> None:
    """N bookings over the days (each its own practitioner time, as the store demands),
    and the free ranges they were cut from."""
    engine = make_engine(url)
    rows = []
    per_chain = max(1, n // len(chains))
    for chain in chains:
        free_range(
            engine,
            chain,
            1,
            datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC),
            datetime.combine(FIRST_DAY + timedelta(days=days), datetime.min.time(), tzinfo=UTC),
        )
        for i in range(per_chain):
            starts = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC) + timedelta(
                minutes=30 * i
            )
            confirmed = starts - timedelta(days=2, minutes=i % 600)
            status = ("confirmed", "cancelled", "conflict", "confirmed")[i % 4]
            rows.append(
                {
                    "reference": uuid.uuid4().hex,
                    "tenant_id": chain.tenant_id,
                    "clinic_id": chain.clinic_id,
                    "practitioner_id": chain.practitioner_id,
                    "treatment_id": chain.treatment_id,
                    "starts_at": starts,
                    "ends_at": starts + timedelta(minutes=30),
                    "blocks_from": starts,
                    "blocks_until": starts + timedelta(minutes=30),
                    "status": status,
                    "channel": ("site", "api", "boka_vard")[i % 3],
                    "idempotency_key": str(uuid.uuid4()),
                    "appointment_key": str(uuid.uuid4()),
                    "created_at": confirmed,
                    "confirmed_at": confirmed,
                    "cancelled_at": (
                        confirmed + timedelta(hours=5) if status == "cancelled" else None
                    ),
                    "campaign_code": "HOST25" if i % 7 == 0 else None,
                }
            )
    with session_scope(engine) as session:
        for start in range(0, len(rows), 10_000):
            session.execute(insert(Booking), rows[start : start + 10_000])


def aggregate(url: str, days: int, repeat: int) -> list[float]:
    engine = make_engine(url)
    last = FIRST_DAY + timedelta(days=days - 1)
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run_days(engine, FIRST_DAY, last, TZ)
        times.append(time.perf_counter() - began)
    return times


# -- the beacon's cost ----------------------------------------------------------------------


def _receiver(body: bytes):
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _scope(method: str, path: str, host: str, body: bytes, address: str, app=None) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", host.encode()),
            (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0"),
            (b"content-type", b"text/plain"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": (address, 40000),
        "server": ("127.0.0.1", 8000),
        "app": app,
        "state": {},
    }


async def _call(app, method: str, path: str, host: str, body: bytes, address: str) -> int:
    scope = _scope(method, path, host, body, address)
    del scope["app"]
    receive = _receiver(body)
    status = 0

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def tracking_overhead(url: str, beacons: int) -> dict[str, float]:
    from booking_app.main import create_app
    from opus_online.config import Settings

    with session_scope(make_engine(url)) as session:
        from connectors.store.models import Tenant

        subdomain = session.query(Tenant.subdomain).order_by(Tenant.id).first()[0]
    settings = Settings(store_url=url, base_domain="bench.test", secret_key="bench-" * 6)
    app = create_app(settings)
    host = f"{subdomain}.bench.test"
    key = app.state.tracker.sign("start", "/")
    body = json.dumps({"p": "start", "u": "/", "k": key, "r": "https://www.google.se/"}).encode()

    async def handler(address: str) -> int:
        """The tracking work alone: the endpoint's handler on a parsed request."""
        request = Request(_scope("POST", "/besok", host, body, address, app), _receiver(body))
        return (await app.state.tracker.handle(request)).status_code

    async def full(address: str) -> int:
        """The whole app: every middleware (including other features' per-request
        work) and the routing, then the handler."""
        return await _call(app, "POST", "/besok", host, body, address)

    async def run() -> dict[str, float]:
        figures = {}
        for name, call in (("tracking_overhead", handler), ("beacon_request", full)):
            samples = []
            for i in range(beacons + 200):
                address = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}" + name[0]
                began = time.perf_counter()
                status = await call(address)
                elapsed = time.perf_counter() - began
                assert status == 204, status
                if i >= 200:  # the first ones fill the caches (tenant, salt)
                    samples.append(elapsed * 1000)
            samples.sort()
            figures[f"{name}_ms_p50"] = statistics.median(samples)
            figures[f"{name}_ms_p99"] = samples[int(len(samples) * 0.99) - 1]
        app.state.tracker.recorder.close()
        return figures

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--tenants", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--beacons", type=int, default=5000)
    parser.add_argument("--store", help="a PostgreSQL store URL (default: a new database)")
    args = parser.parse_args()

    url = fresh_store(args.store)
    chains = [make_chain(make_engine(url), f"bench{i}") for i in range(args.tenants)]
    began = time.perf_counter()
    fill_events(url, chains, args.events, args.days)
    fill_bookings(url, chains, max(1, args.events // 100), args.days)
    print(f"filled in {time.perf_counter() - began:.1f} s", flush=True)

    times = aggregate(url, args.days, args.repeat)
    median = statistics.median(times)
    print(f"aggregation runs: {', '.join(f'{t:.2f} s' for t in times)}", flush=True)
    overhead = tracking_overhead(url, args.beacons)
    result = {
        "events": args.events,
        "bookings": max(1, args.events // 100),
        "days": args.days,
        "store": "postgresql",
        "aggregation_s": round(median, 3),
        "events_per_s": round(args.events / median),
        **{k: round(v, 4) for k, v in overhead.items()},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
