"""Reading the availability version counters (see :class:`AvailabilityVersion`).

An app process keeps each tenant's availability in memory and polls this a few times
a second: a counter that moved since the last poll means that tenant's snapshot is
stale (``reference``: reload what decides free times; ``bookings``: reload bookings).
The counters are the database's own (triggers of migration 0010); nothing here writes.
On PostgreSQL each change of a counter is also announced (``NOTIFY``, migration 0015):
:class:`CounterListener` hears it, so that a process need not wait for its next poll.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from connectors.store.models import AvailabilityVersion

log = logging.getLogger(__name__)

_VERSIONS = select(
    AvailabilityVersion.tenant_id, AvailabilityVersion.topic, AvailabilityVersion.version
)


def versions(session: Session) -> dict[tuple[int, str], int]:
    """Every tenant's counters: (tenant_id, topic) -> version.

    One small table read whole (two rows per tenant), so that a poll costs one round
    trip however many tenants there are. Compare with the previous poll's result; a
    tenant missing from it is new, one missing from this one was deleted."""
    return {(tenant_id, topic): version for tenant_id, topic, version in session.execute(_VERSIONS)}


_VERSIONS_OF = _VERSIONS.where(AvailabilityVersion.tenant_id == bindparam("tenant_id"))


def versions_of(session: Session, tenant_id: int) -> dict[tuple[int, str], int]:
    """One tenant's counters, keyed as :func:`versions` keys them."""
    rows = session.execute(_VERSIONS_OF, {"tenant_id": tenant_id})
    return {(tenant, topic): version for tenant, topic, version in rows}


_VERSIONS_OF_SOME = _VERSIONS.where(
    AvailabilityVersion.tenant_id.in_(bindparam("tenant_ids", expanding=True))
)


def versions_of_some(session: Session, tenant_ids: Iterable[int]) -> dict[tuple[int, str], int]:
    """These tenants' counters, keyed as :func:`versions` keys them (a notification
    names its tenant: a process need not read the whole country's to follow it)."""
    rows = session.execute(_VERSIONS_OF_SOME, {"tenant_ids": sorted(set(tenant_ids))})
    return {(tenant, topic): version for tenant, topic, version in rows}


# -- pushed counters (PostgreSQL) ----------------------------------------------------------

CHANNEL = "opus_availability"
"""Where migration 0015's trigger announces a changed counter; the payload is the
tenant's id (a tenant's counters were bumped, added or deleted)."""
RECONNECT_S = 1.0
APPLICATION_NAME = "opus-online availability listener"
PING_EVERY_S = 10.0
"""A connection that the network dropped without a word raises nothing while it
waits: a small query this often finds out."""


def can_listen(store_url: str) -> bool:
    return make_url(store_url).get_backend_name() == "postgresql"


class CounterListener:
    """One connection that LISTENs for changed counters, in a thread of its own, and
    reconnects when it is lost. ``on_change(tenant_id)`` is called for each
    notification, and ``on_change(None)`` after each (re)connection: anything may have
    changed while nobody listened. Nothing is read here; the caller reads the counters."""

    def __init__(self, store_url: str, on_change: Callable[[int | None], None]) -> None:
        url = make_url(store_url).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._on_change = on_change
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()
        """Set while the connection is LISTENing (tests wait for it)."""
        self.backend_pid: int | None = None
        """The PostgreSQL backend of the current connection (pg_stat_activity, where
        its ``application_name`` is :data:`APPLICATION_NAME`)."""
        self.heard = 0
        """Notifications received so far, over every connection."""

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="availability-listener", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        failed_before = False
        while not self._stopped.is_set():
            try:
                self._listen()
                failed_before = False
            except Exception as error:  # the store restarted, the network dropped
                self.listening.clear()
                if not failed_before:  # once per outage, the type only (no row values)
                    log.warning(
                        "availability notifications lost (%s); polling until reconnected",
                        type(error).__name__,
                    )
                failed_before = True
                self._stopped.wait(RECONNECT_S)

    def _listen(self) -> None:
        import psycopg

        with psycopg.connect(
            self._conninfo, autocommit=True, connect_timeout=5, application_name=APPLICATION_NAME
        ) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            self.backend_pid = connection.info.backend_pid
            self.listening.set()
            self._on_change(None)
            pinged = time.monotonic()
            while not self._stopped.is_set():
                for notice in connection.notifies(timeout=1.0):
                    self.heard += 1
                    self._on_change(_tenant_of(notice.payload))
                    if self._stopped.is_set():
                        break
                if time.monotonic() - pinged > PING_EVERY_S:
                    connection.execute("SELECT 1")
                    pinged = time.monotonic()
        self.listening.clear()


def _tenant_of(payload: str) -> int | None:
    try:
        return int(payload)
    except ValueError:
        return None
