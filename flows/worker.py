"""`opus-online worker`: starts flows the moment there is work for them.

A schedule alone would leave a confirmed booking waiting for its next tick. The
worker asks the store twice a second (one indexed query) whether a booking is due for
write-back and, when one is, runs the ``write-back`` flow, so operators see every run
in the Prefect UI. In the same loop it sends the patients' due e-mail and SMS
(:func:`flows.notifications.deliver_due`, one indexed read when none is due). The
deployments' schedules stay as the safety net for a stopped worker; the store's lease
keeps a scheduled write-back and the worker's from overlapping, and the outbox's
claims do the same for messages.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine

from connectors.store import write_back as store
from connectors.store.db import engine_for, session_scope
from opus_online.config import Settings, get_settings

log = logging.getLogger(__name__)

POLL_S = 0.5


def write_back_if_due(engine: Engine, store_url: str) -> bool:
    """Run the write-back flow when a booking is due; True if it ran."""
    with session_scope(engine) as session:
        if not store.any_due(session, datetime.now(UTC)):
            return False
    from flows.write_back import write_back  # Prefect only when there is work

    write_back(store_url, return_state=True)
    return True


def notifications_if_due(engine: Engine, settings: Settings) -> bool:
    """Send the patients' due e-mail and SMS (see :func:`flows.notifications.deliver_due`,
    cheap when none is due); True if any was tried."""
    from flows.notifications import deliver_due

    return deliver_due(engine, settings).attempted > 0


def run_worker(
    settings: Settings | None = None,
    *,
    poll_s: float = POLL_S,
    keep_going: Callable[[], bool] = lambda: True,
) -> None:
    settings = settings or get_settings()
    url = settings.resolved_store_url
    engine = engine_for(url)
    log.info("worker: watching %s for due write-backs", engine.url.render_as_string())
    while keep_going():
        try:
            busy = write_back_if_due(engine, url)
        except Exception:  # a bad moment of the store must not end the worker
            log.exception("worker: write-back round failed; trying again")
            busy = False
        try:
            busy = notifications_if_due(engine, settings) or busy
        except Exception:
            log.exception("worker: notifications round failed; trying again")
        if not busy:
            time.sleep(poll_s)
