"""Write-back: every confirmed, cancelled or rebooked booking into Opus, once.

:func:`write_back_due` does the work and needs no Prefect (tests, the benchmark and
the crash tests call it directly); the flow :func:`write_back` wraps it in one coarse
task and leaves an artifact operators read in the Prefect UI. The worker
(:mod:`flows.worker`) starts the flow as soon as a booking is due, and the
``write-back`` deployment runs it every minute as a safety net.

Any number of write-backs may run at once (workers on several machines and the
scheduled run): each takes the store's lock of one Opus database at a time
(:mod:`connectors.store.write_back_lock`), writes that database's due bookings, lets
go and moves on to the next free one. Reading a booking's state and writing it to Opus
are not one transaction, so two writers at one database could otherwise apply an
older state after a newer one. The lock is checked before every Opus call and inside
every Opus transaction before its commit; a writer that lost it stops.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine

from connectors.opus.connection import (
    OpusConnection,
    OpusConnectionError,
    OpusSource,
    connect,
    connect_limits,
    redact,
)
from connectors.opus.writer import OpusWriter, Outcome
from connectors.privacy import scrub
from connectors.store import write_back as store
from connectors.store import write_back_lock as locks
from connectors.store.db import engine_for, session_scope, write_session_scope
from connectors.store.write_back_lock import DatabaseLock, LockLost
from opus_online.config import get_settings

log = logging.getLogger(__name__)

LEASE_LASTS = locks.LEASE_LASTS
RETRY_DELAY_S = 0.5  # before the first retry of an Opus connection; doubles, at most 5 s


@dataclass
class Report:
    """What one write-back run did, by outcome ("created", "moved", "cancelled",
    "conflict", "failed", …), with the bookings that ended in conflict or failed."""

    outcomes: Counter = field(default_factory=Counter)
    conflicts: list[tuple[int, str]] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)
    busy: int = 0  # Opus databases with due bookings that another writer held
    lost: int = 0  # Opus databases whose lock was lost mid-batch (the writer stopped)

    @property
    def handled(self) -> int:
        return sum(self.outcomes.values())


def write_back_due(
    engine: Engine,
    *,
    timezone: str = "Europe/Stockholm",
    timeout_s: int = 15,
    retries: int = 0,
    limit: int = 500,
    lease_lasts: timedelta = LEASE_LASTS,
    clock=lambda: datetime.now(UTC),
) -> Report:
    """Write every due booking (up to ``limit``) to its Opus database, one database at
    a time, skipping those another writer holds. ``timeout_s`` and ``retries``: for an
    Opus database that sets none of its own."""
    report = Report()
    with session_scope(engine) as session:
        database_ids = store.due_databases(session, clock())
    # In no fixed order: two workers that start together begin at different databases.
    random.shuffle(database_ids)
    for database_id in database_ids:
        if report.handled >= limit:
            break
        lock = locks.take(engine, database_id, lasts=lease_lasts, clock=clock)
        if lock is None:
            report.busy += 1
            continue
        try:
            _write_database(
                engine, lock, timezone, timeout_s, retries, limit - report.handled, clock, report
            )
        except LockLost:
            report.lost += 1
            log.warning("write-back: lost the lock of Opus database %s; stopped", database_id)
        finally:
            lock.release()
    return report


def _write_database(
    engine: Engine,
    lock: DatabaseLock,
    timezone: str,
    timeout_s: int,
    retries: int,
    limit: int,
    clock,
    report: Report,
) -> None:
    """Write the due bookings of the locked database until none is due (bookings
    confirmed meanwhile included: no other writer may take them), up to ``limit``."""
    with session_scope(engine) as session:
        database = store.opus_database(session, lock.database_id)
        source = OpusSource(database.name, database.connection_ref)
        limits = connect_limits(
            database.connect_timeout_s,
            database.retries,
            default_timeout_s=timeout_s,
            default_retries=retries,
        )
        timeout_s, retries = limits.timeout_s, limits.retries
    connection: OpusConnection | None = None
    handled = 0
    try:
        while handled < limit:
            with session_scope(engine) as session:
                due = store.due_bookings(session, clock(), limit - handled, lock.database_id)
            if not due:
                return
            if connection is None:
                try:
                    connection = _connect(source, timeout_s, retries, lock)
                except OpusConnectionError as exc:  # down for a while: every booking waits
                    lock.check()  # (a writer that lost the lock records nothing)
                    _failed(engine, [d.booking_id for d in due], str(exc), clock(), report)
                    return
            writer = OpusWriter(connection, fence=lock.check)
            for item in due:
                lock.check()  # before every Opus call: a writer without the lock stops
                _write_booking(engine, writer, item.booking_id, timezone, clock, report)
            handled += len(due)
    finally:
        if connection is not None:
            connection.close()


def _connect(source: OpusSource, timeout_s: int, retries: int, lock: DatabaseLock):
    for attempt in range(retries + 1):
        lock.check()
        try:
            return connect(source, timeout_s=timeout_s)
        except OpusConnectionError:
            if attempt == retries:
                raise
            time.sleep(min(RETRY_DELAY_S * 2**attempt, 5.0))
    raise AssertionError("unreachable")


def _write_booking(
    engine: Engine, writer: OpusWriter, booking_id: int, timezone: str, clock, report: Report
) -> None:
    with session_scope(engine) as session:
        change = store.plan(session, booking_id, timezone)
    try:
        outcome = _apply(writer, change)
    except LockLost:  # (from the fence inside the Opus transaction: rolled back)
        raise
    except Exception as exc:  # the driver's words, masked: operators need them
        _failed(engine, [booking_id], f"{type(exc).__name__}: {redact(str(exc))}", clock(), report)
        return
    with write_session_scope(engine) as session:
        if outcome.done == "conflict":
            if store.record_conflict(session, change, outcome, clock()):
                report.conflicts.append((booking_id, outcome.conflict or ""))
        else:
            store.record(session, change, outcome, clock())
    report.outcomes[outcome.done] += 1


def _apply(writer: OpusWriter, change: store.Change) -> Outcome:
    if change.action == "book":
        assert change.appointment is not None
        return writer.book(change.appointment, change.range_treatments)
    if change.action == "cancel":
        return writer.cancel(change.key, change.warm_up, change.cool_down, change.range_treatments)
    return Outcome("nothing")  # superseded by a rebooking, or never booked


def _failed(engine: Engine, booking_ids: list[int], error: str, now, report: Report) -> None:
    error = scrub(error)  # kept in the store and shown in the artifact
    with write_session_scope(engine) as session:
        store.record_failure(session, booking_ids, error, now)
    report.outcomes["failed"] += len(booking_ids)
    report.failures.extend((booking_id, error) for booking_id in booking_ids)


# -- Prefect -----------------------------------------------------------------------------


@task(name="write to Opus", cache_policy=NO_CACHE)
def write_to_opus(store_url: str) -> Report:
    settings = get_settings()
    return write_back_due(
        engine_for(store_url),
        timezone=settings.timezone,
        timeout_s=settings.opus_connect_timeout_s,
        retries=settings.opus_retries,
    )


@flow(name="write-back", log_prints=False)
def write_back(store_url: str | None = None) -> Report:
    """Write due bookings into Opus; the artifact lists outcomes, conflicts and
    failures (booking ids only: no patient data leaves the store)."""
    url = store_url or get_settings().resolved_store_url
    report = write_to_opus(url)
    if report.handled or report.lost:  # nothing to say when every due database was busy
        create_markdown_artifact(markdown=scrub(artifact_markdown(report)), key="write-back")
    return report


def artifact_markdown(report: Report) -> str:
    lines = ["| outcome | bookings |", "|---|---|"]
    lines += [f"| {outcome} | {count} |" for outcome, count in sorted(report.outcomes.items())]
    if report.busy:
        lines += ["", f"{report.busy} Opus database(s) were being written by another worker."]
    if report.lost:
        lines += ["", f"Lost the lock of {report.lost} Opus database(s) mid-batch; stopped there."]
    if report.conflicts:
        lines += ["", "**Conflicts** (the time was taken in Opus; the patient is told):", ""]
        lines += [f"- booking {booking_id}: {reason}" for booking_id, reason in report.conflicts]
    if report.failures:
        lines += ["", "**Waiting** (Opus could not be written; retried with backoff):", ""]
        lines += [f"- booking {booking_id}: {error}" for booking_id, error in report.failures]
    return "\n".join(lines)
