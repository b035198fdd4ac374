"""Appointment reminders: when each is due, planning them, and handing them to the outbox.

A reminder is a row of :class:`~connectors.store.models.Reminder`, one per appointment
and channel, and goes through three steps, each a short transaction:

1. **plan** (:func:`plan`): for every tenant with reminders on, the coming confirmed
   bookings (and, when the tenant reminds of *every* Opus appointment, the mirror's
   appointments with a mobile number that are not ours) within the lead time get a row,
   ``planned`` for their time (:func:`reminder_time`), or ``skipped`` when the booking
   was made after that time. A unique key per appointment and channel makes planning
   twice, or in two workers at once, plan once.
2. **queue** (:func:`queue_due`): due rows are claimed (``FOR UPDATE SKIP LOCKED``;
   SQLite: one writer) and checked again: a cancelled, moved or passed appointment, a
   channel turned off, a missing address: ``skipped`` with the reason. Otherwise the
   outbox message is added and the row becomes ``queued`` *in the same transaction*:
   a crash before the commit leaves it planned, after it queued, never both, never
   twice. From there the outbox delivers it like a confirmation.
3. **send** (flows/notifications.py asks :func:`still_due` first): a reminder whose
   appointment was cancelled after it was queued (the outbox was retrying, say) is
   ``withdrawn``, not sent.

Times: the lead time is wall-clock hours in the clinic's time zone ("24 h before" is
the same time the day before, across a DST change too). A time inside the quiet hours
(local, default 21-08) moves to their end; when that end is at or after the visit, to
just before they began; when that is before the booking was made, there is none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from connectors.store import client_limits
from connectors.store.models import (
    Booking,
    OpusAppointment,
    OutboxMessage,
    Reminder,
    TenantSettings,
)
from connectors.store.reminder_links import (  # re-exported: one module for callers
    MIRROR_PREFIX as MIRROR_PREFIX,
)
from connectors.store.reminder_links import PURPOSE as PURPOSE
from connectors.store.reminder_links import link_expiry as link_expiry
from connectors.store.reminder_links import link_subject as link_subject
from connectors.store.reminder_links import message_link as message_link
from connectors.store.reminder_links import mirror_appointment as mirror_appointment
from connectors.store.reminder_links import parse_subject as parse_subject

CHANNELS = ("email", "sms")
BEFORE_QUIET = timedelta(minutes=1)
"""How long before the quiet hours a reminder goes when their end would be too late."""
PLAN_SLACK = timedelta(days=1)
"""Appointments are planned this much beyond the lead time (quiet hours move a
reminder by less than a day)."""
DEMO_HORIZON = timedelta(days=400)


@dataclass(frozen=True)
class Quiet:
    """Quiet hours, local whole hours: from ``start`` until ``end`` (``start == end``:
    none). 21-08 wraps midnight."""

    start: int = 21
    end: int = 8

    def contains(self, moment: datetime, tz: tzinfo) -> bool:
        if self.start == self.end:
            return False
        clock = moment.astimezone(tz).time()
        begin, finish = time(self.start), time(self.end)
        if self.start < self.end:
            return begin <= clock < finish
        return clock >= begin or clock < finish

    def end_after(self, moment: datetime, tz: tzinfo) -> datetime:
        """The end of the quiet hours ``moment`` is in (call only when it is in them)."""
        local = moment.astimezone(tz)
        day = local.date()
        if self.start > self.end and local.time() >= time(self.start):
            day += timedelta(days=1)
        return datetime.combine(day, time(self.end), tzinfo=tz).astimezone(UTC)

    def start_before(self, moment: datetime, tz: tzinfo) -> datetime:
        """The start of the quiet hours ``moment`` is in (call only when it is in them)."""
        local = moment.astimezone(tz)
        day = local.date()
        if self.start > self.end and local.time() < time(self.end):
            day -= timedelta(days=1)
        return datetime.combine(day, time(self.start), tzinfo=tz).astimezone(UTC)


def quiet_of(settings: TenantSettings) -> Quiet:
    return Quiet(settings.reminder_quiet_start, settings.reminder_quiet_end)


def wall_clock_before(starts_at: datetime, hours: int, tz: tzinfo) -> datetime:
    """``hours`` before ``starts_at`` on the clinic's wall clock, in UTC. A wall time
    that a DST change skips is read with the offset before the change (02:30 on the
    spring-forward night is 03:30 summer time); one it repeats, as the first."""
    local = starts_at.astimezone(tz).replace(tzinfo=None) - timedelta(hours=hours)
    return local.replace(tzinfo=tz).astimezone(UTC)


def reminder_time(
    starts_at: datetime, hours: int, quiet: Quiet | None, tz: tzinfo
) -> datetime | None:
    """When the reminder of a visit at ``starts_at`` goes, ``hours`` before it, out of
    the quiet hours; ``None`` when no time before the visit is outside them."""
    due = wall_clock_before(starts_at, hours, tz)
    if quiet is None or not quiet.contains(due, tz):
        return due
    after = quiet.end_after(due, tz)
    if after < starts_at:
        return after
    before = quiet.start_before(due, tz) - BEFORE_QUIET
    return before if before < starts_at else None


# -- planning ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """How the tenants' reminders are timed, beyond their settings."""

    tz: tzinfo
    demo_after: timedelta | None = None
    """The demo only: every online booking's reminder is due this long after it was
    made (quiet hours ignored), so that it shows in the stand-ins while one watches."""


def _enabled_channels(settings: TenantSettings) -> list[tuple[str, int]]:
    pairs = [
        ("email", settings.reminder_email_enabled, settings.reminder_email_hours),
        ("sms", settings.reminder_sms_enabled, settings.reminder_sms_hours),
    ]
    return [(channel, hours) for channel, on, hours in pairs if on]


def _due(
    plan: Plan, settings: TenantSettings, starts_at: datetime, hours: int, made: datetime | None
) -> tuple[datetime, str | None]:
    """(due_at, skip reason or None) of one appointment's reminder."""
    if plan.demo_after is not None and made is not None:
        due = made + plan.demo_after
        return (due, None) if due < starts_at else (starts_at, "booked_late")
    # Made after the time the reminder was for (even if the quiet hours would send it
    # later): the patient has just booked, and has the confirmation.
    if made is not None and made >= wall_clock_before(starts_at, hours, plan.tz):
        return starts_at, "booked_late"
    due = reminder_time(starts_at, hours, quiet_of(settings), plan.tz)
    if due is None:
        return starts_at, "quiet"
    if made is not None and made >= due:
        return due, "booked_late"
    return due, None


def plan(session: Session, now: datetime, plan: Plan, tenant_ids: list[int] | None = None) -> int:
    """Plan the reminders of every tenant with reminders on (or of ``tenant_ids``);
    returns how many rows were added. Safe to run often and in several workers."""
    query = select(TenantSettings).where(
        or_(TenantSettings.reminder_email_enabled, TenantSettings.reminder_sms_enabled)
    )
    if tenant_ids is not None:
        query = query.where(TenantSettings.tenant_id.in_(tenant_ids))
    added = 0
    for settings in session.scalars(query).all():
        for channel, hours in _enabled_channels(settings):
            horizon = now + timedelta(hours=hours) + PLAN_SLACK
            # The demo's reminders come after the booking, however far off the visit.
            ahead = horizon if plan.demo_after is None else now + DEMO_HORIZON
            added += _plan_bookings(session, settings, channel, hours, now, ahead, plan)
            if channel == "sms" and settings.reminder_scope == "all":
                added += _plan_mirror(session, settings, hours, now, horizon, plan)
    return added


def _plan_bookings(
    session: Session,
    settings: TenantSettings,
    channel: str,
    hours: int,
    now: datetime,
    horizon: datetime,
    plan_: Plan,
) -> int:
    address = Booking.email if channel == "email" else Booking.mobile
    rows = session.execute(
        select(Booking.id, Booking.starts_at, Booking.confirmed_at, Booking.created_at).where(
            Booking.tenant_id == settings.tenant_id,
            Booking.status == "confirmed",
            Booking.starts_at > now,
            Booking.starts_at <= horizon,
            address.is_not(None),
            ~exists().where(Reminder.booking_id == Booking.id, Reminder.channel == channel),
        )
    ).all()
    values = []
    for booking_id, starts_at, confirmed_at, created_at in rows:
        due, reason = _due(plan_, settings, starts_at, hours, confirmed_at or created_at)
        values.append(
            _row(settings.tenant_id, channel, starts_at, due, reason, now, booking_id=booking_id)
        )
    return _insert_new(session, values)


def _plan_mirror(
    session: Session,
    settings: TenantSettings,
    hours: int,
    now: datetime,
    horizon: datetime,
    plan_: Plan,
) -> int:
    """Opus appointments with a mobile number that are not our own bookings' (those
    carry our appointment key, and their booking has its reminder)."""
    ours = exists().where(
        Booking.tenant_id == settings.tenant_id,
        Booking.appointment_key == OpusAppointment.idempotency_key,
    )
    rows = session.execute(
        select(OpusAppointment.id, OpusAppointment.starts_at, OpusAppointment.first_seen_at).where(
            OpusAppointment.tenant_id == settings.tenant_id,
            OpusAppointment.status == "booked",
            OpusAppointment.mobile.is_not(None),
            OpusAppointment.starts_at > now,
            OpusAppointment.starts_at <= horizon,
            or_(OpusAppointment.idempotency_key.is_(None), ~ours),
            ~exists().where(
                Reminder.opus_appointment_id == OpusAppointment.id,
                Reminder.channel == "sms",
                Reminder.starts_at == OpusAppointment.starts_at,
            ),
        )
    ).all()
    # The demo's shortening is for bookings made while one watches, not the whole book.
    real = Plan(plan_.tz)
    values = []
    for appointment_id, starts_at, first_seen_at in rows:
        due, reason = _due(real, settings, starts_at, hours, first_seen_at)
        values.append(
            _row(
                settings.tenant_id,
                "sms",
                starts_at,
                due,
                reason,
                now,
                opus_appointment_id=appointment_id,
            )
        )
    return _insert_new(session, values)


def _row(tenant_id, channel, starts_at, due, reason, now, **appointment) -> dict:
    return {
        "tenant_id": tenant_id,
        "channel": channel,
        "starts_at": starts_at,
        "due_at": due,
        "status": "skipped" if reason else "planned",
        "skip_reason": reason,
        "created_at": now,
        "updated_at": now,
        "booking_id": None,
        "opus_appointment_id": None,
        **appointment,
    }


def _insert_new(session: Session, values: list[dict]) -> int:
    """Insert the rows that no other planner has inserted meanwhile (the unique keys
    decide); returns how many went in."""
    if not values:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(Reminder).values(values).on_conflict_do_nothing().returning(Reminder.id)
    return len(session.execute(statement).all())


def forget_planned(session: Session, tenant_id: int) -> None:
    """The tenant's reminder settings changed: its planned reminders (and those skipped
    for a time that no longer holds) are planned again by the next :func:`plan`."""
    session.execute(
        delete(Reminder).where(
            Reminder.tenant_id == tenant_id,
            or_(
                Reminder.status == "planned",
                and_(
                    Reminder.status == "skipped",
                    Reminder.skip_reason.in_(("booked_late", "quiet", "disabled")),
                ),
            ),
        )
    )


# -- queueing ---------------------------------------------------------------------------


def due_exists(session: Session, now: datetime) -> bool:
    """Is a planned reminder due? One index lookup, no lock."""
    return (
        session.scalar(
            select(Reminder.id).where(Reminder.status == "planned", Reminder.due_at <= now).limit(1)
        )
        is not None
    )


def _why_not(
    session: Session, reminder: Reminder, settings: TenantSettings | None, now: datetime
) -> tuple[str | None, str | None]:
    """(skip reason, recipient): why the reminder must not go now, else its address."""
    if settings is None or not dict(_enabled_channels(settings)).get(reminder.channel):
        return "disabled", None
    if reminder.booking_id is not None:
        booking = session.get(Booking, reminder.booking_id)
        if booking is None or booking.status != "confirmed":
            return ("rebooked" if booking and booking.status == "rebooked" else "cancelled"), None
        starts_at = booking.starts_at
        recipient = booking.email if reminder.channel == "email" else booking.mobile
    else:
        appointment = session.get(OpusAppointment, reminder.opus_appointment_id)
        if settings.reminder_scope != "all":
            return "disabled", None
        if appointment is None or appointment.status != "booked":
            return "cancelled", None
        starts_at = appointment.starts_at
        recipient = appointment.mobile
    if starts_at != reminder.starts_at:
        return "moved", None
    if starts_at <= now:
        return "passed", None
    if not recipient:
        return "no_recipient", None
    if reminder.channel == "sms" and not client_limits.sms_allowed(settings, recipient):
        return "no_recipient", None
    return None, recipient


def queue_due(session: Session, now: datetime, plan_: Plan, limit: int = 100) -> tuple[int, int]:
    """Hand the due reminders (up to ``limit``) to the outbox; returns how many rows
    were handled (queued, skipped or postponed) and how many of them were queued. Run
    in a transaction of its own (``write_session_scope``)."""
    rows = session.scalars(
        select(Reminder)
        .where(Reminder.status == "planned", Reminder.due_at <= now)
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    queued = 0
    for reminder in rows:
        settings = session.get(TenantSettings, reminder.tenant_id)
        reason, recipient = _why_not(session, reminder, settings, now)
        if reason is None and plan_.demo_after is None and settings is not None:
            # Late (the workers were down): not in the quiet hours, and not at all when
            # they last until the visit.
            quiet = quiet_of(settings)
            if quiet.contains(now, plan_.tz):
                end = quiet.end_after(now, plan_.tz)
                if end < reminder.starts_at:
                    reminder.due_at = end
                    continue
                reason = "quiet"
        if reason is not None:
            reminder.status, reminder.skip_reason = "skipped", reason
            continue
        payload = {"reminder": reminder.id}
        if reminder.opus_appointment_id is not None:
            payload["opus_appointment"] = reminder.opus_appointment_id
        message = OutboxMessage(
            tenant_id=reminder.tenant_id,
            booking_id=reminder.booking_id,
            channel=reminder.channel,
            kind="reminder",
            recipient=recipient,
            payload=json.dumps(payload),
            next_attempt_at=now,
            created_at=now,
        )
        session.add(message)
        session.flush()
        reminder.status, reminder.outbox_message_id = "queued", message.id
        queued += 1
    session.flush()
    return len(rows), queued


# -- sending ----------------------------------------------------------------------------


def still_due(session: Session, reminder_id: int, now: datetime) -> str | None:
    """Why a queued reminder must not go out after all (its appointment was cancelled
    or moved meanwhile, its time passed), or ``None``: send it."""
    reminder = session.get(Reminder, reminder_id)
    if reminder is None:
        return "cancelled"
    return _why_not(session, reminder, session.get(TenantSettings, reminder.tenant_id), now)[0]


def withdraw(
    session: Session, message_id: int, reminder_id: int | None, attempt: int, reason: str
) -> None:
    """Record that a claimed reminder was not sent (``withdrawn``), and why, on its row."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == "sending",
            OutboxMessage.attempts == attempt,
        )
        .values(status="withdrawn", last_error=f"not sent: {reason}")
        .execution_options(synchronize_session=False)
    )
    if reminder_id is not None:
        session.execute(
            update(Reminder)
            .where(Reminder.id == reminder_id)
            .values(status="skipped", skip_reason=reason)
            .execution_options(synchronize_session=False)
        )
