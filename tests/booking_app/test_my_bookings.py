"""*Mina bokningar* on the site: the logged-in patient's coming bookings, cancelling
and rebooking within the rules, every rule enforced again on the post."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, event, select, update

from connectors.store import bookings
from connectors.store.db import engine_for, session_scope
from connectors.store.models import Booking, Clinic, FreeRange, Treatment
from tests.booking_app.booking_pages import change_settings, store_url
from tests.booking_app.booking_steps import get, press
from tests.booking_app.login_steps import Clock, client_with_bankid, log_in
from tests.helpers import first_slots, request_for

PATIENT = "191212121212"
OTHER = "198112189876"
PHONE = "018-10 20 30"


@pytest.fixture
def client(booking_store: Engine, bankid_standin):
    client = client_with_bankid(booking_store, bankid_standin, Clock())
    log_in(client, bankid_standin)
    return client


def book(engine: Engine, index: int = 0, personal_number: str = PATIENT) -> str:
    """A confirmed booking a few days ahead (before any default cut-off); its reference."""
    with session_scope(engine) as session:
        tenant, clinic, treatment, slots = first_slots(session, days=21)
        clinic.phone = PHONE
        later = [s for s in slots if s.starts_at > datetime.now(UTC) + timedelta(days=4)]
        held = bookings.hold(session, request_for(tenant, clinic, treatment, later[index]), now())
        held.personal_number = personal_number
        held.first_name, held.last_name, held.email = "Tolvan", "Tolvansson", "t@example.se"
        bookings.confirm(session, held, now())
        return held.reference


def now() -> datetime:
    return datetime.now(UTC)


def status_of(engine: Engine, reference: str) -> str:
    with session_scope(engine) as session:
        return session.scalars(select(Booking.status).where(Booking.reference == reference)).one()


def set_treatment(engine: Engine, **values) -> None:
    with session_scope(engine) as session:
        session.execute(update(Treatment).values(**values))


def test_the_list_shows_only_the_patients_own_coming_bookings(client, booking_store):
    mine = book(booking_store, 0)
    theirs = book(booking_store, 2, personal_number=OTHER)
    page = get(client, "/mina-bokningar")
    hrefs = [a.href for a in page.links]
    assert f"/mina-bokningar/{mine}/avboka" in hrefs and f"/mina-bokningar/{mine}/omboka" in hrefs
    assert not [h for h in hrefs if theirs in h]
    assert client.get(f"/mina-bokningar/{theirs}/avboka").status_code == 404
    assert client.get(f"/mina-bokningar/{theirs}/omboka").status_code == 404


def test_cancel_before_the_cutoff(client, booking_store):
    reference = book(booking_store)
    page = get(client, "/mina-bokningar")
    confirm = get(client, page.link("Avboka").href)
    assert confirm.h1 == "Avboka tid"
    done = press(client, confirm.button("Ja, avboka"))
    assert done.h1 == "Mina bokningar" and "Din tid är avbokad." in done.html
    assert status_of(booking_store, reference) == "cancelled"  # kept, not deleted
    assert not done.has_link("Avboka")


def test_a_cancel_form_posted_after_the_cutoff_is_refused_with_the_phone(client, booking_store):
    reference = book(booking_store)
    confirm = get(client, f"/mina-bokningar/{reference}/avboka")
    change_settings(booking_store, change_cutoff_hours=720)  # now well past the cut-off
    refused = press(client, confirm.button("Ja, avboka"))
    assert refused.status == 409
    assert "för sent" in refused.html and f"Ring kliniken på {PHONE}." in refused.html
    assert status_of(booking_store, reference) == "confirmed"
    listed = get(client, "/mina-bokningar")
    assert not listed.has_link("Avboka") and not listed.has_link("Boka om")
    assert f"Ring kliniken på {PHONE}." in listed.html
    # One sentence after the other, with a space between (issue 19: "…08:45).Ring …").
    assert re.search(r"\(det gick till [^)]*\)\. Ring kliniken", listed.html)


def test_rebook_to_a_free_time(client, booking_store):
    reference = book(booking_store)
    page = get(client, f"/mina-bokningar/{reference}/omboka")
    times = [b for b in page.buttons if b.name == "slot"]
    assert times, page.html
    done = press(client, times[-1])
    assert done.h1 == "Mina bokningar" and "Din tid är ombokad till" in done.html
    assert status_of(booking_store, reference) == "rebooked"
    with session_scope(booking_store) as session:
        old = session.scalars(select(Booking).where(Booking.reference == reference)).one()
        new = session.scalars(select(Booking).where(Booking.rebooked_from_id == old.id)).one()
        assert new.status == "confirmed" and new.appointment_key == old.appointment_key


def test_the_rebook_page_opens_at_the_week_of_the_first_free_time(client, booking_store):
    reference = book(booking_store)
    # Nothing free for the next two weeks: this week's page would say "Inga lediga tider".
    empty_until = now() + timedelta(days=14)
    with session_scope(booking_store) as session:
        session.execute(delete(FreeRange).where(FreeRange.starts_at < empty_until))
        first = first_slots(session, days=60)[3][0].starts_at
    assert first >= empty_until
    page = get(client, f"/mina-bokningar/{reference}/omboka")
    offered = [b.value.partition("|")[2] for b in page.buttons if b.name == "slot"]
    assert offered and offered[0] == first.strftime("%Y-%m-%dT%H:%MZ")
    # Asking for a week still shows that week, empty or not.
    this_week = (now().date() - timedelta(days=now().weekday())).isoformat()
    asked = get(client, f"/mina-bokningar/{reference}/omboka?vecka={this_week}")
    assert not [b for b in asked.buttons if b.name == "slot"]


def test_the_rebook_page_takes_its_times_from_the_snapshot(client, booking_store):
    """As the booking time step: the week's free times come from the tenant's snapshot
    in memory, not from the store's free ranges (once the snapshot is read)."""
    reference = book(booking_store)
    path = f"/mina-bokningar/{reference}/omboka"
    offered = get(client, path).buttons  # reads the snapshot, if not yet read
    store = engine_for(store_url(booking_store))  # the app's engine
    statements: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(store, "before_cursor_execute", record)
    try:
        again = get(client, path).buttons
    finally:
        event.remove(store, "before_cursor_execute", record)
    assert [b.value for b in again if b.name == "slot"]
    assert [b.value for b in again] == [b.value for b in offered]
    assert statements and not [s for s in statements if "free_range" in s]


def test_rebook_to_a_time_someone_else_just_took(client, booking_store):
    reference = book(booking_store)
    page = get(client, f"/mina-bokningar/{reference}/omboka")
    wanted = [b for b in page.buttons if b.name == "slot"][-1]
    practitioner, _, at = wanted.value.partition("|")
    with session_scope(booking_store) as session:
        tenant, clinic, treatment, slots = first_slots(session, days=21)
        slot = next(
            s
            for s in slots
            if str(s.practitioner_id) == practitioner
            and s.starts_at.strftime("%Y-%m-%dT%H:%MZ") == at
        )
        bookings.hold(session, request_for(tenant, clinic, treatment, slot), now())
    lost = press(client, wanted)
    assert lost.status == 409 and "Tiden hann bokas av någon annan" in lost.html
    assert status_of(booking_store, reference) == "confirmed"


def test_a_treatment_that_forbids_changes(client, booking_store):
    reference = book(booking_store)
    set_treatment(booking_store, change_in_web=False)
    listed = get(client, "/mina-bokningar")
    assert listed.has_link("Avboka") and not listed.has_link("Boka om")
    assert "kan inte bokas om på webben" in listed.html
    refused = get(client, f"/mina-bokningar/{reference}/omboka")
    assert refused.status == 409


@pytest.mark.parametrize(
    ("setting", "link", "path"),
    [("cancel_enabled", "Avboka", "avboka"), ("change_enabled", "Boka om", "omboka")],
)
def test_each_setting_off_refuses_its_action_on_every_path(
    client, booking_store, setting, link, path
):
    reference = book(booking_store)
    form = get(client, f"/mina-bokningar/{reference}/{path}")
    change_settings(booking_store, **{setting: False})
    assert not get(client, "/mina-bokningar").has_link(link)
    assert client.get(f"/mina-bokningar/{reference}/{path}").status_code == 409
    button = next(b for b in form.buttons if b.name == "slot" or "avboka" in b.label)
    assert press(client, button).status == 409  # the form kept open is refused too
    assert status_of(booking_store, reference) == "confirmed"


def test_view_bookings_off_hides_the_page(client, booking_store):
    change_settings(booking_store, view_bookings_enabled=False)
    assert client.get("/mina-bokningar").status_code == 404
    assert not get(client, "/").has_link("Mina bokningar")


def test_the_forms_need_their_csrf_token(client, booking_store):
    reference = book(booking_store)
    for path in ("avboka", "omboka"):
        answer = client.post(f"/mina-bokningar/{reference}/{path}", data={"slot": "1|x"})
        assert answer.status_code == 403
    assert status_of(booking_store, reference) == "confirmed"


def test_not_logged_in_goes_to_login(booking_store, bankid_standin):
    reference = book(booking_store)
    anonymous = client_with_bankid(booking_store, bankid_standin, Clock())
    page = get(anonymous, f"/mina-bokningar/{reference}/avboka")
    assert page.h1 == "Logga in med BankID"


def test_the_clinics_phone_is_shown_past_the_cutoff(client, booking_store):
    book(booking_store)
    with session_scope(booking_store) as session:
        session.execute(update(Treatment).values(change_in_web_limit_hours=24 * 30))
        assert session.scalars(select(Clinic.phone).where(Clinic.phone.is_not(None))).first()
    listed = get(client, "/mina-bokningar")
    assert "för sent" in listed.html and PHONE in listed.html
