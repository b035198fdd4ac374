"""Every patient and operator page at a phone's width (390 px) and a desktop's
(1280 px), in one Chromium page (issue 19): no sideways scrolling at 390 px, no form
control without an accessible name; screenshots kept in ``test-artifacts/widths``.

(Contrast is not checked here: axe-core is not vendored yet.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.store_seed import DEMO_OPERATOR, DEMO_OPERATOR_PASSWORD

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parents[3] / "test-artifacts" / "widths"
PATIENT_HOST = "tandmottagningen.localhost"
ADMIN_HOST = "admin.localhost"
"""Where /admin is served: the operator pages' own origin (OPUS_ADMIN_HOST's default)."""
PATIENT_PAGES = ("/", "/boka", "/logga-in")
ADMIN_TABS = (
    "att-hantera", "kliniker", "behandlare", "underdoman", "flexibilitet", "media",
    "e-post", "sms", "aterbudslista", "avancerat", "logg", "statistik",
)  # fmt: skip

# Controls with no name a screen reader could read: no label, aria-label(ledby),
# title, or (buttons) text.
UNLABELED = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea, button')].filter(c => {
  if (c.labels && c.labels.length) return false;
  if (c.getAttribute('aria-label') || c.getAttribute('aria-labelledby')) return false;
  if (c.title) return false;
  if (c.tagName === 'BUTTON' && c.textContent.trim()) return false;
  if (c.type === 'submit' && c.value) return false;
  return true;
}).map(c => c.outerHTML.slice(0, 120))"""


def _check(page, url: str, name: str, problems: list[str]) -> None:
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        page.wait_for_load_state("load")
        if width == 390:
            sideways = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if sideways > 0:
                problems.append(f"{name}: scrolls {sideways} px sideways at 390 px")
        for control in page.evaluate(UNLABELED):
            problems.append(f"{name} at {width}: unlabeled {control}")
        page.screenshot(path=ARTIFACTS / f"{name}-{width}.png", full_page=True)


def test_every_page_fits_a_phone_and_names_its_controls(chromium, live_app) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    patient = f"http://{PATIENT_HOST}:{live_app}"
    admin = f"http://{ADMIN_HOST}:{live_app}"
    page = chromium.new_page()
    problems: list[str] = []
    try:
        for path in PATIENT_PAGES:
            _check(page, patient + path, "patient" + path.replace("/", "-"), problems)
        page.goto(f"{admin}/admin/login")
        _check(page, f"{admin}/admin/login", "admin-login", problems)
        page.get_by_label("E-postadress").fill(DEMO_OPERATOR)
        page.get_by_label("Lösenord").fill(DEMO_OPERATOR_PASSWORD)
        page.get_by_role("button", name="Logga in").click()
        page.get_by_role("link", name="Tandmottagningen").wait_for()
        for tab in ADMIN_TABS:
            _check(page, f"{admin}/admin/1/{tab}", f"admin-{tab}", problems)
    finally:
        page.close()
    assert problems == []
