"""Retention: how long the store keeps personal data, and the batches that remove it.

:data:`connectors.store.retention_rules.RULES` names every table that holds personal
data (or columns that look like it) and what retention does there, and turns each
tenant's periods into cutoffs. The rules, in short:

* visit events: kept ``retention_visit_event_days`` local days (default 400), then
  deleted; the daily statistics made from them stay (the flow makes sure they exist);
* bookings: the patient's data is kept ``retention_booking_months`` after the visit
  (default 24), then *pseudonymised in place*: name, personal number, contact details,
  address, message and links to the patient are cleared; what the statistics count
  (tenant, clinic, practitioner, treatment, channel, status, times, campaign code)
  stays, so every total adds up as before;
* expired holds (never booked) are deleted a day after they lapsed, with their code
  messages; the keyed hashes of the client that held a booking are cleared after two
  days (the limits on one client look back one day);
* messages sent (or given up) are kept ``retention_message_days`` (default 30), then
  their recipient, merge fields and gateway id are cleared: kind, channel, status,
  tries and times stay;
* patient sessions and BankID orders are deleted a day after they ended; Opus
  appointments mirrored for *Mina bokningar* lose their personal number a day after
  the appointment; failed-login counters go a day after their window.

Every batch is one short transaction that picks its rows by the rule's own condition,
which the change then makes false: a batch repeated, interrupted (its transaction
rolls back) or run by two workers at once (PostgreSQL: ``SKIP LOCKED``) changes
nothing twice. :func:`run_lock` keeps a second worker from duplicating the work on
PostgreSQL; nothing depends on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, delete, exists, func, or_, select, text, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from connectors.store.db import write_session_scope
from connectors.store.models import (
    BankIdOrder,
    Booking,
    LoginThrottle,
    MarketplaceAppointment,
    OpusAppointment,
    OutboxMessage,
    PatientSession,
    VisitEvent,
)
from connectors.store.personal_data import erased_values
from connectors.store.retention_rules import (
    BEGINNING,
    CLIENT_KEYS_KEPT,
    FINAL_MESSAGE_STATUSES,
    ONE_DAY,
    PURGED_RECIPIENT,
)
from connectors.store.waitlist_models import WaitlistOffer

# -- running in batches ----------------------------------------------------------------------

BatchHook = Callable[[str], None]
"""Called inside each batch's transaction after its change, before the commit, with
the step's name (tests stop a run there)."""


@dataclass
class Counts:
    """Rows changed per (table, action): the run's artifact (never a row's content)."""

    rows: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, table: str, action: str, n: int) -> None:
        self.rows[(table, action)] = self.rows.get((table, action), 0) + n


@dataclass
class Batches:
    engine: Engine
    counts: Counts
    size: int = 2000
    hook: BatchHook | None = None
    rest: float = 0.0
    """After a batch of visit events, wait this fraction of the batch's own time: the
    deletion's WAL then comes in bursts with gaps, in which other transactions' commits
    flush theirs at once (bench.retention measures what it buys and costs)."""

    def pause(self, began: float) -> None:
        if self.rest > 0:
            time.sleep((time.perf_counter() - began) * self.rest)

    def repeat(self, table: str, action: str, one: Callable[[Session], int]) -> int:
        """Run ``one`` (which changes at most :attr:`size` rows and returns how many)
        in its own transaction until it changes fewer than a batch."""
        total = 0
        while True:
            with write_session_scope(self.engine) as session:
                done = one(session)
                if done and self.hook is not None:
                    self.hook(f"{table}:{action}")
            total += done
            self.counts.add(table, action, done)
            if done < self.size:
                return total

    def pick(self, query: Select, of: object = None) -> Select:
        """``query`` (of one model's ids, ordered) limited to a batch and, on
        PostgreSQL, locking its rows while skipping those another worker holds."""
        return query.limit(self.size).with_for_update(skip_locked=True, of=of)


# -- visit events ------------------------------------------------------------------------------

MICROSECOND = timedelta(microseconds=1)


def delete_visit_events(batches: Batches, before: datetime, tenants: list[int]) -> int:
    """Delete the ``tenants``' visit events before ``before``, in batches by time.

    A batch is a time range [after, edge) that holds about :attr:`Batches.size` events
    (the edge is the time of the event that many further on, by the index on ``at``),
    deleted by that range: one index range scan, where deleting by a list of ids cost
    an index lookup per row and took twice as long (bench.retention). Events of other
    tenants in the range stay, passed over once per run."""
    after, total = BEGINNING, 0
    while True:
        began = time.perf_counter()
        with write_session_scope(batches.engine) as session:
            edge = session.scalar(
                select(VisitEvent.at)
                .where(VisitEvent.at >= after, VisitEvent.at < before)
                .order_by(VisitEvent.at)
                .offset(batches.size)
                .limit(1)
            )
            # More than a batch at one moment (never seen): that moment alone.
            until = before if edge is None else min(max(edge, after + MICROSECOND), before)
            gone = session.execute(
                delete(VisitEvent)
                .where(
                    VisitEvent.at >= after,
                    VisitEvent.at < until,
                    VisitEvent.tenant_id.in_(tenants),
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            if gone and batches.hook is not None:
                batches.hook("visit_event:delete")
        total += gone
        batches.counts.add("visit_event", "delete", gone)
        if until >= before:
            return total
        after = until
        batches.pause(began)


def oldest_visit_event(engine: Engine) -> datetime | None:
    with engine.connect() as connection:
        return connection.execute(select(func.min(VisitEvent.at))).scalar()


def visit_days_with_events(engine: Engine, bounds: list[tuple[date, datetime, datetime]]):
    """Of the days ``(day, start, end)``, those with at least one visit event."""
    with engine.connect() as connection:
        for day, start, end in bounds:
            found = connection.execute(
                select(VisitEvent.id).where(VisitEvent.at >= start, VisitEvent.at < end).limit(1)
            ).first()
            if found is not None:
                yield day


# -- bookings ----------------------------------------------------------------------------------

PSEUDONYMISED = {**erased_values("booking"), "code_hash": None}
"""What pseudonymisation writes over a booking: every personal column the register
(:mod:`connectors.store.personal_data`) names, as erasure does, and a code's hash."""


def pseudonymise_bookings(
    batches: Batches, before: datetime, tenants: list[int], now: datetime
) -> int:
    """Bookings of ``tenants`` whose visit ended before ``before`` lose the patient's
    data. Not a hold still running, nor one whose last change Opus has not yet heard
    of (the write-back needs it; it counts as waiting, see :func:`waiting_for_write_back`)."""

    def one(session: Session) -> int:
        ids = session.scalars(
            batches.pick(
                select(Booking.id)
                .where(
                    Booking.pseudonymised_at.is_(None),
                    Booking.ends_at < before,
                    Booking.tenant_id.in_(tenants),
                    Booking.status != "held",
                    Booking.change_seq == Booking.written_seq,
                )
                .order_by(Booking.ends_at, Booking.id)
            )
        ).all()
        if ids:
            session.execute(
                update(Booking)
                .where(Booking.id.in_(ids))
                .values(**PSEUDONYMISED, pseudonymised_at=now)
                .execution_options(synchronize_session=False)
            )
        return len(ids)

    return batches.repeat("booking", "pseudonymise", one)


def waiting_for_write_back(engine: Engine, before: datetime, tenants: list[int]) -> int:
    """Bookings past their retention kept only because Opus has not heard of their
    last change yet (shown on *Att hantera* as waiting)."""
    with engine.connect() as connection:
        return connection.execute(
            select(func.count())
            .select_from(Booking)
            .where(
                Booking.pseudonymised_at.is_(None),
                Booking.ends_at < before,
                Booking.tenant_id.in_(tenants),
                Booking.change_seq > Booking.written_seq,
            )
        ).scalar_one()


def delete_expired_holds(batches: Batches, tenant_id: int, now: datetime) -> int:
    """Holds that lapsed over a day ago and never became a booking, with their
    (code) messages. Never one that another row still refers to."""
    later = aliased(Booking)

    def one(session: Session) -> int:
        ids = session.scalars(
            batches.pick(
                select(Booking.id)
                .where(
                    Booking.tenant_id == tenant_id,
                    Booking.status.in_(("held", "expired")),
                    Booking.hold_expires_at < now - ONE_DAY,
                    ~exists().where(later.rebooked_from_id == Booking.id),
                    ~exists().where(MarketplaceAppointment.booking_id == Booking.id),
                    # A lapsed or declined offer's time: its offer row (kept for the
                    # refill statistics and "offered before") would go with it.
                    ~exists().where(WaitlistOffer.held_booking_id == Booking.id),
                )
                .order_by(Booking.id),
                of=Booking,
            )
        ).all()
        if ids:
            session.execute(
                delete(OutboxMessage)
                .where(OutboxMessage.booking_id.in_(ids))
                .execution_options(synchronize_session=False)
            )
            session.execute(
                delete(Booking)
                .where(Booking.id.in_(ids))
                .execution_options(synchronize_session=False)
            )
        return len(ids)

    return batches.repeat("booking", "delete expired holds", one)


def clear_client_keys(batches: Batches, now: datetime) -> int:
    def one(session: Session) -> int:
        ids = session.scalars(
            batches.pick(
                select(Booking.id)
                .where(
                    or_(
                        Booking.client_address_key.is_not(None),
                        Booking.client_cookie_key.is_not(None),
                    ),
                    Booking.created_at < now - CLIENT_KEYS_KEPT,
                )
                .order_by(Booking.id)
            )
        ).all()
        if ids:
            session.execute(
                update(Booking)
                .where(Booking.id.in_(ids))
                .values(client_address_key=None, client_cookie_key=None)
                .execution_options(synchronize_session=False)
            )
        return len(ids)

    return batches.repeat("booking", "clear client keys", one)


# -- messages, sessions, orders, mirrored appointments, login counters --------------------------


def clear_messages(batches: Batches, before: datetime, tenants: list[int]) -> int:
    def one(session: Session) -> int:
        ids = session.scalars(
            batches.pick(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.tenant_id.in_(tenants),
                    OutboxMessage.status.in_(FINAL_MESSAGE_STATUSES),
                    OutboxMessage.recipient != PURGED_RECIPIENT,
                    OutboxMessage.created_at < before,
                )
                .order_by(OutboxMessage.id)
            )
        ).all()
        if ids:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(recipient=PURGED_RECIPIENT, payload="{}", provider_id=None)
                .execution_options(synchronize_session=False)
            )
        return len(ids)

    return batches.repeat("outbox_message", "clear", one)


def _delete_where(batches: Batches, model, table: str, *conditions) -> int:
    def one(session: Session) -> int:
        ids = session.scalars(
            batches.pick(select(model.id).where(*conditions).order_by(model.id))
        ).all()
        if ids:
            session.execute(
                delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False)
            )
        return len(ids)

    return batches.repeat(table, "delete", one)


def delete_patient_sessions(batches: Batches, now: datetime) -> int:
    before = now - ONE_DAY
    return _delete_where(
        batches,
        PatientSession,
        "patient_session",
        or_(
            PatientSession.ended_at < before,
            PatientSession.expires_at < before,
            PatientSession.last_seen_at < before,
        ),
    )


def delete_bankid_orders(batches: Batches, now: datetime) -> int:
    """Orders that ended (or, never ended, started) over a day ago and whose session
    is gone (deleting an order would delete its session with it)."""
    before = now - ONE_DAY
    return _delete_where(
        batches,
        BankIdOrder,
        "bankid_order",
        BankIdOrder.started_at < before,
        or_(BankIdOrder.ended_at.is_(None), BankIdOrder.ended_at < before),
        ~exists().where(PatientSession.order_id == BankIdOrder.id),
    )


# The copy's personal columns, as the register names them (the number, and the mobile
# number and names kept for reminders).
_OPUS_PERSONAL = tuple(erased_values("opus_appointment"))


def clear_opus_appointments(batches: Batches, now: datetime) -> int:
    def one(session: Session) -> int:
        ids = session.scalars(
            batches.pick(
                select(OpusAppointment.id)
                .where(
                    or_(*(getattr(OpusAppointment, c).is_not(None) for c in _OPUS_PERSONAL)),
                    OpusAppointment.ends_at < now - ONE_DAY,
                )
                .order_by(OpusAppointment.id)
            )
        ).all()
        if ids:
            session.execute(
                update(OpusAppointment)
                .where(OpusAppointment.id.in_(ids))
                .values(**erased_values("opus_appointment"))
                .execution_options(synchronize_session=False)
            )
        return len(ids)

    return batches.repeat("opus_appointment", "clear", one)


def delete_login_counters(engine: Engine, counts: Counts, now: datetime) -> int:
    """Few rows (one per address and kind): one statement."""
    with write_session_scope(engine) as session:
        gone = session.execute(
            delete(LoginThrottle).where(LoginThrottle.window_start < now - ONE_DAY)
        ).rowcount
    counts.add("login_throttle", "delete", gone)
    return gone


# -- one run at a time (advice) ----------------------------------------------------------------

LOCK_SPACE = 0x0B11
"""First key of the PostgreSQL advisory lock of a retention run (second: 0). The
two-integer form, in a space of its own (0x0B0D..0x0B0F are the client limits', whose
second key is a hash that may be 0); every space is listed in
tests/connectors/store/test_advisory_locks.py."""


@contextmanager
def run_lock(engine: Engine) -> Iterator[bool]:
    """True if this run may work: on PostgreSQL, when no other run holds the lock (a
    session lock on a connection of its own, gone with the process that held it);
    SQLite's store is one process's, and its batches queue on its write lock."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        got = bool(
            connection.execute(
                text("SELECT pg_try_advisory_lock(:space, 0)"), {"space": LOCK_SPACE}
            ).scalar_one()
        )
        try:
            yield got
        finally:
            if got:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:space, 0)"), {"space": LOCK_SPACE}
                )
    finally:
        connection.close()
