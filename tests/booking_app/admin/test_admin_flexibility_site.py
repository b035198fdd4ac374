"""*Flexibilitet*, setting by setting: an operator changes it on the tab, and the
patient site does what the manual says at the next request.

Each case names the setting and how the patient site shows it; the test reads the
setting's current value, checks the site agrees, flips it through the operator form,
and checks the site again (and back), so it holds whatever the demo's defaults are."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from connectors.store.db import session_scope
from connectors.store.models import TenantSettings
from tests.booking_app.admin.admin_pages import log_in, operator, post_tab, tenant_id
from tests.booking_app.booking_steps import follow, get, names, time_buttons, to_details
from tests.booking_app.test_booking_times import STOCKHOLM, slot_time

A = "a@tandmottagningen.se"


def _details_fields(client: TestClient) -> set[str]:
    page = to_details(client)
    form = page.form_with("first_name")
    return {str(f.get("name")) for f in form.fields.values() if f.get("type") != "hidden"}


def _practitioner_step(client: TestClient):
    page = get(client, "/boka")
    page = follow(client, next(a for a in page.links if a.href.startswith("/boka?clinic=")))
    return follow(client, next(a for a in page.links if "treatment=" in a.href))


def _weekend_times(client: TestClient, engine: Engine) -> bool:
    """Whether Märta's Saturday times at Centrum (the demo's first clinician works
    every other Saturday) are offered over the next three weeks."""
    ids = names(engine)
    query = {
        "clinic": ids.clinics["Tandmottagningen Centrum"],
        "treatment": ids.treatments["Undersökning"],
        "practitioner": ids.practitioners["Märta Karlsson"],
    }
    page = get(client, str(httpx.URL("/boka", params=query)))
    if not time_buttons(page) and page.has_link("Första lediga tid"):
        page = follow(client, page.link("Första lediga tid"))
    for _ in range(3):
        if any(slot_time(b.value).astimezone(STOCKHOLM).weekday() >= 5 for b in time_buttons(page)):
            return True
        later = [
            a for a in page.links if "week=" in a.href and "Nästa" in (a.text + str(a.aria_label))
        ]
        if not later:
            return False
        page = follow(client, later[0])
    return False


SiteShows = Callable[[TestClient, Engine], bool]
"""True when the patient site shows the setting as on."""

CASES: dict[str, SiteShows] = {
    # Allmänna inställningar
    "login_enabled": lambda c, e: get(c, "/").has_link("Logga in"),
    "view_bookings_enabled": lambda c, e: (
        c.get("/mina-bokningar", follow_redirects=False).status_code != 404
    ),
    "new_booking_enabled": lambda c, e: get(c, "/boka").status == 200,
    "new_booking_requires_login": lambda c, e: get(c, "/boka").h1 == "Logga in för att boka",
    "weekend_booking_enabled": _weekend_times,
    "maintenance_mode": lambda c, e: c.get("/").status_code == 503,
    "publish_opus_online": lambda c, e: get(c, "/boka").h1 != "Onlinebokningen är stängd",
    "user_message_enabled": lambda c, e: "message" in _details_fields(c),
    "any_practitioner_option": lambda c, e: _practitioner_step(c).has_link(
        "Vilken behandlare som helst"
    ),
    "any_clinic_option": lambda c, e: get(c, "/boka").has_link("Vilken klinik som helst"),
    "skip_confirmation": lambda c, e: "code_channel" not in _details_fields(c),
    # (with Hoppa över bekräftelse off, the demo's default; the code actually sent is
    # checked in test_admin_flexibility_bookings)
    "code_challenge_enabled": lambda c, e: "code_channel" in _details_fields(c),
    # the site's own face of it: the bulk publication for aggregators (the marketplace
    # sync is checked in test_admin_flexibility_bookings)
    "publish_boka_vard": lambda c, e: c.get("/$bulk-publish").status_code == 200,
    # Registreringsinställningar, Kampanjkod aktiverad
    "ask_address": lambda c, e: "address1" in _details_fields(c),
    "campaign_code_enabled": lambda c, e: "campaign_code" in _details_fields(c),
    # Bokningsinställningsordning: Sammanslagen visning
    "combined_view": lambda c, e: (
        follow(c, next(a for a in get(c, "/boka").links if a.href.startswith("/boka?clinic="))).h1
        == "Välj behandling och behandlare"
    ),
}


def _value(engine: Engine, tenant: int, name: str) -> bool:
    with session_scope(engine) as session:
        return bool(getattr(session.get(TenantSettings, tenant), name))


@pytest.mark.parametrize("name", list(CASES))
def test_toggling_a_flexibility_setting_changes_the_patient_site(
    booking_client: TestClient, booking_store: Engine, name: str
) -> None:
    own = tenant_id(booking_store)
    operator(booking_store, A, {own: "operator"})
    assert log_in(booking_client, A).status_code == 303
    shows = CASES[name]
    path = f"/admin/{own}/flexibilitet"
    start = _value(booking_store, own, name)
    assert shows(booking_client, booking_store) is start
    for value in (not start, start):
        answer = post_tab(booking_client, path, **{name: "on" if value else None})
        assert answer.status_code == 303, answer.text
        assert _value(booking_store, own, name) is value
        assert shows(booking_client, booking_store) is value, f"{name}={value}"


@pytest.mark.parametrize(
    ("order", "heading"),
    [
        (("practitioner", "treatment", "time", "clinic"), "Välj behandlare"),
        (("treatment", "clinic", "practitioner", "time"), "Välj behandling"),
        (("time", "clinic", "treatment", "practitioner"), None),  # "Första lediga tid"
        (("clinic", "treatment", "practitioner", "time"), "Välj klinik"),
    ],
)
def test_step_order_set_on_the_tab_is_the_patient_sites_first_step(
    booking_client: TestClient, booking_store: Engine, order, heading
) -> None:
    own = tenant_id(booking_store)
    operator(booking_store, A, {own: "operator"})
    log_in(booking_client, A)
    steps = dict(
        zip(("first_step", "second_step", "third_step", "fourth_step"), order, strict=True)
    )
    answer = post_tab(booking_client, f"/admin/{own}/flexibilitet", combined_view=None, **steps)
    assert answer.status_code == 303
    page = get(booking_client, "/boka")
    if heading is None:
        assert page.has_link("Första lediga tid")
        assert follow(booking_client, page.link("Första lediga tid")).h1 == "Välj tid"
    else:
        assert page.h1 == heading


def test_combined_view_overrides_the_step_order(
    booking_client: TestClient, booking_store: Engine
) -> None:
    own = tenant_id(booking_store)
    operator(booking_store, A, {own: "operator"})
    log_in(booking_client, A)
    post_tab(
        booking_client,
        f"/admin/{own}/flexibilitet",
        combined_view="on",
        first_step="time",
        second_step="practitioner",
        third_step="treatment",
        fourth_step="clinic",
    )
    assert get(booking_client, "/boka").h1 == "Välj klinik"
