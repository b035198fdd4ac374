"""The waiting list in Chromium: one patient joins from the confirmation page in
Swedish, another in English; a third cancels; the first takes the offered time from
the offer's page, and the time that frees is offered on to the second, who takes it
in English (the chain)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from connectors.store import bookings
from connectors.store.db import session_scope
from connectors.store.models import Booking, OutboxMessage
from demo.store_seed import DEMO_SUBDOMAIN
from flows.waitlist import offer_freed_times
from opus_online.config import Settings
from tests.booking_app.booking_pages import SECRET, change_settings, store_url
from tests.connectors.store.waitlist_helpers import book, coming_slots, now
from tests.helpers import app_on_loopback

pytestmark = pytest.mark.browser


@pytest.fixture
def site(booking_store: Engine) -> Iterator[str]:
    settings = Settings(
        store_url=store_url(booking_store), base_domain="localhost", secret_key=SECRET
    )
    with app_on_loopback(settings) as port:
        yield f"http://{DEMO_SUBDOMAIN}.localhost:{port}"


def offer_link(engine: Engine, booking_id: int) -> str:
    """The path of the offer the patient of ``booking_id`` was sent (read from the
    outbox message, as the SMS stand-in would show it)."""
    with session_scope(engine) as session:
        payload = session.scalars(
            select(OutboxMessage.payload)
            .join(Booking, Booking.id == OutboxMessage.booking_id)
            .where(Booking.rebooked_from_id == booking_id, OutboxMessage.kind == "offer")
        ).one()
    return "/tid/" + json.loads(payload)["token"]


def test_join_and_take_earlier_times_in_swedish_and_english(
    site: str, chromium, booking_store: Engine
):
    change_settings(booking_store, waitlist_enabled=True)
    with session_scope(booking_store) as session:
        slots = coming_slots(session)
        later = slots[-1]
        earlier = next(s for s in reversed(slots) if s.starts_at < later.starts_at)
        swedish, english = book(session, earlier, 1), book(session, later, 2)
        english.language = "en"
        cancelling = book(session, slots[0], 3)
        ids = swedish.id, english.id, cancelling.id
        refs = swedish.reference, english.reference
    page = chromium.new_context().new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(f"{site}/boka/{refs[0]}/bekraftad")
    page.get_by_role("link", name="Meddela mig om en tidigare tid blir ledig").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Återbudslista"
    page.get_by_label("Vilken behandlare som helst på kliniken").check()
    page.get_by_role("button", name="Anmäl mig").click()
    assert "Du står på återbudslistan" in page.get_by_role("status").inner_text()

    page.goto(f"{site}/boka/{refs[1]}/bekraftad?lang=en")
    page.get_by_role("link", name="Tell me if an earlier time becomes free").click()
    page.get_by_label("Any practitioner at the clinic").check()
    page.get_by_label("Earliest").fill("07:00")
    page.get_by_role("button", name="Sign me up").click()
    assert "You are on the waiting list" in page.get_by_role("status").inner_text()

    with session_scope(booking_store) as session:
        bookings.cancel(session, session.get_one(Booking, ids[2]), now())
    offer_freed_times(booking_store, SECRET.encode(), now())

    page.goto(site + offer_link(booking_store, ids[0]))
    assert page.get_by_role("heading", level=1).inner_text() == "En tidigare tid är ledig"
    assert "Tiden hålls åt dig till kl." in page.locator(".hold-notice").inner_text()
    page.get_by_role("button", name="Ja, ta den tidigare tiden").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Din tid är flyttad"

    offer_freed_times(booking_store, SECRET.encode(), now())  # the Swedish patient's old time

    page.goto(site + offer_link(booking_store, ids[1]))  # bare link: the page speaks English
    assert page.get_by_role("heading", level=1).inner_text() == "An earlier time is free"
    page.get_by_role("button", name="Yes, take the earlier time").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Your appointment has moved"
    page.reload()  # a second look (or click) changes nothing
    assert page.get_by_role("heading", level=1).inner_text() == "Your appointment has moved"

    with session_scope(booking_store) as session:
        moved = dict(
            session.execute(
                select(Booking.rebooked_from_id, Booking.starts_at).where(
                    Booking.rebooked_from_id.in_(ids[:2]), Booking.status == "confirmed"
                )
            ).all()
        )
    assert moved == {ids[0]: slots[0].starts_at, ids[1]: earlier.starts_at}
    assert problems == []
