"""The reminder's page, ``/h/<token>``: a signed link that works until the cut-off, for
this tenant and purpose only; cancelling and rebooking without BankID only where the
tenant allows it (the rules apply as in *Mina bokningar*); otherwise login or the
clinic's phone, never a 404 for a genuine link. And a confirmation's ``/bokning/<ref>``
where there is no login: a page with the clinic's number, not a 404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from connectors.store import bookings
from connectors.store import reminders as store
from connectors.store.db import session_scope
from connectors.store.models import Booking, OpusAppointment, OpusDatabase, OutboxMessage, Tenant
from opus_online import signed_links
from tests.booking_app.booking_pages import SECRET, change_settings
from tests.booking_app.booking_steps import get, press, read
from tests.helpers import first_slots, request_for

PHONE = "018-10 20 30"


def now() -> datetime:
    return datetime.now(UTC)


def book(engine: Engine, index: int = 0, language: str = "sv") -> Booking:
    """A confirmed booking a few days ahead (before the default 24 h cut-off)."""
    with session_scope(engine) as session:
        tenant, clinic, treatment, slots = first_slots(session, days=21)
        clinic.phone = PHONE
        later = [s for s in slots if s.starts_at > now() + timedelta(days=4)]
        held = bookings.hold(session, request_for(tenant, clinic, treatment, later[index]), now())
        held.first_name, held.last_name, held.email = "Tolvan", "Tolvansson", "t@example.se"
        held.language = language
        return bookings.confirm(session, held, now())


def token_for(
    engine: Engine,
    booking: Booking,
    expires_at: datetime | None = None,
    purpose: str = "reminder",
    tenant: str | None = None,
) -> str:
    with session_scope(engine) as session:
        tenant_id = session.scalars(select(Tenant.id)).one()
        expiry = expires_at or store.link_expiry(
            session, session.get_one(Booking, booking.id), None
        )
    return signed_links.sign(
        SECRET.encode(),
        purpose=purpose,
        tenant=tenant or str(tenant_id),
        subject=store.link_subject(booking_id=booking.id),
        expires_at=expiry,
    )


def status_of(engine: Engine, booking_id: int) -> str:
    with session_scope(engine) as session:
        return session.get_one(Booking, booking_id).status


def test_the_link_works_for_its_booking_until_the_cutoff_and_only_unaltered(
    booking_client, booking_store
):
    change_settings(booking_store, manage_without_login=True)
    booking = book(booking_store)
    token = token_for(booking_store, booking)
    page = get(booking_client, f"/h/{token}")
    assert page.status == 200 and page.h1 == "Din bokade tid"
    assert page.has_link("Avboka tiden") and page.has_link("Byt till en annan tid")
    assert booking_client.get(f"/h/{token}").headers["cache-control"] == "no-store"
    # Altered anywhere, made for another purpose or tenant, or malformed: a plain 404.
    subject, expiry, mac = token.split(".")
    other_mac = ("A" if mac[0] != "A" else "B") + mac[1:]
    wrong = [
        f"{subject}.{expiry}.{other_mac}",
        f"{store.link_subject(booking_id=booking.id + 1)}.{expiry}.{mac}",
        f"{subject}.{expiry[:-1]}{'0' if expiry[-1] != '0' else '1'}.{mac}",
        token_for(booking_store, booking, purpose="offer"),
        token_for(booking_store, booking, tenant="999"),
        "not-a-token",
    ]
    for bad in wrong:
        assert booking_client.get(f"/h/{bad}").status_code == 404, bad
        assert booking_client.post(f"/h/{bad}/avboka", data={"x": "1"}).status_code in (403, 404), (
            bad
        )
    # Past its time (the cut-off): the appointment and the phone, nothing to change.
    expired = token_for(booking_store, booking, expires_at=now() - timedelta(seconds=1))
    page = get(booking_client, f"/h/{expired}")
    assert page.status == 410 and "Länken gäller inte längre" in page.html
    assert PHONE in page.html and not page.has_link("Avboka tiden")
    cancel_page = get(booking_client, f"/h/{expired}/avboka")
    assert not cancel_page.forms or not any(f.action.endswith("/avboka") for f in cancel_page.forms)
    assert status_of(booking_store, booking.id) == "confirmed"


def test_cancel_and_rebook_from_the_link_follow_the_rules(booking_client, booking_store):
    change_settings(booking_store, manage_without_login=True)
    moving, cancelling = book(booking_store, 0), book(booking_store, 6)
    token = token_for(booking_store, moving)
    page = get(booking_client, f"/h/{token}/omboka")
    times = [b for b in page.buttons if b.name == "slot"]
    assert times and page.has_link("Tillbaka till din tid")
    done = press(booking_client, times[-1])
    assert done.status == 200 and "Din tid är ombokad till" in done.html
    assert status_of(booking_store, moving.id) == "rebooked"
    with session_scope(booking_store) as session:
        new = session.scalars(select(Booking).where(Booking.rebooked_from_id == moving.id)).one()
        assert new.status == "confirmed" and new.appointment_key == moving.appointment_key
        kinds = session.scalars(
            select(OutboxMessage.kind).where(OutboxMessage.booking_id == new.id)
        ).all()
        assert "rebook" in kinds  # the patient is told, as on every path
    # The old link now shows the new time.
    assert "Tiden har flyttats" in get(booking_client, f"/h/{token}").html

    token = token_for(booking_store, cancelling)
    form = get(booking_client, f"/h/{token}/avboka")
    assert (
        booking_client.post(f"/h/{token}/avboka", data={"x": "1"}).status_code == 403
    )  # no CSRF token
    done = press(booking_client, form.button("Ja, avboka"))
    assert "Din tid är avbokad" in done.html and done.has_link("Boka en ny tid")
    assert status_of(booking_store, cancelling.id) == "cancelled"
    # Cancelling closes with Avbokning aktiverad off, on the post too.
    third = book(booking_store, 3)
    token = token_for(booking_store, third)
    form = get(booking_client, f"/h/{token}/avboka")
    change_settings(booking_store, cancel_enabled=False)
    refused = press(booking_client, form.button("Ja, avboka"))
    assert refused.status == 409 and PHONE in refused.html
    assert status_of(booking_store, third.id) == "confirmed"


@pytest.mark.parametrize("login", [True, False])
def test_without_the_setting_the_link_shows_the_time_and_the_way_to_change_it(
    booking_client, booking_store, login
):
    booking = book(booking_store)
    token = token_for(booking_store, booking)
    # A cancel form opened while the tenant allowed it, posted after it stopped.
    change_settings(booking_store, manage_without_login=True)
    form = get(booking_client, f"/h/{token}/avboka")
    change_settings(booking_store, login_enabled=login, manage_without_login=False)
    assert press(booking_client, form.button("Ja, avboka")).h1 == "Din bokade tid"
    page = get(booking_client, f"/h/{token}")
    assert page.status == 200 and not page.has_link("Avboka tiden")
    if login:
        assert page.link("Logga in med BankID").href.startswith("/logga-in?next=")
    else:
        assert PHONE in page.html
    page = get(booking_client, f"/h/{token}/avboka")
    assert page.h1 == "Din bokade tid"  # the page, not a cancel form
    assert status_of(booking_store, booking.id) == "confirmed"


def test_the_link_opens_in_the_patients_language(booking_client, booking_store):
    booking = book(booking_store, language="en")
    token = token_for(booking_store, booking)
    response = booking_client.get(f"/h/{token}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith("?lang=en")
    page = read(booking_client.get(f"/h/{token}"))
    assert page.h1 == "Your appointment"
    assert get(booking_client, f"/h/{token}?lang=sv").h1 == "Din bokade tid"


def test_a_confirmations_link_without_login_is_a_page_with_the_phone(booking_client, booking_store):
    change_settings(booking_store, login_enabled=False)
    booking = book(booking_store)
    page = get(booking_client, f"/bokning/{booking.reference}")
    assert page.status == 200 and PHONE in page.html
    assert get(booking_client, "/bokning/NoSuchReference123").status == 404
    change_settings(booking_store, login_enabled=True)
    response = booking_client.get(f"/bokning/{booking.reference}", follow_redirects=False)
    assert response.headers["location"] == f"/mina-bokningar/{booking.reference}/avboka"


def test_an_appointment_the_clinic_made_shows_with_its_phone(booking_client, booking_store):
    change_settings(booking_store, manage_without_login=True)
    with session_scope(booking_store) as session:
        tenant, clinic, _, slots = first_slots(session, days=21)
        clinic.phone = PHONE
        database_id = session.scalars(select(OpusDatabase.id)).first()
        starts = slots[-1].starts_at
        row = OpusAppointment(
            tenant_id=tenant.id, opus_database_id=database_id, opus_appointment_id=4711,
            clinic_id=clinic.id, starts_at=starts, ends_at=starts + timedelta(minutes=30),
            status="booked", row_version=1, mobile="+46709876543",
        )  # fmt: skip
        session.add(row)
        session.flush()
        token = signed_links.sign(
            SECRET.encode(),
            purpose="reminder",
            tenant=str(tenant.id),
            subject=store.link_subject(opus_appointment_id=row.id),
            expires_at=store.link_expiry(session, None, row),
        )
    page = get(booking_client, f"/h/{token}")
    assert page.status == 200 and "bokad av kliniken" in page.html and PHONE in page.html
    assert not page.has_link("Avboka tiden")
    assert get(booking_client, f"/h/{token}/avboka").h1 == "Din bokade tid"
