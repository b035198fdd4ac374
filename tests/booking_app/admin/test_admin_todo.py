"""*Att hantera* (issue 19): a tenant's conflicts with Opus (patient told or not),
failed messages (retried, audited), quarantined Opus rows and Boka vård problems,
each counted; nothing of the patient's contact details shown; analysts only read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from connectors.opus.writer import Outcome
from connectors.store import bookings, write_back
from connectors.store.db import session_scope
from connectors.store.models import AuditEntry, OpusDatabase, OutboxMessage, QuarantinedRow
from tests.booking_app.admin.admin_pages import csrf_token, log_in, operator, tenant_id
from tests.helpers import first_slots, request_for

ADMIN = "a@tandmottagningen.se"
ANALYST = "analys@tandmottagningen.se"
PATIENT_EMAIL = "patient.todo@example.se"


@pytest.fixture
def troubles(booking_store: Engine) -> int:
    """A conflict whose patient was told by e-mail, a failed SMS, a quarantined row."""
    now = datetime.now(UTC)
    with session_scope(booking_store) as session:
        tenant, clinic, treatment, slots = first_slots(session)
        booking = bookings.hold(session, request_for(tenant, clinic, treatment, slots[0]), now)
        booking.email, booking.first_name = PATIENT_EMAIL, "Test"
        bookings.confirm(session, booking, now)
        change = write_back.plan(session, booking.id, "Europe/Stockholm")
        conflict = Outcome(done="conflict", conflict="taken_in_opus")
        assert write_back.record_conflict(session, change, conflict, now)
        session.flush()
        for message in session.scalars(select(OutboxMessage)):
            message.status = "sent" if message.kind == "conflict" else "delivered"
        session.add(
            OutboxMessage(
                tenant_id=tenant.id, booking_id=booking.id, channel="sms", kind="new",
                recipient="+46701234567", payload="{}", status="failed", attempts=5,
                last_error="gateway said 401", created_at=now - timedelta(hours=1),
            )
        )  # fmt: skip
        database = session.scalars(select(OpusDatabase.id)).first()
        session.add(
            QuarantinedRow(
                tenant_id=tenant.id, opus_database_id=database, stream="free_range",
                source_id="4711", reasons="end_before_start", row_data="{}",
            )
        )  # fmt: skip
        return tenant.id


def test_the_todo_page_counts_and_lists_what_needs_doing(booking_client, booking_store, troubles):
    operator(booking_store, ADMIN, {troubles: "administrator"})
    log_in(booking_client, ADMIN)

    index = booking_client.get("/admin/")
    page = booking_client.get(f"/admin/{troubles}/att-hantera")

    assert f'href="/admin/{troubles}/att-hantera"' in index.text  # the tenant's start page
    assert "Att hantera: <strong>3</strong>" in index.text  # a conflict, a message, a row
    assert page.status_code == 200
    assert 'aria-current="page">Att hantera' in page.text
    assert "Krockar med Opus</a>: <strong>1</strong>" in page.text
    assert "Meddelanden som inte gick fram</a>: <strong>1</strong>" in page.text
    assert "Opus-rader i karantän</a>: <strong>1</strong>" in page.text
    assert "Tiden var redan bokad i Opus" in page.text and ">Ja<" in page.text
    assert "gateway said 401" in page.text and "Försök igen" in page.text
    assert "free_range 4711" in page.text
    assert "/artifacts/key/write-back" in page.text
    assert PATIENT_EMAIL not in page.text and "+46701234567" not in page.text


def test_a_failed_message_is_retried_and_the_retry_audited(booking_client, booking_store, troubles):
    operator(booking_store, ADMIN, {troubles: "administrator"})
    log_in(booking_client, ADMIN)
    page = booking_client.get(f"/admin/{troubles}/att-hantera")
    with session_scope(booking_store) as session:
        failed = session.scalars(select(OutboxMessage.id).where(OutboxMessage.status == "failed"))
        message_id = failed.one()

    answer = booking_client.post(
        f"/admin/{troubles}/att-hantera/meddelanden/{message_id}/forsok-igen",
        data={"csrf_token": csrf_token(page)},
        follow_redirects=False,
    )

    assert answer.status_code == 303
    with session_scope(booking_store) as session:
        message = session.get(OutboxMessage, message_id)
        assert (message.status, message.attempts) == ("pending", 0)
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.operator_email, entry.old_value, entry.new_value) == (
            ADMIN, "failed", "pending",
        )  # fmt: skip
    again = booking_client.get(f"/admin/{troubles}/att-hantera")
    assert "Meddelanden som inte gick fram</a>: <strong>0</strong>" in again.text


def test_an_analyst_sees_the_list_but_cannot_retry(booking_client, booking_store, troubles):
    operator(booking_store, ANALYST, {troubles: "analyst"})
    log_in(booking_client, ANALYST)
    page = booking_client.get(f"/admin/{troubles}/att-hantera")
    with session_scope(booking_store) as session:
        message_id = session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.status == "failed")
        ).one()

    answer = booking_client.post(
        f"/admin/{troubles}/att-hantera/meddelanden/{message_id}/forsok-igen",
        data={"csrf_token": csrf_token(page)},
        follow_redirects=False,
    )

    assert page.status_code == 200 and "Försök igen" not in page.text
    assert answer.status_code == 403
    assert tenant_id(booking_store) == troubles


def test_a_failed_message_is_dismissed_once_and_the_dismissal_audited(
    booking_client, booking_store, troubles
):
    operator(booking_store, ADMIN, {troubles: "administrator"})
    log_in(booking_client, ADMIN)
    page = booking_client.get(f"/admin/{troubles}/att-hantera")
    with session_scope(booking_store) as session:
        failed = session.scalars(select(OutboxMessage.id).where(OutboxMessage.status == "failed"))
        message_id = failed.one()
    dismiss = f"/admin/{troubles}/att-hantera/meddelanden/{message_id}/avfarda"
    assert "Avfärda" in page.text and f'action="{dismiss}"' in page.text

    answer = booking_client.post(
        dismiss, data={"csrf_token": csrf_token(page)}, follow_redirects=False
    )
    twice = booking_client.post(
        dismiss, data={"csrf_token": csrf_token(page)}, follow_redirects=False
    )

    assert answer.status_code == 303 and twice.status_code == 404
    with session_scope(booking_store) as session:
        message = session.get(OutboxMessage, message_id)
        assert message.status == "failed" and message.dismissed_at is not None  # never sent
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.operator_email, entry.old_value, entry.new_value) == (
            ADMIN, "failed", "dismissed",
        )  # fmt: skip
    again = booking_client.get(f"/admin/{troubles}/att-hantera")
    assert "Meddelanden som inte gick fram</a>: <strong>0</strong>" in again.text
    assert "gateway said 401" not in again.text
