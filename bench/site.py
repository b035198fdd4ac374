"""Booking-site benchmark: the available-times endpoint and the patients' time step
page under load, with one and with several app processes.

    python -m bench.site --ranges 1000000 [--stores sqlite,postgresql] [--seconds 15]
                         [--repeat 3] [--workers 1,2]

On PostgreSQL also ``propagation``: two app processes, a time held through one, the
milliseconds until the other stops offering it (median and max of ``--propagation``
holds; issue 18 wants it within 100 ms, which the store's notifications give).

For each store: N free ranges, synced into it by the real sync; the booking app
started as ``opus-online app --workers`` N (each count in turn; SQLite only with one:
it refuses more), without its access log; ``wrk`` (Debian package ``wrk``) with 64
connections asks, in turns, ``--repeat`` times each:

- ``api``: the public API's available-times endpoint for a week of times at clinics
  and weeks drawn at random (none asked twice);
- ``time_step_html``: the patients' time step page (``/boka`` with clinic, treatment,
  practitioner and week drawn at random), HTML answered from the same snapshot;
- ``/healthz`` (constant JSON, same app, same server) for the ceiling.

Every response must be 200. The app is asked only once ``/readyz`` says it has read
the store into memory (``OPUS_SNAPSHOT_PRELOAD=*``; with several processes, until a
run of answers says so, from whichever process answers).

The last line printed is one JSON object: per store, per ``workers_<N>``, per case the
medians ``rps``, ``p50_ms``, ``p99_ms``, and the ceiling's ``ceiling_rps``,
``ceiling_p99_ms`` with the ratios ``rps_vs_ceiling`` and ``p99_vs_ceiling``; under
``api.popular`` one run of a dozen questions asked over and over. Targets (issue 18,
2 cores shared with the load generator): api ``rps`` >= 0.6 x ``ceiling_rps`` and
``p99_ms`` <= 1.5 x ``ceiling_p99_ms``; time step ``rps`` >= 0.3 x ``ceiling_rps``.
Smaller runs (``--ranges 100000 --seconds 5 --repeat 1``) fit a busy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from bench.sync import build_opus, seeded_store, sync_once
from connectors.store.db import session_scope
from connectors.store.models import Clinic, ClinicPractitioner, Practitioner, Treatment
from demo.store_seed import DEMO_API_KEY
from validations.gx import warm_up

HOST = "tandmottagningen.localhost"
ENDPOINT = "/api/public/v1/appointments/schedule/availabletimes"

WARM_UP_QUESTIONS = 3 * 8000
"""For the 3-second warm-up under load: more than it can ask."""
WARM_UP_LIMIT_S = 300

# Each wrk thread takes every THREADS-th path from its own offset, so two threads
# never ask the same question (unless the list runs out and starts again).
THREADS = 2
LUA = """
local threads = 0
setup = function(thread)
  thread:set("offset", threads)
  threads = threads + 1
end
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local i = nil
request = function()
  if i == nil then i = offset end
  i = (i + %(threads)d) %% #paths
  return wrk.format("GET", paths[i + 1], {["Host"] = "%(host)s", ["apiKey"] = "%(key)s"})
end
done = function(summary, latency, requests)
  io.write(string.format("NON200 %%d\\n", summary.errors.status))
  io.write(string.format("P50US %%d\\n", latency:percentile(50)))
  io.write(string.format("P99US %%d\\n", latency:percentile(99)))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(store_url: str, folder: Path, workers: int = 1) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "OPUS_STORE_URL": store_url,
        "OPUS_BASE_DOMAIN": "localhost",
        "OPUS_DATA_DIR": str(folder),
        "OPUS_SNAPSHOT_PRELOAD": "*",  # ready means in memory
        "OPUS_SECRET_KEY": "bench-site-processes-share-one-secret-key-0123456789",
        "OPUS_APP_HOST": "127.0.0.1",
        "OPUS_APP_PORT": str(port),
        "OPUS_ACCESS_LOG": "false",  # a proxy keeps it: the requests' own work measured
    }
    # As operators start it; with several workers, each listens on a socket of its own.
    server = subprocess.Popen(
        [sys.executable, "-m", "opus_online.cli", "app", "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # imports take seconds per process on a busy machine
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the booking app did not start")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def request_paths(engine, count: int, rng: random.Random, popular: bool = False) -> list[str]:
    """Available-times questions for seven days from a day of the next ten weeks, at a
    clinic, for a treatment. Without ``popular``: ``count`` different questions, more
    than the run asks, so none is asked twice and the app's few seconds of memory
    (``AnswerCache``) never answer: every request computes its times. With ``popular``:
    a dozen questions asked over and over, as patients of one chain ask about this week
    and the next at its main clinics."""
    with session_scope(engine) as session:
        clinics = list(session.scalars(select(Clinic.opus_clinic_id)))
        treatments = list(
            session.scalars(select(Treatment.opus_treatment_id).where(Treatment.create_in_web))
        )
    today = date.today()
    if popular:
        return [
            _question(rng.choice(clinics[:3]), rng.choice(treatments[:2]), today + timedelta(7 * w))
            for w in (rng.randrange(0, 2) for _ in range(count))
        ]
    space = len(clinics) * len(treatments) * 70
    picked = rng.sample(range(space), min(count, space))
    return [
        _question(
            clinics[i // (len(treatments) * 70)],
            treatments[i // 70 % len(treatments)],
            today + timedelta(days=i % 70),
        )
        for i in picked
    ]


def page_paths(engine, count: int, rng: random.Random) -> list[str]:
    """Time step pages (``/boka``): a clinic, one of its added practitioners, a web
    treatment of its Opus database, and one of the next ten weeks."""
    with session_scope(engine) as session:
        staff = session.execute(
            select(ClinicPractitioner.clinic_id, Practitioner.id, Clinic.opus_database_id)
            .join(Practitioner, Practitioner.id == ClinicPractitioner.practitioner_id)
            .join(Clinic, Clinic.id == ClinicPractitioner.clinic_id)
            .where(ClinicPractitioner.added, ClinicPractitioner.in_opus, Clinic.in_opus)
        ).all()
        treatments: dict[int, list[int]] = {}
        for treatment_id, database_id in session.execute(
            select(Treatment.id, Treatment.opus_database_id).where(
                Treatment.create_in_web, Treatment.in_opus
            )
        ):
            treatments.setdefault(database_id, []).append(treatment_id)
    today = date.today()
    monday = today - timedelta(days=today.weekday())
    paths = []
    for _ in range(count):
        clinic, practitioner, database = rng.choice(staff)
        week = monday + timedelta(weeks=rng.randrange(10))
        paths.append(
            f"/boka?clinic={clinic}&treatment={rng.choice(treatments[database])}"
            f"&practitioner={practitioner}&week={week}"
        )
    return paths


def _question(clinic: str, treatment: int, first_day: date) -> str:
    return (
        f"{ENDPOINT}?request.clinicID={clinic}&request.treatmentID={treatment}"
        f"&request.from={first_day}T00:00:00&request.to={first_day + timedelta(days=7)}T00:00:00"
    )


def run_wrk(base: str, paths: list[str], seconds: int, connections: int, folder: Path) -> dict:
    paths_file = folder / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    script = folder / "bench.lua"
    script.write_text(
        LUA % {"paths": paths_file, "host": HOST, "key": DEMO_API_KEY, "threads": THREADS}
    )
    out = subprocess.run(
        [
            "wrk",
            f"-t{THREADS}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non200 = int(re.search(r"NON200 (\d+)", out).group(1))
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "p50_ms": int(re.search(r"P50US (\d+)", out).group(1)) / 1000,
        "p99_ms": int(re.search(r"P99US (\d+)", out).group(1)) / 1000,
        "rps": round(rps),
        "non_200": non200,
        "socket_errors": socket_errors.group(1) if socket_errors else None,
    }


def warm_up_app(base: str, paths: list[str], args, folder: Path) -> list[str]:
    """Wait until the app says it is ready (``/readyz``: the preloaded tenants' free
    times read into memory, a few seconds at a million ranges; 20 answers in a row on
    new connections, so that every process has said so), then ask under load for 3
    seconds. Returns the questions not yet asked (``args`` None: no warm-up under load)."""
    deadline = time.monotonic() + WARM_UP_LIMIT_S
    in_a_row = 0
    while in_a_row < 20:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the booking app was not ready in {WARM_UP_LIMIT_S} s")
        if httpx.get(f"{base}/readyz", timeout=10).status_code == 200:
            in_a_row += 1
        else:
            in_a_row = 0
            time.sleep(0.2)
    if args is None:
        return paths
    warm, paths = paths[:WARM_UP_QUESTIONS], paths[WARM_UP_QUESTIONS:]
    if len(paths) < len(warm):  # a small chain: warm up on the questions it has
        warm, paths = warm[: len(warm) // 2], warm[len(warm) // 2 :] + paths
    run_wrk(base, warm, 3, args.connections, folder)
    return paths


def check_endpoint(base: str, path: str) -> int:
    response = httpx.get(base + path, headers={"Host": HOST, "apiKey": DEMO_API_KEY}, timeout=60)
    response.raise_for_status()
    return len(response.json())


def measure(kind: str, args, folder: Path, opus: Path, demo) -> dict:
    with seeded_store(kind, args, folder, demo, opus) as (engine, subdomain):
        sync_once(engine, subdomain)
        # More questions than the runs can ask (8,000 a second), none asked twice.
        count = (8000 * args.seconds * args.repeat + 2 * WARM_UP_QUESTIONS) * len(args.workers)
        paths = every = request_paths(engine, count, random.Random(5))
        pages = page_paths(engine, 5000, random.Random(7))
        popular = request_paths(engine, 2000, random.Random(6), popular=True)
        url = engine.url.render_as_string(hide_password=False)
        results = {}
        for workers in args.workers:
            if workers > 1 and kind == "sqlite":
                results[f"workers_{workers}"] = "skipped: one process serves a SQLite store"
                continue
            paths, results[f"workers_{workers}"] = measure_app(
                kind, url, workers, paths or every, pages, popular, args, folder
            )
        if kind == "postgresql" and args.propagation:
            results["propagation"] = measure_propagation(url, folder, args.propagation)
            print(f"{kind}: propagation {results['propagation']}", flush=True)
    return results


def measure_app(
    kind: str,
    url: str,
    workers: int,
    paths: list[str],
    pages: list[str],
    popular: list[str],
    args,
    folder: Path,
) -> tuple[list[str], dict]:
    """One app with ``workers`` processes: the API, the time step page and the ceiling,
    in turns. Returns the API questions not yet asked, and the figures."""
    all_paths = paths
    server, base = serve(url, folder, workers)
    try:
        times = sum(check_endpoint(base, p) for p in paths[:20])
        print(f"{kind}, {workers} workers: the first 20 queries return {times} times", flush=True)
        for page in pages[:5]:
            httpx.get(base + page, headers={"Host": HOST}, timeout=60).raise_for_status()
        paths = warm_up_app(base, paths, args, folder)
        run_wrk(base, pages, 3, args.connections, folder)  # warm the pages' code too
        # Taken in turns, so that the machine's ups and downs fall on all alike.
        api_runs, page_runs, ceilings = [], [], []
        for _ in range(args.repeat):
            asked, paths = paths[: 8000 * args.seconds], paths[8000 * args.seconds :]
            if not asked:  # a small chain has fewer different questions: ask them again
                asked = all_paths
            api_runs.append(run_wrk(base, asked, args.seconds, args.connections, folder))
            page_runs.append(run_wrk(base, pages, args.seconds, args.connections, folder))
            ceilings.append(run_wrk(base, ["/healthz"], args.seconds, args.connections, folder))
        popular_run = run_wrk(base, popular, args.seconds, args.connections, folder)
    finally:
        stop(server)
    ceiling = medians(ceilings)
    result = {
        "api": {**against(medians(api_runs), ceiling), "popular": popular_run},
        "time_step_html": against(medians(page_runs), ceiling),
        "ceiling_runs_rps": [run["rps"] for run in ceilings],
    }
    print(f"{kind}, {workers} workers: {result}", flush=True)
    return paths, result


def measure_propagation(url: str, folder: Path, holds: int) -> dict:
    """Two app processes of their own (as on two hosts): a time held through one, how
    long until the other no longer offers it (asked over and over), ``holds`` times.
    With PostgreSQL's notifications that is a reload's time; without, up to a poll.

    Asked as an integration asks, on kept-alive connections: a new client per question
    (``httpx.get``) spent tens of milliseconds of its own (TLS context, connection) on
    every question, and the figure was mostly that. ``request_ms``: the median time of
    one question to the other process, the figure's resolution."""
    (one, one_base), (other, other_base) = serve(url, folder), serve(url, folder)
    headers = {"Host": HOST, "apiKey": DEMO_API_KEY}
    question = _question("UPP1", 1, date.today() + timedelta(days=7))
    try:
        for base in (one_base, other_base):
            warm_up_app(base, [], None, folder)
        lags, asked = [], []
        with (
            httpx.Client(base_url=one_base, headers=headers, timeout=10) as holding,
            httpx.Client(base_url=other_base, headers=headers, timeout=10) as watching,
        ):

            def offered() -> list:
                started = time.perf_counter()
                times = watching.get(question).json()
                asked.append((time.perf_counter() - started) * 1000)
                return times

            for _ in range(holds):
                slot = offered()[0]
                holding.put("/api/public/v1/reservations", json=slot).raise_for_status()
                started = time.perf_counter()
                while slot in offered():
                    if time.perf_counter() - started > 30:
                        raise RuntimeError("a held time was still offered by the other process")
                lags.append((time.perf_counter() - started) * 1000)
    finally:
        for server in (one, other):
            stop(server)
    return {
        "holds": holds,
        "median_ms": round(statistics.median(lags), 1),
        "max_ms": round(max(lags), 1),
        "request_ms": round(statistics.median(asked), 1),
    }


def against(result: dict, ceiling: dict) -> dict:
    return {
        **result,
        "ceiling_rps": ceiling["rps"],
        "ceiling_p99_ms": ceiling["p99_ms"],
        "rps_vs_ceiling": round(result["rps"] / ceiling["rps"], 3),
        "p99_vs_ceiling": round(result["p99_ms"] / ceiling["p99_ms"], 3),
    }


def medians(runs: list[dict]) -> dict:
    """The median of each figure over the runs (and every non-200 and socket error)."""
    return {
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "rps": round(statistics.median(r["rps"] for r in runs)),
        "non_200": sum(r["non_200"] for r in runs),
        "socket_errors": [r["socket_errors"] for r in runs if r["socket_errors"]] or None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ranges", type=int, default=100_000)
    parser.add_argument("--stores", type=lambda s: s.split(","), default=["sqlite", "postgresql"])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each, in turns; medians are reported"
    )
    parser.add_argument(
        "--workers",
        type=lambda s: [int(n) for n in s.split(",")],
        default=[1, 2],
        help="app processes, each count in turn (default 1,2)",
    )
    parser.add_argument(
        "--propagation",
        type=int,
        default=20,
        help="holds through one of two processes, timed until the other stops offering "
        "them (PostgreSQL; 0: not measured)",
    )
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    warm_up()
    folder = Path(tempfile.mkdtemp(prefix="opus-bench-site-"))
    try:
        opus, demo = build_opus(args.ranges, folder)
        results = {kind: measure(kind, args, folder, opus, demo) for kind in args.stores}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(
        json.dumps(
            {
                "ranges": args.ranges,
                "connections": args.connections,
                "seconds": args.seconds,
                "repeat": args.repeat,
                **results,
            }
        )
    )


if __name__ == "__main__":
    main()
