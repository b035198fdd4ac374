"""The booking widget in Chromium: a clinic's website on an origin of its own draws the
booking steps with one tag, and a patient books through the frame to the confirmation;
a website that is not on the tenant's list cannot frame the steps, and no page but the
booking steps can be framed at all."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from connectors.store.db import session_scope
from connectors.store.models import Clinic, Treatment
from demo.clinic_site import handler_for
from demo.loopback import close, serve_in_thread
from demo.store_seed import DEMO_SUBDOMAIN
from opus_online.config import Settings
from tests.booking_app.api.test_api_cors import publishable_key
from tests.booking_app.booking_pages import SECRET, change_settings, store_url
from tests.booking_app.booking_steps import booking
from tests.booking_app.test_booking_browser_path import fill_details, pick_first_time
from tests.helpers import app_on_loopback

pytestmark = pytest.mark.browser


@pytest.fixture
def site(booking_store: Engine) -> Iterator[str]:
    settings = Settings(
        store_url=store_url(booking_store), base_domain="localhost", secret_key=SECRET
    )
    with app_on_loopback(settings) as port:
        yield f"http://{DEMO_SUBDOMAIN}.localhost:{port}"


def deep_link(engine: Engine) -> dict[str, str]:
    """The API's ids of Tandmottagningen Centrum and its Undersökning."""
    with session_scope(engine) as session:
        clinic = session.scalars(select(Clinic).where(Clinic.name == "Tandmottagningen Centrum"))
        clinic = clinic.one()
        treatment = session.scalars(
            select(Treatment).where(
                Treatment.opus_database_id == clinic.opus_database_id,
                Treatment.name.like("Undersökning%"),
            )
        ).first()
        return {"clinic": clinic.opus_clinic_id, "treatment": str(treatment.opus_treatment_id)}


def test_a_patient_books_through_the_widget_on_the_clinics_own_website(
    chromium, site: str, booking_store: Engine
):
    from playwright.sync_api import expect

    change_settings(booking_store, skip_confirmation=True)
    clinic_site = serve_in_thread("127.0.0.1", 0, handler_for(site, "unused"))
    try:
        origin = f"http://localhost:{clinic_site.server_port}"
        publishable_key(booking_store, origin)
        clinic_site.RequestHandlerClass = handler_for(site, "unused", deep_link(booking_store))
        context = chromium.new_context()
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(origin + "/")

        frame = page.frame_locator("iframe[title='Boka tid']")
        # The deep link chose the clinic and the treatment: the practitioner is next.
        frame.get_by_role("link", name=re.compile("^Märta Karlsson")).click()
        expect(frame.get_by_role("heading", level=1)).to_have_text("Välj tid")
        pick_first_time(frame)
        fill_details(frame)
        frame.get_by_role("button", name="Fortsätt").click()
        # Waits for the framed page to change (inner_text() would read the old one).
        expect(frame.get_by_role("heading", level=1)).to_have_text("Din tid är bokad")
        summary = frame.locator(".summary").inner_text()
        assert "Tandmottagningen Centrum" in summary and "Märta Karlsson" in summary

        inner = next(f for f in page.frames if "/boka/" in f.url)
        reference = re.search(r"/boka/([^/]+)/", inner.url).group(1)
        assert booking(booking_store, reference).status == "confirmed"
        # The frame was sized to its page by the page's own report.
        page.wait_for_function(
            "document.querySelector('iframe').style.height.endsWith('px')", timeout=5_000
        )
        context.close()
    finally:
        close(clinic_site)


def test_a_site_not_on_the_list_cannot_frame_the_steps(chromium, site: str, booking_store: Engine):
    listed = serve_in_thread("127.0.0.1", 0, handler_for(site, "unused"))
    unlisted = serve_in_thread("127.0.0.1", 0, handler_for(site, "unused"))
    try:
        publishable_key(booking_store, f"http://localhost:{listed.server_port}")
        context = chromium.new_context()
        page = context.new_page()
        page.goto(f"http://localhost:{unlisted.server_port}/")
        page.wait_for_timeout(1_500)
        framed = [f for f in page.frames if f != page.main_frame]
        # Chromium replaces a refused frame's document: nothing of the steps in it.
        assert framed and all(
            "Välj klinik" not in (f.content() if not f.is_detached() else "") for f in framed
        )

        page.goto(f"http://localhost:{listed.server_port}/")
        frame = page.frame_locator("iframe[title='Boka tid']")
        assert frame.get_by_role("heading", level=1).inner_text() == "Välj klinik"
        context.close()
    finally:
        close(listed)
        close(unlisted)
