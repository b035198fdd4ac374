"""One schedule sync of a tenant at a time, across processes and machines.

A run takes the tenant's lease before it reads Opus and gives it back when it is done.
A scheduled cycle that finds it taken skips the tenant (another run is syncing it right
now); a manual run waits for it. A run that dies (SIGKILL, a lost machine) keeps the
lease only until it expires, so the next cycle syncs the tenant again; and a run that
overran its time renews the lease just before publishing, which fails once another run
has taken it: a late run never publishes over a newer one.

The lease rows live in ``worker_lease`` (the write-back's one-at-a-time table), named
``sync:<subdomain>``. Taking one is a single upsert, atomic on PostgreSQL and SQLite.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from connectors.store.db import write_session_scope
from connectors.store.models import WorkerLease
from connectors.store.types import utcnow

_TABLE = WorkerLease.__table__
_NAME_LENGTH = 40


def lease_name(subdomain: str) -> str:
    name = f"sync:{subdomain}"
    if len(name) <= _NAME_LENGTH:
        return name
    # A subdomain may have 63 characters; the lease name has 40. A digest keeps it unique.
    return "sync:#" + hashlib.sha256(subdomain.encode()).hexdigest()[: _NAME_LENGTH - 6]


def new_holder() -> str:
    """Who holds a lease: machine and process for the operator, and a random part so
    that two runs in one process never pass for each other."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"[:64]


def take(
    engine: Engine, subdomain: str, holder: str, lasts: timedelta, now: datetime | None = None
) -> bool:
    """Hold the tenant's sync lease until ``now + lasts`` if nobody else holds it now."""
    now = now or utcnow()
    insert = postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(_TABLE).values(
        name=lease_name(subdomain), holder=holder, expires_at=now + lasts
    )
    statement = statement.on_conflict_do_update(
        index_elements=[_TABLE.c.name],
        set_={"holder": statement.excluded.holder, "expires_at": statement.excluded.expires_at},
        where=or_(_TABLE.c.expires_at <= now, _TABLE.c.holder == holder),
    ).returning(_TABLE.c.holder)
    with write_session_scope(engine) as session:
        return session.execute(statement).first() is not None


def renew(
    engine: Engine, subdomain: str, holder: str, lasts: timedelta, now: datetime | None = None
) -> bool:
    """Extend one's own lease; False once another run has taken it."""
    now = now or utcnow()
    with write_session_scope(engine) as session:
        result = session.execute(
            update(WorkerLease)
            .where(WorkerLease.name == lease_name(subdomain), WorkerLease.holder == holder)
            .values(expires_at=now + lasts)
        )
        return result.rowcount == 1


def give_back(engine: Engine, subdomain: str, holder: str) -> None:
    with write_session_scope(engine) as session:
        session.execute(
            delete(WorkerLease).where(
                WorkerLease.name == lease_name(subdomain), WorkerLease.holder == holder
            )
        )
