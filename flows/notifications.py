"""Delivering the outbox: e-mail over SMTP, SMS through the gateway.

:func:`deliver_due` is the work, usable with or without Prefect: a worker loop calls
it every second or so (it costs one indexed query when nothing is due), and the
``send-notifications`` flow wraps it for the Prefect UI, leaving a table of the
messages that were given up as an artifact for operators.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine, select

from connectors.delivery import DeliveryError, Permanent
from connectors.mail import Mailer, SmtpMailer
from connectors.notifications.compose import Outgoing, choose_sender, email_message, sms_text
from connectors.notifications.offer import expired as offer_expired
from connectors.privacy import scrub
from connectors.sms import ElksGateway, Sms, SmsGateway, valid_sender
from connectors.store import outbox, reminders
from connectors.store.bookings import CODE_LIFETIME
from connectors.store.db import engine_for, session_scope, write_session_scope
from connectors.store.models import OutboxMessage, Tenant
from connectors.store.types import utcnow
from opus_online.config import Settings, get_settings

log = logging.getLogger(__name__)

DELIVERY_REPORT_PATH = "/sms/leveransrapport/{message_id}/{token}"
"""Where the gateway reports an SMS's delivery; served by ``booking_app.sms_callback``."""


@dataclass
class Delivered:
    """What one call of :func:`deliver_due` did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    withdrawn: int = 0  # reminders whose appointment went away before they could go

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed + self.withdrawn


@dataclass(frozen=True)
class Channels:
    """Where messages go; tests and the demo pass their own."""

    mailer: Mailer
    gateway: SmsGateway

    @classmethod
    def from_settings(cls, settings: Settings) -> Channels:
        return cls(
            mailer=SmtpMailer(
                settings.smtp_host,
                settings.smtp_port,
                settings.smtp_username,
                settings.smtp_password.get_secret_value() if settings.smtp_password else None,
                settings.smtp_security,
                settings.smtp_timeout_s,
            ),
            gateway=ElksGateway(
                settings.sms_gateway_url,
                settings.sms_gateway_username,
                settings.sms_gateway_password.get_secret_value(),
                settings.sms_timeout_s,
            ),
        )


def deliver_due(
    engine: Engine,
    settings: Settings,
    now: datetime | None = None,
    *,
    limit: int = 50,
    channels: Channels | None = None,
) -> Delivered:
    """Send the messages that are due at ``now`` (default: the current time), up to
    ``limit`` of them, and record what came of each. Safe to run in several workers at
    once: each message is claimed by one. Returns the counts.

    Cheap when nothing is due: one indexed read, no write lock. Network calls (with the
    timeouts of ``settings``) happen outside any database transaction. A failure to
    send is recorded on the message (retry with backoff, or failed with the reason),
    never raised; a store error on one message leaves it to be retried when its claim
    runs out and the batch goes on. Only the store being unreachable at the start
    raises.
    """
    now = now or utcnow()
    with session_scope(engine) as session:
        if not outbox.due_exists(session, now):
            return Delivered()
    with write_session_scope(engine) as session:
        claims = outbox.claim_due(session, now, limit, max_attempts=settings.notify_max_attempts)
    channels = channels or Channels.from_settings(settings)
    result = Delivered()
    for message_id, attempt in claims:
        try:
            status = _deliver_one(engine, settings, channels, message_id, attempt, now)
        except Exception as exc:  # the store failed us on this one: the rest still go out
            status = _store_error(engine, settings, message_id, attempt, now, exc)
        setattr(result, status, getattr(result, status) + 1)
    return result


def _deliver_one(
    engine: Engine,
    settings: Settings,
    channels: Channels,
    message_id: int,
    attempt: int,
    now: datetime,
) -> str:
    """Send one claimed message: ``sent``, ``retrying``, ``failed`` or ``withdrawn``."""
    provider_id = None
    withdrawn: str | None = None
    try:
        with session_scope(engine) as session:
            message = outbox.outgoing(session, message_id, settings.public_url)
            email_sender, sms_sender = (
                outbox.senders(session, message.tenant_id) if message else (None, None)
            )
            created_at = session.scalar(
                select(OutboxMessage.created_at).where(OutboxMessage.id == message_id)
            )
            if message is not None and message.kind == "reminder":
                message, withdrawn = _reminder(session, settings, message, now)
        if message is None:
            return "failed"  # deleted with its tenant meanwhile
        if withdrawn is not None:
            with write_session_scope(engine) as session:
                reminders.withdraw(
                    session, message_id, message.payload.get("reminder"), attempt, withdrawn
                )
            log.info("outbox message %s (reminder) withdrawn: %s", message_id, withdrawn)
            return "withdrawn"
        if message.kind == "code" and created_at + CODE_LIFETIME <= now:
            raise Permanent("the code expired before it could be sent")
        if message.kind == "offer" and offer_expired(message.payload, now):
            raise Permanent("the offer's hold ended before it could be sent")
        if message.channel == "email":
            sender = choose_sender(
                email_sender, settings.email_default_sender, settings.email_domain_verified
            )
            channels.mailer.send(email_message(message, sender, now))
        else:
            provider_id = channels.gateway.send(
                Sms(
                    sender=_sms_sender(sms_sender, settings),
                    to=message.recipient,
                    text=sms_text(message),
                    callback_url=_report_url(settings, message),
                )
            )
    except DeliveryError as exc:
        return _record_failure(engine, settings, message_id, attempt, now, exc)
    except Exception as exc:  # a bug must not stop the batch; the message says what
        log.exception("outbox message %s: unexpected error", message_id)
        error = DeliveryError(f"internal error: {type(exc).__name__}: {exc}")
        return _record_failure(engine, settings, message_id, attempt, now, error)
    with write_session_scope(engine) as session:
        outbox.mark_sent(session, message_id, now, provider_id)
    log.info("outbox message %s (%s, %s) sent", message_id, message.channel, message.kind)
    return "sent"


def _reminder(
    session, settings: Settings, message: Outgoing, now: datetime
) -> tuple[Outgoing, str | None]:
    """A reminder as it goes: with its signed link (made now, never stored) and, for an
    Opus appointment, the mirror's values; or why it must not go after all."""
    reminder_id = message.payload.get("reminder")
    reason = reminders.still_due(session, int(reminder_id or 0), now)
    if reason is not None:
        return message, reason
    link = reminders.message_link(
        session,
        settings.secret(),
        message.site_url,
        message.payload,
        session.scalar(
            select(OutboxMessage.booking_id).where(OutboxMessage.id == message.message_id)
        ),
    )
    appointment = message.appointment
    if appointment is None and message.payload.get("opus_appointment"):
        appointment = reminders.mirror_appointment(
            session, int(message.payload["opus_appointment"])
        )
    if appointment is None or link is None:
        return message, "cancelled"
    return replace(
        message, appointment=appointment, payload={**message.payload, "link": link}
    ), None


def _store_error(
    engine: Engine, settings: Settings, message_id: int, attempt: int, now: datetime, exc
) -> str:
    """One message met a store error: try to record it as a failed try (retried with
    backoff); if even that fails, its claim runs out and a later round sends it."""
    log.warning("outbox message %s: store error %s", message_id, type(exc).__name__)
    try:
        error = DeliveryError(f"store error: {type(exc).__name__}")
        return _record_failure(engine, settings, message_id, attempt, now, error)
    except Exception:
        log.exception("outbox message %s: left to its claim's end", message_id)
        return "retrying"


def _record_failure(
    engine: Engine,
    settings: Settings,
    message_id: int,
    attempt: int,
    now: datetime,
    error: DeliveryError,
) -> str:
    with write_session_scope(engine) as session:
        status = outbox.mark_failed(
            session,
            message_id,
            attempt,
            now,
            error.reason,
            permanent=error.permanent,
            max_attempts=settings.notify_max_attempts,
            retry_delay=timedelta(seconds=settings.notify_retry_delay_s),
        )
    # Ids and reasons only: addresses and numbers are the patient's.
    log.warning("outbox message %s try %s: %s (%s)", message_id, attempt, error.reason, status)
    return "failed" if status == "failed" else "retrying"


def _sms_sender(own: str | None, settings: Settings) -> str:
    """The tenant's sender id when it is one a gateway takes, else the default."""
    return own if own and valid_sender(own) else settings.sms_default_sender


def _report_url(settings: Settings, message: Outgoing) -> str:
    token = outbox.report_token(settings.secret(), message.message_id)
    path = DELIVERY_REPORT_PATH.format(message_id=message.message_id, token=token)
    return message.site_url + path


# -- Prefect ------------------------------------------------------------------------------


@task(name="deliver", cache_policy=NO_CACHE)
def deliver(store_url: str, limit: int) -> Delivered:
    settings = get_settings()
    return deliver_due(engine_for(store_url), settings, limit=limit)


@flow(name="send-notifications", log_prints=True)
def send_notifications(limit: int = 200) -> Delivered:
    """Send the due e-mail and SMS (up to ``limit``) and leave, as an artifact, the
    messages given up on since the last day, with their reasons."""
    store_url = get_settings().resolved_store_url
    result = deliver(store_url, limit)
    get_run_logger().info(
        "sent %d, retrying %d, failed %d", result.sent, result.retrying, result.failed
    )
    if result.failed:
        create_table_artifact(
            key="notifications-failed",
            table=failed_rows(engine_for(store_url), utcnow() - timedelta(days=1)),
            description="Messages to patients that were given up on, and why.",
        )
    return result


def failed_rows(engine: Engine, since: datetime) -> list[dict[str, object]]:
    """Failed messages since ``since``, for operators: no address, number or text."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(
                OutboxMessage.id,
                Tenant.subdomain,
                OutboxMessage.channel,
                OutboxMessage.kind,
                OutboxMessage.attempts,
                OutboxMessage.last_error,
            )
            .join(Tenant, Tenant.id == OutboxMessage.tenant_id)
            .where(OutboxMessage.status == "failed", OutboxMessage.created_at >= since)
            .order_by(OutboxMessage.id)
        ).all()
    return [
        {
            "message": r.id,
            "tenant": r.subdomain,
            "channel": r.channel,
            "kind": r.kind,
            "tries": r.attempts,
            # Scrubbed again: rows kept before the store scrubbed them may hold addresses.
            "reason": scrub(r.last_error or ""),
        }
        for r in rows
    ]
