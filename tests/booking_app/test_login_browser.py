"""Login → Mina bokningar → rebook → cancel in headless Chromium, against a real app
server and the BankID stand-in: the page's own script refreshes the QR code and
collects, and nothing breaks the Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from connectors.store import bookings
from connectors.store.db import session_scope
from demo.store_seed import DEMO_SUBDOMAIN
from tests.booking_app.login_steps import scan, settings_with_bankid
from tests.helpers import apart, app_on_loopback, first_slots, request_for

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"


@pytest.fixture
def served(booking_store: Engine, bankid_standin) -> Iterator[int]:
    settings = settings_with_bankid(booking_store, bankid_standin).model_copy(
        update={"base_domain": "localhost"}
    )
    with app_on_loopback(settings) as port:
        yield port


def two_bookings(engine: Engine) -> None:
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        tenant, clinic, treatment, slots = first_slots(session, days=21)
        later = [s for s in slots if s.starts_at > now + timedelta(days=4)]
        for slot in apart(later, 2):
            held = bookings.hold(session, request_for(tenant, clinic, treatment, slot), now)
            held.personal_number = "191212121212"
            held.first_name, held.last_name = "Tolvan", "Tolvansson"
            bookings.confirm(session, held, now)


def test_login_my_bookings_rebook_and_cancel_in_chromium(
    chromium, served: int, booking_store: Engine, bankid_standin
):
    two_bookings(booking_store)
    page = chromium.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    base = f"http://{DEMO_SUBDOMAIN}.localhost:{served}"

    page.goto(base + "/")
    page.get_by_role("link", name="Logga in").click()
    page.get_by_role("button", name="Mobilt BankID på annan enhet").click()
    page.locator("[data-qr] svg").wait_for()
    assert page.get_by_role("status").inner_text() == "Starta BankID-appen."
    # The phone scans what the page shows now (the page's own JSON, same cookies).
    qr = page.evaluate("fetch('/logga-in/qr').then((r) => r.json()).then((d) => d.qr)")
    assert scan(bankid_standin, qr).status_code == 200
    page.wait_for_url(base + "/mina-bokningar", timeout=15_000)  # the script collected
    assert page.get_by_role("heading", name="Mina bokningar", level=1).is_visible()
    assert page.get_by_role("link", name="Avboka").count() == 2

    page.get_by_role("link", name="Boka om").first.click()
    page.locator("button[name=slot]").last.click()
    assert "Din tid är ombokad till" in page.get_by_role("status").inner_text()

    page.get_by_role("link", name="Avboka").last.click()
    page.get_by_role("button", name="Ja, avboka").click()
    assert page.get_by_role("status").inner_text() == "Din tid är avbokad."
    assert page.get_by_role("link", name="Avboka").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "my-bookings.png", full_page=True)

    page.get_by_role("button", name="Logga ut").click()
    assert page.get_by_role("link", name="Logga in").is_visible()
    assert problems == []
    page.close()
