"""In Chromium: the demo operator logs in, turns on *Aktivera underhållsläge* on the
*Flexibilitet* tab, and the patient page is closed."""

from __future__ import annotations

import threading

import pytest
import uvicorn
from sqlalchemy import Engine

from booking_app.main import create_app
from demo.store_seed import DEMO_OPERATOR, DEMO_OPERATOR_PASSWORD
from opus_online.config import Settings
from tests.booking_app.booking_pages import SECRET, store_url

pytestmark = pytest.mark.browser


@pytest.fixture
def live_app(booking_store: Engine):
    settings = Settings(
        store_url=store_url(booking_store), base_domain="localhost", secret_key=SECRET
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield port
    server.should_exit = True
    thread.join()


def test_operator_logs_in_and_closes_the_site_for_maintenance(chromium, live_app) -> None:
    base = f"http://tandmottagningen.localhost:{live_app}"
    # Chromium resolves *.localhost to the loopback address itself.
    page = chromium.new_page()
    try:
        page.goto(f"{base}/admin/login")
        page.get_by_label("E-postadress").fill(DEMO_OPERATOR)
        page.get_by_label("Lösenord").fill(DEMO_OPERATOR_PASSWORD)
        page.get_by_role("button", name="Logga in").click()
        page.get_by_role("link", name="Tandmottagningen").click()
        page.get_by_label("Aktivera underhållsläge").check()
        page.get_by_role("button", name="Spara").click()
        assert page.get_by_role("status").inner_text() == "Ändringarna är sparade."
        response = page.goto(f"{base}/")
        assert response is not None and response.status == 503
        page.goto(f"{base}/admin/1/logg")
        assert "maintenance_mode" in page.locator("table.audit").inner_text()
    finally:
        page.close()
