"""Free times from memory while the app polls the store's counters
(``availability_poll_s`` above 0, as in production): no query per question, and what
other processes write shows within a poll."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select, update
from sqlalchemy.exc import OperationalError

from booking_app.main import create_app
from connectors.store.api_keys import create_api_key, revoke_api_key
from connectors.store.availability import Slot
from connectors.store.bookings import hold
from connectors.store.db import engine_for, session_scope
from connectors.store.models import (
    ApiKey,
    Clinic,
    Practitioner,
    Tenant,
    TenantSettings,
    Treatment,
)
from demo.store_seed import DEMO_API_KEY
from opus_online.config import Settings
from tests.booking_app.api.api_client import API, OTHER_HOST, OTHER_SUBDOMAIN, add_second_tenant
from tests.booking_app.booking_pages import BASE_DOMAIN, TENANT_HOST, store_url
from tests.helpers import eventually, request_for

POLL_S = 0.05


@pytest.fixture
def polling(synced_store: Engine) -> Iterator[TestClient]:
    settings = Settings(
        store_url=store_url(synced_store), base_domain=BASE_DOMAIN, availability_poll_s=POLL_S
    )
    with TestClient(
        create_app(settings), base_url=f"http://{TENANT_HOST}", headers={"apiKey": DEMO_API_KEY}
    ) as client:
        _ask(client)  # the first question starts the tenant's snapshot loading
        eventually(lambda: client.app.state.availability._tenants, "the snapshot to load")
        yield client


_asked = iter(range(10**9))


def _ask(client: TestClient, **headers: str):
    """Available times at UPP1 for two weeks; each call a different question (the
    window ends a second later), so the answer cache never answers."""
    end = datetime.now(UTC).replace(microsecond=0) + timedelta(days=14, seconds=next(_asked))
    return client.get(
        f"{API}/appointments/schedule/availabletimes",
        params={"request.clinicID": "UPP1", "request.treatmentID": 1, "request.to": end},
        headers=headers,
    )


def test_questions_are_answered_from_memory_without_a_query(polling: TestClient):
    queries = []

    def record(_connection, _cursor, statement, *_args) -> None:
        # The polling thread reads the counters meanwhile; the questions read nothing.
        if threading.current_thread().name != "availability-snapshots":
            queries.append(statement)

    store = engine_for(polling.app.state.settings.resolved_store_url)
    event.listen(store, "before_cursor_execute", record)
    try:
        answers = [_ask(polling) for _ in range(20)]
    finally:
        event.remove(store, "before_cursor_execute", record)

    assert all(a.status_code == 200 for a in answers)
    assert answers[0].json()
    assert queries == []


def test_a_hold_made_elsewhere_disappears_within_a_poll(polling: TestClient, synced_store):
    first = _ask(polling).json()[0]
    with session_scope(synced_store) as session:  # as another process would
        tenant = session.scalars(select(Tenant)).one()
        clinic = session.scalars(select(Clinic).where(Clinic.opus_clinic_id == "UPP1")).one()
        treatment = session.scalars(select(Treatment).where(Treatment.opus_treatment_id == 1)).one()
        practitioner = session.scalars(
            select(Practitioner).where(Practitioner.opus_clinician_id == first["ClinicianID"])
        ).one()
        starts_at = datetime.fromisoformat(first["Start"]).astimezone(UTC)
        slot = Slot(starts_at, starts_at, practitioner.id, clinic.id)
        hold(session, request_for(tenant, clinic, treatment, slot), datetime.now(UTC))

    def gone() -> bool:
        return first not in _ask(polling).json()

    eventually(gone, "the held time to disappear")


def test_keys_are_checked_in_memory_and_a_revoked_key_stops_within_a_poll(
    polling: TestClient, synced_store
):
    with session_scope(synced_store) as session:
        tenant = session.scalars(select(Tenant)).one()
        key = create_api_key(session, tenant.id, "kassan")
    eventually(lambda: _ask(polling, apiKey=key).status_code == 200, "the new key to open")
    assert _ask(polling, apiKey=key + "x").status_code == 401
    assert _ask(polling, apiKey="").status_code == 401

    with session_scope(synced_store) as session:
        key_id = session.scalars(select(ApiKey.id).where(ApiKey.name == "kassan")).one()
        revoke_api_key(session, tenant.id, key_id)
    eventually(lambda: _ask(polling, apiKey=key).status_code == 401, "the key to close")
    assert _ask(polling).status_code == 200  # the demo key still opens


def test_unpublishing_shows_within_a_poll(polling: TestClient, synced_store):
    assert _ask(polling).json()
    with session_scope(synced_store) as session:
        session.execute(update(TenantSettings).values(publish_opus_online=False))
    eventually(lambda: _ask(polling).json() == [], "the times to go")


def test_the_pages_tenant_kept_in_memory_follows_its_changes_within_a_poll(
    polling: TestClient, synced_store
):
    """The patient pages read the tenant and its settings from memory while its
    reference counter stands: maintenance mode, and a new subdomain, show within a poll."""
    assert polling.get("/boka").status_code == 200
    with session_scope(synced_store) as session:
        session.execute(update(TenantSettings).values(maintenance_mode=True))
    eventually(lambda: polling.get("/boka").status_code == 503, "maintenance mode")
    with session_scope(synced_store) as session:
        session.execute(update(TenantSettings).values(maintenance_mode=False))
        session.execute(update(Tenant).values(subdomain="nytt-namn"))
    eventually(lambda: polling.get("/boka").status_code == 404, "the old name to go")
    renamed = polling.get("/boka", headers={"Host": f"nytt-namn.{BASE_DOMAIN}"})
    assert renamed.status_code == 200


def test_preloaded_tenants_are_read_before_ready(synced_store: Engine):
    settings = Settings(
        store_url=store_url(synced_store),
        base_domain=BASE_DOMAIN,
        availability_poll_s=POLL_S,
        snapshot_preload="*",
    )
    with TestClient(create_app(settings), base_url=f"http://{TENANT_HOST}") as client:
        eventually(lambda: client.get("/readyz").status_code == 200, "readiness")
        with session_scope(synced_store) as session:
            tenants = set(session.scalars(select(Tenant.id)))
        assert set(client.app.state.availability._tenants) == tenants


def test_ready_without_reading_any_tenant_and_a_tenant_is_read_when_first_asked(
    synced_store: Engine,
):
    """By default a process is ready once the store answers: no tenant is read ahead,
    and the first question about one reads its snapshot (answered from the store
    meanwhile)."""
    settings = Settings(
        store_url=store_url(synced_store), base_domain=BASE_DOMAIN, availability_poll_s=POLL_S
    )
    with TestClient(
        create_app(settings), base_url=f"http://{TENANT_HOST}", headers={"apiKey": DEMO_API_KEY}
    ) as client:
        eventually(lambda: client.get("/readyz").status_code == 200, "readiness")
        availability = client.app.state.availability
        assert availability._tenants == {}
        assert _ask(client).status_code == 200
        eventually(lambda: availability._tenants, "the asked tenant to be read")


def test_not_ready_while_the_store_cannot_be_reached(tmp_path):
    settings = Settings(
        store_url="postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=2",
        base_domain=BASE_DOMAIN,
        availability_poll_s=POLL_S,
        data_dir=tmp_path,
    )
    with TestClient(create_app(settings), base_url=f"http://{TENANT_HOST}") as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "store_unreachable"}


def test_checking_each_question_is_ready_at_once(api: TestClient):
    assert api.get("/readyz").json() == {"status": "ready"}


PERSONAL_NUMBER = "19121212-1212"


def test_one_tenants_failed_reload_leaves_the_others_current_and_is_reported(
    tmp_path, synced_store: Engine, start_day, monkeypatch, caplog
):
    """Tenant 1's snapshot cannot be read (its reload raises, with a personal number in
    the error's text, as a database error may quote a row): tenant 2's revoked key
    still closes within a poll, tenant 1 is answered from the store, /readyz names it
    as degraded and stays 200, and the log names the tenant without the error's text."""
    from booking_app.api import snapshots

    other_key = add_second_tenant(tmp_path, synced_store, start_day)
    settings = Settings(
        store_url=store_url(synced_store), base_domain=BASE_DOMAIN, availability_poll_s=POLL_S
    )
    with session_scope(synced_store) as session:
        demo_id = session.scalars(select(Tenant.id).where(Tenant.subdomain == "tandmottagningen"))
        demo_id = demo_id.one()
        other_id = session.scalars(select(Tenant.id).where(Tenant.subdomain == OTHER_SUBDOMAIN))
        other_id = other_id.one()
    assert demo_id < other_id  # the failing tenant is reloaded first
    settings.snapshot_preload = "*"  # both are read before ready
    with TestClient(
        create_app(settings), base_url=f"http://{TENANT_HOST}", headers={"apiKey": DEMO_API_KEY}
    ) as client:
        eventually(lambda: client.get("/readyz").status_code == 200, "readiness")
        other_host = {"host": OTHER_HOST}
        assert _ask(client, apiKey=other_key, **other_host).status_code == 200

        real_load_taken = snapshots.load_taken

        def failing_for_the_demo(session, tenant_id, *args):
            if tenant_id == demo_id:
                raise OperationalError(f"SELECT ... ({PERSONAL_NUMBER})", {}, Exception())
            return real_load_taken(session, tenant_id, *args)

        monkeypatch.setattr(snapshots, "load_taken", failing_for_the_demo)
        caplog.set_level(logging.INFO, logger=snapshots.__name__)
        with session_scope(synced_store) as session:  # both tenants' counters move
            session.execute(update(TenantSettings).values(min_notice_minutes=61))
            key_id = session.scalars(select(ApiKey.id).where(ApiKey.tenant_id == other_id))
            revoke_api_key(session, other_id, key_id.one())

        eventually(
            lambda: _ask(client, apiKey=other_key, **other_host).status_code == 401,
            "the other tenant's revoked key to close",
        )
        ready = eventually(
            lambda: (r := client.get("/readyz")).json().get("degraded_tenants") and r,
            "the failing tenant to be reported",
        )
        assert ready.status_code == 200
        assert ready.json() == {"status": "degraded", "degraded_tenants": [demo_id]}
        assert _ask(client).status_code == 200  # from the store
        assert demo_id not in client.app.state.availability._tenants
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert f"tenant {demo_id}" in logged
        assert PERSONAL_NUMBER not in logged and "SELECT" not in logged

        monkeypatch.setattr(snapshots, "load_taken", real_load_taken)
        eventually(
            lambda: client.get("/readyz").json() == {"status": "ready"}, "the tenant to recover"
        )


MB = 1024 * 1024


def test_the_snapshots_keep_within_their_memory_budget_and_answer_as_the_store(
    tmp_path, synced_store: Engine, start_day
):
    """With room for one tenant's snapshot, the tenant asked least recently is dropped
    for the other, and every answer is the store's (an app with no room at all answers
    every question from the store)."""
    other_key = add_second_tenant(tmp_path, synced_store, start_day)
    other_host = {"host": OTHER_HOST, "apiKey": other_key}
    end = datetime.now(UTC).replace(microsecond=0) + timedelta(days=21)

    def app_with(memory_mb: float, preload: str = "") -> TestClient:
        settings = Settings(
            store_url=store_url(synced_store),
            base_domain=BASE_DOMAIN,
            availability_poll_s=POLL_S,
            snapshot_memory_mb=memory_mb,
            snapshot_preload=preload,
        )
        return TestClient(
            create_app(settings),
            base_url=f"http://{TENANT_HOST}",
            headers={"apiKey": DEMO_API_KEY},
        )

    def ask(client: TestClient, **headers: str) -> bytes:
        answer = client.get(
            f"{API}/appointments/schedule/availabletimes",
            params={"request.clinicID": "UPP1", "request.treatmentID": 1, "request.to": end},
            headers=headers,
        )
        assert answer.status_code == 200
        return answer.content

    with app_with(10**6, preload="*") as roomy:
        eventually(lambda: roomy.get("/readyz").status_code == 200, "readiness")
        sizes = dict(roomy.app.state.availability._sizes)
        assert len(sizes) == 2 and all(sizes.values())

    with app_with(0) as store_only:
        expected = {"demo": ask(store_only), "other": ask(store_only, **other_host)}
        assert store_only.app.state.availability._tenants == {}
    assert expected["demo"] != b"[]" and expected["other"] != b"[]"

    demo_id, other_id = sorted(sizes)  # the demo tenant was made first
    with app_with(max(sizes.values()) / MB) as one:
        availability = one.app.state.availability
        for _ in range(2):  # each tenant asked last in turn
            for name, headers, tenant in (("demo", {}, demo_id), ("other", other_host, other_id)):
                assert ask(one, **headers) == expected[name]
                eventually(
                    lambda tenant=tenant: set(availability._tenants) == {tenant},
                    "the tenant asked last to be in memory, the other dropped",
                )
                assert availability.bytes <= availability.max_bytes
                assert ask(one, **headers) == expected[name]  # now from memory
