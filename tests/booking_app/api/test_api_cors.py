"""CORS and key scopes on the public API: a clinic's page may call the API from the
browser with a publishable key whose origins include the page's; no other page may,
cookies never travel, and a publishable key never reaches a patient's bookings.
(The browser itself enforcing it: test_api_cors_browser.py.)"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from connectors.store.api_keys import (
    PUBLISHABLE,
    InvalidOrigin,
    create_api_key,
    normalised_origins,
    set_allowed_origins,
)
from connectors.store.db import session_scope
from connectors.store.models import ApiKey, Tenant
from tests.booking_app.api.api_client import API, api_client, personal_number

CLINIC_SITE = "https://www.tandvard-exempel.se"
OTHER_SITE = "https://evil.example"


def publishable_key(engine: Engine, *origins: str) -> str:
    with session_scope(engine) as session:
        tenant = session.scalars(select(Tenant)).one()
        return create_api_key(session, tenant.id, "Webbplats", scopes=PUBLISHABLE, origins=origins)


def preflight(client: TestClient, origin: str, method: str = "GET", headers: str = "apikey"):
    return client.options(
        f"{API}/clinics",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def test_a_preflight_from_an_allowed_origin_names_exactly_what_the_api_uses(
    synced_store: Engine,
):
    publishable_key(synced_store, CLINIC_SITE)
    answer = preflight(
        api_client(synced_store, key=None), CLINIC_SITE, "PUT", "content-type,apikey"
    )

    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == CLINIC_SITE
    assert answer.headers["access-control-allow-methods"] == "GET, PUT, POST, PATCH, DELETE"
    assert answer.headers["access-control-allow-headers"] == "apiKey, api_key, Content-Type"
    assert answer.headers["access-control-max-age"] == "600"
    assert answer.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in answer.headers


@pytest.mark.parametrize(
    ("origin", "method", "headers"),
    [
        (OTHER_SITE, "GET", "apikey"),  # not on any key's list
        ("https://www.tandvard-exempel.se.evil.example", "GET", "apikey"),
        ("http://www.tandvard-exempel.se", "GET", "apikey"),  # the same host, not HTTPS
        ("null", "GET", "apikey"),  # a sandboxed frame or a file
        (CLINIC_SITE, "TRACE", "apikey"),
        (CLINIC_SITE, "GET", "apikey,x-admin"),  # a header the API does not read
    ],
)
def test_a_preflight_for_anything_else_gets_no_cors_headers(
    synced_store: Engine, origin: str, method: str, headers: str
):
    publishable_key(synced_store, CLINIC_SITE)
    answer = preflight(api_client(synced_store, key=None), origin, method, headers)

    assert not [h for h in answer.headers if h.startswith("access-control-")]
    assert answer.headers["vary"] == "Origin"


def test_the_answer_allows_the_origin_only_for_the_key_that_lists_it(synced_store: Engine):
    listed = publishable_key(synced_store, CLINIC_SITE)
    unlisted = publishable_key(synced_store)
    for attempt in range(2):  # the second is answered from the answer cache
        allowed = api_client(synced_store, key=listed).get(
            f"{API}/clinics", headers={"Origin": CLINIC_SITE}
        )
        assert allowed.status_code == 200, attempt
        assert allowed.headers["access-control-allow-origin"] == CLINIC_SITE
        assert "access-control-allow-credentials" not in allowed.headers

    # The key is good, but not for that page: the browser keeps the answer from it.
    other_key = api_client(synced_store, key=unlisted).get(
        f"{API}/clinics", headers={"Origin": CLINIC_SITE}
    )
    other_page = api_client(synced_store, key=listed).get(
        f"{API}/clinics", headers={"Origin": OTHER_SITE}
    )
    assert other_key.status_code == other_page.status_code == 200
    assert "access-control-allow-origin" not in other_key.headers
    assert "access-control-allow-origin" not in other_page.headers


def test_clients_that_send_no_origin_are_answered_as_before(synced_store: Engine):
    answer = api_client(synced_store).get(f"{API}/clinics")  # the demo's server key

    assert answer.status_code == 200 and answer.json()
    assert not [h for h in answer.headers if h.startswith("access-control-")]
    assert answer.headers["vary"] == "Origin"


def test_a_publishable_key_reads_and_books_but_never_reaches_a_patients_bookings(
    synced_store: Engine,
):
    client = api_client(synced_store, key=publishable_key(synced_store, CLINIC_SITE))
    assert client.get(f"{API}/treatments").status_code == 200

    someone = personal_number(7)
    for method, path, params in [
        ("GET", f"{API}/patients/{someone}/bookings", {}),
        ("GET", f"{API}/patients/{someone}/bookings/extended", {}),
        ("DELETE", f"{API}/bookings", {"request.bookingID": 1}),
        ("PATCH", f"{API}/bookings", {}),
    ]:
        answer = client.request(method, path, params=params, json={} if method == "PATCH" else None)
        assert answer.status_code == 403, (method, path, answer.text)
        assert "servernyckel" in answer.json()["Message"].lower()


def test_the_demos_server_key_keeps_every_scope(synced_store: Engine):
    answer = api_client(synced_store).get(f"{API}/patients/{personal_number(7)}/bookings")
    assert answer.status_code == 200


def test_origins_must_be_https_hosts_and_loopback_only_where_allowed():
    typed = " https://Www.Klinik.se/ ,https://klinik.se:8443\nhttps://www.klinik.se "
    assert normalised_origins(typed, allow_loopback=False) == [
        "https://www.klinik.se",
        "https://klinik.se:8443",
    ]
    assert normalised_origins("http://localhost:8031", allow_loopback=True) == [
        "http://localhost:8031"
    ]
    for bad in [
        "http://www.klinik.se",
        "https://www.klinik.se/boka",
        "https://user@www.klinik.se",
        "https://*.klinik.se",
        "javascript:alert(1)",
        "null",
        "https://www.klinik.se?x=1",
    ]:
        with pytest.raises(InvalidOrigin):
            normalised_origins(bad, allow_loopback=False)
    with pytest.raises(InvalidOrigin):
        normalised_origins("http://localhost:8031", allow_loopback=False)


def test_the_store_refuses_origins_on_a_key_that_reaches_patients(store: Engine):
    """The database itself: a server key in a web page would hand every visitor the
    patients' bookings."""
    from sqlalchemy.exc import IntegrityError

    with session_scope(store) as session:
        tenant = Tenant(subdomain="kors", name="Kors")
        session.add(tenant)
        session.flush()
        create_api_key(session, tenant.id, "Server")
        key = session.scalars(select(ApiKey)).one()
        with pytest.raises(IntegrityError):
            set_allowed_origins(session, tenant.id, key.id, [CLINIC_SITE])


def test_the_api_prefix_shows_the_examples_with_the_tenants_own_host(synced_store: Engine):
    page = api_client(synced_store, key=None).get(f"{API}/")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    host = "http://tandmottagningen.booking.test"
    assert f'fetch("{host}{API}/treatments"' in page.text
    assert f"&lt;script src=&#34;{host}/widget.js&#34;" in page.text or (
        f'&lt;script src="{host}/widget.js"' in page.text
    )
    assert "oo_demo" not in page.text  # no key of the tenant's is shown
