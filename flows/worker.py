"""`opus-online worker`: starts flows the moment there is work for them.

A schedule alone would leave a confirmed booking waiting for its next tick. Run as
many workers as you like, on one machine or several: each asks the store twice a
second (one indexed query) whether a booking is due for write-back in an Opus
database no other writer holds, and when one is, runs the ``write-back`` flow, so
operators see every run in the Prefect UI. The store's lock per Opus database
(:mod:`connectors.store.write_back_lock`) keeps two writers, the scheduled safety-net
run included, off one database, while different databases are written in parallel.
When every due database is held by another writer the worker backs off (half a
second, doubling to ``max_sleep_s``) without starting a flow run.

The patients' e-mail and SMS go out from a loop of their own, on its own thread
(:func:`flows.notifications.deliver_due`; the outbox's claims keep workers apart): a
code SMS never waits behind a write-back stuck at an unreachable Opus database. The
same loop plans the appointment reminders and hands the due ones to the outbox
(:class:`flows.reminders.ReminderClock`). A third thread offers freed times to the
waiting list (:mod:`flows.waitlist`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine

from connectors.store import write_back as store
from connectors.store import write_back_lock as locks
from connectors.store.db import engine_for, session_scope
from opus_online.config import Settings, get_settings

log = logging.getLogger(__name__)

POLL_S = 0.5
MAX_SLEEP_S = 10.0


def writable_now(engine: Engine) -> list[int]:
    """The Opus databases with a booking due that no other writer holds (advice: the
    lock decides when the flow takes it)."""
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        due = store.due_databases(session, now)
    if not due:
        return []
    held = locks.busy(engine, due, now)
    return [database_id for database_id in due if database_id not in held]


def write_back_if_due(engine: Engine, store_url: str) -> str:
    """Run the write-back flow when a booking is due in a free Opus database:
    ``"idle"`` (nothing due), ``"busy"`` (due, but every such database is being
    written by another writer, or the run wrote nothing) or ``"ran"``."""
    with session_scope(engine) as session:
        if not store.any_due(session, datetime.now(UTC)):
            return "idle"
    if not writable_now(engine):
        return "busy"
    from flows.write_back import write_back  # Prefect only when there is work

    state = write_back(store_url, return_state=True)
    report = state.result(raise_on_failure=False)
    # A run that wrote nothing (another writer was quicker, or the run failed) is
    # waited out like a busy lock: never a flow run per round.
    return "ran" if getattr(report, "handled", 0) else "busy"


def notifications_if_due(engine: Engine, settings: Settings) -> bool:
    """Send the patients' due e-mail and SMS (see :func:`flows.notifications.deliver_due`,
    cheap when none is due); True if any was tried."""
    from flows.notifications import deliver_due

    return deliver_due(engine, settings).attempted > 0


def notification_loop(
    engine: Engine,
    settings: Settings,
    *,
    poll_s: float = POLL_S,
    keep_going: Callable[[], bool] = lambda: True,
) -> None:
    from flows.reminders import ReminderClock

    reminder_clock = ReminderClock(settings.reminder_plan_interval_s)
    while keep_going():
        try:
            # Reminders that came due join the outbox first, and go out in this round.
            reminder_clock.round(engine, settings)
        except Exception:  # a bad moment of the store must not end the loop
            log.exception("worker: reminders round failed; trying again")
        try:
            sent = notifications_if_due(engine, settings)
        except Exception:  # a bad moment of the store must not end the loop
            log.exception("worker: notifications round failed; trying again")
            sent = False
        if not sent:
            time.sleep(poll_s)


def waitlist_loop(
    engine: Engine,
    settings: Settings,
    *,
    poll_s: float = POLL_S,
    sweep_every_s: float = 30.0,
    keep_going: Callable[[], bool] = lambda: True,
) -> None:
    """Offer freed times to the waiting list as they free (flows.waitlist): two index
    lookups a round when nothing waits; entries whose booking ended are swept every
    ``sweep_every_s``."""
    from flows.waitlist import offer_freed_times

    secret = settings.secret()
    swept_at = 0.0
    while keep_going():
        sweep = time.monotonic() - swept_at >= sweep_every_s
        try:
            busy = offer_freed_times(engine, secret, sweep=sweep).busy
            if sweep:
                swept_at = time.monotonic()
        except Exception:  # a bad moment of the store must not end the loop
            log.exception("worker: waiting-list round failed; trying again")
            busy = False
        if not busy:
            time.sleep(poll_s)


def write_back_loop(
    engine: Engine,
    store_url: str,
    *,
    poll_s: float = POLL_S,
    max_sleep_s: float = MAX_SLEEP_S,
    keep_going: Callable[[], bool] = lambda: True,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    busy_rounds = 0
    while keep_going():
        try:
            outcome = write_back_if_due(engine, store_url)
        except Exception:  # a bad moment of the store must not end the worker
            log.exception("worker: write-back round failed; trying again")
            outcome = "idle"
        if outcome == "ran":
            busy_rounds = 0
            continue
        if outcome == "busy":
            # Another writer holds every due database and writes what becomes due
            # there too: back off rather than ask again and again.
            busy_rounds += 1
            sleep(min(poll_s * 2 ** min(busy_rounds, 10), max_sleep_s))
        else:
            busy_rounds = 0
            sleep(poll_s)


def run_worker(
    settings: Settings | None = None,
    *,
    poll_s: float = POLL_S,
    max_sleep_s: float = MAX_SLEEP_S,
    keep_going: Callable[[], bool] = lambda: True,
) -> None:
    settings = settings or get_settings()
    url = settings.resolved_store_url
    engine = engine_for(url)
    log.info("worker: watching %s for due write-backs", engine.url.render_as_string())
    notifications = threading.Thread(
        target=notification_loop,
        args=(engine, settings),
        kwargs={"poll_s": poll_s, "keep_going": keep_going},
        name="notifications",
        daemon=True,
    )
    notifications.start()
    offers = threading.Thread(
        target=waitlist_loop,
        args=(engine, settings),
        kwargs={"poll_s": poll_s, "keep_going": keep_going},
        name="waitlist",
        daemon=True,
    )
    offers.start()
    try:
        write_back_loop(engine, url, poll_s=poll_s, max_sleep_s=max_sleep_s, keep_going=keep_going)
    finally:
        notifications.join(timeout=max(poll_s * 4, 5.0))
        offers.join(timeout=max(poll_s * 4, 5.0))
