"""/metrics: every listed metric after some traffic, personal data in none of it, and
only for whom it is meant (never on a tenant's host)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.trace import NoOpTracer, Tracer, TracerProvider
from sqlalchemy import Engine

from booking_app.main import create_app
from booking_app.metrics import route_family
from connectors.store import bookings
from connectors.store.client_limits import record_hit
from connectors.store.db import session_scope
from demo.store_seed import DEMO_API_KEY
from opus_online.config import Settings
from tests.helpers import apart, first_slots, request_for

TOKEN = "scrape-token-for-tests-0123456789"
ADMIN = "admin.localhost"
# Planted in the bookings, the outbox and the request paths: never in the scrape.
PERSONAL_NUMBER = "199001011239"
EMAIL = "astrid.metrik@example.se"
MOBILE = "+46701234567"


@pytest.fixture
def scraped(synced_sqlite_store: Engine, tmp_path: Path) -> tuple[str, TestClient]:
    now = datetime.now(UTC)
    with session_scope(synced_sqlite_store) as session:
        tenant, clinic, treatment, slots = first_slots(session)
        on_site, on_api = apart(slots, 2)
        booked = bookings.hold(session, request_for(tenant, clinic, treatment, on_site), now)
        booked.personal_number, booked.email, booked.mobile = PERSONAL_NUMBER, EMAIL, MOBILE
        booked.first_name, booked.last_name = "Astrid", "Metrik"
        bookings.confirm(session, booked, now)
        api_request = replace(request_for(tenant, clinic, treatment, on_api), channel="api")
        bookings.hold(session, api_request, now)
        record_hit(session, tenant.id, "holds", now)
        subdomain = tenant.subdomain
    url = synced_sqlite_store.url.render_as_string(hide_password=False)
    settings = Settings(
        _env_file=None, store_url=url, data_dir=tmp_path, metrics_token=TOKEN, admin_host=ADMIN
    )
    tenant_host = {"host": f"{subdomain}.localhost"}
    with TestClient(create_app(settings)) as client:
        assert client.get("/", headers=tenant_host).status_code == 200
        client.get(f"/api/public/v1/patients/{PERSONAL_NUMBER}?email={EMAIL}", headers=tenant_host)
        client.get(f"/boka/{MOBILE}", headers=tenant_host)
        client.get("/healthz")
        api = {**tenant_host, "apiKey": DEMO_API_KEY}
        times = "/api/public/v1/appointments/schedule/availabletimes"
        query = {"request.clinicID": "UPP1", "request.treatmentID": 1}
        assert client.get(times, params=query, headers=api).status_code == 200  # a snapshot
        scrape = {"host": ADMIN, "authorization": f"Bearer {TOKEN}"}
        body = client.get("/metrics", headers=scrape).text
        yield body, client


PYTHON_INFO = {"implementation", "major", "minor", "patchlevel", "version", "generation"}
"""The labels of prometheus-client's own python_info and gc metrics."""

METRICS = [
    "opus_http_request_duration_seconds_bucket",
    "opus_holds_total",
    "opus_bookings_total",
    "opus_holds_active",
    "opus_limit_hits_total",
    "opus_outbox_backlog",
    "opus_outbox_oldest_age_seconds",
    "opus_write_back_due",
    "opus_write_back_oldest_age_seconds",
    "opus_sync_lag_seconds",
    "opus_snapshot_reloads_total",
    "opus_snapshot_reload_duration_seconds_count",
    "opus_store_up",
]


def _value(body: str, sample: str) -> float:
    match = re.search(rf"^{re.escape(sample)} (\S+)$", body, re.MULTILINE)
    assert match, f"{sample} not in the scrape"
    return float(match.group(1))


def test_every_metric_is_exposed_after_traffic(scraped) -> None:
    body, _ = scraped
    for name in METRICS:
        assert re.search(rf"^{name}[{{ ]", body, re.MULTILINE), name
    assert _value(body, 'opus_holds_total{channel="site"}') == 1
    assert _value(body, 'opus_holds_total{channel="api"}') == 1
    assert _value(body, 'opus_bookings_total{channel="site"}') == 1
    assert _value(body, 'opus_holds_active{channel="api"}') == 1
    assert _value(body, 'opus_limit_hits_total{kind="holds"}') == 1
    assert _value(body, "opus_write_back_due") == 1
    assert _value(body, "opus_store_up") == 1
    assert _value(body, "opus_snapshot_reloads_total") >= 1
    assert _value(body, "opus_snapshot_reload_duration_seconds_count") >= 1
    assert _value(body, 'opus_sync_lag_seconds{tenant="tandmottagningen"}') >= 0
    assert 'family="pages"' in body and 'family="api"' in body and 'family="probes"' in body


def test_no_personal_data_in_the_scrape(scraped) -> None:
    body, _ = scraped
    for planted in (
        PERSONAL_NUMBER,
        PERSONAL_NUMBER[2:],
        EMAIL,
        "example.se",
        MOBILE,
        "0701234567",
    ):
        assert planted not in body
    assert "Astrid" not in body and "Metrik" not in body
    # Our metrics' labels (the process's registry may also hold a library's own).
    ours = "\n".join(line for line in body.splitlines() if line.startswith("opus_"))
    labels = set(re.findall(r'(\w+)="([^"]*)"', ours))
    assert {name for name, _ in labels} <= {
        "family",
        "method",
        "status",
        "channel",
        "kind",
        "tenant",
        "le",
    } | PYTHON_INFO
    families = {value for name, value in labels if name == "family"}
    assert families <= {
        "pages",
        "api",
        "probes",
        "metrics",
        "static",
        "admin",
        "unmatched",
        "login",
        "tracking",
        "notifications",
        "bulk_publish",
        "statistics",
    }


def test_only_with_the_token_and_never_on_a_tenant_host(scraped) -> None:
    _, client = scraped
    token = {"authorization": f"Bearer {TOKEN}"}
    assert (
        client.get("/metrics", headers={"host": "tandmottagningen.localhost", **token}).status_code
        == 404
    )
    assert client.get("/metrics", headers={"host": ADMIN}).status_code == 401
    wrong = {"host": ADMIN, "authorization": "Bearer not-the-token"}
    assert client.get("/metrics", headers=wrong).status_code == 401
    # A process's own address (Prometheus inside the network), with the token.
    assert client.get("/metrics", headers={"host": "10.0.0.5:8000", **token}).status_code == 200


def test_without_a_token_only_loopback_in_development(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)
    client = TestClient(create_app(settings))  # its client address is "testclient"
    assert client.get("/metrics").status_code == 404


def test_request_ids_go_out_and_a_suspicious_one_is_replaced(scraped) -> None:
    _, client = scraped
    assert (
        client.get(
            "/healthz", headers={"x-request-id": "7d0c6e2a-5b1f-4c3e-9a8d-2f4b6c8e0a1b"}
        ).headers["x-request-id"]
        == "7d0c6e2a-5b1f-4c3e-9a8d-2f4b6c8e0a1b"
    )
    replaced = client.get("/healthz", headers={"x-request-id": f"id-{PERSONAL_NUMBER}"})
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])
    assert re.fullmatch(r"[0-9a-f]{32}", client.get("/healthz").headers["x-request-id"])


def test_route_families_come_from_templates_not_paths() -> None:
    class Route:
        def __init__(self, path: str) -> None:
            self.path = path

    assert route_family({"route": Route("/api/public/v1/clinics/{id}"), "path": "/x"}) == "api"
    assert (
        route_family({"route": Route("/admin/{tenant_id}/statistik"), "path": "/x"}) == "statistics"
    )
    assert route_family({"route": Route("/boka/{step}"), "path": "/x"}) == "pages"
    assert route_family({"path": f"/{PERSONAL_NUMBER}"}) == "unmatched"
    assert route_family({"path": "/static/app.css"}) == "static"


class _RecordingTracerProvider(TracerProvider):
    """An OpenTelemetry provider as an operator's instrumentation would install: it
    notes every tracer asked of it (a tracer is asked for before any span)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def get_tracer(self, name: str, *args, **kwargs) -> Tracer:
        self.asked.append(name)
        return NoOpTracer()


def test_fastapi_traces_nothing_even_with_a_tracer_provider_installed(
    synced_sqlite_store: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastAPI's own telemetry would put the API's paths, personal numbers in them, in
    spans as soon as the process had a provider: it stays off."""
    provider = _RecordingTracerProvider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    url = synced_sqlite_store.url.render_as_string(hide_password=False)
    settings = Settings(_env_file=None, store_url=url, data_dir=tmp_path)
    with TestClient(create_app(settings)) as client:
        host = {"host": "tandmottagningen.localhost", "apiKey": DEMO_API_KEY}
        client.get(f"/api/public/v1/patients/{PERSONAL_NUMBER}/bookings", headers=host)
        assert client.get("/healthz").status_code == 200
    assert provider.asked == []
