"""API keys and tenants: a key opens one tenant's API, and nothing of another
tenant's is reachable through it, not even by an id both tenants use."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from connectors.store.api_keys import (
    create_api_key,
    grant_for,
    key_hash,
    live_keys,
    revoke_api_key,
)
from connectors.store.db import session_scope
from connectors.store.models import ApiKey, Tenant
from demo.store_seed import DEMO_API_KEY, DEMO_PUBLISHABLE_KEY, DEMO_SUBDOMAIN, seed_demo_tenant
from tests.booking_app.api.api_client import (
    API,
    OTHER_HOST,
    OTHER_SUBDOMAIN,
    add_second_tenant,
    api_client,
    booking_body,
    bookings_in,
    times,
)
from tests.booking_app.booking_pages import BASE_DOMAIN

ENDPOINTS = [
    ("GET", "/clinics"),
    ("GET", "/clinics/UPP1"),
    ("GET", "/clinicians"),
    ("GET", "/treatments"),
    ("GET", "/appointments/schedule/availabletimes?treatmentID=1"),
    ("GET", "/appointments/schedule/overview/availabletimes?treatmentID=1"),
    ("GET", "/timeslots?year=2026&month=12&treatmentID=1"),
    ("GET", "/reservations/available"),
    ("PUT", "/reservations"),
    ("DELETE", "/reservations/1"),
    ("POST", "/bookings"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_the_key(synced_store: Engine, method: str, path: str):
    anonymous = api_client(synced_store, key=None)
    wrong = api_client(synced_store, key="oo_not-a-key")

    missing = anonymous.request(method, API + path, json={})
    refused = wrong.request(method, API + path, json={})

    assert missing.status_code == 401
    assert missing.json() == {"Message": "API-nyckel saknas. Skicka den i headern apiKey."}
    assert missing.headers["WWW-Authenticate"] == 'ApiKey header="apiKey"'
    assert refused.status_code == 401
    assert refused.json() == {"Message": "API-nyckeln gäller inte för den här bokningssidan."}


def test_an_unknown_host_is_a_json_404(synced_store: Engine):
    client = api_client(synced_store, host=f"nobody.{BASE_DOMAIN}")

    response = client.get(f"{API}/clinics")

    assert response.status_code == 404
    assert response.json() == {"Message": "Det finns ingen bokningssida på den här adressen."}


def test_a_revoked_key_is_refused(synced_store: Engine):
    with session_scope(synced_store) as session:
        tenant = session.scalars(select(Tenant).where(Tenant.subdomain == DEMO_SUBDOMAIN)).one()
        key = create_api_key(session, tenant.id, "Integration")
        key_id = session.scalars(select(ApiKey.id).where(ApiKey.key_hash == key_hash(key))).one()
    client = api_client(synced_store, key=key)
    assert client.get(f"{API}/clinics").status_code == 200

    with session_scope(synced_store) as session:
        revoke_api_key(session, tenant.id, key_id)

    assert client.get(f"{API}/clinics").status_code == 401
    assert api_client(synced_store).get(f"{API}/clinics").status_code == 200  # the demo's


def test_keys_are_random_stored_hashed_and_shown_once(synced_store: Engine):
    with session_scope(synced_store) as session:
        tenant = session.scalars(select(Tenant)).one()
        first = create_api_key(session, tenant.id, "A")
        second = create_api_key(session, tenant.id, "B")
        stored = session.scalars(select(ApiKey).where(ApiKey.name.in_(["A", "B"]))).all()
        assert first != second and first.startswith("oo_") and len(first) > 40
        assert {k.key_hash for k in stored} == {key_hash(first), key_hash(second)}
        assert all(k.prefix == first[:8] or k.prefix == second[:8] for k in stored)
        assert not any(first in (k.key_hash, k.name) for k in stored)
        live = live_keys(session, tenant.id)
        assert grant_for(live, first) is not None
        assert grant_for(live, first + "x") is None
        assert grant_for(live, "x" * 10_000) is None


def test_one_tenants_key_does_not_open_another_tenants_api(
    tmp_path: Path, synced_store: Engine, start_day
):
    other_key = add_second_tenant(tmp_path, synced_store, start_day)

    demo_key_on_other_host = api_client(synced_store, host=OTHER_HOST, key=DEMO_API_KEY)
    other_key_on_demo_host = api_client(synced_store, key=other_key)

    assert demo_key_on_other_host.get(f"{API}/clinics").status_code == 401
    assert other_key_on_demo_host.get(f"{API}/clinics").status_code == 401
    assert (
        api_client(synced_store, host=OTHER_HOST, key=other_key).get(f"{API}/clinics").status_code
        == 200
    )


def test_the_same_opus_ids_in_two_tenants_never_cross(
    tmp_path: Path, synced_store: Engine, start_day
):
    other_key = add_second_tenant(tmp_path, synced_store, start_day)
    demo = api_client(synced_store)
    other = api_client(synced_store, host=OTHER_HOST, key=other_key)

    assert [c["Name"] for c in other.get(f"{API}/clinics").json()] == [
        "Leendet UPP1",
        "Leendet UPP2",
    ]
    assert demo.get(f"{API}/clinics/UPP1").json()["Name"] == "Tandmottagningen Centrum"
    assert other.get(f"{API}/clinics/VAS1").status_code == 404

    # A demo booking on UPP1 leaves the other tenant's UPP1 times as they were.
    other_before = times(other)
    slot = times(demo)[0]
    booking_id = demo.post(f"{API}/bookings", json=booking_body(slot)).json()
    assert times(other) == other_before
    assert [b.id for b in bookings_in(synced_store)] == [booking_id]
    assert bookings_in(synced_store, OTHER_SUBDOMAIN) == []

    # The demo's reservation and booking ids are not found through the other tenant.
    reservation_id = demo.put(f"{API}/reservations", json=times(demo)[0]).json()
    assert other.delete(f"{API}/reservations/{reservation_id}").status_code == 404
    assert (
        other.post(f"{API}/bookings", json=booking_body({"ID": reservation_id})).status_code == 404
    )
    check = other.get(f"{API}/reservations/available", params={"timeSlotToCheck.iD": booking_id})
    assert check.status_code == 404
    assert [b.status for b in bookings_in(synced_store)] == ["confirmed", "held"]


def test_unknown_paths_and_methods_under_the_api_are_json(api: TestClient):
    unknown = api.get(f"{API}/patients/198001011231/journal")
    wrong_method = api.get(f"{API}/bookings")

    assert unknown.status_code == 404
    assert unknown.json() == {"Message": "Det finns ingen sådan resurs i API:t."}
    assert "198001011231" not in unknown.text
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "DELETE, PATCH, POST"


def test_the_demo_tenant_gets_its_fixed_keys_once_even_in_an_older_store(
    synced_store: Engine, demo, opus_sqlite
):
    demo_keys = {key_hash(DEMO_API_KEY), key_hash(DEMO_PUBLISHABLE_KEY)}
    with session_scope(synced_store) as session:
        keys = session.scalars(select(ApiKey)).all()
        assert {key.key_hash for key in keys} == demo_keys
        for key in keys:
            session.delete(key)  # a store seeded before the API existed
    with session_scope(synced_store) as session:
        seed_demo_tenant(session, demo, opus_sqlite)
        seed_demo_tenant(session, demo, opus_sqlite)
    with session_scope(synced_store) as session:
        assert sorted(k.key_hash for k in session.scalars(select(ApiKey))) == sorted(demo_keys)
    assert api_client(synced_store).get(f"{API}/clinics").status_code == 200
