"""Failed logins per client address, counted in the store.

An address that fails :data:`MAX_CLIENT_FAILURES` logins within :data:`WINDOW` is
refused without a password check until the window has passed: it stops one address
guessing at many accounts (each account also locks itself, see
:mod:`connectors.store.operators`). The limit is generous, because a clinic chain's
staff may share one address behind a NAT. Counts are one atomic upsert each, so
parallel guesses through several app processes are all counted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from connectors.store.models import LoginThrottle

WINDOW = timedelta(minutes=15)
MAX_CLIENT_FAILURES = 20


def client_blocked(session: Session, kind: str, client: str, now: datetime) -> bool:
    row = session.get(LoginThrottle, (kind, client[:64]))
    return (
        row is not None and row.window_start > now - WINDOW and row.failures >= MAX_CLIENT_FAILURES
    )


def count_client_failure(session: Session, kind: str, client: str, now: datetime) -> int:
    """One more failure from ``client`` (a new window if the last has passed); returns
    the window's count."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(LoginThrottle).values(
        kind=kind, client=client[:64], window_start=now, failures=1
    )
    current = statement.excluded  # the new row's values, for the conflict's update
    lapsed = LoginThrottle.window_start <= now - WINDOW
    statement = statement.on_conflict_do_update(
        index_elements=[LoginThrottle.kind, LoginThrottle.client],
        set_={
            "failures": case((lapsed, 1), else_=LoginThrottle.failures + 1),
            "window_start": case((lapsed, current.window_start), else_=LoginThrottle.window_start),
        },
    )
    session.execute(statement)
    return session.scalars(
        select(LoginThrottle.failures).where(
            LoginThrottle.kind == kind, LoginThrottle.client == client[:64]
        )
    ).one()
