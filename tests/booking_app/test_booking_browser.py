"""The demo tenant's first page in a real browser, served by a real server: it must
render with its own styles and break no Content-Security-Policy rule."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from demo.store_seed import DEMO_SUBDOMAIN
from opus_online.config import Settings
from tests.booking_app.booking_pages import store_url
from tests.helpers import app_on_loopback

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"


@pytest.fixture
def served(synced_store: Engine) -> Iterator[int]:
    """The booking app on a free loopback port; yields the port."""
    settings = Settings(store_url=store_url(synced_store), base_domain="localhost")
    with app_on_loopback(settings) as port:
        yield port


def test_first_page_renders_in_chromium_without_csp_violations(chromium, served: int):
    page = chromium.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    # Chromium resolves *.localhost to loopback, like the demo's own URL.
    response = page.goto(f"http://{DEMO_SUBDOMAIN}.localhost:{served}/")

    assert response.status == 200
    headings = page.locator("h2, h3").all_inner_texts()
    assert "Uppsala" in headings and "Ogrupperade kliniker" in headings
    assert page.get_by_role("heading", name="Tandmottagningen Enköping").is_visible()
    # The tenant's theme and the site's stylesheet were applied (served by the app).
    background = page.evaluate(
        "getComputedStyle(document.documentElement).getPropertyValue('--color-primary')"
    )
    assert background.strip() == "#1F5F8B"
    assert problems == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "booking-first-page.png", full_page=True)
    page.close()
