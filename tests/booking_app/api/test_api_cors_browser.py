"""The public API from a clinic's own website, in Chromium: the browser itself lets an
allowed page read the API's answer and keeps it from any other page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from demo.clinic_site import handler_for
from demo.loopback import close, serve_in_thread
from demo.store_seed import DEMO_SUBDOMAIN
from opus_online.config import Settings
from tests.booking_app.api.test_api_cors import publishable_key
from tests.booking_app.booking_pages import store_url
from tests.helpers import app_on_loopback

pytestmark = pytest.mark.browser


@pytest.fixture
def booking_url(synced_store: Engine) -> Iterator[str]:
    settings = Settings(store_url=store_url(synced_store), base_domain="localhost")
    with app_on_loopback(settings) as port:
        yield f"http://{DEMO_SUBDOMAIN}.localhost:{port}"


def clinic_site(booking_url: str, key: str):
    return serve_in_thread("127.0.0.1", 0, handler_for(booking_url, key))


def treatments_on(chromium, site) -> str:
    page = chromium.new_page()
    page.goto(f"http://localhost:{site.server_port}/")
    page.wait_for_function("document.body.dataset.treatments !== undefined", timeout=15_000)
    shown = page.evaluate("document.body.dataset.treatments")
    page.close()
    return shown


def test_an_allowed_site_reads_the_api_and_any_other_is_refused_by_the_browser(
    chromium, synced_store: Engine, booking_url: str
):
    allowed = clinic_site(booking_url, "placeholder")
    refused = clinic_site(booking_url, "placeholder")
    try:
        key = publishable_key(synced_store, f"http://localhost:{allowed.server_port}")
        allowed.RequestHandlerClass = handler_for(booking_url, key)
        refused.RequestHandlerClass = handler_for(booking_url, key)

        assert int(treatments_on(chromium, allowed)) > 0
        # The same key, the same request: the API answers, the browser hides it.
        assert treatments_on(chromium, refused).startswith("error: ")
    finally:
        close(allowed)
        close(refused)
