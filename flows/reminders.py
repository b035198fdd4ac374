"""Appointment reminders: plan them, and hand the due ones to the outbox.

:func:`remind` is the work, usable with or without Prefect (see
:mod:`connectors.store.reminders` for the steps and their guarantees). The worker's
notification loop calls :func:`reminders_if_due` every round: it plans every
``reminder_plan_interval_s`` and queues whenever a planned reminder is due (one
indexed read when none is), so a reminder reaches the outbox within a second or so of
its time and goes out with the confirmations. The ``plan-reminders`` deployment is the
safety net, and what operators see in the Prefect UI.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger
from sqlalchemy import Engine

from connectors.store import reminders
from connectors.store.db import engine_for, session_scope, write_session_scope
from connectors.store.types import utcnow
from opus_online.config import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass
class Reminded:
    planned: int = 0
    queued: int = 0


def plan_of(settings: Settings) -> reminders.Plan:
    after = settings.reminder_demo_after_s
    return reminders.Plan(
        tz=ZoneInfo(settings.timezone),
        demo_after=None if after is None else timedelta(seconds=after),
    )


def plan_reminders(engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    """Plan the coming appointments' reminders; returns how many rows were added."""
    now = now or utcnow()
    with write_session_scope(engine) as session:
        return reminders.plan(session, now, plan_of(settings))


def queue_reminders(
    engine: Engine, settings: Settings, now: datetime | None = None, limit: int = 200
) -> int:
    """Hand the due reminders to the outbox (cheap when none is due); returns how many."""
    now = now or utcnow()
    with session_scope(engine) as session:
        if not reminders.due_exists(session, now):
            return 0
    queued = 0
    while True:  # in batches, one short write transaction each, until none is left
        with write_session_scope(engine) as session:
            handled, batch = reminders.queue_due(session, now, plan_of(settings), limit)
        queued += batch
        if handled < limit:  # all done (or the rest is another worker's, locked)
            return queued


def remind(engine: Engine, settings: Settings, now: datetime | None = None) -> Reminded:
    now = now or utcnow()
    return Reminded(
        planned=plan_reminders(engine, settings, now),
        queued=queue_reminders(engine, settings, now),
    )


class ReminderClock:
    """The worker's rhythm: plan every ``interval_s``, queue whenever one is due."""

    def __init__(self, interval_s: float, clock=time.monotonic) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self.planned_at: float | None = None

    def round(self, engine: Engine, settings: Settings) -> int:
        if self.planned_at is None or self.clock() - self.planned_at >= self.interval_s:
            self.planned_at = self.clock()
            plan_reminders(engine, settings)
        return queue_reminders(engine, settings)


@flow(name="plan-reminders", log_prints=True)
def plan_and_queue_reminders() -> Reminded:
    """Plan the coming appointments' reminders and hand the due ones to the outbox
    (the worker does it as they come due; this schedule is the safety net)."""
    settings = get_settings()
    result = remind(engine_for(settings.resolved_store_url), settings)
    get_run_logger().info("reminders planned %d, queued %d", result.planned, result.queued)
    return result
