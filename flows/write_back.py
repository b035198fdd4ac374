"""Write-back: every confirmed, cancelled or rebooked booking into Opus, once.

:func:`write_back_due` does the work and needs no Prefect (tests, the benchmark and
the crash tests call it directly); the flow :func:`write_back` wraps it in one coarse
task and leaves an artifact operators read in the Prefect UI. The worker
(:mod:`flows.worker`) starts the flow as soon as a booking is due, and the
``write-back`` deployment runs it every minute as a safety net.

One write-back runs at a time (a lease in the store): reading a booking's state and
writing it to Opus are not one transaction, so two writers could otherwise apply an
older state after a newer one.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import groupby

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine

from connectors.opus.connection import OpusConnectionError, OpusSource, connect, redact
from connectors.opus.writer import OpusWriter, Outcome
from connectors.privacy import scrub
from connectors.store import write_back as store
from connectors.store.db import engine_for, session_scope, write_session_scope
from opus_online.config import get_settings

LEASE = "write-back"
LEASE_LASTS = timedelta(seconds=30)


@dataclass
class Report:
    """What one write-back run did, by outcome ("created", "moved", "cancelled",
    "conflict", "failed", …), with the bookings that ended in conflict or failed."""

    outcomes: Counter = field(default_factory=Counter)
    conflicts: list[tuple[int, str]] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)
    busy: bool = False  # another write-back held the lease

    @property
    def handled(self) -> int:
        return sum(self.outcomes.values())


def write_back_due(
    engine: Engine,
    *,
    timezone: str = "Europe/Stockholm",
    timeout_s: int = 15,
    limit: int = 500,
    lease_lasts: timedelta = LEASE_LASTS,
    clock=lambda: datetime.now(UTC),
) -> Report:
    """Write every due booking (up to ``limit``) to its Opus database."""
    report = Report()
    holder = uuid.uuid4().hex
    if not store.take_lease(engine, LEASE, holder, lease_lasts, clock()):
        report.busy = True
        return report
    try:
        with session_scope(engine) as session:
            due = store.due_bookings(session, clock(), limit)
        for database_id, group in groupby(due, key=lambda d: d.opus_database_id):
            booking_ids = [d.booking_id for d in group]
            _write_database(engine, database_id, booking_ids, timezone, timeout_s, clock, report)
            store.take_lease(engine, LEASE, holder, lease_lasts, clock())
    finally:
        store.give_up_lease(engine, LEASE, holder)
    return report


def _write_database(
    engine: Engine,
    database_id: int,
    booking_ids: list[int],
    timezone: str,
    timeout_s: int,
    clock,
    report: Report,
) -> None:
    with session_scope(engine) as session:
        database = store.opus_database(session, database_id)
        source = OpusSource(database.name, database.connection_ref)
    try:
        connection = connect(source, timeout_s=timeout_s)
    except OpusConnectionError as exc:  # down for a while: every booking waits
        _failed(engine, booking_ids, str(exc), clock(), report)
        return
    try:
        writer = OpusWriter(connection)
        for booking_id in booking_ids:
            _write_booking(engine, writer, booking_id, timezone, clock, report)
    finally:
        connection.close()


def _write_booking(
    engine: Engine, writer: OpusWriter, booking_id: int, timezone: str, clock, report: Report
) -> None:
    with session_scope(engine) as session:
        change = store.plan(session, booking_id, timezone)
    try:
        outcome = _apply(writer, change)
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
    )


@flow(name="write-back", log_prints=False)
def write_back(store_url: str | None = None) -> Report:
    """Write due bookings into Opus; the artifact lists outcomes, conflicts and
    failures (booking ids only: no patient data leaves the store)."""
    url = store_url or get_settings().resolved_store_url
    report = write_to_opus(url)
    if report.handled or report.busy:
        create_markdown_artifact(markdown=scrub(artifact_markdown(report)), key="write-back")
    return report


def artifact_markdown(report: Report) -> str:
    if report.busy:
        return "Another write-back was running; this one did nothing."
    lines = ["| outcome | bookings |", "|---|---|"]
    lines += [f"| {outcome} | {count} |" for outcome, count in sorted(report.outcomes.items())]
    if report.conflicts:
        lines += ["", "**Conflicts** (the time was taken in Opus; the patient is told):", ""]
        lines += [f"- booking {booking_id}: {reason}" for booking_id, reason in report.conflicts]
    if report.failures:
        lines += ["", "**Waiting** (Opus could not be written; retried with backoff):", ""]
        lines += [f"- booking {booking_id}: {error}" for booking_id, error in report.failures]
    return "\n".join(lines)
