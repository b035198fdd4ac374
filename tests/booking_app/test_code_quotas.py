"""Each quota on code messages, alone: per recipient (3 an hour), per client (3 an
hour, 10 a day) and per tenant (an hourly cap the operator raises). Each test fills
the quota with code messages in the store (they count whoever queued them, in any
app process), then performs the next code request as an attacker's script would: it
is refused with a Swedish message and counted for the operators.

The clients are separate apps (as separate processes would be) with their own
addresses and cookies, so that one quota is filled and the others are not."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from booking_app.main import create_app
from connectors.store import client_limits
from connectors.store.db import session_scope
from connectors.store.models import AuditEntry, Booking, OutboxMessage
from opus_online.config import Settings
from tests.booking_app.admin.admin_pages import log_in, operator, tenant_id
from tests.booking_app.booking_pages import BASE_DOMAIN, SECRET, TENANT_HOST, SiteClient, store_url
from tests.booking_app.booking_steps import (
    Page,
    booking,
    fill_details,
    reference_of,
    sent_codes,
    to_details,
)
from tests.booking_app.login_steps import Clock

ADMIN = "admin@tandmottagningen.se"
NUMBER = "+46701234567"  # the patient's number in booking_steps.PATIENT


def visitor(engine: Engine, clock: Clock, address: str) -> TestClient:
    """A browser of its own (cookies) at ``address``, on an app of its own."""
    settings = Settings(store_url=store_url(engine), base_domain=BASE_DOMAIN, secret_key=SECRET)
    return SiteClient(  # /admin… on the admin host, as an operator's browser goes
        create_app(settings, clock=clock),
        base_url=f"http://{TENANT_HOST}",
        client=(address, 50000),
    )


def earlier_codes(
    engine: Engine, reference: str, recipients: list[str], ago: timedelta, now
) -> None:
    """Code messages queued ``ago`` for the held booking ``reference``."""
    with session_scope(engine) as session:
        held = session.scalars(select(Booking).where(Booking.reference == reference)).one()
        for recipient in recipients:
            session.add(
                OutboxMessage(
                    tenant_id=held.tenant_id,
                    booking_id=held.id,
                    channel="sms",
                    kind="code",
                    recipient=recipient,
                    payload=json.dumps({"code": "123456"}),
                    created_at=now - ago,
                )
            )


def hits(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        return client_limits.hits(session, tenant_id(engine))


def ask_code(client: TestClient, details: Page, mobile: str = NUMBER) -> Page:
    return fill_details(client, details, code_channel="sms", mobile=mobile)


def assert_refused(
    page: Page, engine: Engine, reference: str, kind: str, text: str, earlier: int = 0
) -> None:
    assert page.status == 429
    assert page.h1 == "Gränsen är nådd"
    assert text in page.html
    assert len(sent_codes(engine, reference)) == earlier  # no new code queued
    assert booking(engine, reference).status == "held"  # the patient may still use e-mail
    assert hits(engine) == {kind: 1}


def test_a_fourth_code_to_one_recipient_within_the_hour_is_refused(
    booking_store: Engine, clock: Clock
):
    # Another client had three codes sent to the number in the last hour.
    other = to_details(visitor(booking_store, clock, "10.0.0.2"))
    earlier_codes(booking_store, reference_of(other), [NUMBER] * 3, timedelta(minutes=50), clock())
    patient = visitor(booking_store, clock, "10.0.0.1")
    details = to_details(patient)
    refused = ask_code(patient, details)
    assert_refused(
        refused,
        booking_store,
        reference_of(details),
        "recipient",
        "Det har skickats för många koder till den här mottagaren den senaste timmen.",
    )
    # An hour after those codes, the number may have one again.
    clock.advance(minutes=11)
    assert "/kod" in ask_code(patient, to_details(patient)).url


def test_a_fourth_code_for_one_client_within_the_hour_is_refused(
    booking_store: Engine, clock: Clock
):
    attacker = visitor(booking_store, clock, "10.0.0.3")
    details = to_details(attacker)
    numbers = ["+46701111111", "+46702222222", "+46703333333"]
    earlier_codes(booking_store, reference_of(details), numbers, timedelta(minutes=30), clock())
    refused = ask_code(attacker, details, "070-444 44 44")  # a fresh recipient
    assert_refused(
        refused,
        booking_store,
        reference_of(details),
        "client_hour",
        "Du har fått för många koder den senaste timmen.",
        earlier=3,
    )
    # Another address with another browser is another client.
    other = visitor(booking_store, clock, "10.0.0.4")
    assert "/kod" in ask_code(other, to_details(other), "070-444 44 44").url


def test_an_eleventh_code_for_one_client_within_the_day_is_refused(
    booking_store: Engine, clock: Clock
):
    attacker = visitor(booking_store, clock, "10.0.0.5")
    details = to_details(attacker)
    numbers = [f"+4670{n:07d}" for n in range(1, 11)]
    # Ten codes two hours ago: none in the last hour, ten in the last day.
    earlier_codes(booking_store, reference_of(details), numbers, timedelta(hours=2), clock())
    refused = ask_code(attacker, details, "070-444 44 44")
    assert_refused(
        refused,
        booking_store,
        reference_of(details),
        "client_day",
        "Du har fått för många koder det senaste dygnet.",
        earlier=10,
    )


def test_the_tenants_hourly_cap_refuses_until_an_administrator_raises_it(
    booking_store: Engine, clock: Clock
):
    admin = visitor(booking_store, clock, "10.0.0.9")
    operator(booking_store, ADMIN, {tenant_id(booking_store): "administrator"})
    assert log_in(admin, ADMIN).status_code == 303
    path = f"/admin/{tenant_id(booking_store)}/flexibilitet/granser"
    tab = f"/admin/{tenant_id(booking_store)}/flexibilitet"
    assert _post_limits(admin, tab, path, code_messages_per_hour="2").status_code == 303
    # Two codes to two other clients this hour: the chain's cap.
    other = to_details(visitor(booking_store, clock, "10.0.0.6"))
    earlier_codes(
        booking_store,
        reference_of(other),
        ["+46701111111", "+46702222222"],
        timedelta(minutes=10),
        clock(),
    )
    patient = visitor(booking_store, clock, "10.0.0.7")
    details = to_details(patient)
    refused = ask_code(patient, details)
    assert_refused(
        refused,
        booking_store,
        reference_of(details),
        "tenant_hour",
        "Vi kan inte skicka fler koder just nu.",
    )
    # The operator sees the refusal and raises the cap; the patient's next try is sent.
    assert 'id="limit-tenant_hour">1<' in admin.get(tab).text
    assert _post_limits(admin, tab, path, code_messages_per_hour="3").status_code == 303
    assert "/kod" in ask_code(patient, details).url
    assert len(sent_codes(booking_store, reference_of(details))) == 1
    with session_scope(booking_store) as session:
        logged = session.execute(
            select(AuditEntry.setting, AuditEntry.operator_email).order_by(AuditEntry.id)
        ).all()
    assert logged == [("code_messages_per_hour", ADMIN)] * 2


def _post_limits(client: TestClient, tab: str, path: str, **changes: str):
    """Post the tab's limits form as shown, with ``changes``."""
    page = client.get(tab)
    fields = {
        "csrf_token": _value(page.text, "csrf_token"),
        "sms_country_codes": _value(page.text, "sms_country_codes"),
        "code_messages_per_hour": _value(page.text, "code_messages_per_hour"),
    }
    return client.post(path, data={**fields, **changes}, follow_redirects=False)


def _value(html: str, name: str) -> str:
    return re.search(rf'name="{name}"[^>]*value="([^"]*)"', html).group(1)
