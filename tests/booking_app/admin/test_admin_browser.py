"""In Chromium: the demo operator logs in, turns on *Aktivera underhållsläge* on the
*Flexibilitet* tab, and the patient page is closed."""

from __future__ import annotations

import pytest

from demo.store_seed import DEMO_OPERATOR, DEMO_OPERATOR_PASSWORD
from tests.booking_app.booking_pages import admin_site

pytestmark = pytest.mark.browser


def test_operator_logs_in_and_closes_the_site_for_maintenance(chromium, live_app) -> None:
    base = f"http://tandmottagningen.localhost:{live_app}"
    # Chromium resolves *.localhost to the loopback address itself.
    page = chromium.new_page()
    try:
        page.goto(f"{admin_site(base)}/admin/login")
        page.get_by_label("E-postadress").fill(DEMO_OPERATOR)
        page.get_by_label("Lösenord").fill(DEMO_OPERATOR_PASSWORD)
        page.get_by_role("button", name="Logga in").click()
        page.get_by_role("link", name="Tandmottagningen").click()  # Att hantera first
        page.get_by_role("link", name="Flexibilitet", exact=True).click()
        page.get_by_label("Aktivera underhållsläge").check()
        page.get_by_role("button", name="Spara").first.click()  # the settings' form
        assert page.get_by_role("status").inner_text() == "Ändringarna är sparade."
        response = page.goto(f"{base}/")
        assert response is not None and response.status == 503
        page.goto(f"{admin_site(base)}/admin/1/logg")
        assert "maintenance_mode" in page.locator("table.audit").inner_text()
    finally:
        page.close()
