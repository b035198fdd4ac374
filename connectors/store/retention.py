"""Retention: how long the store keeps personal data, and the batches that remove it.

:data:`RULES` names every table that holds personal data (or columns that look like
it) and what retention does there; the README's *Personal data* section says the same
in words, and a test fails when a model gains a personal-looking column that no rule
names. The rules, in short:

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

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, exists, func, or_, select, text, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from connectors.store.db import write_session_scope
from connectors.store.models import (
    RETENTION_RANGES,
    BankIdOrder,
    Booking,
    LoginThrottle,
    MarketplaceAppointment,
    OpusAppointment,
    OutboxMessage,
    PatientSession,
    Tenant,
    TenantSettings,
    VisitEvent,
)

# -- the rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """What retention does with one table's personal columns (``action``: delete
    rows, pseudonymise or clear columns, or keep, with the reason in ``when``)."""

    table: str
    columns: tuple[str, ...]
    action: str
    when: str


RULES: tuple[Rule, ...] = (
    Rule(
        "visit_event",
        ("visitor", "source", "path"),
        "delete",
        "after retention_visit_event_days local days (default 400); the stats_* daily "
        "tables made from them stay. The visitor is a daily salted hash already.",
    ),
    Rule("visit_salt", ("salt",), "delete", "when its day is over (visit statistics flow)"),
    Rule(
        "booking",
        (
            "personal_number",
            "first_name",
            "last_name",
            "email",
            "mobile",
            "address1",
            "postal_code",
            "city",
            "message",
            "code_hash",
            "opus_patient_id",
            "write_back_error",
        ),
        "pseudonymise",
        "retention_booking_months after the visit (default 24); a booking whose change "
        "Opus has not yet heard of waits for the write-back",
    ),
    Rule(
        "booking",
        ("client_address_key", "client_cookie_key"),
        "clear",
        "two days after the booking was made (the limits on one client look back a day)",
    ),
    Rule(
        "booking",
        ("*",),
        "delete",
        "expired holds (never booked): a day after the hold lapsed, with their messages",
    ),
    Rule(
        "outbox_message",
        ("recipient", "payload", "provider_id"),
        "clear",
        "retention_message_days after it was queued (default 30), once sent, delivered "
        "or given up; kind, channel, status, tries and times stay",
    ),
    Rule(
        "patient_session",
        ("personal_number", "given_name", "surname"),
        "delete",
        "a day after it ended (logged out, idle or expired)",
    ),
    Rule("bankid_order", ("order_ref", "browser_hash"), "delete", "a day after it ended"),
    Rule(
        "opus_appointment",
        ("personal_number",),
        "clear",
        "a day after the appointment (only coming ones are listed in Mina bokningar)",
    ),
    Rule("login_throttle", ("client",), "delete", "a day after its window (an address)"),
    # Kept on purpose: not patients' data, or not personal at all.
    Rule("operator", ("email", "name"), "keep", "staff accounts, while the account exists"),
    Rule("audit_entry", ("operator_email",), "keep", "who changed a setting: accountability"),
    Rule(
        "clinic",
        ("address1", "address2", "postal_code", "city", "phone", "email"),
        "keep",
        "the clinic's own contact details, from Opus",
    ),
    Rule("practitioner", ("first_name", "last_name"), "keep", "staff, from Opus"),
    Rule(
        "quarantined_row",
        ("row_data",),
        "keep",
        "Opus rows of clinics, clinicians, treatments and free time: no patients",
    ),
    Rule("tenant_settings", ("email_sender",), "keep", "the clinic's sender address"),
    Rule("sync_run", ("message",), "keep", "a sync's outcome for operators: no patients"),
    Rule("message_template", ("body",), "keep", "the clinic's texts, no patient's"),
)


# -- each tenant's retention -----------------------------------------------------------------

ONE_DAY = timedelta(days=1)
CLIENT_KEYS_KEPT = timedelta(days=2)
FINAL_MESSAGE_STATUSES = ("sent", "delivered", "failed")
PURGED_RECIPIENT = ""
"""A cleared message's recipient (the column is NOT NULL)."""
BEGINNING = datetime(1, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Policy:
    tenant_id: int
    visit_event_days: int
    booking_months: int
    message_days: int


DEFAULTS = {name: high for name, (_low, high) in RETENTION_RANGES.items()}


def policies(session: Session) -> list[Policy]:
    """Every tenant's retention (a tenant without a settings row: the defaults)."""
    rows = session.execute(
        select(
            Tenant.id,
            TenantSettings.retention_visit_event_days,
            TenantSettings.retention_booking_months,
            TenantSettings.retention_message_days,
        )
        .outerjoin(TenantSettings, TenantSettings.tenant_id == Tenant.id)
        .order_by(Tenant.id)
    ).all()
    return [
        Policy(
            tenant_id,
            days or DEFAULTS["retention_visit_event_days"],
            months or DEFAULTS["retention_booking_months"],
            message_days or DEFAULTS["retention_message_days"],
        )
        for tenant_id, days, months, message_days in rows
    ]


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def months_before(day: date, months: int) -> date:
    """The same day of the month ``months`` earlier (the month's last, if shorter)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (following - timedelta(days=1)).day))


@dataclass(frozen=True)
class Cutoffs:
    """Per tenant, the moment before which each rule applies."""

    visit_events: dict[int, datetime]
    bookings: dict[int, datetime]
    messages: dict[int, datetime]


def cutoffs(policies_: list[Policy], now: datetime, tz: ZoneInfo) -> Cutoffs:
    today = now.astimezone(tz).date()
    return Cutoffs(
        visit_events={
            p.tenant_id: local_midnight(today - timedelta(days=p.visit_event_days), tz)
            for p in policies_
        },
        bookings={
            p.tenant_id: local_midnight(months_before(today, p.booking_months), tz)
            for p in policies_
        },
        messages={p.tenant_id: now - timedelta(days=p.message_days) for p in policies_},
    )


def groups(by_tenant: dict[int, datetime]) -> list[tuple[datetime, list[int]]]:
    """Tenants that share a cutoff, oldest cutoff first: mostly one group (the
    defaults), so a rule is one walk over its table, not one per tenant."""
    shared: dict[datetime, list[int]] = {}
    for tenant_id, moment in sorted(by_tenant.items()):
        shared.setdefault(moment, []).append(tenant_id)
    return sorted(shared.items())


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
    size: int = 5000
    hook: BatchHook | None = None

    @property
    def postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

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

# One statement a batch on PostgreSQL: the next rows by time (from the index on ``at``,
# after the last batch's last row), deleted where their tenant is in the group. Kept
# rows of other tenants are passed over once per run, never read again by this walk.
_DELETE_EVENTS = text(
    """
WITH batch AS (
    SELECT id, tenant_id, at FROM visit_event
    WHERE at >= :after_at AND (at > :after_at OR id > :after_id) AND at < :before
    ORDER BY at, id LIMIT :size
), gone AS (
    DELETE FROM visit_event v USING batch b
    WHERE v.id = b.id AND b.tenant_id = ANY(:tenants)
    RETURNING 1
), last AS (
    SELECT at, id FROM batch ORDER BY at DESC, id DESC LIMIT 1
)
SELECT (SELECT at FROM last), (SELECT id FROM last),
       (SELECT count(*) FROM batch), (SELECT count(*) FROM gone)
"""
)


def delete_visit_events(batches: Batches, before: datetime, tenants: list[int]) -> int:
    """Delete the ``tenants``' visit events before ``before``, in batches by time."""
    after_at, after_id, total = BEGINNING, 0, 0
    while True:
        with write_session_scope(batches.engine) as session:
            if batches.postgresql:
                row = session.execute(
                    _DELETE_EVENTS,
                    {
                        "after_at": after_at, "after_id": after_id, "before": before,
                        "size": batches.size, "tenants": tenants,
                    },
                ).one()  # fmt: skip
                last_at, last_id, seen, gone = row
            else:
                last_at, last_id, seen, gone = _delete_events_sqlite(
                    session, batches.size, after_at, after_id, before, tenants
                )
            if gone and batches.hook is not None:
                batches.hook("visit_event:delete")
        total += gone
        batches.counts.add("visit_event", "delete", gone)
        if seen < batches.size:
            return total
        after_at, after_id = last_at, last_id


def _delete_events_sqlite(
    session: Session,
    size: int,
    after_at: datetime,
    after_id: int,
    before: datetime,
    tenants: list[int],
) -> tuple[datetime | None, int | None, int, int]:
    rows = session.execute(
        select(VisitEvent.id, VisitEvent.tenant_id, VisitEvent.at)
        .where(
            VisitEvent.at >= after_at,
            or_(VisitEvent.at > after_at, VisitEvent.id > after_id),
            VisitEvent.at < before,
        )
        .order_by(VisitEvent.at, VisitEvent.id)
        .limit(size)
    ).all()
    if not rows:
        return None, None, 0, 0
    wanted = set(tenants)
    ids = [row.id for row in rows if row.tenant_id in wanted]
    if ids:
        session.execute(
            delete(VisitEvent)
            .where(VisitEvent.id.in_(ids))
            .execution_options(synchronize_session=False)
        )
    return rows[-1].at, rows[-1].id, len(rows), len(ids)


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

PSEUDONYMISED = {
    "personal_number": None,
    "first_name": None,
    "last_name": None,
    "email": None,
    "mobile": None,
    "address1": None,
    "postal_code": None,
    "city": None,
    "message": None,
    "code_hash": None,
    "client_address_key": None,
    "client_cookie_key": None,
    "opus_patient_id": None,
    "write_back_error": None,
}
"""What pseudonymisation writes over a booking's personal data."""


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


def clear_opus_appointments(batches: Batches, now: datetime) -> int:
    def one(session: Session) -> int:
        ids = session.scalars(
            batches.pick(
                select(OpusAppointment.id)
                .where(
                    OpusAppointment.personal_number.is_not(None),
                    OpusAppointment.ends_at < now - ONE_DAY,
                )
                .order_by(OpusAppointment.id)
            )
        ).all()
        if ids:
            session.execute(
                update(OpusAppointment)
                .where(OpusAppointment.id.in_(ids))
                .values(personal_number=None)
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

LOCK_SPACE = 0x0B0D
"""First key of the PostgreSQL advisory lock of a retention run (second: 0). The
two-integer form, like the write-back's (0x0B0C), so the two never meet."""


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
