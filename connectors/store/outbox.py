"""The outbox's bookkeeping: which messages are due, who is sending them, what came of it.

Messages are queued by :mod:`connectors.store.bookings` in the transaction of the
change that causes them. Delivering one is three short transactions with the network
call outside all of them:

1. **claim** (:func:`claim_due`): due messages become ``sending``, with a lease until
   ``next_attempt_at`` and ``attempts`` counted up. PostgreSQL workers skip each
   other's rows (``FOR UPDATE SKIP LOCKED``); SQLite has one writer at a time
   (``BEGIN IMMEDIATE``). Either way two workers never hold one message.
2. **send**, by the caller.
3. **record** (:func:`mark_sent` / :func:`mark_failed`): sent; or back to ``pending``
   after an exponential backoff; or ``failed`` with the reason, for a permanent refusal
   or once ``max_attempts`` tries are used up.

A worker that dies while sending leaves its message ``sending``; after the lease it
is due again (at most once more, were the first try to have gone out before the
crash: the e-mail keeps its Message-ID, so a mail client drops the copy).

A booking's messages on one channel go out in order: one waits while an earlier one
is still pending (a cancellation never overtakes its confirmation).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from connectors.notifications.compose import TEMPLATED_KINDS, Outgoing
from connectors.notifications.defaults import Text
from connectors.notifications.fields import Appointment, address_line
from connectors.privacy import scrub
from connectors.store.models import (
    Booking,
    Clinic,
    MessageTemplate,
    OutboxMessage,
    Practitioner,
    Tenant,
    TenantSettings,
    Treatment,
)

LEASE = timedelta(minutes=10)
"""How long a claim lasts: far longer than a batch of sends with their timeouts."""
MAX_DELAY = timedelta(hours=1)
UNSENT = ("pending", "sending")


def _due(now: datetime):
    earlier = aliased(OutboxMessage)
    return and_(
        OutboxMessage.status.in_(UNSENT),
        OutboxMessage.next_attempt_at <= now,
        ~exists().where(
            earlier.booking_id == OutboxMessage.booking_id,
            earlier.channel == OutboxMessage.channel,
            earlier.id < OutboxMessage.id,
            earlier.status.in_(UNSENT),
        ),
    )


def due_exists(session: Session, now: datetime) -> bool:
    """Is any message due? One index lookup and no lock: what a worker polling every
    second asks before it takes the write lock to claim."""
    return (
        session.scalar(
            select(OutboxMessage.id)
            .where(OutboxMessage.status.in_(UNSENT), OutboxMessage.next_attempt_at <= now)
            .limit(1)
        )
        is not None
    )


def claim_due(
    session: Session,
    now: datetime,
    limit: int = 50,
    lease: timedelta = LEASE,
    max_attempts: int = 8,
) -> list[tuple[int, int]]:
    """Claim up to ``limit`` due messages, oldest first: ``[(id, attempt), ...]`` where
    ``attempt`` (1, 2, …) identifies this claim to :func:`mark_failed`. A message
    whose lease ran out after its last allowed try is failed instead of claimed.

    Run it in a transaction of its own (``write_session_scope``) and commit before
    sending, so that other workers see the claim."""
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.attempts)
        .where(_due(now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=OutboxMessage)
    ).all()
    used_up = [id_ for id_, attempts in rows if attempts >= max_attempts]
    if used_up:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(used_up))
            .values(
                status="failed",
                last_error=func.coalesce(OutboxMessage.last_error, "")
                + f" [given up after {max_attempts} tries; the last did not finish]",
            )
            .execution_options(synchronize_session=False)
        )
    claims = [(id_, attempts + 1) for id_, attempts in rows if attempts < max_attempts]
    if claims:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([id_ for id_, _ in claims]))
            .values(
                status="sending",
                attempts=OutboxMessage.attempts + 1,
                next_attempt_at=now + lease,
            )
            .execution_options(synchronize_session=False)
        )
    return claims


def mark_sent(
    session: Session, message_id: int, now: datetime, provider_id: str | None = None
) -> None:
    """The server or gateway took the message. Recorded whoever holds the claim now:
    that it went out is the truth, and a second worker must not send it again. A
    delivery report that came first (``delivered``/``failed``) is kept."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(
            status=case(
                (OutboxMessage.status.in_(("delivered", "failed")), OutboxMessage.status),
                else_="sent",
            ),
            sent_at=now,
            provider_id=func.coalesce(OutboxMessage.provider_id, provider_id),
            payload=_without_code(),
        )
        .execution_options(synchronize_session=False)
    )


def mark_failed(
    session: Session,
    message_id: int,
    attempt: int,
    now: datetime,
    reason: str,
    *,
    permanent: bool,
    max_attempts: int = 8,
    retry_delay: timedelta = timedelta(seconds=30),
) -> str:
    """Record a failed try; returns the new status (``pending`` to retry, or
    ``failed``). Only the claim ``attempt`` may record it: a worker whose lease ran
    out and whose message another worker has claimed since changes nothing."""
    final = permanent or attempt >= max_attempts
    if final and not permanent:
        reason = f"{reason} [given up after {attempt} tries]"
    status = "failed" if final else "pending"
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == "sending",
            OutboxMessage.attempts == attempt,
        )
        .values(
            status=status,
            last_error=scrub(reason)[:2000],
            next_attempt_at=now if final else now + backoff(attempt, retry_delay),
            **({"payload": _without_code()} if final else {}),
        )
        .execution_options(synchronize_session=False)
    )
    return status


def _without_code():
    """A code or offer message's payload once it is sent or given up: the code (or the
    offer's link) is kept only until then (the booking holds the code's keyed hash)."""
    return case((OutboxMessage.kind.in_(("code", "offer")), "{}"), else_=OutboxMessage.payload)


def backoff(attempt: int, first: timedelta) -> timedelta:
    """The wait after failed try number ``attempt``: ``first``, doubled per try, at
    most an hour."""
    return min(first * 2 ** max(attempt - 1, 0), MAX_DELAY)


# -- what a message says -------------------------------------------------------------


def outgoing(session: Session, message_id: int, site_url_for) -> Outgoing | None:
    """The message ``message_id`` with everything needed to write it, as plain values.
    ``site_url_for(subdomain)`` gives the tenant's booking site (for links)."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        return None
    tenant = session.get(Tenant, message.tenant_id)
    booking = session.get(Booking, message.booking_id) if message.booking_id else None
    template = None
    if message.kind in TEMPLATED_KINDS:
        own = session.scalars(
            select(MessageTemplate).where(
                MessageTemplate.tenant_id == message.tenant_id,
                MessageTemplate.channel == message.channel,
                MessageTemplate.kind == message.kind,
            )
        ).one_or_none()
        if own is not None and own.body.strip():
            template = Text(own.subject, own.body)
    try:
        payload = json.loads(message.payload or "{}")
    except ValueError:
        payload = {}
    return Outgoing(
        message_id=message.id,
        tenant_id=message.tenant_id,
        channel=message.channel,
        kind=message.kind,
        recipient=message.recipient,
        tenant_name=tenant.name,
        site_url=site_url_for(tenant.subdomain),
        language=booking.language if booking is not None else "sv",
        appointment=None if booking is None else _appointment(session, booking),
        template=template,
        payload=payload if isinstance(payload, dict) else {},
    )


def _appointment(session: Session, booking: Booking) -> Appointment:
    clinic = session.get(Clinic, booking.clinic_id)
    practitioner = session.get(Practitioner, booking.practitioner_id)
    treatment = session.get(Treatment, booking.treatment_id)
    # Calendar SEQUENCE: the bookings of this appointment before this one (rebookings
    # share the key); a cancellation is one change more than the booking it ends.
    earlier = session.scalar(
        select(func.count()).where(
            Booking.appointment_key == booking.appointment_key,
            Booking.tenant_id == booking.tenant_id,
            Booking.id < booking.id,
        )
    )
    return Appointment(
        reference=booking.reference,
        appointment_key=booking.appointment_key,
        sequence=int(earlier or 0) + (1 if booking.status == "cancelled" else 0),
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        language=booking.language,
        first_name=booking.first_name or "",
        last_name=booking.last_name or "",
        clinic_name=clinic.name if clinic else "",
        clinic_address=address_line(
            clinic.address1, clinic.address2, clinic.postal_code, clinic.city
        )
        if clinic
        else "",
        clinic_phone=(clinic.phone or "") if clinic else "",
        clinic_email=(clinic.email or "") if clinic else "",
        practitioner=practitioner.display_name if practitioner else "",
        treatment=treatment.name if treatment else "",
    )


def senders(session: Session, tenant_id: int) -> tuple[str | None, str | None]:
    """The tenant's own e-mail sender address and SMS sender id (None: not set)."""
    settings = session.get(TenantSettings, tenant_id)
    if settings is None:
        return None, None
    return settings.email_sender, settings.sms_sender


# -- SMS delivery reports --------------------------------------------------------------


def report_token(secret: bytes, message_id: int) -> str:
    """The secret in one message's delivery-report URL: only the gateway we gave the
    URL to can report on that message, and on no other."""
    mac = hmac.new(secret, f"sms-delivery-report:{message_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:40]


def report_token_valid(secret: bytes, message_id: int, token: str) -> bool:
    return hmac.compare_digest(report_token(secret, message_id), token)


def record_delivery_report(
    session: Session,
    tenant_id: int,
    message_id: int,
    provider_id: str | None,
    status: str,
    now: datetime,
) -> bool:
    """Apply the gateway's report (``delivered`` or ``failed``; ``sent`` is news of
    nothing) to an SMS of ``tenant_id``. False when there is no such message, or the
    report names another gateway id than the one recorded."""
    message = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.id == message_id,
            OutboxMessage.tenant_id == tenant_id,
            OutboxMessage.channel == "sms",
        )
    ).one_or_none()
    if message is None:
        return False
    if provider_id and message.provider_id and provider_id != message.provider_id:
        return False
    if provider_id and message.provider_id is None:
        message.provider_id = provider_id[:64]  # the report came before our record
    if status == "delivered" and message.status in ("sending", "sent", "delivered"):
        message.status = "delivered"
        message.delivered_at = message.delivered_at or now
    elif status == "failed" and message.status in ("sending", "sent"):
        message.status = "failed"
        message.last_error = "SMS gateway: not delivered to the phone"
    session.flush()
    return True


# -- for operators -----------------------------------------------------------------------


def failed_messages(session: Session, tenant_id: int, limit: int = 100) -> list[OutboxMessage]:
    """A tenant's messages that were given up and not dismissed, newest first, with
    ``last_error``."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.tenant_id == tenant_id,
                OutboxMessage.status == "failed",
                OutboxMessage.dismissed_at.is_(None),
            )
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )


def retry_message(session: Session, tenant_id: int, message_id: int, now: datetime) -> bool:
    """Send a failed message again (the operator fixed the address or the settings)."""
    done = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.tenant_id == tenant_id,
            OutboxMessage.status == "failed",
            # Retention has cleared it (connectors.store.retention): nothing to send.
            OutboxMessage.recipient != "",
        )
        .values(status="pending", attempts=0, next_attempt_at=now, dismissed_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(done)


def dismiss_message(session: Session, tenant_id: int, message_id: int, now: datetime) -> bool:
    """Take a failed message off the operator's to-do list (the clinic told the patient
    another way, or the patient no longer needs it). It stays ``failed``: it was never
    sent. False when the tenant has no such failed message not yet dismissed."""
    done = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.tenant_id == tenant_id,
            OutboxMessage.status == "failed",
            OutboxMessage.dismissed_at.is_(None),
        )
        .values(dismissed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(done)
