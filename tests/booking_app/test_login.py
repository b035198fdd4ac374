"""Logging in with BankID on the booking site, against the stand-in over real mutual
TLS: QR and autostart, hint codes, errors, the session (rotation, fixation, expiry,
logout, replay), the settings, tenants kept apart, and *Ny bokning kräver inloggning*."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select

from connectors.bankid import qr_content
from connectors.store.db import session_scope
from connectors.store.models import BankIdOrder, PatientSession
from connectors.store.patient_sessions import token_hash
from demo.store_seed import seed_demo_tenant
from tests.booking_app.booking_pages import BASE_DOMAIN, change_settings
from tests.booking_app.booking_steps import (
    PATIENT,
    booking,
    get,
    press,
    reference_of,
    submit,
    to_details,
)
from tests.booking_app.login_steps import (
    PERSON,
    Clock,
    client_with_bankid,
    collect,
    fail_next,
    log_in,
    person_side,
    qr_now,
    scan,
    start_login,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(booking_store: Engine, bankid_standin, clock: Clock):
    return client_with_bankid(booking_store, bankid_standin, clock)


def sessions(engine: Engine) -> list[PatientSession]:
    with session_scope(engine) as session:
        rows = session.scalars(select(PatientSession).order_by(PatientSession.id)).all()
        session.expunge_all()
        return list(rows)


def test_login_by_qr_makes_a_session_with_bankids_personal_number(
    client, booking_store, bankid_standin
):
    visited = []
    client.event_hooks["request"] = [lambda request: visited.append(str(request.url))]
    page = log_in(client, bankid_standin)
    assert page.status == 200 and page.h1 == "Mina bokningar"
    assert "Inloggad som Tolvan Tolvansson" in page.html
    (stored,) = sessions(booking_store)
    assert stored.personal_number == PERSON["personalNumber"]
    cookie = client.cookies.get("opus_patient")
    assert cookie and stored.token_hash == token_hash(cookie) and cookie not in stored.token_hash
    assert "opus_login" not in client.cookies  # the login's own cookie is gone
    # The personal number never travels in an address.
    assert not [u for u in visited if "191212121212" in u or "19121212" in u]
    # The header now offers Mina bokningar and Logga ut instead of Logga in.
    front = get(client, "/")
    assert front.has_link("Mina bokningar") and not front.has_link("Logga in")
    assert any(b.label == "Logga ut" for b in front.buttons)


def test_the_qr_code_is_new_every_second_and_checks_at_bankid(client, clock, bankid_standin):
    start_login(client)
    first = qr_now(client)
    assert qr_now(client) == first  # the same second: the same code
    clock.advance(seconds=1)
    second = qr_now(client)
    prefix, token, seconds, code = second.split(".")
    assert (prefix, seconds) == ("bankid", "1") and first.split(".")[1] == token
    assert len(code) == 64 and code != first.split(".")[3]
    # A code with a forged HMAC is refused by the app (the stand-in checks it) …
    forged = f"bankid.{token}.1.{'0' * 64}"
    assert scan(bankid_standin, forged).status_code == 400
    # … one with the right HMAC for another secret as well; the page's code checks.
    assert scan(bankid_standin, qr_content(token, "not-the-secret", 1)).status_code == 400
    assert scan(bankid_standin, second).status_code == 200


def test_login_by_autostart_on_this_device(client, booking_store, bankid_standin):
    page = start_login(client, "app")
    links = [a.href for a in page.links if a.href.startswith("bankid:")]
    assert len(links) == 1 and links[0].endswith("&redirect=null")
    token = httpx.URL(links[0]).params["autostarttoken"]
    assert client.get("/logga-in/qr").status_code == 404  # no QR for this device
    assert collect(client, page)["message"] == "Försöker starta BankID-appen."
    with person_side(bankid_standin) as app:
        app.post("/test/autostart", json={"autoStartToken": token, "action": "start"})
        assert collect(client, page)["message"].startswith("Söker efter BankID")
        app.post("/test/autostart", json={"autoStartToken": token, "action": "complete"})
    done = collect(client, page)
    assert done["status"] == "complete" and done["redirect"] == "/mina-bokningar"
    assert len(sessions(booking_store)) == 1


@pytest.mark.parametrize(
    ("action", "status", "message"),
    [
        ("sign", "pending", "Skriv in din säkerhetskod i BankID-appen och välj Identifiera."),
        ("cancel", "failed", "Åtgärden avbruten."),
        ("expire", "failed", "BankID-appen svarar inte."),
    ],
)
def test_hint_codes_are_told_in_swedish(
    client, booking_store, bankid_standin, action, status, message
):
    page = start_login(client)
    assert collect(client, page)["message"] == "Starta BankID-appen."  # outstandingTransaction
    token = qr_now(client).split(".")[1]
    with person_side(bankid_standin) as app:
        app.post("/test/order", json={"qrStartToken": token, "action": action})
    answer = collect(client, page)
    assert answer["status"] == status and answer["message"].startswith(message)
    assert sessions(booking_store) == []
    if status == "failed":
        assert answer["redirect"].startswith("/logga-in")
        assert client.get("/logga-in/qr").status_code == 404  # the order has ended


@pytest.mark.parametrize(
    ("failure", "code", "message"),
    [
        ({"status": 400, "errorCode": "alreadyInProgress"}, 409, "redan påbörjad"),
        ({"status": 503, "errorCode": "maintenance"}, 503, "Internt tekniskt fel"),
        ({"status": 408, "errorCode": "requestTimeout"}, 503, "Internt tekniskt fel"),
        ({"drop": True}, 503, "BankID går inte att nå"),
    ],
)
def test_bankid_errors_at_start_leave_nothing_half_made(
    client, booking_store, bankid_standin, failure, code, message
):
    fail_next(bankid_standin, "auth", **failure)
    page = get(client, "/logga-in")
    result = press(client, page.button("Mobilt BankID på annan enhet"))
    assert result.status == code and message in result.html
    assert "opus_login" not in client.cookies
    with session_scope(booking_store) as session:
        assert session.scalar(select(func.count()).select_from(BankIdOrder)) == 0


def test_collect_errors_keep_the_login_going_without_a_session(
    client, booking_store, bankid_standin
):
    page = start_login(client)
    for _ in range(2):  # the first try and its one retry
        fail_next(bankid_standin, "collect", drop=True)
    answer = collect(client, page)
    assert answer["status"] == "pending" and "går inte att nå" in answer["message"]
    fail_next(bankid_standin, "collect", status=400, errorCode="invalidParameters")
    assert collect(client, page)["status"] == "failed"
    assert sessions(booking_store) == []


def test_a_planted_session_id_is_worthless_and_login_rotates_it(
    client, booking_store, bankid_standin
):
    client.cookies.set("opus_patient", "planted-by-an-attacker", domain=client.base_url.host)
    assert get(client, "/mina-bokningar").url.endswith("/logga-in?next=%2Fmina-bokningar")
    login_form = get(client, "/logga-in")  # kept open in another tab
    log_in(client, bankid_standin)
    first = client.cookies.get("opus_patient")
    assert first != "planted-by-an-attacker"
    # Logging in again (from the other tab): a new id, and the old session ends.
    page = press(client, login_form.button("Mobilt BankID på annan enhet"))
    scan(bankid_standin, qr_now(client))
    press(client, page.button("Fortsätt"))
    second = client.cookies.get("opus_patient")
    assert second != first
    old, new = sessions(booking_store)
    assert old.ended_at is not None and new.ended_at is None
    client.cookies.set("opus_patient", first, domain=client.base_url.host)
    assert get(client, "/mina-bokningar").h1 == "Logga in med BankID"


def test_a_replayed_order_makes_no_second_session(client, booking_store, bankid_standin):
    page = start_login(client)
    login_cookie = client.cookies.get("opus_login")
    scan(bankid_standin, qr_now(client))
    assert collect(client, page)["status"] == "complete"
    client.cookies.set("opus_login", login_cookie, domain=client.base_url.host)
    replay = collect(client, page)
    assert replay["status"] == "failed"
    assert len(sessions(booking_store)) == 1


def test_a_session_lapses_when_idle_and_at_its_maximum_age(client, clock, bankid_standin):
    log_in(client, bankid_standin)
    clock.advance(minutes=19)
    assert get(client, "/mina-bokningar").h1 == "Mina bokningar"  # and counts as activity
    clock.advance(minutes=19)
    assert get(client, "/mina-bokningar").h1 == "Mina bokningar"
    clock.advance(minutes=21)
    assert get(client, "/mina-bokningar").h1 == "Logga in med BankID"
    log_in(client, bankid_standin)
    for _ in range(7):  # active every 18 minutes, 126 minutes in all
        clock.advance(minutes=18)
    assert get(client, "/mina-bokningar").h1 == "Logga in med BankID"


def test_logout_ends_the_session_for_good(client, booking_store, bankid_standin):
    page = log_in(client, bankid_standin)
    cookie = client.cookies.get("opus_patient")
    out = press(client, page.button("Logga ut"))
    assert out.status == 200 and out.url.endswith("/")
    assert "opus_patient" not in client.cookies
    (ended,) = sessions(booking_store)
    assert ended.ended_at is not None
    client.cookies.set("opus_patient", cookie, domain=client.base_url.host)
    assert get(client, "/mina-bokningar").h1 == "Logga in med BankID"


def test_the_login_forms_need_their_csrf_token(client):
    page = get(client, "/logga-in")
    answer = client.post("/logga-in/start", data={"method": "qr"})
    assert answer.status_code == 403 and page.status == 200
    assert client.post("/logga-ut", data={"x": "1"}).status_code == 403


def test_login_off_means_no_links_and_no_routes(client, booking_store):
    assert get(client, "/").has_link("Logga in")
    change_settings(booking_store, login_enabled=False)
    assert not get(client, "/").has_link("Logga in")
    for path in ("/logga-in", "/logga-in/bankid", "/logga-in/qr", "/mina-bokningar"):
        assert client.get(path).status_code == 404, path


def test_without_bankid_configured_the_login_says_so(booking_store, bankid_standin, clock):
    from fastapi.testclient import TestClient

    from booking_app.main import create_app
    from opus_online.config import Settings
    from tests.booking_app.booking_pages import SECRET, TENANT_HOST, store_url

    app = create_app(
        Settings(store_url=store_url(booking_store), base_domain=BASE_DOMAIN, secret_key=SECRET)
    )
    plain = TestClient(app, base_url=f"http://{TENANT_HOST}")
    page = press(plain, get(plain, "/logga-in").button("Mobilt BankID på annan enhet"))
    assert page.status == 503 and "går inte att använda just nu" in page.html


def test_a_session_opens_nothing_on_another_tenants_site(
    client, booking_store, synced_template: Path, booking_demo, bankid_standin, clock
):
    with session_scope(booking_store) as session:
        seed_demo_tenant(session, booking_demo, synced_template.parent / "opus.db", "annan")
    log_in(client, bankid_standin)
    other = client_with_bankid(booking_store, bankid_standin, clock, host=f"annan.{BASE_DOMAIN}")
    other.cookies.set("opus_patient", client.cookies.get("opus_patient"))
    assert get(other, "/mina-bokningar").h1 == "Logga in med BankID"


def test_new_booking_requires_login_end_to_end(client, booking_store, bankid_standin):
    change_settings(booking_store, new_booking_requires_login=True, skip_confirmation=True)
    notice = get(client, "/boka?clinic=1")
    assert notice.status == 403
    login_link = notice.link("Logga in med BankID")
    assert login_link.href == "/logga-in?next=%2Fboka%3Fclinic%3D1"
    back = log_in(client, bankid_standin, path=login_link.href)
    assert back.url.endswith("/boka?clinic=1") and back.status == 200
    details = to_details(client)
    assert "personal_number" not in details.labels  # it comes from BankID only
    first_name = details.form_with("first_name").fields["first_name"]
    assert first_name.get("value") == "Tolvan"  # pre-filled from BankID
    fields = {k: v for k, v in PATIENT.items() if k != "personal_number"}
    # A personal number smuggled into the form is ignored: BankID's stands.
    done = submit(
        client, details.form_with("first_name"), {**fields, "personal_number": "198112189876"}
    )
    assert done.h1 == "Din tid är bokad"
    stored = booking(booking_store, reference_of(details))
    assert stored.personal_number == "191212121212" and stored.logged_in_with_eid
    # The next booking starts with the contact details of this one.
    again = to_details(client)
    assert again.form_with("email").fields["email"].get("value") == PATIENT["email"]


def test_store_has_the_login_tables(booking_store):
    """The copied store template was migrated with 0005 (guards the fixture chain)."""
    path = booking_store.url.database
    connection = sqlite3.connect(path)
    try:
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    finally:
        connection.close()
    assert {"bankid_order", "patient_session", "opus_appointment"} <= tables


def test_the_bankid_connections_are_closed_when_the_app_stops(client, bankid_standin):
    """The BankID client (a pool of mutual-TLS connections) is made by the first login
    and let go at shutdown, not left to the garbage collector."""
    with client:
        start_login(client)
        http = client.app.state.bankid._http
        assert not http.is_closed
    assert http.is_closed
