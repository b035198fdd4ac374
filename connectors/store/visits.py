"""Visit events: the daily salts of visitor hashes, and batched writes.

A page view must not wait for the store, so :class:`VisitRecorder` only appends to an
in-process buffer; a background thread writes the buffer as one multi-row insert every
second, or sooner once :data:`BATCH` events wait. Losing the last second of page views
when a process dies is an accepted price: they are statistics, not bookings.

A visitor is ``hash(salt of tenant and day, address, user agent)``, cut to 64 bits.
The salt is random, one per tenant per local day, and deleted when the day is over
(:func:`forget_old_salts`), so a stored hash can never be traced back to an address,
and one day's visitor cannot be followed into the next day.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from connectors.store.db import session_scope
from connectors.store.models import VisitEvent, VisitSalt

log = logging.getLogger(__name__)

BATCH = 500
"""Events per insert; also the buffer size that triggers a flush before the second is up."""
FLUSH_EVERY_S = 1.0
MAX_BUFFER = 100_000
"""Beyond this (the store is down), new events are dropped rather than memory grown."""


@dataclass(frozen=True, slots=True)
class Visit:
    """One page view, ready for the store: nothing in it names a person."""

    tenant_id: int
    at: datetime
    visitor: int
    page: str
    path: str
    source: str | None
    device: str

    def row(self) -> dict[str, object]:
        return {
            "tenant_id": self.tenant_id,
            "at": self.at,
            "visitor": self.visitor,
            "page": self.page,
            "path": self.path,
            "source": self.source,
            "device": self.device,
        }


def visitor_hash(salt: bytes, address: str, user_agent: str) -> int:
    """A signed 64-bit number (fits BIGINT) that stands for one browser for one day."""
    digest = hashlib.blake2b(f"{address}\n{user_agent}".encode(), key=salt, digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def daily_salt(engine: Engine, tenant_id: int, day: date) -> bytes:
    """The tenant's salt for ``day``, made on first use. Two processes may race to make
    it; the primary key lets one win and the other reads the winner's."""
    with session_scope(engine) as session:
        salt = session.scalar(
            select(VisitSalt.salt).where(VisitSalt.tenant_id == tenant_id, VisitSalt.day == day)
        )
    if salt is not None:
        return salt
    try:
        with session_scope(engine) as session:
            salt = secrets.token_bytes(32)
            session.add(VisitSalt(tenant_id=tenant_id, day=day, salt=salt))
        return salt
    except IntegrityError:
        with session_scope(engine) as session:
            return session.scalars(
                select(VisitSalt.salt).where(VisitSalt.tenant_id == tenant_id, VisitSalt.day == day)
            ).one()


def forget_old_salts(engine: Engine, today: date) -> int:
    """Delete every salt of a day before ``today`` (local): the hashes they made can no
    longer be recomputed. Yesterday's is gone too; a visit over midnight counts twice."""
    with session_scope(engine) as session:
        return session.execute(delete(VisitSalt).where(VisitSalt.day < today)).rowcount


def write_visits(engine: Engine, visits: Iterable[Visit]) -> int:
    """One multi-row insert (executemany, which SQLAlchemy sends as batched VALUES)."""
    rows = [v.row() for v in visits]
    if rows:
        with session_scope(engine) as session:
            session.execute(insert(VisitEvent), rows)
    return len(rows)


class VisitRecorder:
    """The in-process buffer and its writer thread (started on the first event)."""

    def __init__(self, engine: Engine, *, batch: int = BATCH, every_s: float = FLUSH_EVERY_S):
        self.engine = engine
        self.batch = batch
        self.every_s = every_s
        self._buffer: deque[Visit] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one writer at a time: the thread or flush()
        self._thread: threading.Thread | None = None
        self.dropped = 0

    def record(self, visit: Visit) -> None:
        """O(1) and never touches the store: safe to call on the event loop."""
        if len(self._buffer) >= MAX_BUFFER:
            self.dropped += 1
            return
        self._buffer.append(visit)
        if self._thread is None:
            self._start()
        if len(self._buffer) >= self.batch:
            self._wake.set()

    def flush(self) -> int:
        """Write everything buffered now; returns how many were written."""
        written = 0
        with self._lock:
            while self._buffer:
                chunk = [self._buffer.popleft() for _ in range(min(self.batch, len(self._buffer)))]
                try:
                    written += write_visits(self.engine, chunk)
                except Exception:
                    # Put them back for the next round; the log says why.
                    self._buffer.extendleft(reversed(chunk))
                    log.exception("writing %d visit events failed; retrying later", len(chunk))
                    break
        return written

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.flush()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="visit-recorder", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.every_s)
            self._wake.clear()
            self.flush()
