"""Logging in with BankID in the booking app's tests: the app wired to the real
stand-in server over mutual TLS, a clock the test moves, and the person's side of
BankID (scanning the QR code, opening the app) through the stand-in's test endpoints."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from booking_app.main import create_app
from connectors.bankid import tls_context
from demo.bankid_server import BankIDStandIn
from opus_online.config import Settings
from tests.booking_app.booking_pages import (
    BASE_DOMAIN,
    SECRET,
    TENANT_HOST,
    SiteClient,
    store_url,
)
from tests.booking_app.booking_steps import Form, Page, get, press

PERSON = {"personalNumber": "191212121212", "givenName": "Tolvan", "surname": "Tolvansson"}


@dataclass
class Clock:
    """The app's "now", moved by the test (never the wall clock: no timed asserts)."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def settings_with_bankid(engine: Engine, standin: BankIDStandIn, **extra: Any) -> Settings:
    return Settings(
        store_url=store_url(engine),
        base_domain=BASE_DOMAIN,
        secret_key=SECRET,
        bankid_url=standin.url,
        bankid_ca_file=standin.pki.ca,
        bankid_cert_file=standin.pki.rp_cert,
        bankid_key_file=standin.pki.rp_key,
        bankid_retries=1,
        **extra,
    )


def client_with_bankid(
    engine: Engine, standin: BankIDStandIn, clock: Clock, host: str = TENANT_HOST
) -> TestClient:
    app = create_app(settings_with_bankid(engine, standin), clock=clock)
    return SiteClient(app, base_url=f"http://{host}")  # /admin… on the admin host


def person_side(standin: BankIDStandIn) -> httpx.Client:
    """What the BankID app does, as the stand-in's test endpoints (same mutual TLS)."""
    context = tls_context(standin.pki.ca, standin.pki.rp_cert, standin.pki.rp_key)
    return httpx.Client(base_url=standin.url, verify=context, timeout=10)


def scan(
    standin: BankIDStandIn, qr: str, action: str = "complete", person=PERSON
) -> httpx.Response:
    with person_side(standin) as bankid:
        return bankid.post("/test/scan", json={"qr": qr, "action": action, "person": person})


def fail_next(standin: BankIDStandIn, method: str, **failure: Any) -> None:
    with person_side(standin) as bankid:
        bankid.post("/test/fail-next", json={"method": method, **failure}).raise_for_status()


def start_login(client: TestClient, method: str = "qr", path: str = "/logga-in") -> Page:
    page = get(client, path)
    assert page.status == 200, page.html
    label = "Mobilt BankID på annan enhet" if method == "qr" else "BankID på den här enheten"
    return press(client, page.button(label))


def qr_now(client: TestClient) -> str:
    answer = client.get("/logga-in/qr")
    assert answer.status_code == 200, answer.text
    return answer.json()["qr"]


def form_posting_to(page: Page, path: str) -> Form:
    found = [f for f in page.forms if httpx.URL(f.action).path == path]
    assert found, f"no form posting to {path} on {page.url}"
    return found[0]


def collect(client: TestClient, page: Page) -> dict:
    """One poll, as the page's script makes it."""
    form = form_posting_to(page, "/logga-in/status")
    answer = client.post(form.action, data={**form.hidden, "js": "1"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def log_in(client: TestClient, standin: BankIDStandIn, person=PERSON, path="/logga-in") -> Page:
    """The whole QR login; returns the page the patient lands on."""
    page = start_login(client, "qr", path)
    assert scan(standin, qr_now(client), person=person).status_code == 200
    return press(client, page.button("Fortsätt"))
