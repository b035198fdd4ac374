"""The waiting list's work: close lapsed offers, then offer every freed time to the
first in line (see :mod:`connectors.store.waitlist_offers`).

:func:`offer_freed_times` is the work, usable with or without Prefect: the worker
(``opus-online worker``) calls it twice a second, which costs two index lookups when
nothing is waiting, so a cancellation's first offer is queued within a second or so;
the ``waitlist`` flow wraps it for the Prefect UI (its deployment runs every minute
as the safety net). Each opening is worked in a transaction of its own, so several
workers share the openings (PostgreSQL: ``SKIP LOCKED``) and one opening's trouble
does not hold up the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from prefect import flow, get_run_logger
from sqlalchemy import Engine

from connectors.store import waitlist, waitlist_answers, waitlist_offers
from connectors.store.db import engine_for, session_scope, write_session_scope
from connectors.store.types import utcnow
from opus_online.config import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass
class Round:
    """What one call of :func:`offer_freed_times` did."""

    ended: int = 0  # entries whose booking was cancelled, moved or has passed
    closed: int = 0  # offers that lapsed, or whose patient left the list
    openings: int = 0
    offers: int = 0

    @property
    def busy(self) -> bool:
        return bool(self.ended or self.closed or self.openings)


def offer_freed_times(
    engine: Engine,
    secret: bytes,
    now: datetime | None = None,
    *,
    max_openings: int = 200,
    sweep: bool = True,
) -> Round:
    """One round: end stale entries (``sweep``), close lapsed offers, work up to
    ``max_openings`` openings. Cheap when there is nothing to do."""
    now = now or utcnow()
    result = Round()
    with session_scope(engine) as session:
        due = waitlist_offers.work_due(session, now)
    if sweep:
        with write_session_scope(engine) as session:
            result.ended = len(waitlist.end_stale(session, now))
    if not due and not result.ended:
        return result
    with write_session_scope(engine) as session:
        result.closed = waitlist_answers.expire_due(session, now)
    for _ in range(max_openings):
        with write_session_scope(engine) as session:
            opening = waitlist_offers.claim_opening(session)
            if opening is None:
                break
            result.offers += waitlist_offers.offer_opening(session, opening, secret, now)
            result.openings += 1
    return result


@flow(name="waitlist", log_prints=False)
def waitlist_flow(store_url: str | None = None) -> Round:
    """Offer freed times to the waiting list (the worker does it as they free; this
    is the safety net). Logs counts only."""
    settings: Settings = get_settings()
    engine = engine_for(store_url or settings.resolved_store_url)
    result = offer_freed_times(engine, settings.secret())
    get_run_logger().info(
        "waitlist: %d openings worked, %d offers made, %d offers closed, %d entries ended",
        result.openings,
        result.offers,
        result.closed,
        result.ended,
    )
    return result
