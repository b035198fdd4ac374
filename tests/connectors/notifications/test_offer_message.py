"""The waiting list's offer message: the offered time, its own signed link and the
hold's end, in the patient's language; one SMS even with the longest values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.notifications.compose import Sender, email_message, sms_text
from connectors.notifications.offer import expired
from connectors.notifications.sms_length import GSM7, sms_length
from opus_online import signed_links
from tests.connectors.notifications.test_compose import NOW, SITE, appointment, outgoing

LONG_SITE = "https://tandmottagningen-vasteras-centrum.opusdentalonline.com"


def offer_payload(expires_at: datetime) -> dict:
    # The longest token a real offer gets: a 10-digit offer id, an expiry far ahead.
    token = signed_links.sign(
        b"k" * 32,
        purpose="offer",
        tenant="1",
        subject="9" * 10,
        expires_at=datetime(2099, 12, 31, tzinfo=UTC),
    )
    return {"token": token, "expires_at": expires_at.isoformat(), "minutes": 15}


@pytest.mark.parametrize(
    ("language", "start"), [("sv", "Tidigare tid ons 2 dec 08:00, svara före 08:15: "),
                            ("en", "Earlier time Wed 2 Dec 08:00, reply by 08:15: ")]
)  # fmt: skip
def test_the_sms_names_the_offered_time_the_hold_and_the_offer_link(language, start):
    hold_ends = datetime(2026, 12, 2, 7, 15, tzinfo=UTC)
    message = outgoing(
        "offer",
        "sms",
        appointment=appointment(datetime(2026, 12, 2, 7, 0, tzinfo=UTC), language=language),
        language=language,
        payload=offer_payload(hold_ends),
    )
    text = sms_text(message)
    assert text.startswith(start)
    assert text.endswith(SITE + "/tid/" + message.payload["token"])


def test_the_sms_stays_one_sms_with_the_longest_site_name_and_token():
    for language in ("sv", "en"):
        message = outgoing(
            "offer",
            "sms",
            appointment=appointment(datetime(2026, 9, 30, 12, 45, tzinfo=UTC), language=language),
            language=language,
            site_url=LONG_SITE,
            payload=offer_payload(datetime(2026, 9, 30, 12, 0, tzinfo=UTC)),
        )
        length = sms_length(sms_text(message))
        assert (length.segments, length.encoding) == (1, GSM7), (language, length)


def test_the_email_has_no_calendar_file_and_says_until_when():
    message = outgoing("offer", "email", payload=offer_payload(NOW + timedelta(minutes=15)))
    email = email_message(message, Sender("noreply@opusdentalonline.com"), NOW)
    assert email["Subject"].startswith("Ledig tidigare tid:")
    assert not any(part.get_filename() for part in email.walk())
    assert "till kl. 13:15" in email.get_body(("plain",)).get_content()


def test_an_offer_whose_hold_ended_is_not_sent():
    payload = offer_payload(NOW)
    assert expired(payload, NOW) and not expired(payload, NOW - timedelta(seconds=1))
