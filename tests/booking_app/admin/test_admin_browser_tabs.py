"""In Chromium: the *Behandlare* upload (a photo reaches the patient's practitioner
step; an SVG is refused) and the *SMS* tab's live length, merge-field picker and
preview as the operator types."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage

from connectors.notifications.fields import sample_values
from demo.store_seed import DEMO_OPERATOR, DEMO_OPERATOR_PASSWORD
from tests.booking_app.booking_pages import admin_site

pytestmark = pytest.mark.browser

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><script>1</script></svg>'


def _photo() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (160, 160), (20, 90, 160)).save(out, "JPEG")
    return out.getvalue()


def _log_in(page, base: str) -> None:
    page.goto(f"{admin_site(base)}/admin/login")
    page.get_by_label("E-postadress").fill(DEMO_OPERATOR)
    page.get_by_label("Lösenord").fill(DEMO_OPERATOR_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.get_by_role("link", name="Tandmottagningen").wait_for()


def _loaded(locator) -> bool:
    return locator.evaluate("img => img.complete && img.naturalWidth > 0")


def test_practitioner_photo_upload_reaches_the_patient_site(chromium, live_app) -> None:
    from playwright.sync_api import expect

    base = f"http://tandmottagningen.localhost:{live_app}"
    page = chromium.new_page()
    try:
        # A practitioner the patient site lists after a clinic and a treatment.
        page.goto(f"{base}/boka")
        page.locator('a[href^="/boka?clinic="]').first.click()
        page.locator('a[href*="treatment="]').first.click()
        step = page.url
        href = page.locator('a[href*="practitioner="]:not([href*="practitioner=any"])').first
        practitioner = href.get_attribute("href").split("practitioner=")[1].split("&")[0]

        _log_in(page, base)
        page.goto(f"{admin_site(base)}/admin/1/behandlare")
        section = page.locator(f"#behandlare-{practitioner}")
        # The heading is the name, then the title in <small>.
        name = section.get_by_role("heading").evaluate("h => h.firstChild.textContent").strip()
        section.get_by_label(f"Bild på {name}").set_input_files(
            {"name": "ritning.png", "mimeType": "image/png", "buffer": SVG}
        )
        section.get_by_role("button", name="Spara").click()
        expect(page.get_by_role("alert")).to_contain_text("SVG")

        section = page.locator(f"#behandlare-{practitioner}")
        section.get_by_label(f"Bild på {name}").set_input_files(
            {"name": "foto.jpg", "mimeType": "image/jpeg", "buffer": _photo()}
        )
        section.get_by_label(f"Text om {name}").fill("Tycker om lugna besök.")
        section.get_by_role("button", name="Spara").click()
        expect(page.get_by_role("status")).to_have_text("Ändringarna är sparade.")
        portrait = page.locator(f"#behandlare-{practitioner} img")
        expect(portrait).to_be_visible()
        assert _loaded(portrait)

        page.goto(step)
        shown = page.locator("img.portrait").first
        expect(page.locator("img.portrait")).not_to_have_count(0)
        assert _loaded(shown)
        expect(page.get_by_text("Tycker om lugna besök.")).to_be_visible()

        page.goto(f"{admin_site(base)}/admin/1/behandlare")
        page.get_by_role("button", name=f"Ta bort bilden på {name}").click()
        expect(page.get_by_role("status")).to_have_text("Ändringarna är sparade.")
        expect(page.locator(f"#behandlare-{practitioner} img")).to_have_count(0)
    finally:
        page.close()


def test_sms_tab_shows_length_and_preview_as_the_operator_types(chromium, live_app) -> None:
    from playwright.sync_api import expect

    base = f"http://tandmottagningen.localhost:{live_app}"
    page = chromium.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        _log_in(page, base)
        page.goto(f"{admin_site(base)}/admin/1/sms")
        body = page.get_by_label("Text").first
        body.click()
        body.fill("")
        body.press_sequentially("Hej ")
        page.get_by_role("button", name="{{ first_name }}").click()
        body.press_sequentially("! Välkommen.")
        expect(body).to_have_value("Hej {{ first_name }}! Välkommen.")
        length = page.locator("#length_new")
        expect(length).to_contain_text("GSM-7")
        expect(length).to_contain_text("1 SMS")
        first_name = sample_values("sms")["first_name"]
        expect(page.locator("#preview_body_new")).to_have_text(f"Hej {first_name}! Välkommen.")

        body.press_sequentially(" 😀" + " Vi ses snart på kliniken igen." * 2)
        expect(length).to_contain_text("UCS-2")
        expect(length).to_contain_text("2 SMS")

        body.press_sequentially(" {{ personnummer }}")
        expect(page.locator("#preview_body_new")).to_contain_text("personnummer")
        assert errors == []
    finally:
        page.close()
