"""*Flexibilitet*, the settings that decide what happens to bookings: an operator
changes each on the tab, and *Mina bokningar*, the public API, the details step and
the Boka vård publication do what the manual says at the next request (or run).

Like :mod:`test_admin_flexibility_site`, each test reads the setting's current value,
checks that the product agrees, then changes it through the operator's form and back,
so each can fail in either direction. Nothing is mocked: the store is the synced demo
store, BankID and Boka vård are their loopback stand-ins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select

from booking_app.messages import t
from connectors.store.db import session_scope
from connectors.store.models import Booking, Clinic, TenantSettings, Treatment
from demo.fhir_marketplace import FhirMarketplace
from demo.opus_data import DemoSpec, generate
from demo.store_seed import DEMO_SUBDOMAIN
from flows.marketplace import sync_marketplace, tenants_to_sync
from tests.booking_app.admin.admin_pages import log_in as operator_log_in
from tests.booking_app.admin.admin_pages import operator, post_tab, tenant_id
from tests.booking_app.api.api_client import API, api_client, times
from tests.booking_app.booking_steps import (
    PATIENT as DETAILS,
)
from tests.booking_app.booking_steps import (
    Page,
    get,
    press,
    reference_of,
    sent_codes,
    submit,
    time_buttons,
    to_details,
)
from tests.booking_app.login_steps import Clock, client_with_bankid, log_in
from tests.booking_app.test_my_bookings import PATIENT, PHONE, book, status_of
from tests.helpers import synced_demo_store
from tests.marketplace_helpers import TOKEN, Waits, client_factory, settings_for

A = "a@tandmottagningen.se"
STOCKHOLM = "Europe/Stockholm"


# -- the operator's side ----------------------------------------------------------------


def as_operator(client: TestClient, engine: Engine) -> str:
    """Log ``client`` in as an operator of the demo tenant; the Flexibilitet tab's path."""
    own = tenant_id(engine)
    operator(engine, A, {own: "operator"})
    assert operator_log_in(client, A).status_code == 303
    return f"/admin/{own}/flexibilitet"


def value(engine: Engine, name: str) -> Any:
    with session_scope(engine) as session:
        return getattr(session.get(TenantSettings, tenant_id(engine)), name)


def set_on_tab(client: TestClient, path: str, engine: Engine, name: str, new: bool | int) -> None:
    """Change one setting the way an operator does (the form as shown, one field
    changed), and check the store took it: the tests judge the product, not the form."""
    # An unticked checkbox is absent from the form.
    field = str(new) if not isinstance(new, bool) else ("on" if new else None)
    answer = post_tab(client, path, **{name: field})
    assert answer.status_code == 303, answer.text
    assert value(engine, name) == new


# -- the patient's side -----------------------------------------------------------------


@pytest.fixture
def patient(booking_store: Engine, bankid_standin) -> TestClient:
    """Tolvan, logged in with BankID (``book`` makes bookings with his number)."""
    client = client_with_bankid(booking_store, bankid_standin, Clock())
    log_in(client, bankid_standin)
    return client


def booking_row(engine: Engine, reference: str) -> Booking:
    with session_scope(engine) as session:
        row = session.scalars(select(Booking).where(Booking.reference == reference)).one()
        session.expunge(row)
        return row


def offers(client: TestClient, reference: str, link: str, action: str, refusal: str) -> bool:
    """Whether *Mina bokningar* offers ``link`` for the booking. The list, the action's
    own page and the reason shown must agree, or the setting is only half honoured."""
    listed = get(client, "/mina-bokningar")
    assert listed.status == 200, listed.html
    shown = listed.has_link(link)
    page = client.get(f"/mina-bokningar/{reference}/{action}")
    assert page.status_code in (200, 409), page.text
    assert (page.status_code == 200) is shown, f"list shows {link}: {shown}, page {page}"
    if not shown:
        assert t(refusal) in listed.html and t(refusal) in page.text
    return shown


# -- Avbokning aktiverad, Ändra bokning aktiverad ------------------------------------------


@pytest.mark.parametrize(
    ("name", "link", "action", "refusal"),
    [
        ("cancel_enabled", t("my_booking_cancel"), "avboka", "my_booking_cancel_disabled"),
        ("change_enabled", t("my_booking_rebook"), "omboka", "my_booking_change_disabled"),
    ],
)
def test_cancel_and_change_set_on_the_tab_decide_what_my_bookings_offers(
    booking_client: TestClient,
    booking_store: Engine,
    patient: TestClient,
    name: str,
    link: str,
    action: str,
    refusal: str,
) -> None:
    path = as_operator(booking_client, booking_store)
    reference = book(booking_store)
    start = value(booking_store, name)
    assert offers(patient, reference, link, action, refusal) is start
    for new in (not start, start):
        set_on_tab(booking_client, path, booking_store, name, new)
        assert offers(patient, reference, link, action, refusal) is new, f"{name}={new}"
    assert status_of(booking_store, reference) == "confirmed"  # only looked at


def api_cancel(api: TestClient, booking_id: int) -> Response:
    return api.delete(
        f"{API}/bookings",
        params={
            "request.bookingID": booking_id,
            "request.requestedByPersonalId.year": PATIENT[:4],
            "request.requestedByPersonalId.month": PATIENT[4:6],
            "request.requestedByPersonalId.day": PATIENT[6:8],
            "request.requestedByPersonalId.extraDigits": PATIENT[8:],
        },
    )


def api_reschedule(api: TestClient, engine: Engine, booking_id: int) -> Response:
    """Move the booking to another free time of its clinic and treatment, days before
    any cut-off and clear of the booking itself."""
    with session_scope(engine) as session:
        booking = session.get_one(Booking, booking_id)
        clinic = session.get_one(Clinic, booking.clinic_id).opus_clinic_id
        treatment = session.get_one(Treatment, booking.treatment_id).opus_treatment_id
        starts_at = booking.starts_at
    soon = datetime.now(UTC) + timedelta(days=3)
    slot = next(
        s
        for s in times(api, clinic=clinic, treatment=treatment)
        if datetime.fromisoformat(s["Start"]) > soon
        and abs(datetime.fromisoformat(s["Start"]) - starts_at) > timedelta(hours=3)
    )
    body = {
        "OriginalBookingId": booking_id,
        "NewTime": slot,
        "PatientToReschedule": {"PatientPersonalIdentification": PATIENT},
        "RequestedBy": "Tolvan Tolvansson",
    }
    return api.patch(f"{API}/bookings", json=body)


@pytest.mark.parametrize(
    ("name", "reason", "done"),
    [
        ("cancel_enabled", "CancelDisabled", "cancelled"),
        ("change_enabled", "ChangeDisabled", "rebooked"),
    ],
)
def test_cancel_and_change_set_on_the_tab_decide_what_the_api_allows(
    booking_client: TestClient, booking_store: Engine, name: str, reason: str, done: str
) -> None:
    """The API's DELETE/PATCH /bookings follow the same setting as the site: refused
    (403, ``Reason``) while it is off, carried out once it is on again."""
    path = as_operator(booking_client, booking_store)
    api = api_client(booking_store)
    reference = book(booking_store)
    booking_id = booking_row(booking_store, reference).id

    def change() -> Response:
        if name == "cancel_enabled":
            return api_cancel(api, booking_id)
        return api_reschedule(api, booking_store, booking_id)

    assert value(booking_store, name) is True  # the demo's default: on
    set_on_tab(booking_client, path, booking_store, name, False)
    refused = change()
    assert refused.status_code == 403, refused.text
    assert refused.json()["Reason"] == reason
    assert status_of(booking_store, reference) == "confirmed"

    set_on_tab(booking_client, path, booking_store, name, True)
    allowed = change()
    assert allowed.status_code == 200, allowed.text
    assert status_of(booking_store, reference) == done


# -- Ändra bokningsinställning -----------------------------------------------------------


def test_change_cutoff_hours_set_on_the_tab_closes_web_changes_that_long_before(
    booking_client: TestClient, booking_store: Engine, bankid_standin
) -> None:
    """The patient's clock stands half an hour before the cut-off of ``hours``: with
    ``hours`` the booking may still be changed, with ``hours + 1`` it may not (and a
    cancel form opened earlier is refused), with ``hours`` again it may."""
    path = as_operator(booking_client, booking_store)
    reference = book(booking_store)
    booking = booking_row(booking_store, reference)
    hours = int((booking.starts_at - datetime.now(UTC)) / timedelta(hours=1)) - 1
    with session_scope(booking_store) as session:
        limit = session.get_one(Treatment, booking.treatment_id).change_in_web_limit_hours
    assert limit < hours, "the treatment's own limit would decide, not the setting"
    assert value(booking_store, "change_cutoff_hours") < hours  # the default: open now
    clock = Clock(booking.starts_at - timedelta(hours=hours, minutes=30))
    patient = client_with_bankid(booking_store, bankid_standin, clock)
    log_in(patient, bankid_standin)
    kept_open = get(patient, f"/mina-bokningar/{reference}/avboka")
    assert kept_open.h1 == t("cancel_heading")

    def open_for_changes() -> bool:
        listed = get(patient, "/mina-bokningar")
        can_cancel = listed.has_link(t("my_booking_cancel"))
        can_rebook = listed.has_link(t("my_booking_rebook"))
        assert can_cancel is can_rebook, "one cut-off closes both"
        for action in ("avboka", "omboka"):
            answer = patient.get(f"/mina-bokningar/{reference}/{action}")
            assert answer.status_code == (200 if can_cancel else 409), answer.text
        if not can_cancel:
            too_late = t("my_booking_past_cutoff").partition("{time}")[0]
            assert too_late in listed.html
            assert t("call_clinic_phone").format(phone=PHONE) in listed.html
        return can_cancel

    assert open_for_changes()
    set_on_tab(booking_client, path, booking_store, "change_cutoff_hours", hours + 1)
    assert not open_for_changes()
    refused = press(patient, kept_open.button(t("cancel_confirm")))
    assert refused.status == 409
    assert status_of(booking_store, reference) == "confirmed"

    set_on_tab(booking_client, path, booking_store, "change_cutoff_hours", hours)
    assert open_for_changes()
    cancelled = press(patient, kept_open.button(t("cancel_confirm")))
    assert cancelled.h1 == t("my_bookings") and t("my_booking_cancelled") in cancelled.html
    assert status_of(booking_store, reference) == "cancelled"


# -- Använd e-post/SMS-kod utmaning --------------------------------------------------------


def confirms_with_code(client: TestClient, engine: Engine) -> bool:
    """Give the details step what it asks for; True when it asked for a code channel,
    sent a code and asks for it, False when it went to the captcha instead."""
    page = to_details(client)
    form = page.form_with("first_name")
    asks = any(f.get("name") == "code_channel" for f in form.fields.values())
    done = submit(client, form, {**DETAILS, **({"code_channel": "email"} if asks else {})})
    assert done.status == 200, done.html
    step = httpx.URL(done.url).path.rsplit("/", 1)[-1]
    codes = sent_codes(engine, reference_of(done))
    if asks:
        assert (step, [c[:2] for c in codes]) == ("kod", [("email", DETAILS["email"])])
    else:
        assert (step, codes) == ("bekrafta", [])
    return asks


def test_code_challenge_set_on_the_tab_decides_whether_a_code_is_sent(
    booking_client: TestClient, booking_store: Engine
) -> None:
    path = as_operator(booking_client, booking_store)
    assert value(booking_store, "skip_confirmation") is False  # it would win over both
    start = value(booking_store, "code_challenge_enabled")
    assert confirms_with_code(booking_client, booking_store) is start
    for new in (not start, start):
        set_on_tab(booking_client, path, booking_store, "code_challenge_enabled", new)
        assert confirms_with_code(booking_client, booking_store) is new, f"code={new}"


# -- Publicera på "Boka vård" -------------------------------------------------------------


@pytest.fixture
def marketplace():
    """The Boka vård stand-in, with the demo tenant's account activated (the setting
    is the only thing left that decides whether it is published)."""
    with FhirMarketplace() as server:
        server.add_account(DEMO_SUBDOMAIN, TOKEN, active=True)
        yield server


def on_boka_vard(engine: Engine, marketplace: FhirMarketplace) -> bool:
    """Run the Boka vård sync as its flow does for the tenant (when the flow would pick
    it at all); True when the marketplace then holds the tenant's free times."""
    if DEMO_SUBDOMAIN in tenants_to_sync(engine):
        report = sync_marketplace(
            engine,
            DEMO_SUBDOMAIN,
            settings=settings_for(marketplace),
            client_for=client_factory(Waits()),
        )
        assert report.state == "off" or (report.state, report.failures) == ("active", [])
    held = {
        kind: len(marketplace.resources(DEMO_SUBDOMAIN, kind))
        for kind in ("Location", "Schedule", "Slot")
    }
    # what was withdrawn is forgotten: the next flow run has nothing to do for it
    assert (DEMO_SUBDOMAIN in tenants_to_sync(engine)) is (held["Slot"] > 0)
    assert all(held.values()) or not any(held.values()), held
    return held["Slot"] > 0


def test_publish_boka_vard_set_on_the_tab_publishes_and_withdraws_the_tenant(
    booking_client: TestClient, booking_store: Engine, marketplace: FhirMarketplace
) -> None:
    path = as_operator(booking_client, booking_store)
    start = value(booking_store, "publish_boka_vard")
    assert on_boka_vard(booking_store, marketplace) is start
    for new in (not start, start):
        set_on_tab(booking_client, path, booking_store, "publish_boka_vard", new)
        assert on_boka_vard(booking_store, marketplace) is new, f"publish_boka_vard={new}"


# -- the publishing horizon (months_to_sync) ----------------------------------------------


@pytest.fixture
def long_store(tmp_path: Path) -> Engine:
    """The demo chain with free times for six weeks from tomorrow, synced with the
    default horizon (three months): some times lie beyond one month."""
    demo = generate(DemoSpec(start=date.today() + timedelta(days=1), days=45, clinics=2))
    return synced_demo_store(demo, tmp_path, "store-long")


def week_past_one_month() -> date:
    """The Monday after the week in which a one-month horizon ends (local time): every
    time in that week lies beyond it."""
    local_now = pd.Timestamp(datetime.now(UTC)).tz_convert(STOCKHOLM)
    end = (local_now + pd.DateOffset(months=1)).date()
    return end - timedelta(days=end.weekday()) + timedelta(days=7)


def week_page(site: TestClient, engine: Engine, monday: date) -> Page:
    """The time step's week at UPP1 for treatment 1, any practitioner."""
    with session_scope(engine) as session:
        clinic = session.scalars(select(Clinic).where(Clinic.opus_clinic_id == "UPP1")).one()
        treatment = session.scalars(select(Treatment).where(Treatment.opus_treatment_id == 1)).one()
        query = {
            "clinic": clinic.id,
            "treatment": treatment.id,
            "practitioner": "any",
            "week": monday.isoformat(),
        }
    page = get(site, str(httpx.URL("/boka", params=query)))
    assert page.status == 200 and page.h1 == t("choose_time"), page.html
    return page


def offered_in_week(client: TestClient, engine: Engine, monday: date) -> bool:
    """Whether the week's time step and the API's available times for the same week
    offer anything; they must agree."""
    on_site = bool(time_buttons(week_page(client, engine, monday)))
    sunday_night = monday + timedelta(days=7)
    window = {"request.from": f"{monday}T00:00:00", "request.to": f"{sunday_night}T00:00:00"}
    in_api = bool(times(client, clinic="UPP1", treatment=1, **window))
    assert on_site is in_api, f"site {on_site}, API {in_api}"
    return on_site


def test_months_to_sync_set_on_the_tab_is_the_horizon_of_offered_times(
    long_store: Engine,
) -> None:
    """The operator, the patient and the API client share one app, as in production:
    the API remembers availability answers for a few seconds, and a write through the
    app (the operator's save) forgets them at once."""
    client = api_client(long_store)  # sends the API key; the pages ignore it
    path = as_operator(client, long_store)
    start = value(long_store, "months_to_sync")
    assert start > 1, "the demo publishes more than a month"
    monday = week_past_one_month()
    assert offered_in_week(client, long_store, monday)
    kept_open = time_buttons(week_page(client, long_store, monday))[0]

    set_on_tab(client, path, long_store, "months_to_sync", 1)
    assert not offered_in_week(client, long_store, monday)
    late = press(client, kept_open)  # a page shown before the change cannot hold it
    assert late.status == 409 and "/uppgifter" not in late.url, late.url
    with session_scope(long_store) as session:
        assert session.scalars(select(Booking)).first() is None

    set_on_tab(client, path, long_store, "months_to_sync", start)
    assert offered_in_week(client, long_store, monday)
    held = press(client, kept_open)
    assert "/uppgifter" in held.url, held.url
