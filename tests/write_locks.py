"""How long transactions hold the store's write lock, measured on a real engine.

SQLite has one write lock for the whole database: whatever a writing transaction does
before it commits (hashing a password, calling BankID, waiting for a request body),
every other writer of every tenant waits for. :func:`watch_write_locks` records, per
transaction, the time from taking the lock to releasing it, so a test can assert that
slow work happens outside:

    with watch_write_locks(app_engine) as locks:
        client.post(...)
    locks.assert_shorter_than()

A transaction holds the lock from its BEGIN IMMEDIATE (SQLite, the app's write
sessions) or else from its first writing statement (plain BEGIN on SQLite; row locks on
PostgreSQL), until COMMIT or ROLLBACK. Read-only transactions are not counted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine, event

from connectors.store.db import engine_for

LIMIT_S = 0.1
"""A short write takes a few ms here (2-11 ms measured); 50 ms was passed under a
loaded machine (a parallel run, a browser test) by nothing but scheduling, so the
limit has room. What it catches is far longer: argon2 ~0.2 s, the stand-ins' 0.5 s."""
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_KEY = "write_lock_since"  # in Connection.info while a transaction holds the lock


@dataclass(frozen=True)
class Hold:
    seconds: float
    statement: str  # the first statement after the lock was taken, to say which


@dataclass
class WriteLocks:
    holds: list[Hold] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, hold: Hold) -> None:
        with self._lock:
            self.holds.append(hold)

    def longest(self) -> Hold | None:
        return max(self.holds, key=lambda hold: hold.seconds, default=None)

    def assert_shorter_than(self, limit: float = LIMIT_S) -> None:
        assert self.holds, "no write transaction was seen: is this the app's engine?"
        longest = self.longest()
        assert longest is not None and longest.seconds < limit, (
            f"a write transaction held the lock {longest.seconds * 1000:.0f} ms "
            f"(limit {limit * 1000:.0f} ms), from: {longest.statement[:200]}"
        )


def _is_write(statement: str) -> bool:
    words = statement.lstrip().split(None, 1)
    if not words:
        return False
    return words[0].upper() in _WRITES or "FOR UPDATE" in statement.upper()


@contextmanager
def watch_write_locks(engine: Engine) -> Iterator[WriteLocks]:
    """Record the write-lock holds of ``engine``'s transactions while the block runs."""
    locks = WriteLocks()

    def began(conn) -> None:
        immediate = conn.get_execution_options().get("sqlite_begin_immediate", False)
        conn.info[_KEY] = (time.perf_counter(), None) if immediate else None

    def executing(conn, _cursor, statement, _params, _context, _many) -> None:
        held = conn.info.get(_KEY)
        if held is None:
            if _is_write(statement):
                conn.info[_KEY] = (time.perf_counter(), statement)
        elif held[1] is None:
            conn.info[_KEY] = (held[0], statement)

    def ended(conn) -> None:
        held = conn.info.pop(_KEY, None)
        if held is not None:
            locks.add(Hold(time.perf_counter() - held[0], held[1] or "(no statement)"))

    listeners = [
        ("begin", began),
        ("before_cursor_execute", executing),
        ("commit", ended),
        ("rollback", ended),
    ]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield locks
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)


def app_engine(store_url: str) -> Engine:
    """The engine an app made with ``store_url`` uses (one per URL and process)."""
    return engine_for(store_url)
