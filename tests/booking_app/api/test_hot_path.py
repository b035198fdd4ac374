"""The availability questions answered beside FastAPI's router
(:mod:`booking_app.api.hot_path`) are answered exactly as through it: the same status,
body and headers, errors included, and counted in the same route family."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import Engine, select

from booking_app.api.routes import AVAILABILITY_ROUTES
from booking_app.main import create_app
from connectors.store.db import session_scope
from connectors.store.models import SubdomainRedirect, Tenant
from demo.store_seed import DEMO_API_KEY
from opus_online.config import Settings
from tests.booking_app.api.api_client import API
from tests.booking_app.booking_pages import BASE_DOMAIN, TENANT_HOST, store_url
from tests.helpers import eventually

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).date()
WINDOW = {"request.clinicID": "UPP1", "request.treatmentID": "1", "request.from": str(TOMORROW)}

QUESTIONS = [
    ("availabletimes", "/appointments/schedule/availabletimes", WINDOW, {}),
    ("overview", "/appointments/schedule/overview/availabletimes", WINDOW, {}),
    (
        "timeslots",
        "/timeslots",
        {"clinicID": "UPP1", "treatmentID": "1", "year": TOMORROW.year, "month": TOMORROW.month},
        {},
    ),
    ("no key", "/appointments/schedule/availabletimes", WINDOW, {"apiKey": ""}),
    ("wrong key", "/appointments/schedule/availabletimes", WINDOW, {"apiKey": "fel-nyckel"}),
    (
        "bad date, in English",
        "/appointments/schedule/availabletimes",
        {**WINDOW, "request.from": "igår"},
        {"Accept-Language": "en"},
    ),
    (
        "unknown clinic",
        "/appointments/schedule/availabletimes",
        {**WINDOW, "request.clinicID": "NOPE"},
        {},
    ),
    ("no treatment", "/timeslots", {"clinicID": "UPP1", "year": 2027, "month": 13}, {}),
    (
        "from a clinic's own page",
        "/appointments/schedule/availabletimes",
        WINDOW,
        {"Origin": "https://www.tandmottagningen.se"},
    ),
]


def _app(engine: Engine, poll_s: float) -> TestClient:
    settings = Settings(
        store_url=store_url(engine), base_domain=BASE_DOMAIN, availability_poll_s=poll_s
    )
    return TestClient(
        create_app(settings), base_url=f"http://{TENANT_HOST}", headers={"apiKey": DEMO_API_KEY}
    )


@pytest.fixture
def hot_and_routed(synced_store: Engine) -> Iterator[tuple[TestClient, TestClient]]:
    """One app with the tenant's snapshot in memory (the hot path answers), one that
    checks the store before every question (its snapshot is never "in memory": the
    router answers)."""
    with _app(synced_store, 0.05) as hot, _app(synced_store, 0) as routed:
        hot.get(API + QUESTIONS[0][1], params=QUESTIONS[0][2])  # starts the snapshot's read
        eventually(lambda: hot.app.state.availability._tenants, "the snapshot to load")
        yield hot, routed


@pytest.fixture
def routed_calls(monkeypatch) -> list[str]:
    """The availability routes' paths, each time the router hands one a request."""
    calls: list[str] = []
    for route in AVAILABILITY_ROUTES:

        async def handle(scope, receive, send, _route=route, _handle=route.handle):
            calls.append(_route.path)
            await _handle(scope, receive, send)

        monkeypatch.setattr(route, "handle", handle)
    return calls


def _answer(client: TestClient, path: str, params: dict, headers: dict) -> tuple:
    response = client.get(API + path, params=params, headers=headers)
    different_each_time = {"date", "x-request-id"}
    kept = {k: v for k, v in response.headers.items() if k not in different_each_time}
    return response.status_code, kept, response.content


@pytest.mark.parametrize(
    ("case", "path", "params", "headers"), QUESTIONS, ids=[q[0] for q in QUESTIONS]
)
def test_the_hot_path_answers_as_the_router_does(
    hot_and_routed, routed_calls: list[str], case, path, params, headers
):
    hot, routed = hot_and_routed
    from_memory = _answer(hot, path, params, headers)
    assert routed_calls == [], "the hot path did not answer"
    through_router = _answer(routed, path, params, headers)
    assert routed_calls == [API + path], "the router did not answer"
    assert from_memory == through_router
    if case == "availabletimes":
        assert len(from_memory[2]) > 100  # times, not an empty list


def test_other_methods_and_hosts_go_through_the_router(hot_and_routed, routed_calls):
    hot, _ = hot_and_routed
    path = API + "/appointments/schedule/availabletimes"
    assert hot.post(path, params=WINDOW).status_code == 405
    unknown = hot.get(path, params=WINDOW, headers={"Host": f"ingen.{BASE_DOMAIN}"})
    assert unknown.status_code == 404
    assert unknown.json()["Message"]
    assert routed_calls == [path]  # the unknown host's; a 405 is the router's own


def test_the_hot_paths_answers_are_counted_as_the_apis(hot_and_routed, routed_calls):
    hot, _ = hot_and_routed
    labels = {"family": "api", "method": "GET", "status": "2xx"}
    before = REGISTRY.get_sample_value("opus_http_request_duration_seconds_count", labels) or 0
    assert hot.get(API + QUESTIONS[0][1], params=QUESTIONS[0][2]).status_code == 200
    after = REGISTRY.get_sample_value("opus_http_request_duration_seconds_count", labels)
    assert routed_calls == []
    assert after == before + 1


def test_a_renamed_tenants_question_for_the_store_is_redirected(
    synced_store: Engine, routed_calls: list[str]
):
    """A question the snapshot cannot answer (the clock set back by more than the day
    of bookings it read) goes to the store, in a worker thread; when the tenant has
    been renamed since the last poll, the store says so, and the hot path answers with
    the app's redirect, not a 500."""
    clock = [datetime.now(UTC)]
    settings = Settings(
        store_url=store_url(synced_store),
        base_domain=BASE_DOMAIN,
        availability_poll_s=600,  # no poll during the test: the old name stays in memory
        snapshot_preload="*",
    )
    app = create_app(settings, clock=lambda: clock[0])
    with TestClient(
        app, base_url=f"http://{TENANT_HOST}", headers={"apiKey": DEMO_API_KEY}
    ) as client:
        eventually(lambda: client.get("/readyz").status_code == 200, "the snapshot to load")
        with session_scope(synced_store) as session:
            tenant = session.scalars(select(Tenant)).one()
            old, tenant.subdomain = tenant.subdomain, "nytt-namn"
            session.add(
                SubdomainRedirect(
                    subdomain=old,
                    tenant_id=tenant.id,
                    created_at=clock[0],
                    expires_at=clock[0] + timedelta(days=90),
                )
            )
        clock[0] -= timedelta(days=3)
        path = API + QUESTIONS[0][1]
        then = {**WINDOW, "request.from": str(clock[0].date())}
        moved = client.get(path, params=then, follow_redirects=False)
    assert routed_calls == []
    assert moved.status_code == 308
    assert moved.headers["location"].startswith(f"http://nytt-namn.{BASE_DOMAIN}{path}?")
