"""Reminders end to end on both stores: planned at their time, queued once, sent by the
outbox over real connections (e-mail to a real SMTP server on loopback, SMS to the
gateway stand-in), never for a cancelled booking, planned again for a rebooked one,
out of the quiet hours, and once across a worker that dies. Time moves by passing
``now``: nothing waits."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select, update

from connectors.store import outbox
from connectors.store import reminders as store
from connectors.store.db import session_scope, write_session_scope
from connectors.store.models import (
    Booking,
    OpusAppointment,
    OpusDatabase,
    OutboxMessage,
    Reminder,
    TenantSettings,
)
from demo.mail_catcher import MailCatcher
from demo.sms_gateway import SmsGatewayStandIn
from flows.notifications import Delivered, deliver_due
from flows.reminders import plan_of, plan_reminders, queue_reminders
from opus_online import signed_links
from opus_online.config import Settings
from tests.flows.write_back_helpers import book, cancel, free_slots, rebook
from tests.helpers import apart

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SECRET = "reminders-test-secret"


@dataclass
class Harness:
    engine: Engine
    settings: Settings
    catcher: MailCatcher
    gateway: SmsGatewayStandIn
    ids: tuple[int, int, int]
    slots: list  # free times at least four days ahead, in order

    def deliver(self, now: datetime) -> Delivered:
        return deliver_due(self.engine, self.settings, now)

    def plan(self, now: datetime) -> int:
        return plan_reminders(self.engine, self.settings, now)

    def queue(self, now: datetime) -> int:
        return queue_reminders(self.engine, self.settings, now)

    def reminders(self) -> list[Reminder]:
        with session_scope(self.engine) as session:
            return list(session.scalars(select(Reminder).order_by(Reminder.id)))

    def reminder_messages(self) -> list[OutboxMessage]:
        with session_scope(self.engine) as session:
            return list(
                session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.kind == "reminder")
                    .order_by(OutboxMessage.id)
                )
            )

    def settings_row(self, **values) -> None:
        with session_scope(self.engine) as session:
            session.execute(update(TenantSettings).values(**values))


@pytest.fixture
def harness(synced: Engine, tmp_path: Path) -> Iterator[Harness]:
    *ids, slots = free_slots(synced)
    ahead = apart([s for s in slots if s.starts_at > datetime.now(UTC) + timedelta(days=4)], 4)
    settings = Settings(
        store_url=synced.url.render_as_string(hide_password=False),
        data_dir=tmp_path,
        base_domain="localhost",
        secret_key=SECRET,
        public_base_url="https://{subdomain}.example.se",
    )
    with MailCatcher() as catcher, SmsGatewayStandIn(report_delay_s=0) as gateway:
        settings = settings.model_copy(
            update={
                "smtp_port": catcher.port,
                "smtp_timeout_s": 5,
                "sms_gateway_url": f"{gateway.url}/a1/sms",
                "sms_timeout_s": 5,
            }
        )
        harness = Harness(synced, settings, catcher, gateway, tuple(ids), ahead)
        harness.settings_row(
            reminder_email_enabled=True,
            reminder_email_hours=72,
            reminder_sms_enabled=True,
            reminder_sms_hours=48,
        )
        yield harness


def due_of(booking: Booking, hours: int) -> datetime:
    due = store.reminder_time(booking.starts_at, hours, store.Quiet(21, 8), STOCKHOLM)
    assert due is not None
    return due


def test_a_reminder_is_planned_queued_and_sent_once_at_its_time(harness):
    booking = book(harness.engine, harness.slots[0], harness.ids)
    now = datetime.now(UTC)
    harness.deliver(now)  # the confirmations
    harness.catcher.messages.clear()
    harness.gateway.received.clear()

    sms_due, mail_due = due_of(booking, 48), due_of(booking, 72)
    # Planned a day ahead of their time (the e-mail's first), once.
    assert harness.plan(mail_due - timedelta(hours=1)) == 1
    assert harness.plan(sms_due - timedelta(hours=1)) == 1
    assert harness.plan(sms_due - timedelta(hours=1)) == 0
    rows = {r.channel: r for r in harness.reminders()}
    assert rows["sms"].due_at == sms_due and rows["email"].due_at == mail_due
    assert {r.status for r in rows.values()} == {"planned"}

    assert harness.queue(mail_due - timedelta(seconds=1)) == 0  # not yet
    assert harness.queue(mail_due) == 1
    assert harness.queue(mail_due) == 0 and harness.plan(mail_due) == 0  # once
    assert harness.deliver(mail_due) == Delivered(sent=1)
    [mail] = harness.catcher.messages
    assert mail.subject.startswith("Påminnelse:") and "Hej Astrid Lind!" in mail.text
    message_id = f"<outbox-{harness.reminder_messages()[0].id}@opusdentalonline.com>"
    assert mail.message["Message-ID"] == message_id

    assert harness.queue(sms_due) == 1
    assert harness.deliver(sms_due) == Delivered(sent=1)
    [sms] = harness.gateway.received
    assert sms.to == "+46701234567" and sms.message.startswith("Påminnelse ") and sms.parts == 1
    # The link: signed for reminders and this tenant, valid until the cut-off (24 h).
    token = sms.message.rsplit("/h/", 1)[1]
    link = signed_links.verify(
        SECRET.encode(), token, purpose="reminder", tenant=str(harness.ids[0]), now=sms_due
    )
    assert link.expires_at == booking.starts_at - timedelta(hours=24)
    assert f"/h/{token}" in mail.text  # the same link (one booking, one cut-off)
    assert harness.deliver(sms_due + timedelta(hours=1)) == Delivered()
    assert [r.status for r in harness.reminders()] == ["queued", "queued"]


def test_once_across_a_worker_that_dies(harness):
    harness.settings_row(reminder_email_enabled=False)
    booking = book(harness.engine, harness.slots[0], harness.ids)
    now = datetime.now(UTC)
    harness.deliver(now)
    due = due_of(booking, 48)
    harness.plan(due - timedelta(hours=1))
    # A worker dies inside its queueing transaction: nothing of it stays.
    with pytest.raises(RuntimeError), write_session_scope(harness.engine) as session:
        assert store.queue_due(session, due, plan_of(harness.settings)) == (1, 1)
        raise RuntimeError("killed")
    assert harness.reminder_messages() == []
    assert {r.status for r in harness.reminders()} == {"planned"}
    # Four workers start again at once: the reminder is queued once.
    results: list[int] = []
    workers = [
        threading.Thread(target=lambda: results.append(harness.queue(due))) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sum(results) == 1 and len(harness.reminder_messages()) == 1
    # A worker claims it and dies before recording: after the lease, one send.
    with write_session_scope(harness.engine) as session:
        assert len(outbox.claim_due(session, due)) == 1
    assert harness.deliver(due + timedelta(minutes=1)) == Delivered()  # still claimed
    assert harness.deliver(due + outbox.LEASE + timedelta(seconds=1)) == Delivered(sent=1)
    assert len(harness.gateway.received) == 2  # the confirmation and the reminder
    assert harness.deliver(due + outbox.LEASE * 3) == Delivered()


def test_never_for_a_cancelled_booking_and_again_for_a_rebooked_one(harness):
    harness.settings_row(reminder_email_enabled=False)
    cancelled = book(harness.engine, harness.slots[0], harness.ids)
    moved = book(harness.engine, harness.slots[1], harness.ids, mobile="+46701112233")
    # The workers plan as time goes by: each reminder an hour before it is due (the two
    # times may be days apart, as over Easter, beyond one round's horizon).
    for booking in (cancelled, moved):
        harness.plan(due_of(booking, 48) - timedelta(hours=1))
    cancel(harness.engine, cancelled)
    new = rebook(harness.engine, moved, harness.slots[-1])
    harness.plan(due_of(new, 48) - timedelta(hours=1))
    by_booking = {r.booking_id: r for r in harness.reminders()}
    assert set(by_booking) == {cancelled.id, moved.id, new.id}
    assert by_booking[new.id].due_at == due_of(new, 48)  # planned for the new time
    latest = max(due_of(b, 48) for b in (cancelled, moved, new))
    harness.queue(latest)
    by_booking = {r.booking_id: r for r in harness.reminders()}
    assert (by_booking[cancelled.id].status, by_booking[cancelled.id].skip_reason) == (
        "skipped",
        "cancelled",
    )
    assert by_booking[moved.id].skip_reason == "rebooked"
    assert by_booking[new.id].status == "queued"
    assert [m.booking_id for m in harness.reminder_messages()] == [new.id]


def test_a_booking_cancelled_after_its_reminder_was_queued_is_withdrawn(harness):
    harness.settings_row(reminder_email_enabled=False)
    booking = book(harness.engine, harness.slots[0], harness.ids)
    now = datetime.now(UTC)
    harness.deliver(now)
    due = due_of(booking, 48)
    harness.plan(due - timedelta(hours=1))
    harness.queue(due)
    harness.gateway.fail_next(1)  # the gateway is down: the reminder waits to be retried
    assert harness.deliver(due) == Delivered(retrying=1)
    cancel(harness.engine, booking)
    later = due + timedelta(hours=1)
    # The reminder is withdrawn; the cancellation's e-mail goes, its SMS after the reminder.
    assert harness.deliver(later) == Delivered(sent=1, withdrawn=1)
    assert harness.deliver(later) == Delivered(sent=1)
    texts = [sms.message for sms in harness.gateway.received]
    assert not any(text.startswith("Påminnelse") for text in texts)
    assert texts[-1].startswith("Avbokat")
    [message] = harness.reminder_messages()
    assert message.status == "withdrawn"
    assert [r.skip_reason for r in harness.reminders()] == ["cancelled"]


def test_a_booking_made_after_its_reminder_time_gets_none(harness):
    harness.settings_row(reminder_email_enabled=False, reminder_sms_hours=336)
    book(harness.engine, harness.slots[0], harness.ids)  # less than two weeks ahead
    now = datetime.now(UTC)
    harness.plan(now)
    [reminder] = harness.reminders()
    assert (reminder.status, reminder.skip_reason) == ("skipped", "booked_late")
    assert harness.queue(now + timedelta(days=30)) == 0
    assert harness.reminder_messages() == []


def test_a_late_reminder_waits_for_the_end_of_the_quiet_hours(harness):
    harness.settings_row(reminder_email_enabled=False)
    booking = book(harness.engine, harness.slots[0], harness.ids)
    due = due_of(booking, 48)
    harness.plan(due - timedelta(hours=1))
    # The workers were down from its time until 23:00 that evening.
    evening = datetime.combine(due.astimezone(STOCKHOLM).date(), time(23), STOCKHOLM)
    assert due < evening
    assert harness.queue(evening) == 0
    [reminder] = harness.reminders()
    morning = datetime.combine(evening.date() + timedelta(days=1), time(8), STOCKHOLM)
    assert reminder.status == "planned" and reminder.due_at == morning
    assert harness.queue(morning) == 1


def test_every_opus_appointment_with_a_mobile_number_when_the_clinic_chooses_so(harness):
    harness.settings_row(reminder_scope="all")
    ours = book(harness.engine, harness.slots[0], harness.ids)
    starts = harness.slots[1].starts_at
    with session_scope(harness.engine) as session:
        database_id = session.scalars(select(OpusDatabase.id)).first()

        def appointment(number: int, **values) -> OpusAppointment:
            row = OpusAppointment(
                tenant_id=harness.ids[0], opus_database_id=database_id,
                opus_appointment_id=900000 + number, clinic_id=harness.ids[1],
                starts_at=starts, ends_at=starts + timedelta(minutes=30), status="booked",
                row_version=1, first_seen_at=starts - timedelta(days=30),
                mobile="+46709876543", first_name="Karin",
            )  # fmt: skip
            for name, value in values.items():
                setattr(row, name, value)
            session.add(row)
            return row

        theirs = appointment(1)
        appointment(2, mobile=None)  # no mobile number: no reminder
        appointment(3, idempotency_key=ours.appointment_key)  # ours: the booking's reminder
        appointment(4, status="cancelled")
        session.flush()
        theirs_id = theirs.id
    now = datetime.now(UTC)
    harness.deliver(now)
    harness.gateway.received.clear()
    harness.plan(store.reminder_time(starts, 48, store.Quiet(), STOCKHOLM) - timedelta(hours=1))
    mirrored = [r for r in harness.reminders() if r.opus_appointment_id is not None]
    assert [(r.opus_appointment_id, r.channel) for r in mirrored] == [(theirs_id, "sms")]
    due = mirrored[0].due_at
    assert harness.queue(due) >= 1
    harness.deliver(due)
    [sms] = [s for s in harness.gateway.received if s.to == "+46709876543"]
    assert sms.message.startswith("Påminnelse ") and "/h/o-" in sms.message


def test_the_demo_shortens_a_bookings_reminder_to_a_minute_after_it(harness):
    harness.settings_row(reminder_email_enabled=False)
    harness.settings = harness.settings.model_copy(update={"reminder_demo_after_s": 60})
    booking = book(harness.engine, harness.slots[0], harness.ids)
    made = datetime.now(UTC)
    harness.plan(made)
    [reminder] = harness.reminders()
    with session_scope(harness.engine) as session:
        confirmed_at = session.get_one(Booking, booking.id).confirmed_at
    assert reminder.due_at == confirmed_at + timedelta(seconds=60)
    assert harness.queue(confirmed_at + timedelta(seconds=59)) == 0
    assert harness.queue(confirmed_at + timedelta(seconds=60)) == 1
