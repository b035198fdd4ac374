"""Waiting-list benchmark: cancellations at a steady rate → offers to those waiting.

    python -m bench.waitlist [--waiting 10000] [--clinics 50] [--cancellations 1000]
                             [--rate 10] [--workers 2] [--accept 0.8]

A PostgreSQL store (``OPUS_BENCH_DATABASE_URL``, default the local server) holds the
demo chain with ``--clinics`` clinics, synced from a generated demo Opus database, and
per clinic the confirmed bookings of its share of ``--waiting`` patients on the
waiting list (any practitioner, weekdays) and of those who will cancel (earlier times,
so every cancelled time is earlier than someone's own). ``--workers`` processes run
the worker's waiting-list round (:func:`flows.waitlist.offer_freed_times`, as
``opus-online worker`` does, without Prefect). The main process cancels
``--cancellations`` bookings at ``--rate`` a second (each its own transaction, as the
pages do); a watcher reads the store every 50 ms and notes when each cancelled time's
first offer is committed; a patient stand-in answers each offer after 2 to 20 s
(``--answer-min``/``--answer-max``), taking ``--accept`` of them and declining the rest
(by a fixed hash of the offer id), so declined times pass on and taken ones free the
taker's old time (the chain) while the run goes on. The run ends ``--settle`` seconds
after the last cancellation, or sooner once no freed time waits to be offered.

Reported (the last line, one JSON object):

- ``offer_latency_p95_s`` (and p50, max): cancellation committed → first offer of that
  time committed (its SMS queued in the same transaction);
- ``refill_rate``: the share of cancelled times booked again from the list by the end
  (offers still open then count as not refilled);
- ``duplicate_offers``: offers that should not exist: a start offered twice to one
  patient, two accepted offers of one start, two open offers of one start at once,
  more than one accepted offer per patient, more than one offer message per offer
  (target 0);
- ``unoffered``: cancelled times that got no offer (nobody fitting, or too late);
- ``direct_ms_per_opening``: the floor, measured after the run in the same process
  and machine, workers stopped (``--direct`` openings worked in one go);
- what ran: the sizes, the rate, the workers, and the machine's load (``uptime``).
"""

from __future__ import annotations

import argparse
import hashlib
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

from sqlalchemy import create_engine, func, select, text

from bench.sync import sync_once
from connectors.store import bookings as store_bookings
from connectors.store import waitlist_answers
from connectors.store.availability import bookable_times, rules_for
from connectors.store.db import make_engine, migrate, session_scope, write_session_scope
from connectors.store.models import Booking, Clinic, OutboxMessage, Tenant, Treatment
from connectors.store.waitlist_models import WaitlistEntry, WaitlistOffer, WaitlistOpening

TARGET_P95_S = 5.0
SECRET = b"bench-waitlist-secret"
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

WORKER = """
import sys, time
from pathlib import Path
from connectors.store.db import make_engine
from flows.waitlist import offer_freed_times
engine = make_engine(sys.argv[1], pool_size=2, max_overflow=1)
stop = Path(sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()
while not stop.exists():
    try:
        busy = offer_freed_times(
            engine, b"bench-waitlist-secret", sweep=False, max_openings=20
        ).busy
    except Exception as exc:  # a deadlock's loser: the next round tries again
        print("round failed:", type(exc).__name__, exc, file=sys.stderr, flush=True)
        busy = False
    if not busy:
        time.sleep(0.25)
"""


def build_store(folder: Path, server_url: str, args: argparse.Namespace) -> tuple[str, list[int]]:
    """The store: the chain synced, the waiting patients' bookings on the list, and the
    bookings that will be cancelled (their ids, in cancelling order)."""
    from demo.opus_data import DemoSpec, generate, write
    from demo.store_seed import seed_demo_tenant

    name = f"bench_waitlist_{os.getpid()}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    admin.dispose()
    migrate(url)
    demo = generate(DemoSpec(days=42, clinics=args.clinics, clinicians_per_clinic=4))
    with sqlite3.connect(folder / "opus.db") as connection:
        write(demo, connection, "sqlite")
    engine = make_engine(url)
    with session_scope(engine) as session:
        subdomain = seed_demo_tenant(session, demo, folder / "opus.db").subdomain
    sync_once(engine, subdomain)
    now = datetime.now(UTC)
    waiting_per_clinic = -(-args.waiting // args.clinics)
    cancels_per_clinic = -(-args.cancellations // args.clinics)
    to_cancel: list[list[int]] = []
    serial = 0
    for opus_clinic in demo.clinics["ClinicID"]:
        with write_session_scope(engine) as session:
            tenant = session.scalars(select(Tenant)).one()
            tenant.settings.waitlist_enabled = True
            tenant.settings.waitlist_offers_per_day = 20
            clinic = session.scalars(
                select(Clinic).where(Clinic.opus_clinic_id == opus_clinic)
            ).one()
            treatment = session.scalars(
                select(Treatment).where(Treatment.opus_treatment_id == 1)
            ).one()
            rules = rules_for(tenant.settings, treatment, clinic, now)
            slots = bookable_times(
                session, tenant.id, clinic.id, treatment, rules, now, now + timedelta(days=42), now
            )
            apart, last = [], {}
            block = rules.warm_up + rules.duration + rules.cool_down
            for slot in sorted(slots, key=lambda s: (s.practitioner_id, s.starts_at)):
                previous = last.get(slot.practitioner_id)
                if previous is None or slot.starts_at >= previous + block:
                    apart.append(slot)
                    last[slot.practitioner_id] = slot.starts_at
            apart.sort(key=lambda s: s.starts_at)
            cancelling = apart[:cancels_per_clinic]
            waiting = apart[cancels_per_clinic : cancels_per_clinic + waiting_per_clinic]
            rows = []
            for slot in [*cancelling, *waiting]:
                serial += 1
                rows.append(_booking(tenant.id, clinic.id, treatment.id, slot, rules, serial, now))
            session.add_all(rows)
            session.flush()
            session.add_all(
                WaitlistEntry(
                    tenant_id=tenant.id,
                    booking_id=b.id,
                    clinic_id=clinic.id,
                    treatment_id=treatment.id,
                    practitioner_id=None,
                    weekdays="1234567",
                    status="active",
                    offers_on_day=0,
                    created_at=now + timedelta(microseconds=b.id),  # line order
                )
                for b in rows[len(cancelling) :]
            )
            to_cancel.append([b.id for b in rows[: len(cancelling)]])
    engine.dispose()
    # Cancel round-robin over the clinics, so the rate spreads over the chain.
    order = [ids[i] for i in range(cancels_per_clinic) for ids in to_cancel if i < len(ids)]
    return url, order[: args.cancellations]


def _booking(tenant_id, clinic_id, treatment_id, slot, rules, serial: int, now) -> Booking:
    key = hashlib.sha256(f"bench-{serial}".encode()).hexdigest()[:32]
    return Booking(
        reference=key[:22], idempotency_key=key, appointment_key=key, tenant_id=tenant_id,
        clinic_id=clinic_id, practitioner_id=slot.practitioner_id, treatment_id=treatment_id,
        starts_at=slot.starts_at, ends_at=slot.starts_at + rules.duration,
        blocks_from=slot.starts_at - rules.warm_up,
        blocks_until=slot.starts_at + rules.duration + rules.cool_down,
        status="confirmed", confirmed_at=now, personal_number=f"19850101{serial % 10000:04d}",
        first_name="Bench", last_name=f"Patient {serial}", mobile=f"+4670{serial:07d}",
        email=f"patient{serial}@example.se",
    )  # fmt: skip


class Watcher(threading.Thread):
    """Notes when each cancelled booking's first offer is committed (every 50 ms): its
    opening's ``first_offer_at`` is set in the offer's own transaction."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = make_engine(url, pool_size=1, max_overflow=0)
        self.first_offer: dict[int, float] = {}
        self.waiting: set[int] = set()  # cancelled, no offer seen yet (the canceller adds)
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def cancelled(self, booking_id: int) -> None:
        with self.lock:
            self.waiting.add(booking_id)

    def run(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                unseen = list(self.waiting)
            if unseen:
                with session_scope(self.engine) as session:
                    offered = session.scalars(
                        select(WaitlistOpening.booking_id).where(
                            WaitlistOpening.source == "cancel",
                            WaitlistOpening.first_offer_at.is_not(None),
                            WaitlistOpening.booking_id.in_(unseen),
                        )
                    ).all()
                seen = time.monotonic()
                with self.lock:
                    for booking_id in offered:
                        self.first_offer.setdefault(booking_id, seen)
                        self.waiting.discard(booking_id)
            time.sleep(0.05)


class Patients(threading.Thread):
    """Answer offers as patients do: each a while after it was sent (uniform in
    ``[answer_min_s, answer_max_s]``), taking ``share`` of them and declining the rest
    (both fixed by a hash of the offer id, so runs compare)."""

    def __init__(self, url: str, share: float, answer_min_s: float, answer_max_s: float) -> None:
        super().__init__(daemon=True)
        self.engine = make_engine(url, pool_size=1, max_overflow=0)
        self.share = share
        self.answer = (answer_min_s, answer_max_s)
        self.stop = threading.Event()
        self.taken = self.declined = 0
        self.seen: dict[int, float] = {}

    def _draw(self, offer_id: int) -> tuple[bool, float]:
        digest = hashlib.sha256(f"offer-{offer_id}".encode()).digest()
        low, high = self.answer
        return digest[0] / 256 < self.share, low + (high - low) * digest[1] / 255

    def run(self) -> None:
        while not self.stop.is_set():
            with session_scope(self.engine) as session:
                open_ids = session.scalars(
                    select(WaitlistOffer.id).where(WaitlistOffer.status == "offered")
                ).all()
            moment = time.monotonic()
            for offer_id in open_ids:
                takes, after = self._draw(offer_id)
                if moment < self.seen.setdefault(offer_id, moment) + after:
                    continue
                try:
                    with write_session_scope(self.engine) as session:
                        offer = session.get_one(WaitlistOffer, offer_id)
                        if takes:
                            waitlist_answers.accept(session, offer, datetime.now(UTC))
                            self.taken += 1
                        elif waitlist_answers.decline(session, offer, datetime.now(UTC)):
                            self.declined += 1
                except waitlist_answers.OfferError:
                    pass
            time.sleep(0.2)


def duplicates(url: str) -> dict[str, int]:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    o = WaitlistOffer
    with session_scope(engine) as session:

        def groups(*columns, where=True) -> int:
            counted = select(*columns, func.count().label("n")).where(where).group_by(*columns)
            sub = counted.subquery()
            return int(
                session.scalar(select(func.coalesce(func.sum(sub.c.n - 1), 0)).where(sub.c.n > 1))
            )

        result = {
            "same_start_twice_to_one_patient": groups(o.entry_id, o.practitioner_id, o.starts_at),
            "start_taken_twice": groups(
                o.practitioner_id, o.starts_at, where=o.status == "accepted"
            ),
            "start_open_twice": groups(o.practitioner_id, o.starts_at, where=o.status == "offered"),
            "patient_took_twice": groups(o.entry_id, where=o.status == "accepted"),
            "messages_per_offer": groups(
                OutboxMessage.booking_id, where=OutboxMessage.kind == "offer"
            ),
        }
    engine.dispose()
    return result


def refilled(url: str, cancelled: list[int]) -> int:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    with session_scope(engine) as session:
        n = session.scalar(
            select(func.count(func.distinct(WaitlistOpening.booking_id)))
            .join(WaitlistOffer, WaitlistOffer.opening_id == WaitlistOpening.id)
            .where(WaitlistOpening.booking_id.in_(cancelled), WaitlistOffer.status == "accepted")
        )
    engine.dispose()
    return int(n or 0)


def direct_cost(url: str, count: int) -> float | None:
    """The floor, in the same run and on the same machine: with the workers stopped,
    ``count`` more bookings of patients on the list are cancelled at once and one
    round works their openings in this process; milliseconds per opening worked."""
    if count <= 0:
        return None
    engine = make_engine(url, pool_size=2, max_overflow=0)
    with write_session_scope(engine) as session:
        ids = session.scalars(
            select(WaitlistEntry.booking_id)
            .where(WaitlistEntry.status == "active")
            .order_by(WaitlistEntry.created_at)
            .limit(count)
        ).all()
        for booking_id in ids:
            store_bookings.cancel(session, session.get_one(Booking, booking_id), datetime.now(UTC))
    from flows.waitlist import offer_freed_times

    started = time.perf_counter()
    worked = 0
    while True:
        done = offer_freed_times(engine, SECRET, sweep=False, max_openings=1000).openings
        if not done:
            break
        worked += done
    elapsed = time.perf_counter() - started
    engine.dispose()
    return round(elapsed * 1000 / worked, 1) if worked else None


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def run(args: argparse.Namespace) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bench-waitlist-"))
    server = os.environ.get("OPUS_BENCH_DATABASE_URL", DEFAULT_SERVER)
    started = time.monotonic()
    url, order = build_store(folder, server, args)
    print(f"store ready in {time.monotonic() - started:.0f} s: {len(order)} to cancel", flush=True)
    stop = folder / "stop"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, str(stop)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(args.workers)
    ]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    watcher = Watcher(url)
    patients = Patients(url, args.accept, args.answer_min, args.answer_max)
    watcher.start()
    patients.start()
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    engine = make_engine(url, pool_size=2, max_overflow=0)
    cancelled_at: dict[int, float] = {}
    go = time.monotonic()
    for i, booking_id in enumerate(order):
        time.sleep(max(0.0, go + i / args.rate - time.monotonic()))
        with write_session_scope(engine) as session:
            store_bookings.cancel(session, session.get_one(Booking, booking_id), datetime.now(UTC))
        cancelled_at[booking_id] = time.monotonic()
        watcher.cancelled(booking_id)
    cancelling_s = time.monotonic() - go
    settle = time.monotonic() + args.settle
    while time.monotonic() < settle:
        with session_scope(engine) as session:
            pending = session.scalar(
                select(func.count()).where(WaitlistOpening.status == "pending")
            )
        if not pending:
            break
        time.sleep(0.5)
    stop.touch()
    for thread in (watcher, patients):
        thread.stop.set()
        thread.join(10)
        thread.engine.dispose()
    for worker in workers:
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.terminate()
            worker.wait(10)
    engine.dispose()
    latencies = [
        watcher.first_offer[b] - cancelled_at[b] for b in cancelled_at if b in watcher.first_offer
    ]
    direct_ms = direct_cost(url, args.direct)
    found = duplicates(url)
    result = {
        "ran": {
            "waiting": args.waiting,
            "clinics": args.clinics,
            "cancellations": len(order),
            "rate_per_s": args.rate,
            "workers": args.workers,
            "accept_share": args.accept,
            "cancelling_s": round(cancelling_s, 1),
            "load": os.getloadavg(),
        },
        "offer_latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "offer_latency_p95_s": round(percentile(latencies, 0.95), 3) if latencies else None,
        "offer_latency_max_s": round(max(latencies), 3) if latencies else None,
        "refill_rate": round(refilled(url, list(cancelled_at)) / max(len(cancelled_at), 1), 4),
        "duplicate_offers": sum(found.values()),
        "duplicates_by_kind": found,
        "unoffered": len(cancelled_at) - len(latencies),
        "offers_taken": patients.taken,
        "offers_declined": patients.declined,
        "direct_ms_per_opening": direct_ms,
        "direct_openings_per_s": round(1000 / direct_ms, 1) if direct_ms else None,
        "target_p95_s": TARGET_P95_S,
    }
    if not args.keep:
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            name = make_engine(url).url.database
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--clinics", type=int, default=50)
    parser.add_argument("--cancellations", type=int, default=1_000)
    parser.add_argument("--rate", type=float, default=10.0, help="cancellations a second")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--accept", type=float, default=0.8, help="share of offers taken")
    parser.add_argument("--answer-min", type=float, default=2.0, help="patients answer after")
    parser.add_argument("--answer-max", type=float, default=20.0, help="… at most (seconds)")
    parser.add_argument("--settle", type=float, default=30.0, help="seconds to wait at the end")
    parser.add_argument("--direct", type=int, default=50, help="openings timed in-process")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    result = run(parser.parse_args())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
