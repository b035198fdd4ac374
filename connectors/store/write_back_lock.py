"""One writer per Opus database at a time, enforced by the store.

Reading a booking's state (the store) and writing it (Opus) are not one transaction,
so two writers at one Opus database could apply an older state after a newer one: a
stale "book" after a "cancel" would revive a cancelled appointment. Any number of
write-back workers (and the scheduled safety-net run) may run at once; each takes the
lock of whichever Opus database is free, so different databases are written in
parallel and one database by one writer.

* **PostgreSQL**: a session-level advisory lock, held on a connection of its own for
  as long as the writer writes that database. A writer that dies (SIGKILL, a lost
  machine) loses its connection and with it the lock, at once: no expiry to wait for.
* **SQLite** (one machine): a row in ``worker_lease`` that expires, renewed before
  every booking.

The writer asks :meth:`DatabaseLock.still_held` before every Opus call and once more
inside the Opus transaction, just before its commit (a fencing check): a writer whose
lock connection dropped stops, and its open Opus transaction is rolled back, before a
newer writer's work can be overwritten.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, select, text
from sqlalchemy.exc import IntegrityError

from connectors.store.db import write_session_scope
from connectors.store.models import WorkerLease

log = logging.getLogger(__name__)

LOCK_SPACE = 0x0B0C
"""First key of the PostgreSQL advisory lock on one Opus database (second: its id).
The two-integer form, so it never meets the single-bigint locks of other modules."""

LEASE_PREFIX = "write-back:"
LEASE_LASTS = timedelta(seconds=30)


class LockLost(RuntimeError):
    """The writer no longer holds its Opus database's lock: it must stop writing."""


class DatabaseLock:
    """The lock on one Opus database, held by this writer."""

    database_id: int

    def still_held(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def check(self) -> None:
        """Raise :class:`LockLost` unless the lock is still held."""
        if not self.still_held():
            raise LockLost(f"lost the write-back lock of Opus database {self.database_id}")


class _AdvisoryLock(DatabaseLock):
    def __init__(self, database_id: int, connection: Connection) -> None:
        self.database_id = database_id
        self.connection = connection
        self.lost = False

    def still_held(self) -> bool:
        if self.lost:
            return False
        try:
            # The lock lives as long as this connection's backend: asking it a
            # question proves both (a terminated backend answers with an error).
            held = self.connection.execute(
                text(
                    "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND classid = :space AND objid = :id"
                    " AND objsubid = 2"
                ),
                {"space": LOCK_SPACE, "id": self.database_id},
            ).first()
        except Exception:  # the connection is gone, and the lock with it
            log.warning("write-back lock of Opus database %s lost", self.database_id)
            held = None
        self.lost = held is None
        return not self.lost

    def release(self) -> None:
        try:
            if not self.lost:
                self.connection.execute(
                    text("SELECT pg_advisory_unlock(:space, :id)"),
                    {"space": LOCK_SPACE, "id": self.database_id},
                )
                self.connection.close()
                return
        except Exception:
            log.warning("write-back lock of Opus database %s: unlock failed", self.database_id)
        # Never hand a connection that may still hold the lock back to the pool.
        try:
            self.connection.invalidate()
            self.connection.close()
        except Exception:  # already gone: so is the lock
            log.debug("write-back lock connection already closed", exc_info=True)


class _Lease(DatabaseLock):
    def __init__(
        self, engine: Engine, database_id: int, holder: str, lasts: timedelta, clock
    ) -> None:
        self.engine = engine
        self.database_id = database_id
        self.holder = holder
        self.lasts = lasts
        self.clock = clock

    def still_held(self) -> bool:
        # Renewed on every check: a writer that checks before each booking keeps it.
        return take_lease(
            self.engine, lease_name(self.database_id), self.holder, self.lasts, self.clock()
        )

    def release(self) -> None:
        give_up_lease(self.engine, lease_name(self.database_id), self.holder)


def lease_name(database_id: int) -> str:
    return f"{LEASE_PREFIX}{database_id}"


def _postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def take(
    engine: Engine,
    database_id: int,
    *,
    lasts: timedelta = LEASE_LASTS,
    clock: Callable[[], datetime],
) -> DatabaseLock | None:
    """The lock of Opus database ``database_id``, or None when another writer has it."""
    if _postgresql(engine):
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:space, :id)"),
                {"space": LOCK_SPACE, "id": database_id},
            ).scalar_one()
        except BaseException:
            connection.invalidate()
            connection.close()
            raise
        if not got:
            connection.close()
            return None
        return _AdvisoryLock(database_id, connection)
    lease = _Lease(engine, database_id, uuid.uuid4().hex, lasts, clock)
    return lease if lease.still_held() else None


def busy(engine: Engine, database_ids: Iterable[int], now: datetime) -> set[int]:
    """Which of ``database_ids`` another writer holds now (advice: it may change the
    next moment; taking the lock decides). Lets a worker sleep instead of starting a
    write-back that would find every due database taken."""
    wanted = set(database_ids)
    if not wanted:
        return set()
    with engine.connect() as connection:
        if _postgresql(engine):
            held = connection.execute(
                text(
                    "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND classid = :space AND objsubid = 2 AND database ="
                    " (SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"space": LOCK_SPACE},
            ).scalars()
            return wanted & {int(objid) for objid in held}
        names = connection.execute(
            select(WorkerLease.name).where(
                WorkerLease.name.in_([lease_name(i) for i in wanted]),
                WorkerLease.expires_at > now,
            )
        ).scalars()
        return {int(name.removeprefix(LEASE_PREFIX)) for name in names}


# -- leases (SQLite; any store) ----------------------------------------------------------


def take_lease(engine: Engine, name: str, holder: str, lasts: timedelta, now: datetime) -> bool:
    """Hold ``name`` until ``now + lasts`` if nobody else holds it now; renewing one's
    own lease is taking it again."""
    try:
        with write_session_scope(engine) as session:
            lease = session.get(WorkerLease, name, with_for_update=True)
            if lease is None:
                session.add(WorkerLease(name=name, holder=holder, expires_at=now + lasts))
                return True
            if lease.holder != holder and lease.expires_at > now:
                return False
            lease.holder, lease.expires_at = holder, now + lasts
            return True
    except IntegrityError:  # another worker created the lease at the same moment
        return False


def give_up_lease(engine: Engine, name: str, holder: str) -> None:
    with write_session_scope(engine) as session:
        session.execute(
            delete(WorkerLease).where(WorkerLease.name == name, WorkerLease.holder == holder)
        )
