"""Every patient and operator page at a phone's width (390 px) and a desktop's
(1280 px), in one Chromium page (issue 19), checked by axe-core (vendored in
tests/vendor/axe-core) against the WCAG 2.2 A and AA rules: contrast, names of
controls and images (the dashboards' charts too), landmarks, and the rest. Also: no
sideways scrolling at 390 px, and no form control without an accessible name.

The patient pages are reached as a patient reaches them: front page, the booking steps,
*Dina uppgifter*, the code, the confirmation, login with BankID (the stand-in), *Mina
bokningar* with the new booking in it. The operator pages: login, every tab, *Att
hantera* with the demo's conflicts, quarantined rows and a failed message, and the
dashboards with a fortnight of history and for a period with no data. A screenshot of
every page at both widths is kept in ``test-artifacts/screenshots`` (looked at, not
compared)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from connectors.store import reminder_links
from connectors.store.db import session_scope
from connectors.store.models import Booking, OutboxMessage, Tenant
from demo.history import add_history
from demo.store_seed import DEMO_OPERATOR, DEMO_OPERATOR_PASSWORD, DEMO_SUBDOMAIN
from opus_online import signed_links
from tests.booking_app.booking_steps import PATIENT, sent_codes
from tests.booking_app.login_steps import scan, settings_with_bankid
from tests.helpers import app_on_loopback

pytestmark = pytest.mark.browser

ROOT = Path(__file__).parents[3]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
WIDTHS = (390, 1280)
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
ADMIN_TABS = (
    "att-hantera", "kliniker", "behandlare", "underdoman", "flexibilitet", "media",
    "e-post", "sms", "aterbudslista", "avancerat", "avancerat/api-nycklar",
    "avancerat/patientdata", "logg", "statistik",
)  # fmt: skip

# Controls with no name a screen reader could read: no label, aria-label(ledby),
# title, or (buttons) text. (axe's own rules say the same; this names the control.)
UNLABELED = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea, button')].filter(c => {
  if (c.labels && c.labels.length) return false;
  if (c.getAttribute('aria-label') || c.getAttribute('aria-labelledby')) return false;
  if (c.title) return false;
  if (c.tagName === 'BUTTON' && c.textContent.trim()) return false;
  if (c.type === 'submit' && c.value) return false;
  return true;
}).map(c => c.outerHTML.slice(0, 120))"""

# axe-core's run, reduced to what a failure message needs.
AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations']});
  return result.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — ' +
    v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' ' +
      (n.any.concat(n.all, n.none).map(c => c.message).join('; '))).join(' | '));
}"""


class Checker:
    """Checks the page the browser shows now at both widths; gathers the problems."""

    def __init__(self, page) -> None:
        self.page = page
        self.problems: list[str] = []
        self.seen: list[str] = []
        self.axe = AXE.read_text()

    def check(self, name: str) -> None:
        page = self.page
        self.seen.append(name)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_load_state("load")
            if page.locator(".stats-chart").count():  # drawn, and named, by the page's script
                page.locator("body[data-charts=drawn]").wait_for()
            if width == 390:
                sideways = page.evaluate(
                    "() => document.documentElement.scrollWidth"
                    " - document.documentElement.clientWidth"
                )
                if sideways > 0:
                    self.problems.append(f"{name}: scrolls {sideways} px sideways at 390 px")
            for control in page.evaluate(UNLABELED):
                self.problems.append(f"{name} at {width}: unlabeled {control}")
            # Evaluated through the DevTools protocol: the page's CSP does not apply.
            if not page.evaluate("() => typeof axe !== 'undefined'"):
                page.evaluate(self.axe)
            for violation in page.evaluate(AXE_RUN, WCAG_22_AA):
                self.problems.append(f"{name} at {width}: {violation}")
            page.screenshot(path=ARTIFACTS / f"{name}-{width}.png", full_page=True)

    def visit(self, url: str, name: str) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status == 200, (url, response)
        self.check(name)


def reminder_link(engine: Engine, secret: bytes, reference: str) -> str:
    """The path of the link the booking's reminder will carry."""
    with session_scope(engine) as session:
        booking = session.scalars(select(Booking).where(Booking.reference == reference)).one()
        expires_at = reminder_links.link_expiry(session, booking, None)
        token = signed_links.sign(
            secret,
            purpose=reminder_links.PURPOSE,
            tenant=str(booking.tenant_id),
            subject=reminder_links.link_subject(booking_id=booking.id),
            expires_at=expires_at,
        )
    return f"/h/{token}"


@pytest.fixture
def site(booking_store: Engine, bankid_standin) -> Iterator[tuple[int, bytes]]:
    """The app with BankID (the stand-in), on a loopback port, the store with a
    fortnight of the demo's history (the dashboards draw it)."""
    today = datetime.now(ZoneInfo("Europe/Stockholm")).date()
    add_history(booking_store, DEMO_SUBDOMAIN, today, days=14)
    with session_scope(booking_store) as session:  # a message for Att hantera's buttons
        tenant_id = session.scalars(select(Tenant.id)).one()
        session.add(
            OutboxMessage(
                tenant_id=tenant_id, channel="sms", kind="new", recipient="+46701234567",
                payload="{}", status="failed", attempts=5, last_error="gateway said 401",
            )
        )  # fmt: skip
    settings = settings_with_bankid(booking_store, bankid_standin).model_copy(
        update={"base_domain": "localhost"}
    )
    with app_on_loopback(settings) as port:
        yield port, settings.secret()


def test_every_page_at_two_widths_passes_axe_and_fits_a_phone(
    chromium, site: tuple[int, bytes], booking_store: Engine, bankid_standin
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    site, secret = site
    patient = f"http://{DEMO_SUBDOMAIN}.localhost:{site}"
    admin = f"http://admin.localhost:{site}"
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    checker = Checker(page)
    try:
        # -- the patient's way through a booking --------------------------------------
        checker.visit(patient + "/", "patient-front-page")
        checker.visit(patient + "/?lang=en", "patient-front-page-en")
        checker.visit(patient + "/boka", "patient-clinic-step")
        page.get_by_role("link", name=re.compile("Tandmottagningen Centrum")).click()
        checker.check("patient-treatment-step")
        page.get_by_role("link", name=re.compile("^Undersökning")).click()
        checker.check("patient-practitioner-step")
        page.get_by_role("link", name=re.compile("^Märta Karlsson")).click()
        assert page.get_by_role("heading", level=1).inner_text() == "Välj tid"
        checker.check("patient-time-step")
        page.locator("button[name=slot]").last.click()  # far enough to rebook
        assert page.get_by_role("heading", level=1).inner_text() == "Dina uppgifter"
        checker.check("patient-details")
        page.get_by_label("Personnummer").fill(PATIENT["personal_number"])
        page.get_by_label("Förnamn").fill(PATIENT["first_name"])
        page.get_by_label("Efternamn").fill(PATIENT["last_name"])
        page.get_by_label("Mobilnummer").fill(PATIENT["mobile"])
        page.get_by_label("E-postadress").fill(PATIENT["email"])
        page.get_by_label("Med e-post").check()
        page.get_by_role("button", name="Skicka kod").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Bekräfta med kod"
        checker.check("patient-code")
        reference = re.search(r"/boka/([^/]+)/", page.url).group(1)
        [(_, _, code)] = sent_codes(booking_store, reference)
        page.get_by_label("Kod").fill(code)
        page.get_by_role("button", name="Bekräfta bokningen").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Din tid är bokad"
        checker.check("patient-confirmation")
        checker.visit(patient + reminder_link(booking_store, secret, reference), "patient-reminder")

        # -- login with BankID, then Mina bokningar -----------------------------------
        checker.visit(patient + "/logga-in", "patient-login")
        page.get_by_role("button", name="Mobilt BankID på annan enhet").click()
        page.locator("[data-qr] svg").wait_for()
        checker.check("patient-login-qr")
        qr = page.evaluate("fetch('/logga-in/qr').then((r) => r.json()).then((d) => d.qr)")
        assert scan(bankid_standin, qr).status_code == 200
        page.wait_for_url(patient + "/mina-bokningar")
        assert page.get_by_role("link", name="Avboka").count() >= 1
        checker.check("patient-my-bookings")
        page.get_by_role("link", name="Boka om").first.click()
        checker.check("patient-my-booking-rebook")
        page.go_back()
        page.get_by_role("link", name="Avboka").first.click()
        checker.check("patient-my-booking-cancel")

        # -- the operator's pages ------------------------------------------------------
        checker.visit(f"{admin}/admin/login", "admin-login")
        page.get_by_label("E-postadress").fill(DEMO_OPERATOR)
        page.get_by_label("Lösenord").fill(DEMO_OPERATOR_PASSWORD)
        page.get_by_role("button", name="Logga in").click()
        page.get_by_role("link", name="Tandmottagningen").wait_for()
        checker.check("admin-tenants")
        for tab in ADMIN_TABS:
            checker.visit(f"{admin}/admin/1/{tab}", "admin-" + tab.replace("/", "-"))
        assert page.locator("svg").count() > 0, "the dashboards drew no chart"
        checker.visit(
            f"{admin}/admin/1/statistik?fran=2001-01-01&till=2001-01-31", "admin-statistik-empty"
        )
        assert "Inga data för perioden" in page.locator("main").inner_text()
    finally:
        context.close()
    assert len(checker.seen) >= 30, checker.seen
    assert checker.problems == [], "\n".join(checker.problems)
