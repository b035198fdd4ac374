"""*Avancerat* → API-nycklar: administrators make publishable keys with the websites
that may use them, see a key once, change its websites and revoke it; all audited,
never with the key itself; nobody else gets near the keys."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from connectors.store.db import session_scope
from connectors.store.models import ApiKey, AuditEntry
from tests.booking_app.admin.admin_pages import csrf_token, log_in, operator, tenant_id
from tests.booking_app.api.api_client import API

ADMIN = "admin@klinik.se"
EDITOR = "reception@klinik.se"
SITE = "https://www.tandvard-exempel.se"


@pytest.fixture
def admin(booking_client: TestClient) -> TestClient:
    return booking_client


def keys_page(client: TestClient, tenant: int) -> str:
    return f"/admin/{tenant}/avancerat/api-nycklar"


def create(client: TestClient, tenant: int, **fields: str):
    page = client.get(keys_page(client, tenant))
    return client.post(keys_page(client, tenant), data={"csrf_token": csrf_token(page), **fields})


def test_an_administrator_makes_a_publishable_key_shown_once_and_audited(
    admin: TestClient, booking_store: Engine
):
    own = tenant_id(booking_store)
    operator(booking_store, ADMIN, {own: "administrator"})
    log_in(admin, ADMIN)

    made = create(admin, own, name="Webbplatsen", kind="publik", origins=f"{SITE}/\n")

    assert made.status_code == 200
    key = re.search(r'id="new_key" type="text" readonly size="60" value="([^"]+)"', made.text)
    assert key and key.group(1).startswith("oo_pub_")
    # Shown once: the next visit lists it by its first characters only.
    assert key.group(1) not in admin.get(keys_page(admin, own)).text
    with session_scope(booking_store) as session:
        stored = session.scalars(select(ApiKey).where(ApiKey.name == "Webbplatsen")).one()
        assert (stored.scopes, stored.allowed_origins) == ("read book", SITE)
        logged = " ".join(
            f"{e.setting} {e.new_value}"
            for e in session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == own))
        )
    assert "allowed_origins" in logged and SITE in logged
    assert key.group(1) not in logged

    # The key works from the website, and the browser is told so.
    answer = admin.get(f"{API}/clinics", headers={"apiKey": key.group(1), "Origin": SITE})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == SITE


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"name": "", "kind": "publik"}, "Ge nyckeln ett namn"),
        ({"name": "X", "kind": "publik", "origins": "http://www.klinik.se"}, "Ogiltig webbplats"),
        ({"name": "X", "kind": "publik", "origins": "https://klinik.se/boka"}, "Ogiltig"),
        ({"name": "X", "kind": "server", "origins": SITE}, "En servernyckel får inga"),
    ],
)
def test_a_bad_key_form_is_refused_with_a_clear_error_and_makes_nothing(
    admin: TestClient, booking_store: Engine, fields: dict[str, str], error: str
):
    own = tenant_id(booking_store)
    operator(booking_store, ADMIN, {own: "administrator"})
    log_in(admin, ADMIN)
    with session_scope(booking_store) as session:
        before = len(session.scalars(select(ApiKey)).all())

    answer = create(admin, own, **fields)

    assert answer.status_code == 400 and error in answer.text
    with session_scope(booking_store) as session:
        assert len(session.scalars(select(ApiKey)).all()) == before


def test_websites_are_changed_and_a_revoked_key_stops_working(
    admin: TestClient, booking_store: Engine
):
    own = tenant_id(booking_store)
    operator(booking_store, ADMIN, {own: "administrator"})
    log_in(admin, ADMIN)
    made = create(admin, own, name="Webb", kind="publik", origins=SITE)
    key = re.search(r'value="(oo_pub_[^"]+)"', made.text).group(1)
    with session_scope(booking_store) as session:
        key_id = session.scalars(select(ApiKey.id).where(ApiKey.name == "Webb")).one()

    page = admin.get(keys_page(admin, own))
    moved = admin.post(
        f"{keys_page(admin, own)}/{key_id}/webbplatser",
        data={"csrf_token": csrf_token(page), "origins": "https://ny.klinik.se"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    answer = admin.get(f"{API}/clinics", headers={"apiKey": key, "Origin": SITE})
    assert "access-control-allow-origin" not in answer.headers

    admin.post(f"{keys_page(admin, own)}/{key_id}/aterkalla", data={"csrf_token": csrf_token(page)})
    assert admin.get(f"{API}/clinics", headers={"apiKey": key}).status_code == 401


def test_only_administrators_of_the_tenant_reach_its_keys(admin: TestClient, booking_store: Engine):
    own = tenant_id(booking_store)
    operator(booking_store, EDITOR, {own: "operator"})
    log_in(admin, EDITOR)

    assert admin.get(keys_page(admin, own)).status_code == 403
    page = admin.get(f"/admin/{own}/avancerat")
    refused = admin.post(
        keys_page(admin, own),
        data={"csrf_token": csrf_token(page), "name": "Min", "kind": "server"},
    )
    assert refused.status_code == 403
    with session_scope(booking_store) as session:
        assert not session.scalars(select(ApiKey).where(ApiKey.name == "Min")).all()
