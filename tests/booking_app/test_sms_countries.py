"""Where SMS may go: only to mobile numbers (not 0771- service numbers, pagers or
landlines) in the tenant's allowed countries, on the booking page and in the API. The
operator sets the countries (and the hourly code cap) on the Flexibilitet tab.

Seen before: a hold queued a code SMS to a British number, and a 0771 number passed
as a mobile."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from booking_app.main import create_app
from connectors.store import client_limits
from connectors.store.db import session_scope
from connectors.store.models import AuditEntry, Booking, OutboxMessage, TenantSettings
from demo.store_seed import DEMO_API_KEY
from opus_online.config import Settings
from tests.booking_app.admin.admin_pages import csrf_token, log_in, operator, tenant_id
from tests.booking_app.api.api_client import API, booking_body, bookings_in, times
from tests.booking_app.booking_pages import BASE_DOMAIN, TENANT_HOST, change_settings, store_url
from tests.booking_app.booking_steps import (
    booking,
    fill_details,
    press,
    reference_of,
    sent_codes,
    to_details,
)
from tests.booking_app.login_steps import Clock

ADMIN = "admin@tandmottagningen.se"
EDITOR = "reception@tandmottagningen.se"
BRITISH = "+44 7911 123456"


def test_the_details_step_sends_no_code_to_a_number_that_may_not_have_one(
    booking_store: Engine, booking_client: TestClient
):
    details = to_details(booking_client)
    for number, message in (
        ("0771-23 45 67", "inte ett svenskt mobilnummer"),  # a service number
        ("0746-12 34 56", "inte ett svenskt mobilnummer"),  # a pager
        (BRITISH, "skickar inte sms till nummer i det landet"),
    ):
        refused = fill_details(booking_client, details, code_channel="sms", mobile=number)
        assert refused.status == 422
        assert message in refused.ids["mobile-error"]
    assert sent_codes(booking_store, reference_of(details)) == []
    assert booking(booking_store, reference_of(details)).mobile is None


def test_an_administrator_allows_another_country_on_the_flexibility_tab(
    booking_store: Engine, booking_client: TestClient
):
    tenant = tenant_id(booking_store)
    operator(booking_store, ADMIN, {tenant: "administrator"})
    assert log_in(booking_client, ADMIN).status_code == 303
    tab = booking_client.get(f"/admin/{tenant}/flexibilitet")
    assert 'value="+46, +47, +45, +358"' in tab.text
    path = f"/admin/{tenant}/flexibilitet/granser"
    token = csrf_token(tab)

    def post(codes: str, cap: str = "100"):
        data = {"csrf_token": token, "sms_country_codes": codes, "code_messages_per_hour": cap}
        return booking_client.post(path, data=data, follow_redirects=False)

    # Judged on the server: nothing is saved from a wrong form, and it is shown again.
    for codes, cap, message in (
        ("+46, +999", "100", "Ett av landsnumren finns inte."),
        ("Storbritannien", "100", "Ange landsnummer som +46, +47"),
        ("", "100", "Ange minst ett landsnummer."),
        ("+46", "0", "Taket ska vara ett heltal från 1 till 10 000."),
        ("+46", "many", "Taket ska vara ett heltal från 1 till 10 000."),
    ):
        refused = post(codes, cap)
        assert refused.status_code == 400
        assert message in refused.text
        assert f'value="{codes}"' in refused.text
    assert post("+46, +47, +45, +358, +44").status_code == 303
    with session_scope(booking_store) as session:
        assert session.get(TenantSettings, tenant).sms_country_codes == "46,47,45,358,44"
        logged = session.execute(
            select(AuditEntry.setting, AuditEntry.old_value, AuditEntry.new_value)
        ).all()
    assert logged == [("sms_country_codes", "46,47,45,358", "46,47,45,358,44")]

    # The patient's British number now gets its code.
    details = to_details(booking_client)
    sent = fill_details(booking_client, details, code_channel="sms", mobile=BRITISH)
    assert "/kod" in sent.url
    assert sent_codes(booking_store, reference_of(details))[0][:2] == ("sms", "+447911123456")


def test_only_an_administrator_changes_where_sms_may_go(
    booking_store: Engine, booking_client: TestClient
):
    tenant = tenant_id(booking_store)
    operator(booking_store, EDITOR, {tenant: "operator"})
    assert log_in(booking_client, EDITOR).status_code == 303
    token = csrf_token(booking_client.get(f"/admin/{tenant}/flexibilitet"))
    refused = booking_client.post(
        f"/admin/{tenant}/flexibilitet/granser",
        data={"csrf_token": token, "sms_country_codes": "+1", "code_messages_per_hour": "9999"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    with session_scope(booking_store) as session:
        settings = session.get(TenantSettings, tenant)
        assert (settings.sms_country_codes, settings.code_messages_per_hour) == (
            "46,47,45,358",
            100,
        )


def test_the_api_refuses_a_mobile_outside_the_tenants_countries(booking_store: Engine):
    settings = Settings(store_url=store_url(booking_store), base_domain=BASE_DOMAIN)
    api = TestClient(
        create_app(settings), base_url=f"http://{TENANT_HOST}", headers={"apiKey": DEMO_API_KEY}
    )
    slot = times(api)[0]
    body = booking_body(slot)
    for number, message in (
        (BRITISH, "Kliniken skickar inte sms till nummer med det landsnumret."),
        ("0771-23 45 67", "Det är inte ett svenskt mobilnummer"),
    ):
        body["Patient"]["MobilePhoneNumber"] = number
        refused = api.post(f"{API}/bookings", json=body)
        assert refused.status_code == 400
        (text,) = refused.json()["ModelState"]["Patient.MobilePhoneNumber"]
        assert text.startswith(message)
    assert bookings_in(booking_store) == []
    change_settings(booking_store, sms_country_codes="46,44")
    body["Patient"]["MobilePhoneNumber"] = BRITISH
    assert api.post(f"{API}/bookings", json=body).status_code == 200
    assert bookings_in(booking_store)[0].mobile == "+447911123456"


def test_no_sms_is_queued_to_a_country_the_operator_has_since_removed(
    booking_store: Engine, clocked: TestClient, clock: Clock
):
    details = to_details(clocked)
    reference = reference_of(details)
    page = fill_details(clocked, details, code_channel="email", mobile="+47 412 34 567")
    change_settings(booking_store, sms_country_codes="46")  # Norway is taken off
    clock.advance(seconds=61)

    refused = press(clocked, page.button("Skicka en ny kod"), code_channel="sms")

    assert refused.status == 429
    assert "Kliniken skickar inte sms till nummer i det landet." in refused.html
    with session_scope(booking_store) as session:
        assert client_limits.hits(session, tenant_id(booking_store)) == {"country": 1}
    # The e-mailed code still confirms; the confirmation goes by e-mail only.
    (_, _, code), *_ = sent_codes(booking_store, reference)
    done = press(clocked, page.button("Bekräfta bokningen"), code=code)
    assert done.h1 == "Din tid är bokad", done.html
    with session_scope(booking_store) as session:
        queued = session.execute(
            select(OutboxMessage.kind, OutboxMessage.channel)
            .join(Booking, Booking.id == OutboxMessage.booking_id)
            .where(Booking.reference == reference)
            .order_by(OutboxMessage.id)
        ).all()
    assert queued == [("code", "email"), ("new", "email")]  # "new": the new booking
