"""The retention run itself (:func:`run_retention`), without Prefect: the ``retention``
flow (flows/retention.py) wraps it, and a test or a benchmark calls it in a process
that need not load Prefect (the statistics flow's module is loaded only when a day's
statistics must be made before its events go).

Before the visit events of a day go, the day's statistics must exist: a day whose
events are about to be deleted and that has no daily rows yet (the statistics flow was
down, say) is aggregated first, so that only the aggregates remain.

Safe to repeat and to run on several workers: each batch's condition is what the batch
makes false, so a second run (or the rest of a killed one) finds only what is left.
On PostgreSQL a run that finds another one working skips (advisory lock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from connectors.store import retention, retention_rules
from connectors.store.db import session_scope
from connectors.store.models import StatsVisitsDaily
from connectors.store.retention import Batches, BatchHook, Counts
from connectors.store.retention_rules import local_midnight
from connectors.store.visits import forget_old_salts

BATCH = 2000
"""Rows per batch (one short transaction). Each batch's commit flushes its WAL, and a
page view's insert that commits meanwhile waits for that flush: smaller batches, shorter
waits. Measured with bench.retention on 10 million events (2 loaded cores): batches of
2,000 took 29 to 54 s, p99 of those inserts 26 to 40 ms; batches of 5,000 took 21 to
25 s at a lower load, p99 33 ms."""
REST = 0.0
"""Visit events: the pause after each batch, as a fraction of its time (Batches.rest)."""


@dataclass
class Outcome:
    """What a run did: rows per (table, action), and what it left on purpose."""

    ran: bool
    counts: Counts
    waiting_for_write_back: int = 0
    days_aggregated: int = 0

    def table(self) -> list[dict[str, object]]:
        """The artifact's rows: counts only, never a row's content."""
        rows: list[dict[str, object]] = [
            {"tabell": table, "åtgärd": action, "rader": n}
            for (table, action), n in sorted(self.counts.rows.items())
        ]
        rows.append(
            {
                "tabell": "booking",
                "åtgärd": "väntar på återskrivning (behålls)",
                "rader": self.waiting_for_write_back,
            }
        )
        built = self.days_aggregated
        rows.append({"tabell": "stats_*_daily", "åtgärd": "dagar räknade först", "rader": built})
        return rows


def aggregate_missing_days(engine: Engine, before: datetime, tz: ZoneInfo) -> int:
    """Build the daily statistics of every day before ``before`` that has visit events
    but no daily rows; returns how many days were built."""
    oldest = retention.oldest_visit_event(engine)
    if oldest is None or oldest >= before:
        return 0
    first = oldest.astimezone(tz).date()
    last = before.astimezone(tz).date() - timedelta(days=1)
    with engine.connect() as connection:
        have = set(
            connection.execute(
                select(StatsVisitsDaily.day)
                .where(StatsVisitsDaily.day >= first, StatsVisitsDaily.day <= last)
                .distinct()
            ).scalars()
        )
    every_day = (first + timedelta(days=i) for i in range((last - first).days + 1))
    missing = [
        (day, local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz))
        for day in every_day
        if day not in have
    ]
    built = 0
    for day in retention.visit_days_with_events(engine, missing):
        from flows.visit_stats import run_days  # pandas and Prefect: only when needed

        run_days(engine, day, day, tz)
        built += 1
    return built


def run_retention(
    engine: Engine,
    now: datetime,
    tz: ZoneInfo,
    *,
    batch: int = BATCH,
    hook: BatchHook | None = None,
    rest: float = REST,
) -> Outcome:
    """Apply every tenant's retention as of ``now``."""
    counts = Counts()
    with retention.run_lock(engine) as mine:
        if not mine:
            return Outcome(ran=False, counts=counts)
        with session_scope(engine) as session:
            policies = retention_rules.policies(session)
        cut = retention_rules.cutoffs(policies, now, tz)
        batches = Batches(engine, counts, size=batch, hook=hook, rest=rest)
        outcome = Outcome(ran=True, counts=counts)

        if cut.visit_events:
            outcome.days_aggregated = aggregate_missing_days(
                engine, max(cut.visit_events.values()), tz
            )
        for before, tenants in retention_rules.groups(cut.visit_events):
            retention.delete_visit_events(batches, before, tenants)
        counts.add("visit_salt", "delete", forget_old_salts(engine, now.astimezone(tz).date()))

        for policy in policies:
            retention.delete_expired_holds(batches, policy.tenant_id, now)
        retention.clear_client_keys(batches, now)
        for before, tenants in retention_rules.groups(cut.bookings):
            retention.pseudonymise_bookings(batches, before, tenants, now)
            outcome.waiting_for_write_back += retention.waiting_for_write_back(
                engine, before, tenants
            )
        for before, tenants in retention_rules.groups(cut.messages):
            retention.clear_messages(batches, before, tenants)

        retention.delete_patient_sessions(batches, now)
        retention.delete_bankid_orders(batches, now)
        retention.clear_opus_appointments(batches, now)
        retention.delete_login_counters(engine, counts, now)
        return outcome
