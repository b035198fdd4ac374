"""Delivering the outbox end to end, over real connections: bookings made in the store,
e-mail to a real SMTP server (aiosmtpd) on loopback, SMS to the gateway stand-in over
HTTP, whose delivery reports reach the booking app (uvicorn) over HTTP. Time moves by
passing ``now``: nothing waits for a retry."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import Engine, select

from connectors.store import bookings
from connectors.store.bookings import Request
from connectors.store.db import session_scope, write_session_scope
from connectors.store.models import (
    Booking,
    Clinic,
    MessageTemplate,
    OutboxMessage,
    TenantSettings,
)
from demo.mail_catcher import MailCatcher, free_port
from demo.sms_gateway import SmsGatewayStandIn
from flows.notifications import Delivered, deliver_due
from opus_online.config import Settings
from tests.connectors.notifications.test_offer_message import offer_payload
from tests.flows.write_back_helpers import book, cancel, free_slots, rebook
from tests.helpers import apart, app_on_loopback, sync_tenant

SECRET = "notifications-test-secret"


@dataclass
class Harness:
    engine: Engine
    settings: Settings
    catcher: MailCatcher
    gateway: SmsGatewayStandIn
    ids: tuple[int, int, int]
    slots: list

    def deliver(self, now: datetime | None = None, **changes) -> Delivered:
        settings = self.settings.model_copy(update=changes) if changes else self.settings
        return deliver_due(self.engine, settings, now or datetime.now(UTC))

    def messages(self) -> list[OutboxMessage]:
        with session_scope(self.engine) as session:
            return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    def statuses(self) -> list[tuple[str, str, str]]:
        return [(m.channel, m.kind, m.status) for m in self.messages()]


@contextmanager
def booking_app(settings: Settings) -> Iterator[int]:
    """The booking app under uvicorn on a free loopback port: it takes the SMS
    gateway's delivery reports."""
    with app_on_loopback(settings) as port:
        yield port


@pytest.fixture
def harness(store: Engine, demo_tenant: str, tmp_path: Path) -> Iterator[Harness]:
    sync_tenant(store, demo_tenant)
    *ids, slots = free_slots(store)
    base = Settings(
        store_url=store.url.render_as_string(hide_password=False),
        data_dir=tmp_path,
        base_domain="localhost",
        secret_key=SECRET,
    )
    with (
        MailCatcher() as catcher,
        SmsGatewayStandIn(report_delay_s=0) as gateway,
        booking_app(base) as app_port,
    ):
        settings = base.model_copy(
            update={
                "public_base_url": f"http://{{subdomain}}.localhost:{app_port}",
                "smtp_port": catcher.port,
                "smtp_timeout_s": 5,
                "sms_gateway_url": f"{gateway.url}/a1/sms",
                "sms_timeout_s": 5,
            }
        )
        yield Harness(store, settings, catcher, gateway, tuple(ids), slots)


def later(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def calendar_event(mail):
    calendar = Calendar.from_ical(mail.calendar)
    return calendar, calendar.walk("VEVENT")[0]


def test_booking_rebooking_and_cancelling_each_send_an_email_and_an_sms(harness):
    booking = book(harness.engine, harness.slots[0], harness.ids)
    assert harness.deliver() == Delivered(sent=2)
    [mail] = harness.catcher.messages
    assert mail.rcpt_tos == ["astrid@example.se"]
    assert mail.subject.startswith("Bokningsbekräftelse")
    assert "Hej Astrid Lind!" in mail.text
    assert f"/bokning/{booking.reference}" in mail.text
    calendar, event = calendar_event(mail)
    assert str(calendar["METHOD"]) == "PUBLISH" and int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == booking.starts_at
    [sms] = harness.gateway.received
    assert sms.to == "+46701234567" and sms.message.startswith("Bokat: ")
    assert f"/bokning/{booking.reference}" in sms.message and sms.parts == 1

    moved = rebook(harness.engine, booking, harness.slots[5])
    assert harness.deliver() == Delivered(sent=2)
    rebooked = harness.catcher.messages[1]
    assert rebooked.subject.startswith("Din tid är ändrad")
    _, moved_event = calendar_event(rebooked)
    assert str(moved_event["UID"]) == str(event["UID"])  # the same calendar event, moved
    assert int(moved_event["SEQUENCE"]) == 1
    assert moved_event.decoded("DTSTART") == moved.starts_at
    assert harness.gateway.received[1].message.startswith("Ny tid: ")

    cancel(harness.engine, moved)
    assert harness.deliver() == Delivered(sent=2)
    cancelled = harness.catcher.messages[2]
    assert cancelled.subject.startswith("Avbokad")
    calendar, cancelled_event = calendar_event(cancelled)
    assert str(calendar["METHOD"]) == "CANCEL" and int(cancelled_event["SEQUENCE"]) == 2
    assert harness.gateway.received[2].message.startswith("Avbokat: ")

    assert harness.deliver(later(3600)) == Delivered()  # nothing twice
    assert len(harness.catcher.messages) == 3 and len(harness.gateway.received) == 3
    harness.gateway.wait_for_reports()
    assert harness.statuses() == [
        ("email", "new", "sent"),
        ("sms", "new", "delivered"),
        ("email", "rebook", "sent"),
        ("sms", "rebook", "delivered"),
        ("email", "cancel", "sent"),
        ("sms", "cancel", "delivered"),
    ]
    assert all(report.endswith("204") for report in (s.report for s in harness.gateway.received))


def test_smtp_down_then_up_delivers_later_exactly_once(harness):
    port = free_port()
    book(harness.engine, harness.slots[0], harness.ids)
    now = datetime.now(UTC)
    assert harness.deliver(now, smtp_port=port) == Delivered(sent=1, retrying=1)  # SMS went
    [mail] = [m for m in harness.messages() if m.channel == "email"]
    assert mail.status == "pending" and "Connection" in mail.last_error
    assert mail.next_attempt_at == now + timedelta(seconds=30)
    assert harness.deliver(now + timedelta(seconds=29), smtp_port=port) == Delivered()
    with MailCatcher(port=port) as revived:
        assert harness.deliver(now + timedelta(seconds=30), smtp_port=port) == Delivered(sent=1)
        assert harness.deliver(now + timedelta(hours=2), smtp_port=port) == Delivered()
        assert len(revived.messages) == 1
    harness.gateway.wait_for_reports()
    assert [m.status for m in harness.messages()] == ["sent", "delivered"]
    assert len(harness.gateway.received) == 1


def test_a_failing_or_slow_gateway_is_retried_and_sends_once(harness):
    book(harness.engine, harness.slots[0], harness.ids, email=None)
    now = datetime.now(UTC)
    harness.gateway.fail_next(1, 503)
    assert harness.deliver(now) == Delivered(retrying=1)
    [sms] = harness.messages()
    assert sms.last_error == "SMS gateway answered 503: Service unavailable, try again later"
    harness.gateway.fail_next(1, hang_s=2)
    assert harness.deliver(now + timedelta(seconds=30), sms_timeout_s=0.3) == Delivered(retrying=1)
    assert harness.messages()[0].last_error == "SMS gateway timed out"
    assert harness.deliver(now + timedelta(seconds=89)) == Delivered()  # 60 s after try two
    assert harness.deliver(now + timedelta(seconds=90)) == Delivered(sent=1)
    assert len(harness.gateway.received) == 1 and harness.messages()[0].attempts == 3


def test_permanent_refusals_fail_with_the_reason_and_are_not_retried(harness):
    harness.catcher.refuse["nobody@example.se"] = "550 5.1.1 No such user"
    harness.gateway.refused_numbers.add("+46700000009")
    book(
        harness.engine,
        harness.slots[0],
        harness.ids,
        email="nobody@example.se",
        mobile="+46700000009",
    )
    assert harness.deliver() == Delivered(failed=2)
    email, sms = harness.messages()
    assert (email.status, email.attempts) == ("failed", 1)
    assert email.last_error == "SMTP recipient refused: 550 5.1.1 No such user"
    assert (sms.status, sms.last_error) == (
        "failed",
        "SMS gateway answered 400: Invalid to number: ***",  # the echoed number masked
    )
    assert harness.deliver(later(86400)) == Delivered()
    assert harness.gateway.requests == 1 and harness.catcher.messages == []


def test_retries_are_bounded(harness):
    book(harness.engine, harness.slots[0], harness.ids, mobile=None)
    port, now = free_port(), datetime.now(UTC)
    for _ in range(3):
        harness.deliver(now, smtp_port=port, notify_max_attempts=3)
        now += timedelta(hours=1)
    [mail] = harness.messages()
    assert (mail.status, mail.attempts) == ("failed", 3)
    assert mail.last_error.endswith("[given up after 3 tries]")


def test_patient_text_with_template_syntax_and_markup_stays_text(harness):
    with write_session_scope(harness.engine) as session:
        tenant_id = harness.ids[0]
        for channel in ("email", "sms"):
            session.add(
                MessageTemplate(
                    tenant_id=tenant_id,
                    channel=channel,
                    kind="new",
                    subject="Hej {{ patient_name }}",
                    body="Hej {{ patient_name }}, välkommen {{ date }} kl. {{ time }}.",
                )
            )
    book(
        harness.engine,
        harness.slots[0],
        harness.ids,
        first_name="{{ 7*7 }}",
        last_name="<script>alert(1)</script>",
        message="{% for x in range(9) %}{{ x }}{% endfor %} <img src=x onerror=alert(1)>",
    )
    harness.deliver()
    [mail] = harness.catcher.messages
    assert mail.subject == "Hej {{ 7*7 }} <script>alert(1)</script>"
    assert mail.text.startswith("Hej {{ 7*7 }} <script>alert(1)</script>, välkommen ")
    assert "{{ 7*7 }} &lt;script&gt;alert(1)&lt;/script&gt;" in mail.html
    assert "<script>" not in mail.html and "49" not in mail.text
    [sms] = harness.gateway.received
    assert sms.message.startswith("Hej {{ 7*7 }} <script>alert(1)</script>, välkommen ")


def test_tenant_templates_senders_and_a_broken_template(harness):
    with write_session_scope(harness.engine) as session:
        tenant_id = harness.ids[0]
        settings = session.get_one(TenantSettings, tenant_id)
        settings.email_sender, settings.sms_sender = "bokning@tandmottagningen.se", "TandM"
        session.add(
            MessageTemplate(
                tenant_id=tenant_id,
                channel="sms",
                kind="new",
                body="Hej {{ first_name }}! Välkommen {{ date }} {{ time }} "
                "till {{ clinic_name }}.",
            )
        )
        # Saved past the check (an old template, a field since removed): the default goes.
        session.add(
            MessageTemplate(tenant_id=tenant_id, channel="email", kind="new", body="{{ gone }}")
        )
    booking = book(harness.engine, harness.slots[0], harness.ids)
    harness.deliver(email_verified_domains="tandmottagningen.se")
    [mail] = harness.catcher.messages
    assert mail.mail_from == "bokning@tandmottagningen.se"
    assert mail.message["From"] == "Tandmottagningen <bokning@tandmottagningen.se>"
    assert mail.subject.startswith("Bokningsbekräftelse") and "Hej Astrid Lind!" in mail.text
    [sms] = harness.gateway.received
    assert sms.sender == "TandM"
    with session_scope(harness.engine) as session:
        clinic_name = session.get_one(Clinic, session.get_one(Booking, booking.id).clinic_id).name
    assert sms.message.startswith("Hej Astrid! Välkommen ")
    assert sms.message.endswith(f" till {clinic_name}.")


def test_a_stored_sender_on_an_unverified_domain_never_sends_from_it(harness):
    """A sender planted in the store past the admin's check (an old row, a direct
    write): the mail still goes From the default address, over real SMTP, with the
    tenant's name; the tenant's address only where answers go, if no clinic's does."""
    with write_session_scope(harness.engine) as session:
        settings = session.get_one(TenantSettings, harness.ids[0])
        settings.email_sender = "vd@storbank.se"
        for clinic in session.scalars(select(Clinic)):
            clinic.email = None  # no clinic's address for answers: the tenant's is used
    book(harness.engine, harness.slots[0], harness.ids)
    harness.deliver(email_verified_domains="tandmottagningen.se")
    [mail] = harness.catcher.messages
    assert mail.mail_from == harness.settings.email_default_sender
    assert mail.message["From"] == f"Tandmottagningen <{harness.settings.email_default_sender}>"
    assert mail.message["Reply-To"] == "Tandmottagningen <vd@storbank.se>"
    assert "storbank" not in mail.message["From"]


def test_english_bookings_are_told_in_english(harness):
    tenant_id, clinic_id, treatment_id = harness.ids
    slot = harness.slots[0]
    with write_session_scope(harness.engine) as session:
        request = Request(
            tenant_id,
            clinic_id,
            treatment_id,
            slot.starts_at,
            slot.practitioner_id,
            language="en",
        )
        held = bookings.hold(session, request, datetime.now(UTC))
        held.first_name, held.email, held.mobile = "Ann", "ann@example.com", "+46701234567"
        bookings.confirm(session, held, datetime.now(UTC))
    harness.deliver()
    assert harness.catcher.messages[0].subject.startswith("Booking confirmed: ")
    assert harness.gateway.received[0].message.startswith("Booked: ")


def held_booking(harness: Harness) -> Booking:
    tenant_id, clinic_id, treatment_id = harness.ids
    slot = harness.slots[0]
    with write_session_scope(harness.engine) as session:
        request = Request(tenant_id, clinic_id, treatment_id, slot.starts_at, slot.practitioner_id)
        held = bookings.hold(session, request, datetime.now(UTC))
        held.email, held.mobile = "astrid@example.se", "+46701234567"
        session.flush()
        return held


def test_the_code_goes_out_and_an_expired_one_does_not(harness):
    held = held_booking(harness)
    with write_session_scope(harness.engine) as session:
        booking = session.get_one(Booking, held.id)
        bookings.send_code(session, booking, "sms", b"secret", datetime.now(UTC))
    assert harness.deliver() == Delivered(sent=1)
    [sms] = harness.gateway.received
    code = sms.message.split()[0]
    assert code.isdigit() and len(code) == 6 and "gäller i 10 minuter" in sms.message
    assert harness.messages()[0].payload == "{}"  # the code is not kept once sent

    with write_session_scope(harness.engine) as session:
        booking = session.get_one(Booking, held.id)
        bookings.send_code(session, booking, "email", b"secret", later(120))
    assert harness.deliver(later(120 + 600)) == Delivered(failed=1)
    mail = harness.messages()[-1]
    assert mail.last_error == "the code expired before it could be sent"
    assert mail.payload == "{}"
    assert harness.catcher.messages == []


def test_an_offer_whose_hold_ended_before_it_could_go_is_not_sent(harness):
    held = held_booking(harness)
    queued = datetime.now(UTC)
    with write_session_scope(harness.engine) as session:
        session.add(
            OutboxMessage(
                tenant_id=held.tenant_id,
                booking_id=held.id,
                channel="sms",
                kind="offer",
                recipient="+46700000001",
                payload=json.dumps(offer_payload(queued + timedelta(minutes=1))),
                created_at=queued,
            )
        )
    assert harness.deliver(later(120)) == Delivered(failed=1)
    offer = harness.messages()[-1]
    assert offer.last_error == "the offer's hold ended before it could be sent"
    assert harness.gateway.received == []


def test_a_conflict_tells_the_patient_and_gives_the_clinics_phone(harness):
    booking = book(harness.engine, harness.slots[0], harness.ids)
    harness.deliver()  # the confirmation
    with write_session_scope(harness.engine) as session:  # as write-back records one
        confirmed = session.get_one(Booking, booking.id)
        confirmed.status = "conflict"
        bookings.queue_messages(session, confirmed, "conflict", {"original_stands": False})
        phone = session.get_one(Clinic, confirmed.clinic_id).phone
    assert harness.deliver() == Delivered(sent=2)
    conflict = harness.catcher.messages[-1]
    assert conflict.subject == "Din tid kunde inte bokas" and conflict.calendar is None
    assert phone and phone in conflict.text
    assert harness.gateway.received[-1].message.startswith("Tyvärr kunde tiden ")
    assert f"Ring {phone}" in harness.gateway.received[-1].message


def test_two_workers_at_once_send_each_message_once(harness):
    for slot in apart(harness.slots, 3):
        book(harness.engine, slot, harness.ids)
    results: list[Delivered] = []
    start = threading.Barrier(3)

    def worker():
        start.wait()
        results.append(deliver_due(harness.engine, harness.settings, datetime.now(UTC), limit=2))
        results.append(deliver_due(harness.engine, harness.settings, datetime.now(UTC), limit=2))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.sent for r in results) == 6
    assert len(harness.catcher.messages) == 3 and len(harness.gateway.received) == 3
    ids = [m.message["Message-ID"] for m in harness.catcher.messages]
    assert len(set(ids)) == 3


def test_settings_default_links_and_sender(harness):
    plain = replace_settings(harness.settings, public_base_url=None)
    assert plain.public_url("klinik") == "https://klinik.localhost"
    assert harness.settings.public_url("klinik").startswith("http://klinik.localhost:")


def replace_settings(settings: Settings, **changes) -> Settings:
    return settings.model_copy(update=changes)
