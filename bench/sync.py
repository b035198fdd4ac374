"""Schedule sync benchmark.

    python -m bench.sync --ranges 1000000 [--stores sqlite,postgresql] [--repeat 3]

Builds a demo Opus database (SQLite) with N free ranges, then for each store:
a full sync into an empty store, and an incremental sync after 1% of the ranges
changed and 0.1% were removed, then one with nothing changed (most runs of most
tenants), then one comparing every id. Each is timed per step (extract, judge,
publish) and in CPU time, without Prefect (whose start-up costs seconds and is not
the sync's work).
In the same run, a naive baseline merges ranges into the store row by row with the
ORM, on the first ``--baseline-rows`` of the same ranges; and a ceiling: plain
``sqlite3`` reading every range (and its treatment links) from the Opus database and
inserting the ranges into a table like the store's ``free_range`` (same columns,
key and index; no triggers, no checks), with the store's pragmas. The sync's full
rate is also given as a share of that ceiling, which moves less with the machine's
load than the rates themselves.

The last line printed is one JSON object with the medians over ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from connectors.opus.connection import OpusSource, opened
from connectors.opus.reader import OpusReader
from connectors.store import schedules as store
from connectors.store.db import make_engine, migrate, session_scope
from connectors.store.models import Clinic, FreeRange, Practitioner, SyncState, TreatmentSet
from demo.opus_data import DemoOpus, DemoSpec, generate, write
from demo.store_seed import seed_demo_tenant
from flows.schedule_sync import (
    extract_database,
    judge_database,
    publish_tenant,
    publishing_window,
)
from validations.gx import warm_up

TIMEZONE = "Europe/Stockholm"
DAYS = 84  # twelve weeks: inside the default three months to sync


def build_opus(ranges: int, folder: Path) -> tuple[Path, DemoOpus]:
    """A demo chain big enough for ``ranges`` free ranges, cut to exactly that many."""
    per_clinician = 2.0 * DAYS * 5 / 7  # the day templates average two ranges a weekday
    clinicians = max(4, int(ranges / per_clinician * 1.1) + 4)
    demo = generate(
        DemoSpec(
            clinics=max(1, clinicians // 4),
            clinicians_per_clinic=4,
            days=DAYS,
            start=date.today() + timedelta(days=1),
        )
    )
    demo.free_ranges = demo.free_ranges.iloc[:ranges]
    demo.free_range_treatments = demo.free_range_treatments[
        demo.free_range_treatments["FreeRangeID"] <= ranges
    ]
    demo.appointments = demo.appointments.iloc[:0]
    path = folder / "opus.db"
    connection = sqlite3.connect(path)
    write(demo, connection, "sqlite")
    connection.close()
    return path, demo


def mutate_opus(path: Path, ranges: int, rng: np.random.Generator) -> tuple[int, int]:
    """Change 1% of ranges (end 15 minutes earlier) and remove 0.1%."""
    ids = rng.permutation(np.arange(1, ranges + 1))
    changed, removed = ids[: ranges // 100], ids[ranges // 100 : ranges // 100 + ranges // 1000]
    connection = sqlite3.connect(path)
    connection.executemany(
        "UPDATE OnlineFreeRange SET EndTime = datetime(EndTime, '-15 minutes') "
        "WHERE FreeRangeID = ?",
        ((int(i),) for i in changed),
    )
    connection.executemany(
        "DELETE FROM OnlineFreeRangeTreatment WHERE FreeRangeID = ?", ((int(i),) for i in removed)
    )
    connection.executemany(
        "DELETE FROM OnlineFreeRange WHERE FreeRangeID = ?", ((int(i),) for i in removed)
    )
    connection.commit()
    connection.close()
    return len(changed), len(removed)


def fresh_store(kind: str, folder: Path, postgres_url: str) -> tuple[str, callable]:
    if kind == "sqlite":
        path = folder / f"store-{uuid.uuid4().hex[:6]}.db"
        return f"sqlite:///{path}", lambda: None
    server = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = f"opus_bench_{uuid.uuid4().hex[:8]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()

    return make_url(postgres_url).set(database=name).render_as_string(hide_password=False), drop


def sync_once(engine, subdomain: str) -> dict[str, float]:
    """One sync of one tenant, timed per step; ``cpu_s`` is this process's CPU time
    (the store's and Opus's work too, on SQLite), which a busy machine moves less."""
    timings: dict[str, float] = {}
    started, cpu = time.perf_counter(), time.process_time()
    with session_scope(engine) as session:
        plan = store.plan_tenant(session, subdomain)
    verdicts = []
    for database in plan.databases:
        t = time.perf_counter()
        extract = extract_database(database, plan.months_to_sync, timezone=TIMEZONE, timeout_s=30)
        timings["extract_s"] = time.perf_counter() - t
        t = time.perf_counter()
        verdicts.append(judge_database(extract, engine))
        timings["judge_s"] = time.perf_counter() - t
    t = time.perf_counter()
    counts = publish_tenant(engine, plan, verdicts)
    timings["publish_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - started
    timings["cpu_s"] = time.process_time() - cpu
    timings["counts"] = counts[0].__dict__
    return timings


def baseline(engine, subdomain: str, rows: int) -> float:
    """Row-by-row ORM merge of the first ``rows`` ranges: what a naive sync does."""
    with session_scope(engine) as session:
        plan = store.plan_tenant(session, subdomain)
        database = plan.databases[0]
        months = plan.months_to_sync
    window = publishing_window(pd.Timestamp.now(tz="UTC").to_pydatetime(), months, TIMEZONE)
    with opened(OpusSource(database.name, database.connection_ref)) as connection:
        extract = OpusReader(connection, TIMEZONE).free_ranges(window)
    ranges = extract.ranges.head(rows)
    started = time.perf_counter()
    with session_scope(engine) as session:
        clinics = {c.opus_clinic_id: c.id for c in session.scalars(select(Clinic))}
        practitioners = {p.opus_clinician_id: p.id for p in session.scalars(select(Practitioner))}
        treatment_set = TreatmentSet(opus_database_id=database.id, opus_treatment_ids="baseline")
        session.add(treatment_set)
        session.flush()
        for row in ranges.itertuples():
            session.merge(
                FreeRange(
                    opus_database_id=database.id,
                    opus_range_id=int(row.FreeRangeID),
                    tenant_id=database.tenant_id,
                    clinic_id=clinics[row.ClinicID],
                    practitioner_id=practitioners[int(row.ClinicianID)],
                    treatment_set_id=treatment_set.id,
                    starts_at=row.starts_at.to_pydatetime(),
                    ends_at=row.ends_at.to_pydatetime(),
                    row_version=int(row.RowVersion),
                )
            )
            session.flush()
    return len(ranges) / (time.perf_counter() - started)


def raw_sqlite_rate(opus_path: Path, folder: Path) -> float:
    """Ranges a second that plain sqlite3 reads from Opus and inserts into a copy of
    the store's ``free_range`` table: what no sync into SQLite can beat."""
    template = folder / "raw-template.db"
    migrate(f"sqlite:///{template}")
    with sqlite3.connect(template) as connection:
        ddl = [
            sql
            for (sql,) in connection.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'free_range' "
                "AND type IN ('table', 'index') AND sql IS NOT NULL ORDER BY type DESC"
            )
        ]
    template.unlink()
    path = folder / "raw.db"
    store = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536"):
        store.execute(f"PRAGMA {pragma}")
    for sql in ddl:
        store.execute(sql)
    started = time.perf_counter()
    opus = sqlite3.connect(opus_path)
    ranges = opus.execute(
        "SELECT FreeRangeID, ClinicID, ClinicianID, StartTime, EndTime, RowVersion "
        "FROM OnlineFreeRange"
    ).fetchall()
    opus.execute("SELECT FreeRangeID, TreatmentID FROM OnlineFreeRangeTreatment").fetchall()
    opus.close()
    store.execute("BEGIN")
    store.executemany(
        "INSERT INTO free_range (opus_database_id, opus_range_id, tenant_id, clinic_id, "
        "practitioner_id, treatment_set_id, starts_at, ends_at, row_version) "
        "VALUES (1, ?, 1, 1, ?, 1, ?, ?, ?)",
        ((r[0], r[2], r[3], r[4], r[5]) for r in ranges),
    )
    store.execute("COMMIT")
    elapsed = time.perf_counter() - started
    store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return len(ranges) / elapsed


def published_count(engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(FreeRange))


@contextmanager
def seeded_store(kind: str, args, folder: Path, demo: DemoOpus, opus_path: Path):
    """A fresh store of ``kind`` with the demo tenant pointing at ``opus_path``."""
    url, drop = fresh_store(kind, folder, args.postgres_url)
    try:
        migrate(url)
        engine = make_engine(url)
        with session_scope(engine) as session:
            subdomain = seed_demo_tenant(session, demo, opus_path).subdomain
        yield engine, subdomain
        engine.dispose()
    finally:
        drop()


def one_repeat(kind: str, args, folder: Path, opus_master: Path, demo: DemoOpus, rng) -> dict:
    """Full sync into an empty store, mutate Opus, incremental sync; then, with nothing
    changed, the hourly incremental run that compares every id. Checked and timed."""
    opus_path = folder / f"opus-{kind}.db"
    shutil.copyfile(opus_master, opus_path)
    try:
        with seeded_store(kind, args, folder, demo, opus_path) as (engine, subdomain):
            full = sync_once(engine, subdomain)
            changed, removed = mutate_opus(opus_path, args.ranges, rng)
            incremental = sync_once(engine, subdomain)
            # A fast sync that publishes the wrong thing is worth nothing: check it.
            assert published_count(engine) == full["counts"]["added"] - removed
            assert incremental["counts"]["changed"] == changed
            assert incremental["counts"]["removed"] == removed
            assert not incremental["counts"]["count_mismatch"]
            unchanged = sync_once(engine, subdomain)  # most runs of most tenants
            assert unchanged["counts"]["extracted"] == 0
            with session_scope(engine) as session:  # as if the last comparison were long ago
                session.execute(update(SyncState).values(ids_compared_at=None))
            comparing = sync_once(engine, subdomain)
            assert comparing["counts"]["removed"] == 0
        return {
            "full": full,
            "incremental": incremental,
            "unchanged": unchanged,
            "comparing": comparing,
        }
    finally:
        opus_path.unlink(missing_ok=True)


def measure_baseline(kind: str, args, folder: Path, opus_master: Path, demo: DemoOpus) -> float:
    with seeded_store(kind, args, folder, demo, opus_master) as (engine, subdomain):
        return baseline(engine, subdomain, args.baseline_rows)


MODES = ("full", "incremental", "unchanged", "comparing")


def describe_run(kind: str, repeat: int, run: dict) -> str:
    parts = []
    for mode in MODES:
        r = run[mode]
        parts.append(
            f"{mode} {r['total_s']:.3f} s (extract {r['extract_s']:.3f}, "
            f"judge {r['judge_s']:.3f}, publish {r['publish_s']:.3f}; cpu {r['cpu_s']:.3f})"
        )
    return f"{kind} #{repeat + 1}: " + "; ".join(parts)


def run(args: argparse.Namespace) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="opus-bench-"))
    rng = np.random.default_rng(11)
    # Importing Great Expectations costs seconds once per process, like Prefect's
    # start-up: a served deployment pays it once, so the timed runs do not.
    warm_up()
    try:
        t = time.perf_counter()
        opus_master, demo = build_opus(args.ranges, folder)
        print(f"built an Opus database of {args.ranges} ranges in {time.perf_counter() - t:.1f} s")
        runs: dict[str, list[dict]] = {}
        raw: list[float] = []
        for repeat in range(args.repeat):
            # The ceiling between the runs it is compared with, under the same load.
            raw.append(raw_sqlite_rate(opus_master, folder))
            print(f"raw sqlite3 #{repeat + 1}: {raw[-1]:.0f} ranges/s", flush=True)
            for kind in args.stores:
                run_ = one_repeat(kind, args, folder, opus_master, demo, rng)
                runs.setdefault(kind, []).append(run_)
                print(describe_run(kind, repeat, run_), flush=True)
        rate = measure_baseline(args.stores[0], args, folder, opus_master, demo)
        return summarise(args, runs, rate, raw)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def median(values: list[float]) -> float:
    return round(statistics.median(values), 4)


def summarise(
    args: argparse.Namespace, runs: dict[str, list[dict]], baseline_rate: float, raw: list[float]
) -> dict:
    raw_rate = statistics.median(raw)
    summary: dict = {
        "ranges": args.ranges,
        "repeat": args.repeat,
        "full_rows_per_s": {},
        "full_s": {},
        "incremental_s": {},
        "incremental_comparing_ids_s": {},
        "incremental_unchanged_s": {},
        "cpu_s": {},
        "steps_s": {},
        "baseline_rows_per_s": round(baseline_rate),
        "baseline_rows": args.baseline_rows,
        "baseline_store": args.stores[0],
        "speedup_vs_baseline": {},
        "raw_sqlite_rows_per_s": round(raw_rate),
        "full_share_of_raw_sqlite": {},
    }
    for kind, repeats in runs.items():
        full_s = median([r["full"]["total_s"] for r in repeats])
        summary["full_s"][kind] = full_s
        summary["full_rows_per_s"][kind] = round(args.ranges / full_s)
        summary["incremental_s"][kind] = median([r["incremental"]["total_s"] for r in repeats])
        summary["incremental_comparing_ids_s"][kind] = median(
            [r["comparing"]["total_s"] for r in repeats]
        )
        summary["incremental_unchanged_s"][kind] = median(
            [r["unchanged"]["total_s"] for r in repeats]
        )
        summary["cpu_s"][kind] = {
            mode: median([r[mode]["cpu_s"] for r in repeats]) for mode in MODES
        }
        summary["speedup_vs_baseline"][kind] = round(args.ranges / full_s / baseline_rate, 1)
        # Each run against the ceiling measured just before it, then the median.
        summary["full_share_of_raw_sqlite"][kind] = round(
            statistics.median(
                args.ranges / r["full"]["total_s"] / ceiling
                for r, ceiling in zip(repeats, raw, strict=True)
            ),
            3,
        )
        summary["steps_s"][kind] = {
            mode: {
                step: median([r[mode][step] for r in repeats])
                for step in ("extract_s", "judge_s", "publish_s")
            }
            for mode in MODES
        }
    summary["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ranges", type=int, default=100_000)
    parser.add_argument("--stores", type=lambda s: s.split(","), default=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-rows", type=int, default=5_000)
    parser.add_argument(
        "--postgres-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="a server where the benchmark may create and drop databases",
    )
    args = parser.parse_args()
    print(json.dumps(run(args)))


if __name__ == "__main__":
    main()
