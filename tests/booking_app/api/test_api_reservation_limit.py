"""An API key may hold only so many reservations at once
(``OPUS_API_MAX_ACTIVE_RESERVATIONS``): a leaked or looping key cannot empty a
clinic's week with ``PUT /reservations`` the way an anonymous visitor once could
through the booking page. Before, every reservation was held."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from booking_app.main import create_app
from connectors.store import client_limits
from connectors.store.api_keys import create_api_key
from connectors.store.db import session_scope
from demo.store_seed import DEMO_API_KEY
from opus_online.config import Settings
from tests.booking_app.api.api_client import API, bookings_in, times_apart
from tests.booking_app.booking_pages import BASE_DOMAIN, TENANT_HOST, store_url

MOST = 2


def keyed_client(engine: Engine, key: str) -> TestClient:
    settings = Settings(
        store_url=store_url(engine), base_domain=BASE_DOMAIN, api_max_active_reservations=MOST
    )
    return TestClient(
        create_app(settings), base_url=f"http://{TENANT_HOST}", headers={"apiKey": key}
    )


def test_an_api_key_holds_at_most_its_limit_of_reservations(synced_store: Engine):
    api = keyed_client(synced_store, DEMO_API_KEY)
    slots = times_apart(api, MOST + 2)
    ids = [api.put(f"{API}/reservations", json=slot).json() for slot in slots[:MOST]]

    refused = api.put(f"{API}/reservations", json=slots[MOST])

    assert refused.status_code == 429
    assert refused.json() == {
        "Message": "API-nyckeln har redan 2 reservationer. Boka eller ta bort någon först."
    }
    assert sorted(b.id for b in bookings_in(synced_store) if b.status == "held") == sorted(ids)
    with session_scope(synced_store) as session:
        tenant_id = bookings_in(synced_store)[0].tenant_id
        assert client_limits.hits(session, tenant_id) == {"api_holds": 1}

    # Another key of the clinic has its own count ...
    with session_scope(synced_store) as session:
        other_key = create_api_key(session, tenant_id, "Andra systemet")
    other = keyed_client(synced_store, other_key)
    assert other.put(f"{API}/reservations", json=slots[MOST]).status_code == 200
    # ... and a reservation let go (or booked, or lapsed) makes room again.
    assert api.delete(f"{API}/reservations/{ids[0]}").status_code == 200
    assert api.put(f"{API}/reservations", json=slots[MOST + 1]).status_code == 200
