"""Helpers for the public API's tests: a client with the demo key, valid personal
numbers, booking bodies, a second tenant, and a real server for the race tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from booking_app.main import create_app
from connectors.store.api_keys import create_api_key
from connectors.store.db import session_scope
from connectors.store.models import Booking, Tenant
from demo.opus_data import DemoOpus, DemoSpec, generate, write
from demo.store_seed import DEMO_API_KEY, DEMO_SUBDOMAIN, seed_demo_tenant
from opus_online.config import Settings
from tests.booking_app.booking_pages import BASE_DOMAIN, TENANT_HOST, SiteClient, store_url
from tests.helpers import apart, app_on_loopback, sync_tenant
from validations.patient import luhn_check_digit

API = "/api/public/v1"
OTHER_SUBDOMAIN = "leendet"
OTHER_HOST = f"{OTHER_SUBDOMAIN}.{BASE_DOMAIN}"


def api_client(
    engine: Engine, host: str = TENANT_HOST, key: str | None = DEMO_API_KEY
) -> TestClient:
    settings = Settings(store_url=store_url(engine), base_domain=BASE_DOMAIN)
    headers = {"apiKey": key} if key else {}
    # SiteClient: a test that also opens the operator pages reaches them on the admin host.
    return SiteClient(create_app(settings), base_url=f"http://{host}", headers=headers)


def personal_number(serial: int, born: str = "19800101") -> str:
    """A valid 12-digit personal number: ``born`` plus a 3-digit serial and its Luhn
    check digit. Serials 1-999 as given; others wrap around, skipping 000 (never issued)."""
    issued = f"{(serial - 1) % 999 + 1:03d}"
    return f"{born}{issued}{luhn_check_digit(born[2:] + issued)}"


def patient(serial: int = 1, **overrides: Any) -> dict[str, Any]:
    return {
        "PatientPersonalIdentification": personal_number(serial),
        "FirstName": "Anna",
        "LastName": "Andersson",
        "Email": f"anna{serial}@example.se",
        "MobilePhoneNumber": "070-123 45 67",
        **overrides,
    }


def booking_body(slot: dict[str, Any], serial: int = 1, **overrides: Any) -> dict[str, Any]:
    return {"Patient": patient(serial), "TimeSlot": slot, **overrides}


def times(
    client: TestClient, clinic: str = "UPP1", treatment: int = 1, **params: Any
) -> list[dict[str, Any]]:
    response = client.get(
        f"{API}/appointments/schedule/availabletimes",
        params={"request.clinicID": clinic, "request.treatmentID": treatment, **params},
    )
    assert response.status_code == 200, response.text
    return response.json()


def times_apart(client: TestClient, count: int, **params: Any) -> list[dict[str, Any]]:
    """The first ``count`` free times that can all be booked one after another (one
    per clinician and day; see :func:`tests.helpers.apart`)."""
    return apart(times(client, **params), count, key=lambda t: (t["ClinicianID"], t["Start"][:10]))


def bookings_in(engine: Engine, subdomain: str = DEMO_SUBDOMAIN) -> list[Booking]:
    with session_scope(engine) as session:
        tenant_id = session.scalars(select(Tenant.id).where(Tenant.subdomain == subdomain)).one()
        return list(
            session.scalars(
                select(Booking).where(Booking.tenant_id == tenant_id).order_by(Booking.id)
            )
        )


def add_second_tenant(tmp_path: Path, engine: Engine, start_day: date) -> str:
    """Another clinic chain with its own Opus database whose ids (UPP1, clinician 1,
    treatment 1) are the demo's too, so a leak through an id would be served. Returns
    its API key."""
    other: DemoOpus = generate(DemoSpec(clinics=2, days=14, start=start_day, seed=11))
    path = tmp_path / "opus-leendet.db"
    connection = sqlite3.connect(path)
    write(other, connection, "sqlite")
    connection.execute("UPDATE OnlineClinic SET Name = 'Leendet ' || ClinicID")
    connection.commit()
    connection.close()
    with session_scope(engine) as session:
        tenant = seed_demo_tenant(session, other, path, subdomain=OTHER_SUBDOMAIN)
        key = create_api_key(session, tenant.id, "Leendet")
    sync_tenant(engine, OTHER_SUBDOMAIN)
    return key


@contextmanager
def served(engine: Engine) -> Iterator[str]:
    """The app under a real uvicorn on a free loopback port, in a thread; yields its
    base URL. Requests must send ``Host: tandmottagningen.localhost``."""
    settings = Settings(store_url=store_url(engine), base_domain="localhost")
    with app_on_loopback(settings, backlog=1024) as port:
        yield f"http://127.0.0.1:{port}"
