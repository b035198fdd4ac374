"""One origin per trust level (security issue 16, item 1): the operator pages and the
dashboards only on the admin host, the patient site and the API never there."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from booking_app.main import create_app
from opus_online.config import Settings
from tests.booking_app.admin.admin_pages import log_in, operator, tenant_id
from tests.booking_app.booking_pages import (
    ADMIN_URL,
    BASE_DOMAIN,
    SECRET,
    TENANT_HOST,
    client_for,
    store_url,
)

A = "a@tandmottagningen.se"
TENANT_URL = f"http://{TENANT_HOST}"


def test_a_tenant_host_answers_404_for_operator_pages_and_dashboards(
    booking_store: Engine,
) -> None:
    own = tenant_id(booking_store)
    operator(booking_store, A, {own: "administrator"})
    client = client_for(booking_store)
    assert log_in(client, A).status_code == 303  # on the admin host
    for path in (
        "/admin",
        "/admin/",
        "/admin/login",
        f"/admin/{own}/avancerat",
        f"/admin/{own}/statistik",
        "/statistik-filer/dashboard.js",
    ):
        answer = client.get(TENANT_URL + path, follow_redirects=False)
        assert answer.status_code == 404, path
    # The patient site is still there, and the operator's pages are on their host.
    assert client.get(TENANT_URL + "/").status_code == 200
    assert client.get(f"{ADMIN_URL}/admin/{own}/avancerat").status_code == 200
    # A posted form to a tenant host's /admin changes nothing: no route is reached.
    answer = client.post(TENANT_URL + f"/admin/{own}/avancerat", data={"analytics_script": "x"})
    assert answer.status_code == 404


def test_the_admin_host_serves_nothing_of_the_patient_site(booking_store: Engine) -> None:
    client = client_for(booking_store, f"admin.{BASE_DOMAIN}")
    root = client.get("/", follow_redirects=False)
    assert root.status_code == 303 and root.headers["location"] == "/admin/"
    for path in ("/boka", "/mina-bokningar", "/logga-in", "/theme.css", "/api/public/v1/clinics"):
        assert client.get(path, follow_redirects=False).status_code == 404, path
    # Shared: the site's own files and the probes.
    assert client.get("/static/site.css").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/admin/login").status_code == 200


def test_the_admin_host_is_a_setting(booking_store: Engine) -> None:
    settings = Settings(
        store_url=store_url(booking_store),
        base_domain=BASE_DOMAIN,
        secret_key=SECRET,
        admin_host="Drift.Example.COM:8443",
    )
    assert settings.resolved_admin_host == "drift.example.com"
    client = TestClient(create_app(settings), base_url="http://drift.example.com:8443")
    assert client.get("/admin/login").status_code == 200
    # The default name is then nobody's operator origin.
    default = client.get(f"{ADMIN_URL}/admin/login", follow_redirects=False)
    assert default.status_code == 404
