"""Limits on what one anonymous client may hold and have sent, counted in the store.

A client is a keyed hash of its address and one of its browser's cookie (see
``booking_app.limits``); the store never sees either. Counts are read from the
bookings and the outbox themselves, inside the write transaction that would add one
more, so several app processes count the same holds and codes: on SQLite that
transaction holds the one write lock, on PostgreSQL transaction-scoped advisory locks
(per recipient, per client key, per tenant, always taken in that order) make the
requests that share a count queue before they count: parallel requests cannot each
see "one below the cap" and all send.

BankID login starts are counted per client address in ``login_throttle`` (one atomic
upsert per start, :mod:`connectors.store.login_throttle`).

A refusal is counted per tenant in ``limit_hit`` and logged by kind only, never with
an address, a number or a reference, so operators see that limits bite.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from connectors.store import login_throttle
from connectors.store.models import Booking, LimitHit, OutboxMessage, TenantSettings

log = logging.getLogger(__name__)

MAX_ACTIVE_HOLDS = 3
CODES_PER_RECIPIENT_HOUR = 3
CODES_PER_CLIENT_HOUR = 3
CODES_PER_CLIENT_DAY = 10
MAX_CODES_PER_HOLD = 3
MAX_WRONG_TRIES = 8
DEFAULT_SMS_COUNTRIES = "46,47,45,358"  # the column's default: the Nordic countries
BANKID_STARTS_PER_WINDOW = 10
"""BankID logins one address may start per :data:`login_throttle.WINDOW` (15 min)."""
KINDS = (
    "holds",
    "codes_per_hold",
    "recipient",
    "client_hour",
    "client_day",
    "tenant_hour",
    "api_holds",
    "bankid_starts",
    "country",
)
"""Every limit, by the name its refusals are counted under."""
ADVISORY_LOCK_SPACE = 0x0B0D
"""First key of the PostgreSQL advisory lock on one client's holds and codes; the
next two are the locks on one recipient's and on one tenant's codes."""
RECIPIENT_LOCK_SPACE = ADVISORY_LOCK_SPACE + 1
TENANT_LOCK_SPACE = ADVISORY_LOCK_SPACE + 2


@dataclass(frozen=True)
class Client:
    """Who asks, as keyed hashes: the address, and the browser's cookie if it sent one."""

    address_key: str
    cookie_key: str | None = None


class LimitReached(Exception):
    """``kind`` names the limit (and the message ``limit_<kind>``)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind
        self.key = f"limit_{kind}"


def _lock(session: Session, space: int, key: str) -> None:
    """Wait for, then hold until commit, the lock on ``key`` (hashed) in ``space``."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the write transaction already holds the database's write lock
    session.execute(
        text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), hashtext(:key))"),
        {"space": space, "key": key},
    )


def _lock_client(session: Session, client: Client) -> None:
    _lock(session, ADVISORY_LOCK_SPACE, client.address_key)


def _is_client(client: Client) -> ColumnElement[bool]:
    matches = [Booking.client_address_key == client.address_key]
    if client.cookie_key:
        matches.append(Booking.client_cookie_key == client.cookie_key)
    return or_(*matches)


def active_holds(session: Session, client: Client, now: datetime) -> int:
    """The client's holds not yet lapsed, over every tenant."""
    return session.scalar(
        select(func.count()).where(
            _is_client(client), Booking.status == "held", Booking.hold_expires_at > now
        )
    )


def codes_since(session: Session, client: Client, since: datetime) -> int:
    """Code messages queued for the client's holds since ``since``."""
    return session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .join(Booking, Booking.id == OutboxMessage.booking_id)
        .where(_is_client(client), OutboxMessage.kind == "code", OutboxMessage.created_at > since)
    )


def check_new_hold(
    session: Session,
    tenant_id: int,
    client: Client,
    now: datetime,
    most: int = MAX_ACTIVE_HOLDS,
    kind: str = "holds",
) -> None:
    """Raise :class:`LimitReached` (``kind``) if the client already holds ``most``.
    Call inside the write transaction that then places the hold (and marks it with
    :func:`mark_holder`). An API key is a client too, with its own ``most``."""
    _lock_client(session, client)
    if active_holds(session, client, now) >= most:
        refuse(session, tenant_id, kind, now)


def mark_holder(session: Session, booking: Booking, client: Client) -> None:
    booking.client_address_key = client.address_key
    booking.client_cookie_key = client.cookie_key
    session.flush()


def check_new_code(
    session: Session, booking: Booking, recipient: str, hourly_cap: int, now: datetime
) -> None:
    """Raise :class:`LimitReached` unless one more code may go to ``recipient`` for
    ``booking``: per hold, per recipient, per client (hour and day), per tenant."""
    if booking.codes_sent >= MAX_CODES_PER_HOLD:
        refuse(session, booking.tenant_id, "codes_per_hold", now)
    hour_ago = now - timedelta(hours=1)
    # Every lock before any count, in one order (recipient, client, tenant): a request
    # counts only once every earlier one that shares a count has committed its code.
    _lock(session, RECIPIENT_LOCK_SPACE, recipient)
    client = None
    if booking.client_address_key is not None:
        client = Client(booking.client_address_key, booking.client_cookie_key)
        _lock_client(session, client)
    _lock(session, TENANT_LOCK_SPACE, str(booking.tenant_id))
    to_recipient = session.scalar(
        select(func.count()).where(
            OutboxMessage.kind == "code",
            OutboxMessage.recipient == recipient,
            OutboxMessage.created_at > hour_ago,
        )
    )
    if to_recipient >= CODES_PER_RECIPIENT_HOUR:
        refuse(session, booking.tenant_id, "recipient", now)
    if client is not None:
        if codes_since(session, client, hour_ago) >= CODES_PER_CLIENT_HOUR:
            refuse(session, booking.tenant_id, "client_hour", now)
        if codes_since(session, client, now - timedelta(days=1)) >= CODES_PER_CLIENT_DAY:
            refuse(session, booking.tenant_id, "client_day", now)
    for_tenant = session.scalar(
        select(func.count()).where(
            OutboxMessage.tenant_id == booking.tenant_id,
            OutboxMessage.kind == "code",
            OutboxMessage.created_at > hour_ago,
        )
    )
    if for_tenant >= hourly_cap:
        refuse(session, booking.tenant_id, "tenant_hour", now)


def sms_allowed(settings: TenantSettings | None, number: str) -> bool:
    """Whether an SMS may go to ``number`` (E.164) under the tenant's allowed country
    codes ("46,47,45,358"). The pages and the API refuse other numbers as they are
    typed; this is the last check, before anything is queued. Country calling codes
    are a prefix code, so a prefix decides."""
    stored = settings.sms_country_codes if settings is not None else DEFAULT_SMS_COUNTRIES
    codes = [code for code in stored.split(",") if code.strip().isdigit()]
    return any(number.startswith(f"+{code.strip()}") for code in codes)


def check_sms_country(session: Session, booking: Booking, number: str, now: datetime) -> None:
    """Raise :class:`LimitReached` (``country``) if no SMS may go to ``number``."""
    if not sms_allowed(session.get(TenantSettings, booking.tenant_id), number):
        refuse(session, booking.tenant_id, "country", now)


def count_bankid_start(session: Session, tenant_id: int, address_key: str, now: datetime) -> None:
    """Count one BankID login started by the client at ``address_key``; raise
    :class:`LimitReached` (``bankid_starts``) past :data:`BANKID_STARTS_PER_WINDOW` in
    the window. One atomic upsert: parallel starts through several processes are all
    counted. Each start costs a BankID order (and the relying party's fee)."""
    started = login_throttle.count_client_failure(session, "bankid_start", address_key, now)
    if started > BANKID_STARTS_PER_WINDOW:
        refuse(session, tenant_id, "bankid_starts", now)


def refuse(session: Session, tenant_id: int, kind: str, now: datetime) -> None:
    """Count and log the refusal, then raise it. The count is written in the caller's
    transaction, so the caller must commit it (answer a page, not an exception)."""
    record_hit(session, tenant_id, kind, now)
    raise LimitReached(kind)


def record_hit(session: Session, tenant_id: int, kind: str, now: datetime) -> None:
    # Kind and tenant only: the log and the count carry nothing about the client.
    log.warning("limit reached: tenant %s, %s", tenant_id, kind)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(LimitHit).values(tenant_id=tenant_id, kind=kind, hits=1, last_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[LimitHit.tenant_id, LimitHit.kind],
        set_={"hits": LimitHit.hits + 1, "last_at": statement.excluded.last_at},
    )
    session.execute(statement)


def hits(session: Session, tenant_id: int) -> dict[str, int]:
    """The tenant's refusals so far, by kind."""
    return dict(
        session.execute(
            select(LimitHit.kind, LimitHit.hits).where(LimitHit.tenant_id == tenant_id)
        ).all()
    )
