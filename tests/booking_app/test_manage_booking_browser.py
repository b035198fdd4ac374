"""The reminder's page in a real browser (Debian's Chromium through Playwright) against
a real server: a Swedish patient moves the appointment and then cancels it from the
link; an English patient's link opens in English and cancels."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from demo.store_seed import DEMO_SUBDOMAIN
from opus_online.config import Settings
from tests.booking_app.booking_pages import SECRET, change_settings, store_url
from tests.booking_app.test_manage_booking import book, status_of, token_for
from tests.helpers import app_on_loopback

pytestmark = pytest.mark.browser


@pytest.fixture
def site(booking_store: Engine) -> Iterator[str]:
    change_settings(booking_store, manage_without_login=True)
    settings = Settings(
        store_url=store_url(booking_store), base_domain="localhost", secret_key=SECRET
    )
    with app_on_loopback(settings) as port:
        yield f"http://{DEMO_SUBDOMAIN}.localhost:{port}"


@pytest.fixture
def page(chromium) -> Iterator:
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems
    yield page
    context.close()


def heading(page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


def test_a_swedish_patient_moves_then_cancels_from_the_reminder(site, page, booking_store):
    booking = book(booking_store)
    page.goto(f"{site}/h/{token_for(booking_store, booking)}")
    assert heading(page) == "Din bokade tid"
    page.get_by_role("link", name="Byt till en annan tid").click()
    assert heading(page) == "Boka om"
    page.locator("button[name=slot]").last.click()
    assert heading(page) == "Din bokade tid"
    assert page.get_by_role("status").inner_text().startswith("Din tid är ombokad till")
    assert status_of(booking_store, booking.id) == "rebooked"
    page.get_by_role("link", name="Avboka tiden").click()
    assert heading(page) == "Avboka tid"
    page.get_by_role("button", name="Ja, avboka").click()
    assert "Din tid är avbokad." in page.get_by_role("status").first.inner_text()
    assert page.get_by_role("link", name="Boka en ny tid").is_visible()
    assert page.problems == []


def test_an_english_patients_link_opens_in_english_and_cancels(site, page, booking_store):
    booking = book(booking_store, language="en")
    page.goto(f"{site}/h/{token_for(booking_store, booking)}")
    assert re.search(r"lang=en$", page.url) and heading(page) == "Your appointment"
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="Cancel the appointment").click()
    page.get_by_role("button", name="Yes, cancel").click()
    assert "Your appointment has been cancelled." in page.get_by_role("status").first.inner_text()
    assert status_of(booking_store, booking.id) == "cancelled"
    assert page.problems == []
