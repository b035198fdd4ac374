"""Composing messages: the e-mail's parts, the SMS text, defaults and tenants' own
templates, both languages, and times through the one formatting path across DST."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from connectors.notifications.compose import (
    Outgoing,
    Sender,
    choose_sender,
    email_message,
    sms_text,
)
from connectors.notifications.defaults import Text
from connectors.notifications.fields import Appointment, address_line

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SITE = "https://tandmottagningen.opusdentalonline.com"


def appointment(starts_at: datetime, **changes) -> Appointment:
    base = Appointment(
        reference="Ab3dEf5hIj7lMn9pQr1tUv",
        appointment_key="6f1c2a4e-0000-4000-8000-000000000001",
        sequence=0,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=45),
        language="sv",
        first_name="Astrid",
        last_name="Lind",
        clinic_name="Tandmottagningen Uppsala",
        clinic_address="Dragarbrunnsgatan 1, 753 20 Uppsala",
        clinic_phone="018-12 34 56",
        clinic_email="uppsala@tandmottagningen.se",
        practitioner="Karin Ek",
        treatment="Undersökning",
    )
    return replace(base, **changes)


def outgoing(kind="new", channel="email", starts_at=None, **changes) -> Outgoing:
    when = starts_at or datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    fields = {
        "message_id": 41,
        "tenant_id": 1,
        "channel": channel,
        "kind": kind,
        "recipient": "astrid@example.se" if channel == "email" else "+46701234567",
        "tenant_name": "Tandmottagningen",
        "site_url": SITE,
        "appointment": appointment(when),
    } | changes
    return Outgoing(**fields)


def test_a_booking_email_has_text_html_and_a_calendar_file():
    message = email_message(outgoing(), Sender("bokning@tandmottagningen.se"), NOW)
    assert message["From"] == "Tandmottagningen <bokning@tandmottagningen.se>"
    assert message["To"] == "astrid@example.se"
    assert message["Subject"] == "Bokningsbekräftelse onsdag 2 december 2026 kl. 08:00"
    assert message["Message-ID"] == "<outbox-41@opusdentalonline.com>"
    assert message["Reply-To"] == "Tandmottagningen Uppsala <uppsala@tandmottagningen.se>"
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hej Astrid Lind!" in text and "onsdag 2 december 2026 kl. 08:00" in text
    assert "Undersökning hos Karin Ek" in text
    assert "Tandmottagningen Uppsala, Dragarbrunnsgatan 1, 753 20 Uppsala" in text
    assert f"{SITE}/bokning/Ab3dEf5hIj7lMn9pQr1tUv" in text and "018-12 34 56" in text
    assert f'<a href="{SITE}/bokning/Ab3dEf5hIj7lMn9pQr1tUv">' in html
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "bokning.ics"
    assert attachment.get_param("method") == "PUBLISH"
    event = Calendar.from_ical(attachment.get_content()).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == datetime(2026, 12, 2, 7, 0, tzinfo=UTC)


def test_no_personal_number_anywhere():
    # The appointment has no such field at all; the message carries the reference.
    assert "personal_number" not in Appointment.__dataclass_fields__


def test_an_sms_is_the_short_default():
    text = sms_text(outgoing(channel="sms"))
    assert text == (
        f"Bokat: Tandmottagningen Uppsala ons 2 dec kl. 08:00. Avboka/ändra: "
        f"{SITE}/bokning/Ab3dEf5hIj7lMn9pQr1tUv"
    )


@pytest.mark.parametrize(
    ("kind", "sms_start", "subject_start"),
    [
        ("new", "Bokat:", "Bokningsbekräftelse"),
        ("rebook", "Ny tid:", "Din tid är ändrad"),
        ("cancel", "Avbokat:", "Avbokad"),
        ("conflict", "Tyvärr kunde tiden", "Din tid kunde inte bokas"),
    ],
)
def test_each_kind_has_its_default(kind, sms_start, subject_start):
    assert sms_text(outgoing(kind, "sms")).startswith(sms_start)
    message = email_message(outgoing(kind), Sender("a@b.se"), NOW)
    assert message["Subject"].startswith(subject_start)
    attachments = list(message.iter_attachments())
    assert len(attachments) == (0 if kind == "conflict" else 1)


def test_a_cancellation_cancels_the_calendar_event_and_links_to_booking_anew():
    message = email_message(outgoing("cancel"), Sender("a@b.se"), NOW)
    [attachment] = list(message.iter_attachments())
    assert attachment.get_param("method") == "CANCEL"
    calendar = Calendar.from_ical(attachment.get_content())
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(calendar.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    assert sms_text(outgoing("cancel", "sms")).endswith(f"Boka ny tid: {SITE}")


def test_a_conflict_gives_the_clinics_phone_and_says_whether_the_old_time_stands():
    text = sms_text(outgoing("conflict", "sms"))
    assert "Ring 018-12 34 56" in text and "tidigare tid" not in text
    standing = sms_text(outgoing("conflict", "sms", payload={"original_stands": True}))
    assert "Din tidigare tid gäller." in standing
    no_phone = outgoing(
        "conflict", "email", appointment=appointment(NOW + timedelta(days=3), clinic_phone="")
    )
    body = email_message(no_phone, Sender("a@b.se"), NOW).get_body(("plain",)).get_content()
    assert "Kontakta oss" in body and "Ring oss" not in body


def test_a_code_message_carries_the_code():
    code = outgoing("code", "sms", payload={"code": "042917"})
    assert sms_text(code).startswith("042917 är din kod")
    message = email_message(replace(code, channel="email"), Sender("a@b.se"), NOW)
    assert message["Subject"] == "042917 är din kod"
    assert list(message.iter_attachments()) == []


def test_english_bookings_get_english_texts():
    english = outgoing(language="en", appointment=appointment(NOW, language="en"))
    message = email_message(english, Sender("a@b.se"), NOW)
    assert message["Subject"] == "Booking confirmed: Sunday 1 March 2026 at 13:00"
    assert message["Content-Language"] == "en"
    assert sms_text(replace(english, channel="sms")).startswith(
        "Booked: Tandmottagningen Uppsala Sun 1 Mar at 13:00."
    )


def test_a_tenants_own_template_is_used():
    own = Text("Välkommen, {{ first_name }}", "Hej {{ first_name }}! {{ date }} {{ time }}.")
    message = email_message(outgoing(template=own), Sender("a@b.se"), NOW)
    assert message["Subject"] == "Välkommen, Astrid"
    assert message.get_body(("plain",)).get_content().strip() == (
        "Hej Astrid! onsdag 2 december 2026 08:00."
    )
    assert sms_text(outgoing(channel="sms", template=own)) == "Hej Astrid! ons 2 dec 08:00."


def test_a_template_without_subject_keeps_the_default_subject():
    message = email_message(outgoing(template=Text(None, "Hej")), Sender("a@b.se"), NOW)
    assert message["Subject"].startswith("Bokningsbekräftelse")


@pytest.mark.parametrize(
    "broken",
    ["Hej {{ first_name ", "Hej {{ pet_name }}", "{{ 7*7 }}", "{% for c in link %}{% endfor %}"],
)
def test_a_broken_template_sends_the_default_instead(broken, caplog):
    message = email_message(outgoing(template=Text(broken, broken)), Sender("a@b.se"), NOW)
    assert message["Subject"].startswith("Bokningsbekräftelse")
    assert "Hej Astrid Lind!" in message.get_body(("plain",)).get_content()
    assert sms_text(outgoing(channel="sms", template=Text(None, broken))).startswith("Bokat:")
    assert "template unusable" in caplog.text


def test_code_and_conflict_messages_ignore_tenant_templates():
    own = Text("Egen", "Egen text")
    assert sms_text(outgoing("code", "sms", template=own, payload={"code": "1"})) != "Egen text"
    assert sms_text(outgoing("conflict", "sms", template=own)) != "Egen text"


def test_patient_text_is_text_in_every_part():
    evil = appointment(
        datetime(2026, 12, 2, 7, 0, tzinfo=UTC),
        first_name="{{ 7*7 }}",
        last_name="<script>alert(1)</script>",
    )
    message = email_message(outgoing(appointment=evil), Sender("a@b.se"), NOW)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hej {{ 7*7 }} <script>alert(1)</script>!" in text and "49" not in text
    assert "{{ 7*7 }} &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
    own = Text(None, "{{ patient_name }}")
    assert sms_text(outgoing(channel="sms", appointment=evil, template=own)) == (
        "{{ 7*7 }} <script>alert(1)</script>"
    )


def test_a_subject_template_cannot_inject_headers():
    own = Text("Rad ett\nBcc: x@evil.example\n{{ first_name }}", "x")
    message = email_message(outgoing(template=own), Sender("a@b.se"), NOW)
    assert message["Subject"] == "Rad ett Bcc: x@evil.example Astrid"
    assert message["Bcc"] is None


# -- one time format, across both DST changes -------------------------------------------

DST_CASES = [
    # (UTC start, e-mail date and time, SMS date)
    (datetime(2026, 3, 28, 7, 0, tzinfo=UTC), "lördag 28 mars 2026 kl. 08:00", "lör 28 mar"),
    (datetime(2026, 3, 29, 7, 0, tzinfo=UTC), "söndag 29 mars 2026 kl. 09:00", "sön 29 mar"),
    (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "söndag 29 mars 2026 kl. 01:30", "sön 29 mar"),
    (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "söndag 29 mars 2026 kl. 03:30", "sön 29 mar"),
    (datetime(2026, 10, 24, 7, 0, tzinfo=UTC), "lördag 24 oktober 2026 kl. 09:00", "lör 24 okt"),
    (datetime(2026, 10, 25, 7, 0, tzinfo=UTC), "söndag 25 oktober 2026 kl. 08:00", "sön 25 okt"),
    (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "söndag 25 oktober 2026 kl. 02:30", "sön 25 okt"),
    (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "söndag 25 oktober 2026 kl. 02:30", "sön 25 okt"),
    # The local day, not the UTC one: 22:30 UTC is half past midnight on Sunday.
    (datetime(2026, 10, 24, 22, 30, tzinfo=UTC), "söndag 25 oktober 2026 kl. 00:30", "sön 25 okt"),
]


@pytest.mark.parametrize(("starts_at", "email_when", "sms_date"), DST_CASES)
def test_times_in_messages_are_stockholm_wall_clock_across_dst(starts_at, email_when, sms_date):
    message = email_message(outgoing(starts_at=starts_at), Sender("a@b.se"), NOW)
    assert email_when in message.get_body(("plain",)).get_content()
    clock = email_when.rsplit(" ", 1)[1]
    assert f"{sms_date} kl. {clock}" in sms_text(outgoing(channel="sms", starts_at=starts_at))
    [attachment] = list(message.iter_attachments())
    event = Calendar.from_ical(attachment.get_content()).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == starts_at  # the same moment, in UTC


def test_address_line_skips_what_is_missing():
    assert address_line("Storgatan 1", None, "753 20", "Uppsala") == "Storgatan 1, 753 20 Uppsala"
    assert address_line("Storgatan 1", "Plan 2", None, "Uppsala") == (
        "Storgatan 1, Plan 2, Uppsala"
    )
    assert address_line(None, None, None, None) == ""


def test_only_a_verified_domain_is_sent_from():
    def verified(address: str) -> bool:
        return address.endswith("@tandmottagningen.se")

    default = "no-reply@opusdentalonline.com"
    own = choose_sender("bokning@tandmottagningen.se", default, verified)
    assert own == Sender("bokning@tandmottagningen.se")
    assert choose_sender("vd@storbank.se", default, verified) == Sender(default, "vd@storbank.se")
    assert choose_sender(None, default, verified) == Sender(default)
    message = email_message(
        outgoing(appointment=replace(outgoing().appointment, clinic_email="")),
        choose_sender("vd@storbank.se", default, verified),
        NOW,
    )
    assert message["From"] == f"Tandmottagningen <{default}>"
    assert message["Reply-To"] == "Tandmottagningen <vd@storbank.se>"
