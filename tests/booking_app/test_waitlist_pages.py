"""The waiting list's pages without a browser: the operators' tab (settings checked
and audited, the counts per clinic), the patient's form (off: 404; bad limits: 400
with the reason; joining and leaving), and offer links that are not ours."""

from __future__ import annotations

from sqlalchemy import Engine, select

from connectors.store import bookings
from connectors.store.db import session_scope
from connectors.store.models import AuditEntry, Booking, TenantSettings
from connectors.store.waitlist import Limits, join
from connectors.store.waitlist_answers import offer_token
from connectors.store.waitlist_models import WaitlistEntry
from flows.waitlist import offer_freed_times
from tests.booking_app.admin.admin_pages import log_in, operator, post_tab, tenant_id
from tests.booking_app.booking_pages import SECRET, change_settings
from tests.booking_app.booking_steps import get, press
from tests.connectors.store.waitlist_helpers import book, coming_slots, now, offers_of

A = "a@tandmottagningen.se"


def booked(engine: Engine, index: int, number: int) -> tuple[int, str]:
    with session_scope(engine) as session:
        booking = book(session, coming_slots(session)[index], number)
        return booking.id, booking.reference


def test_operators_turn_it_on_with_checked_values_and_see_it_per_clinic(
    booking_client, booking_store: Engine
):
    tenant = tenant_id(booking_store)
    operator(booking_store, A, {tenant: "operator"})
    assert log_in(booking_client, A).status_code == 303
    path = f"/admin/{tenant}/aterbudslista"
    page = booking_client.get(path)
    assert page.status_code == 200 and "Tandmottagningen Centrum" in page.text
    refused = post_tab(booking_client, path, waitlist_enabled="on", waitlist_hold_minutes="2")
    assert refused.status_code == 400 and "mellan 5 och 240" in refused.text
    saved = post_tab(booking_client, path, waitlist_enabled="on", waitlist_hold_minutes="20")
    assert saved.status_code == 303
    with session_scope(booking_store) as session:
        settings = session.get_one(TenantSettings, tenant)
        assert (settings.waitlist_enabled, settings.waitlist_hold_minutes) == (True, 20)
        changed = session.scalars(select(AuditEntry.setting)).all()
        assert sorted(changed) == ["waitlist_enabled", "waitlist_hold_minutes"]


def test_a_patient_joins_from_the_confirmation_with_checked_limits_and_leaves(
    booking_client, booking_store: Engine
):
    _, reference = booked(booking_store, -1, 1)
    path = f"/boka/{reference}/aterbud"
    assert booking_client.get(path).status_code == 404  # the list is off
    assert "aterbud" not in booking_client.get(f"/boka/{reference}/bekraftad").text
    change_settings(booking_store, waitlist_enabled=True)
    confirmation = get(booking_client, f"/boka/{reference}/bekraftad")
    form_page = get(booking_client, confirmation.link("Meddela mig om en tidigare tid").href)
    assert form_page.status == 200 and form_page.h1 == "Återbudslista"

    wrong = press(
        booking_client,
        form_page.button("Anmäl mig"),
        practitioner="any", day_1="on", earliest="16:00", latest="09:00",
    )  # fmt: skip
    assert wrong.status == 400 and "före den senaste" in wrong.html
    none = press(booking_client, form_page.button("Anmäl mig"), practitioner="any")
    assert none.status == 400 and "minst en veckodag" in none.html

    joined = press(
        booking_client,
        form_page.button("Anmäl mig"),
        practitioner="any", day_2="on", day_4="on", earliest="08:00", latest="12:00",
    )  # fmt: skip
    assert joined.status == 200 and "Du står på återbudslistan" in joined.html
    with session_scope(booking_store) as session:
        entry = session.scalars(select(WaitlistEntry)).one()
        assert (entry.practitioner_id, entry.weekdays) == (None, "24")
        assert (entry.earliest_minute, entry.latest_minute) == (480, 720)
    again = get(booking_client, f"/boka/{reference}/bekraftad")
    assert again.has_link("Du står på återbudslistan")

    left = press(booking_client, joined.button("Lämna återbudslistan"))
    assert "inte längre på återbudslistan" in left.html
    with session_scope(booking_store) as session:
        assert session.scalars(select(WaitlistEntry.status)).one() == "left"


def test_an_offer_link_that_is_not_ours_or_altered_is_refused(booking_client, booking_store):
    change_settings(booking_store, waitlist_enabled=True)
    waiting_id, _ = booked(booking_store, -1, 1)
    with session_scope(booking_store) as session:
        join(session, session.get_one(Booking, waiting_id), Limits(any_practitioner=True), now())
        bookings.cancel(session, book(session, coming_slots(session)[0], 2), now())
    offer_freed_times(booking_store, SECRET.encode(), now())
    with session_scope(booking_store) as session:
        (offer,) = offers_of(session, session.get_one(Booking, waiting_id))
        token = offer_token(SECRET.encode(), offer)
        wrong_key = offer_token(b"another secret", offer)
    page = get(booking_client, f"/tid/{token}")
    assert page.status == 200 and page.h1 == "En tidigare tid är ledig"
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (altered, wrong_key, "123.abc.xyz"):
        refused = get(booking_client, f"/tid/{bad}")
        assert refused.status == 404 and "Länken fungerar inte" in refused.html
