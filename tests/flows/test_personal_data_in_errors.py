"""No personal number, e-mail address or phone number in what a failure leaves behind:
the error kept in the store, the log (captured at DEBUG, SQLAlchemy's statements
included), the Prefect artifact's text. Each test plants them where a real failure
carries them: a mail server's reply that names the address, an SMS gateway's echo of
the number, an Opus database's error quoting the patient's row."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from connectors.store.db import session_scope
from connectors.store.models import Booking, OutboxMessage
from demo.mail_catcher import MailCatcher
from demo.sms_gateway import SmsGatewayStandIn
from flows.notifications import Delivered, deliver_due, failed_rows
from flows.write_back import artifact_markdown, write_back_due
from opus_online.config import Settings
from tests.flows.write_back_helpers import book, free_slots

PERSONAL_NUMBER = "191212121212"
EMAIL = "tolvan.tolvansson@example.se"
MOBILE = "+46701234567"
PLANTED = (PERSONAL_NUMBER, "19121212-1212", EMAIL, MOBILE, "070-123 45 67")
"""Each kind, in the spellings a server or driver may echo it in."""


def assert_nowhere(*texts: str | None) -> None:
    for text in texts:
        for planted in PLANTED:
            assert planted not in (text or ""), f"{planted!r} in {text!r}"


def book_tolvan(engine: Engine) -> Booking:
    *ids, slots = free_slots(engine)
    return book(engine, slots[0], ids, personal_number=PERSONAL_NUMBER, email=EMAIL, mobile=MOBILE)


def test_smtp_and_sms_refusals_that_echo_the_patient_leave_no_trace(
    synced: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    book_tolvan(synced)
    with MailCatcher() as catcher, SmsGatewayStandIn(report_delay_s=0) as gateway:
        # The server names the address, and (a chatty one) the rest it was sent.
        catcher.refuse[EMAIL] = (
            f"550 5.1.1 <{EMAIL}>: no such user (19121212-1212, {PERSONAL_NUMBER}, "
            "ring 070-123 45 67)"
        )
        gateway.refused_numbers.add(MOBILE)  # answered "Invalid to number: +46701234567"
        settings = Settings(
            store_url=synced.url.render_as_string(hide_password=False),
            data_dir=tmp_path,
            base_domain="localhost",
            secret_key="personal-data-test",
            smtp_port=catcher.port,
            smtp_timeout_s=5,
            sms_gateway_url=f"{gateway.url}/a1/sms",
            sms_timeout_s=5,
        )
        started = datetime.now(UTC) - timedelta(minutes=1)
        with caplog.at_level(logging.DEBUG):
            assert deliver_due(synced, settings) == Delivered(failed=2)

    with session_scope(synced) as session:
        errors = list(session.scalars(select(OutboxMessage.last_error)))
    assert len(errors) == 2 and all(errors)
    assert any("550 5.1.1" in e for e in errors) and any("Invalid to number" in e for e in errors)
    artifact = str(failed_rows(synced, started))  # the send-notifications flow's table
    assert_nowhere(*errors, caplog.text, artifact)


def test_an_opus_error_quoting_the_patient_leaves_no_trace(
    synced: Engine, opus_sqlite: Path, caplog: pytest.LogCaptureFixture
):
    booking = book_tolvan(synced)
    # The Opus database refuses the new patient and says whom (as constraint and trigger
    # messages of real databases do; SQLite's RAISE takes only a literal).
    said = " / ".join(PLANTED)
    with sqlite3.connect(opus_sqlite) as opus:
        opus.execute(
            "CREATE TRIGGER refuse_patient BEFORE INSERT ON OnlinePatient BEGIN "
            f"SELECT RAISE(ABORT, 'patient refused: {said}'); END"
        )

    with caplog.at_level(logging.DEBUG):
        report = write_back_due(synced)

    assert report.outcomes["failed"] == 1
    with session_scope(synced) as session:
        error = session.get_one(Booking, booking.id).write_back_error
    assert error and "patient refused" in error
    assert_nowhere(error, caplog.text, artifact_markdown(report), repr(report.failures))
