"""Holding, confirming and proving bookings in the store.

The rule that protects patients, one practitioner's time held or booked at most
once, is the database's (see :class:`~connectors.store.models.Booking`): here we ask
for the time and take no for an answer. Every function works inside the caller's
transaction and leaves nothing half-done when it raises.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors.store import client_limits
from connectors.store.availability import bookable_times, rules_for
from connectors.store.models import (
    ACTIVE_BOOKING,
    Booking,
    Clinic,
    OutboxMessage,
    TenantSettings,
    Treatment,
)

HOLD = timedelta(minutes=10)
CODE_LIFETIME = timedelta(minutes=10)
CODE_RESEND_AFTER = timedelta(seconds=60)
MAX_CODE_ATTEMPTS = 5
FAIRNESS_HORIZON = timedelta(days=30)
OVERLAP_CONSTRAINT = "ex_booking_practitioner_time"
ADVISORY_LOCK_SPACE = 0x0B10
"""First key of the PostgreSQL advisory locks on a practitioner's time (second: the
practitioner's store id). Its own: it once shared 0x0B0C with the write-back's lock
on an Opus database, so a booking of practitioner N queued behind the write-back of
database N (and write-back saw database N busy while N's time was being booked).
Every space is listed in tests/connectors/store/test_advisory_locks.py."""


class BookingError(Exception):
    """Something the patient should be told; ``key`` names the message."""

    key = "booking_error"


class NotFound(BookingError):
    key = "not_found"


class TimeTaken(BookingError):
    """The time is no longer free (someone else holds or booked it)."""

    key = "time_taken"


class HoldLost(BookingError):
    """The booking is no longer held (it lapsed and the time went, or was released)."""

    key = "hold_lost"


class ResendTooSoon(BookingError):
    key = "code_resend_too_soon"

    def __init__(self, wait: timedelta) -> None:
        super().__init__(f"wait {wait.total_seconds():.0f} s")
        self.wait = wait


@dataclass(frozen=True)
class Request:
    """What a patient (or an API client) asks for."""

    tenant_id: int
    clinic_id: int
    treatment_id: int
    starts_at: datetime
    practitioner_id: int | None  # None: *Vilken behandlare som helst*
    channel: str = "site"
    any_clinic: bool = False
    language: str = "sv"


class NotActive(BookingError):
    """The booking is not (or no longer) confirmed: nothing to cancel or move."""

    key = "not_active"


def hold(
    session: Session,
    request: Request,
    now: datetime,
    lasts: timedelta = HOLD,
    replaces: Booking | None = None,
) -> Booking:
    """Hold the asked-for time for ``lasts``, with the asked-for practitioner or, for
    "any", the one with the fewest coming bookings among those free then.

    With ``replaces`` the hold is a rebooking of that (confirmed) booking: it carries
    the patient's details and the Opus appointment's key over, and confirming it
    retires the old booking (see :func:`confirm`).
    """
    if replaces is not None and replaces.status != "confirmed":
        raise NotActive()
    treatment, clinic, settings = _context(session, request)
    rules = rules_for(settings, treatment, clinic, now)
    wanted = None if request.practitioner_id is None else [request.practitioner_id]
    slots = bookable_times(
        session,
        request.tenant_id,
        clinic.id,
        treatment,
        rules,
        request.starts_at,
        request.starts_at + timedelta(minutes=1),
        now,
        wanted,
    )
    free = [s.practitioner_id for s in slots if s.starts_at == request.starts_at]
    if not free:
        raise TimeTaken()
    lock_practitioners(session, free)
    for practitioner_id in fair_order(session, free, now) if wanted is None else free:
        key = str(uuid.uuid4())
        booking = Booking(
            reference=secrets.token_urlsafe(16),
            idempotency_key=key,
            appointment_key=key if replaces is None else replaces.appointment_key,
            rebooked_from_id=None if replaces is None else replaces.id,
            tenant_id=request.tenant_id,
            clinic_id=clinic.id,
            practitioner_id=practitioner_id,
            treatment_id=treatment.id,
            starts_at=request.starts_at,
            ends_at=request.starts_at + rules.duration,
            blocks_from=request.starts_at - rules.warm_up,
            blocks_until=request.starts_at + rules.duration + rules.cool_down,
            status="held",
            hold_expires_at=now + lasts,
            channel=request.channel,
            any_practitioner=wanted is None,
            any_clinic=request.any_clinic,
            language=request.language,
        )
        if replaces is not None:
            carry_patient_over(replaces, booking)
        if take_time(session, booking, now):
            return booking
    raise TimeTaken()


def lock_practitioners(session: Session, practitioner_ids: Iterable[int]) -> None:
    """Queue behind other writers to these practitioners' time.

    The exclusion constraint decides who gets a time; but two transactions that each
    expire a lapsed hold and insert can deadlock inside its check, which PostgreSQL
    settles by failing one with an error instead of a clean "taken". Taking a
    transaction-scoped advisory lock per practitioner first (in sorted order, so two
    writers never wait on each other) makes them queue. SQLite needs none: a write
    transaction there already holds the database's one write lock.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for practitioner_id in sorted(set(practitioner_ids)):
        session.execute(
            text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), CAST(:id AS integer))"),
            {"space": ADVISORY_LOCK_SPACE, "id": practitioner_id},
        )


def take_time(session: Session, booking: Booking, now: datetime) -> bool:
    """Insert ``booking`` (held), after letting lapsed holds on its time go. False if
    the database says the time is taken."""
    try:
        with session.begin_nested():
            session.execute(
                update(Booking)
                .where(
                    Booking.practitioner_id == booking.practitioner_id,
                    Booking.status == "held",
                    Booking.hold_expires_at <= now,
                    Booking.blocks_from < booking.blocks_until,
                    Booking.blocks_until > booking.blocks_from,
                )
                .values(status="expired")
                .execution_options(synchronize_session=False)
            )
            session.add(booking)
            session.flush()
        return True
    except IntegrityError as exc:
        if OVERLAP_CONSTRAINT not in str(exc.orig):
            raise
        return False  # the savepoint's rollback took the booking out of the session


def fair_order(session: Session, practitioner_ids: list[int], now: datetime) -> list[int]:
    """Practitioners by how few active bookings they have in the coming month, ties
    in random order: "any practitioner" spreads bookings instead of filling the first."""
    counts = dict(
        session.execute(
            select(Booking.practitioner_id, func.count())
            .where(
                Booking.practitioner_id.in_(practitioner_ids),
                Booking.status.in_(ACTIVE_BOOKING),
                Booking.starts_at >= now,
                Booking.starts_at < now + FAIRNESS_HORIZON,
            )
            .group_by(Booking.practitioner_id)
        ).all()
    )
    shuffled = sorted(practitioner_ids, key=lambda _: secrets.randbelow(1 << 30))
    return sorted(shuffled, key=lambda p: counts.get(p, 0))


def extend_hold(session: Session, booking: Booking, now: datetime, lasts: timedelta = HOLD) -> None:
    """Keep holding while the patient is still at it (details given, code sent).

    Once a code is sent, the hold lasts no longer than that code: re-posting the
    details does not extend it, only a new code does, and codes are limited
    (:mod:`connectors.store.client_limits`), so no hold lasts indefinitely."""
    if booking.status != "held":
        raise HoldLost()
    until = now + lasts
    if booking.code_sent_at is not None:
        until = min(until, booking.code_sent_at + CODE_LIFETIME)
    booking.hold_expires_at = max(booking.hold_expires_at or now, until)
    session.flush()


_PATIENT_FIELDS = (
    "personal_number",
    "first_name",
    "last_name",
    "email",
    "mobile",
    "address1",
    "postal_code",
    "city",
    "message",
    "campaign_code",
    "logged_in_with_eid",
)


def carry_patient_over(old: Booking, new: Booking) -> None:
    for field in _PATIENT_FIELDS:
        setattr(new, field, getattr(old, field))


def confirm(session: Session, booking: Booking, now: datetime) -> Booking:
    """Turn a hold into a booking, make write-back to Opus due, and queue the
    patient's confirmation messages, all in the caller's transaction.

    Confirming twice (a double submit) returns the booking confirmed the first time.
    A hold that lapsed is still confirmed if nobody took its time meanwhile. A
    rebooking's hold retires the booking it replaces (status ``rebooked``).
    """
    if booking.status == "confirmed":
        return booking
    if booking.status != "held":
        raise HoldLost()
    replaced = None
    if booking.rebooked_from_id is not None:
        replaced = session.get(Booking, booking.rebooked_from_id, with_for_update=True)
        if replaced is None or replaced.status != "confirmed":
            raise NotActive()  # cancelled or moved elsewhere meanwhile
    lock_practitioners(session, [booking.practitioner_id])
    try:
        with session.begin_nested():
            confirmed = session.execute(
                update(Booking)
                .where(Booking.id == booking.id, Booking.status == "held")
                .values(
                    status="confirmed",
                    confirmed_at=now,
                    hold_expires_at=None,
                    **_write_back_due(now),
                )
                .execution_options(synchronize_session=False)
            ).rowcount
    except IntegrityError as exc:  # the lapsed hold's time was taken, and confirmed
        if OVERLAP_CONSTRAINT not in str(exc.orig):
            raise
        confirmed = 0
    session.refresh(booking)
    if not confirmed:
        raise HoldLost()
    if replaced is not None:
        # The new booking's write-back moves the one Opus appointment; the old one has
        # nothing more to tell Opus, so its sequence numbers are left as they are.
        replaced.status = "rebooked"
        replaced.cancelled_at = now
        session.flush()
    queue_messages(session, booking, "new" if replaced is None else "rebook")
    return booking


def cancel(session: Session, booking: Booking, now: datetime) -> Booking:
    """Cancel a confirmed booking: its time is free at once in the store, write-back
    cancels the Opus appointment, and the patient is told. Cancelling twice is one
    cancellation. Whether the patient *may* cancel (the clinic's rules, the cut-off)
    is the caller's question."""
    if booking.status == "cancelled":
        return booking
    if booking.status != "confirmed":
        raise NotActive()
    done = session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == "confirmed")
        .values(status="cancelled", cancelled_at=now, **_write_back_due(now))
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(booking)
    if not done:
        raise NotActive()
    queue_messages(session, booking, "cancel")
    return booking


def _write_back_due(now: datetime) -> dict:
    """Column values that tell write-back: Opus must now hear of this booking."""
    return {
        "change_seq": Booking.change_seq + 1,
        "write_back_next_at": now,
        "write_back_attempts": 0,
        "write_back_error": None,
    }


def release(session: Session, booking: Booking) -> None:
    """Let a held time go at once (the patient gave up, or ran out of code tries)."""
    if booking.status == "held":
        booking.status = "expired"
        session.flush()


def queue_messages(
    session: Session, booking: Booking, kind: str, payload: dict | None = None
) -> None:
    """Queue the patient's e-mail and SMS for ``kind`` in this transaction. No SMS to
    a number outside the tenant's allowed countries (a booking from the marketplace,
    or one made before the operator narrowed them): the e-mail still goes."""
    settings = session.get(TenantSettings, booking.tenant_id)
    mobile = booking.mobile
    if mobile and not client_limits.sms_allowed(settings, mobile):
        mobile = None
    for channel, recipient in (("email", booking.email), ("sms", mobile)):
        if recipient:
            session.add(
                OutboxMessage(
                    tenant_id=booking.tenant_id,
                    booking_id=booking.id,
                    channel=channel,
                    kind=kind,
                    recipient=recipient,
                    payload=json.dumps(payload or {}),
                )
            )
    session.flush()


# -- the e-mail/SMS code ---------------------------------------------------------------


class CodeCheck(Enum):
    OK = "ok"
    WRONG = "code_wrong"
    EXPIRED = "code_expired"
    LOCKED = "code_locked"


def send_code(
    session: Session, booking: Booking, channel: str, secret: bytes, now: datetime
) -> None:
    """A new 6-digit code for ``booking``, queued to the patient by ``channel``.

    Only a keyed hash of the code is kept on the booking; the code itself sits in the
    outbox message until it is sent. Raises
    :class:`~connectors.store.client_limits.LimitReached` past a quota; past the
    hold's own (:data:`~connectors.store.client_limits.MAX_CODES_PER_HOLD`) the time
    is released too, and the caller must commit that.
    """
    if booking.status != "held":
        raise HoldLost()
    if booking.code_sent_at and now - booking.code_sent_at < CODE_RESEND_AFTER:
        raise ResendTooSoon(CODE_RESEND_AFTER - (now - booking.code_sent_at))
    recipient = booking.email if channel == "email" else booking.mobile
    if not recipient:
        raise BookingError(f"no {channel} address to send a code to")
    if booking.codes_sent >= client_limits.MAX_CODES_PER_HOLD:
        release(session, booking)
    if channel == "sms":
        client_limits.check_sms_country(session, booking, recipient, now)
    settings = session.get(TenantSettings, booking.tenant_id)
    hourly_cap = settings.code_messages_per_hour if settings else 0
    client_limits.check_new_code(session, booking, recipient, hourly_cap, now)
    code = f"{secrets.randbelow(10**6):06d}"
    booking.code_hash = _code_hash(secret, booking.reference, code)
    booking.code_channel = channel
    booking.code_sent_at = now
    booking.code_expires_at = now + CODE_LIFETIME
    booking.code_attempts = 0  # this code's tries; code_wrong_tries counts them all
    booking.codes_sent += 1
    extend_hold(session, booking, now, CODE_LIFETIME)
    session.add(
        OutboxMessage(
            tenant_id=booking.tenant_id,
            booking_id=booking.id,
            channel=channel,
            kind="code",
            recipient=recipient,
            payload=json.dumps({"code": code}),
            created_at=now,  # the quotas count by the app's clock
        )
    )
    session.flush()


def check_code(
    session: Session, booking: Booking, code: str, secret: bytes, now: datetime
) -> CodeCheck:
    """Count one try of ``code``. The caller commits whatever the answer: a wrong try
    must be counted, and the fifth wrong one of a code, or the eighth of all the
    hold's codes (a resend does not start over), lets the held time go."""
    if booking.code_hash is None or code_attempts_left(booking) <= 0:
        return CodeCheck.LOCKED
    if booking.code_expires_at is None or now >= booking.code_expires_at:
        return CodeCheck.EXPIRED
    booking.code_attempts += 1
    if hmac.compare_digest(booking.code_hash, _code_hash(secret, booking.reference, code.strip())):
        booking.code_hash = None  # a code confirms once
        session.flush()
        return CodeCheck.OK
    booking.code_wrong_tries += 1
    if code_attempts_left(booking) <= 0:
        release(session, booking)
        return CodeCheck.LOCKED
    session.flush()
    return CodeCheck.WRONG


def code_attempts_left(booking: Booking) -> int:
    return min(
        MAX_CODE_ATTEMPTS - booking.code_attempts,
        client_limits.MAX_WRONG_TRIES - booking.code_wrong_tries,
    )


def _code_hash(secret: bytes, reference: str, code: str) -> str:
    return hmac.new(secret, f"{reference}:{code}".encode(), hashlib.sha256).hexdigest()


def _context(session: Session, request: Request) -> tuple[Treatment, Clinic, TenantSettings]:
    treatment = session.get(Treatment, request.treatment_id)
    clinic = session.get(Clinic, request.clinic_id)
    settings = session.get(TenantSettings, request.tenant_id)
    if (
        treatment is None
        or clinic is None
        or settings is None
        or treatment.tenant_id != request.tenant_id
        or clinic.tenant_id != request.tenant_id
        or treatment.opus_database_id != clinic.opus_database_id
        or not treatment.in_opus
        or not clinic.in_opus
    ):
        raise NotFound()
    return treatment, clinic, settings


def booking_by_reference(session: Session, tenant_id: int, reference: str) -> Booking:
    booking = session.scalars(
        select(Booking).where(Booking.tenant_id == tenant_id, Booking.reference == reference)
    ).one_or_none()
    if booking is None:
        raise NotFound()
    return booking
