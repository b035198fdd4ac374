"""The booking site's ends of patient messages: the short link in e-mail and SMS, and
the SMS gateway's delivery report, which only the gateway can send (a per-message
keyed token) and only about a message of the host's own tenant."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from connectors.store import outbox
from connectors.store.db import session_scope, write_session_scope
from connectors.store.models import OutboxMessage, Tenant, TenantSettings
from connectors.store.types import utcnow
from tests.booking_app.booking_pages import BASE_DOMAIN, SECRET, client_for


@pytest.fixture
def sent_sms(synced_store) -> int:
    with write_session_scope(synced_store) as session:
        tenant_id = session.scalars(select(Tenant.id)).one()
        message = OutboxMessage(
            tenant_id=tenant_id,
            channel="sms",
            kind="new",
            recipient="+46701234567",
            payload="{}",
            status="sent",
            provider_id="s42",
        )
        session.add(message)
        session.add(Tenant(name="Annan", subdomain="annan", settings=TenantSettings()))
        session.flush()
        return message.id


def report_path(message_id: int, token: str | None = None) -> str:
    token = token or outbox.report_token(SECRET.encode(), message_id)
    return f"/sms/leveransrapport/{message_id}/{token}"


def status(engine, message_id: int) -> tuple[str, str | None]:
    with session_scope(engine) as session:
        message = session.get_one(OutboxMessage, message_id)
        return message.status, message.provider_id


def test_the_gateways_report_marks_the_sms_delivered(client, synced_store, sent_sms):
    form = {"id": "s42", "status": "delivered", "delivered": utcnow().isoformat()}
    response = client.post(report_path(sent_sms), data=form)
    assert response.status_code == 204 and response.content == b""
    assert status(synced_store, sent_sms) == ("delivered", "s42")


@pytest.mark.parametrize(
    "path",
    [
        lambda m: report_path(m, "0" * 40),  # a guessed token
        lambda m: report_path(m + 1, outbox.report_token(SECRET.encode(), m)),  # another's
        lambda m: report_path(m, outbox.report_token(b"another key", m)),
        lambda m: f"/sms/leveransrapport/{m}/",
    ],
)
def test_a_report_without_the_messages_token_is_a_bare_404(client, synced_store, sent_sms, path):
    response = client.post(path(sent_sms), data={"id": "s42", "status": "failed"})
    assert response.status_code in (404, 405) and "s42" not in response.text
    assert status(synced_store, sent_sms) == ("sent", "s42")


def test_another_tenants_host_cannot_report_on_the_message(synced_store, sent_sms):
    other = client_for(synced_store, host=f"annan.{BASE_DOMAIN}")
    response = other.post(report_path(sent_sms), data={"id": "s42", "status": "failed"})
    assert response.status_code == 404
    unknown = client_for(synced_store, host=f"okand.{BASE_DOMAIN}")
    assert unknown.post(report_path(sent_sms), data={"status": "failed"}).status_code == 404
    assert status(synced_store, sent_sms) == ("sent", "s42")


def test_a_report_naming_another_gateway_id_is_refused(client, synced_store, sent_sms):
    response = client.post(report_path(sent_sms), data={"id": "s43", "status": "failed"})
    assert response.status_code == 404
    assert status(synced_store, sent_sms) == ("sent", "s42")


def test_an_oversized_report_is_refused(client, sent_sms):
    response = client.post(report_path(sent_sms), content=b"id=" + b"x" * 5000)
    assert response.status_code == 413


def test_the_message_link_leads_to_the_booking_on_my_bookings(client):
    response = client.get("/bokning/Ab3dEf5hIj7lMn9pQr1tUv", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/mina-bokningar/Ab3dEf5hIj7lMn9pQr1tUv/avboka"
    for odd in ("x" * 33, "a.b", "%3Cscript%3E"):
        assert client.get(f"/bokning/{odd}", follow_redirects=False).status_code == 404
