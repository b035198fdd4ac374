"""Booking in a real browser (Debian's Chromium through Playwright) against a real
server: the whole path in the default order, the merged view, "any clinic" and "any
practitioner", the code (read from the outbox), the proof-of-work check done by the
page's own script, maintenance mode, and a booking made with the keyboard alone."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from demo.store_seed import DEMO_SUBDOMAIN
from opus_online.config import Settings
from tests.booking_app.booking_pages import SECRET, change_settings, store_url
from tests.booking_app.booking_steps import PATIENT, booking, sent_codes
from tests.helpers import app_on_loopback

pytestmark = pytest.mark.browser


@pytest.fixture
def site(booking_store: Engine) -> Iterator[str]:
    """The booking app on a free loopback port; yields the tenant's base URL."""
    settings = Settings(
        store_url=store_url(booking_store), base_domain="localhost", secret_key=SECRET
    )
    with app_on_loopback(settings) as port:
        yield f"http://{DEMO_SUBDOMAIN}.localhost:{port}"


@pytest.fixture
def page(chromium) -> Iterator:
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)  # a bound for a hung page, on a busy machine too
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems
    yield page
    context.close()


def reference(page) -> str:
    return re.search(r"/boka/([^/]+)/", page.url).group(1)


def pick_first_time(page) -> None:
    """Press the first time button of the week, jumping to the first free time."""
    times = page.locator("button[name=slot]")
    if times.count() == 0:
        page.get_by_role("link", name="Första lediga tid").click()
    page.locator("button[name=slot]").first.click()


def fill_details(page, **values: str) -> None:
    fields = {**PATIENT, **values}
    page.get_by_label("Personnummer").fill(fields["personal_number"])
    page.get_by_label("Förnamn").fill(fields["first_name"])
    page.get_by_label("Efternamn").fill(fields["last_name"])
    page.get_by_label("Mobilnummer").fill(fields["mobile"])
    page.get_by_label("E-postadress").fill(fields["email"])


def test_full_booking_in_the_default_order_with_a_code(site: str, page, booking_store: Engine):
    page.goto(site + "/")
    page.get_by_role("link", name="Boka tid", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Välj klinik"
    page.get_by_role("link", name=re.compile("Tandmottagningen Centrum")).click()
    page.get_by_role("link", name=re.compile("^Undersökning")).click()
    page.get_by_role("link", name=re.compile("^Märta Karlsson")).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Välj tid"
    pick_first_time(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Dina uppgifter"
    assert page.locator(".patient-info").is_visible()
    fill_details(page)
    page.get_by_label("Med sms").check()
    page.get_by_role("button", name="Skicka kod").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Bekräfta med kod"

    ref = reference(page)
    [(channel, _, code)] = sent_codes(booking_store, ref)
    assert channel == "sms"
    page.get_by_label("Kod").fill(code)
    page.get_by_role("button", name="Bekräfta bokningen").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Din tid är bokad"
    assert "Tandmottagningen Centrum" in page.locator(".summary").inner_text()
    assert "Märta Karlsson" in page.locator(".summary").inner_text()
    assert booking(booking_store, ref).status == "confirmed"
    assert page.problems == []


def test_merged_view(site: str, page, booking_store: Engine):
    change_settings(booking_store, combined_view=True, skip_confirmation=True)
    page.goto(site + "/boka")
    page.get_by_role("link", name=re.compile("Tandmottagningen Stora torget")).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Välj behandling och behandlare"
    page.get_by_label(re.compile("Lagning av hål")).check()
    page.get_by_label(re.compile("Vilken behandlare som helst")).check()
    page.get_by_role("button", name="Visa lediga tider").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Välj tid"
    pick_first_time(page)
    fill_details(page)
    page.get_by_role("button", name="Fortsätt").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Din tid är bokad"
    held = booking(booking_store, reference(page))
    assert held.any_practitioner and held.status == "confirmed"
    assert page.problems == []


def test_any_clinic_and_any_practitioner(site: str, page, booking_store: Engine):
    change_settings(booking_store, any_clinic_option=True, skip_confirmation=True)
    page.goto(site + "/boka")
    page.get_by_role("link", name=re.compile("^Vilken klinik som helst")).click()
    page.get_by_role("link", name=re.compile("^Akut tandvärk")).click()
    page.get_by_role("link", name=re.compile("^Vilken behandlare som helst")).click()
    times = page.locator("button[name=slot]")
    if times.count() == 0:
        page.get_by_role("link", name="Första lediga tid").click()
    chosen = page.locator("button[name=slot]").last
    label = chosen.get_attribute("aria-label")
    clinic = label.rsplit(" på ", 1)[1]
    chosen.click()
    assert clinic in page.locator(".summary").inner_text()
    fill_details(page)
    page.get_by_role("button", name="Fortsätt").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Din tid är bokad"
    held = booking(booking_store, reference(page))
    assert held.any_clinic and held.any_practitioner
    assert page.problems == []


def test_captcha_solved_by_the_page_script(site: str, page, booking_store: Engine):
    change_settings(booking_store, code_challenge_enabled=False)
    page.goto(site + "/boka?lang=en")
    page.get_by_role("link", name=re.compile("Tandmottagningen Centrum")).click()
    page.get_by_role("link", name=re.compile("^Lagning")).click()
    page.get_by_role("link", name=re.compile("^Any practitioner")).click()
    if page.locator("button[name=slot]").count() == 0:
        page.get_by_role("link", name="First free time").click()
    page.locator("button[name=slot]").first.click()
    page.get_by_label("Personal identity number").fill(PATIENT["personal_number"])
    page.get_by_label("First name").fill(PATIENT["first_name"])
    page.get_by_label("Last name").fill(PATIENT["last_name"])
    page.get_by_label("Mobile number").fill(PATIENT["mobile"])
    page.get_by_label("E-mail address").fill(PATIENT["email"])
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Confirm the booking"
    page.get_by_role("button", name="Confirm the booking").click()
    page.wait_for_url(re.compile(r"/bekraftad"))
    assert page.get_by_role("heading", level=1).inner_text() == "Your appointment is booked"
    assert booking(booking_store, reference(page)).status == "confirmed"
    assert page.problems == []


def test_maintenance_mode(site: str, page, booking_store: Engine):
    change_settings(booking_store, maintenance_mode=True)
    for path in ("/", "/boka", "/boka?clinic=1"):
        response = page.goto(site + path)
        assert response.status == 503
        assert page.get_by_role("heading", level=1).inner_text() == "Underhåll pågår"
    change_settings(booking_store, maintenance_mode=False)
    assert page.goto(site + "/boka").status == 200


FOCUSED = """() => {
  const e = document.activeElement;
  return {tag: e.tagName, id: e.id, name: e.getAttribute('name') || '',
          text: (e.innerText || '').trim(), label: e.getAttribute('aria-label') || ''};
}"""


def tab_to(page, wanted, limit: int = 400) -> dict:
    """Press Tab until the focused element satisfies ``wanted``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if wanted(focused):
            return focused
    raise AssertionError("Tab never reached the element")


def test_keyboard_only_booking(site: str, page, booking_store: Engine):
    page.goto(site + "/boka")
    tab_to(page, lambda f: f["tag"] == "A" and "Tandmottagningen Centrum" in f["text"])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"clinic="))
    tab_to(page, lambda f: f["tag"] == "A" and f["text"].startswith("Undersökning"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"treatment="))
    tab_to(page, lambda f: f["tag"] == "A" and f["text"].startswith("Vilken behandlare"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"practitioner="))
    tab_to(page, lambda f: f["tag"] == "A" and f["text"] == "Första lediga tid")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"week="))
    focused = tab_to(page, lambda f: f["tag"] == "BUTTON" and f["name"] == "slot")
    assert re.fullmatch(r"\w+ \d+ \w+ \d{4} kl\. \d\d:\d\d", focused["label"]), focused
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/uppgifter"))

    for field, value in (
        ("personal_number", PATIENT["personal_number"]),
        ("first_name", PATIENT["first_name"]),
        ("last_name", PATIENT["last_name"]),
        ("mobile", PATIENT["mobile"]),
        ("email", PATIENT["email"]),
    ):
        tab_to(page, lambda f, field=field: f["id"] == field)
        page.keyboard.type(value)
    tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "Skicka kod")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/kod"))

    code = sent_codes(booking_store, reference(page))[0][2]
    tab_to(page, lambda f: f["id"] == "code")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/bekraftad"))
    assert page.get_by_role("heading", level=1).inner_text() == "Din tid är bokad"
    assert booking(booking_store, reference(page)).status == "confirmed"
    assert page.problems == []
