"""PostgreSQL's advisory locks are one namespace per database: two modules that lock
(space, id) in the same space wait on each other's unrelated work. Every space the
store uses is its own. The booking path's practitioner locks once shared the
write-back's space: a booking of practitioner N queued behind the write-back of Opus
database N, and write-back saw database N busy while N's time was being booked."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from connectors.store import bookings, client_limits, retention, write_back_lock
from connectors.store.db import session_scope

ROOT = Path(__file__).resolve().parents[3]


def test_every_lock_space_is_its_own() -> None:
    spaces = {
        "write-back (an Opus database)": write_back_lock.LOCK_SPACE,
        "a practitioner's time": bookings.ADVISORY_LOCK_SPACE,
        "a client's holds and codes": client_limits.ADVISORY_LOCK_SPACE,
        "a recipient's codes": client_limits.RECIPIENT_LOCK_SPACE,
        "a tenant's codes": client_limits.TENANT_LOCK_SPACE,
        "a retention run": retention.LOCK_SPACE,
    }
    assert len(set(spaces.values())) == len(spaces), spaces
    # A space defined anywhere else must be listed above.
    defined = set()
    for package in ("connectors", "flows", "booking_app", "opus_online"):
        for path in (ROOT / package).rglob("*.py"):
            found = re.findall(r"^\w*LOCK_SPACE = (0x[0-9A-Fa-f]+)$", path.read_text(), re.M)
            defined |= {int(value, 16) for value in found}
    assert defined <= set(spaces.values())


@pytest.mark.postgres
def test_a_booking_and_the_write_back_of_the_same_number_do_not_meet(
    postgres_store: Engine,
) -> None:
    number = 1  # Opus database 1, practitioner 1 (the locks need no rows)
    now = datetime.now(UTC)
    with session_scope(postgres_store) as session:
        # Would wait for the write-back below if they shared a space; a lock timeout
        # turns that wait into a failure instead of a hung test.
        session.execute(text("SET LOCAL lock_timeout = '10s'"))
        bookings.lock_practitioners(session, [number])
        assert write_back_lock.busy(postgres_store, [number], now) == set()
        lock = write_back_lock.take(postgres_store, number, clock=lambda: now)
        assert lock is not None
    try:
        assert write_back_lock.busy(postgres_store, [number], now) == {number}
        with session_scope(postgres_store) as session:
            session.execute(text("SET LOCAL lock_timeout = '10s'"))
            bookings.lock_practitioners(session, [number])  # does not wait
    finally:
        lock.release()
