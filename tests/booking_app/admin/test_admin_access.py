"""Operator access: login, wrong password, throttling, CSRF, roles, tenant isolation."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, select

from connectors.store.db import session_scope
from connectors.store.login_throttle import MAX_CLIENT_FAILURES
from connectors.store.models import LoginThrottle, TenantSettings
from connectors.store.operators import LOGIN_KIND, MAX_FAILURES
from tests.booking_app.admin.admin_pages import (
    csrf_token,
    log_in,
    operator,
    other_tenant,
    post_tab,
    tenant_id,
)

A = "a@tandmottagningen.se"


def test_pages_need_a_login(booking_client, booking_store: Engine) -> None:
    own = tenant_id(booking_store)
    answer = booking_client.get(f"/admin/{own}/flexibilitet", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/login"


def test_login_sets_a_safe_cookie_and_logout_ends_the_session(
    booking_client, booking_store: Engine
) -> None:
    own = tenant_id(booking_store)
    operator(booking_store, A, {own: "operator"})
    answer = log_in(booking_client, A.upper())  # the address is not case-sensitive
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "opus_operator=" in cookie
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Path=/;" in cookie and "Domain" not in cookie  # host-only, on the admin host
    index = booking_client.get("/admin/")
    assert "Tandmottagningen" in index.text
    booking_client.post("/admin/logout", data={"csrf_token": csrf_token(index)})
    answer = booking_client.get(f"/admin/{own}/flexibilitet", follow_redirects=False)
    assert answer.status_code == 303


def test_unknown_wrong_locked_and_throttled_get_one_and_the_same_answer(
    booking_client, booking_store: Engine
) -> None:
    own = tenant_id(booking_store)
    operator(booking_store, A, {own: "operator"})
    wrong = log_in(booking_client, A, "fel-lösenord-999")
    assert wrong.status_code == 401
    assert "Fel e-postadress eller lösenord" in wrong.text
    assert "opus_operator" not in wrong.headers.get("set-cookie", "")
    unknown = log_in(booking_client, "ingen@example.se")
    for _ in range(MAX_FAILURES - 1):
        log_in(booking_client, A, "fel-lösenord-999")
    # Locked now: even the right password is refused for a while, in the same words.
    locked = log_in(booking_client, A)
    while not throttled_client(booking_store):
        log_in(booking_client, f"gissning-{uuid.uuid4().hex[:6]}@example.se", "x")
    throttled = log_in(booking_client, "ingen@example.se")
    for answer in (unknown, locked, throttled):
        assert answer.status_code == wrong.status_code
        assert answer.text == wrong.text
        assert answer.headers.get("set-cookie") == wrong.headers.get("set-cookie")


def throttled_client(engine: Engine) -> bool:
    with session_scope(engine) as session:
        row = session.get(LoginThrottle, (LOGIN_KIND, "testclient"))
        return row is not None and row.failures >= MAX_CLIENT_FAILURES


def test_a_form_without_the_csrf_token_is_refused(booking_client, booking_store: Engine) -> None:
    own = tenant_id(booking_store)
    operator(booking_store, A, {own: "administrator"})
    log_in(booking_client, A)
    answer = booking_client.post(
        f"/admin/{own}/flexibilitet",
        data={"maintenance_mode": "on", "months_to_sync": "3", "change_cutoff_hours": "24"},
    )
    assert answer.status_code == 403
    with session_scope(booking_store) as session:
        assert session.get(TenantSettings, own).maintenance_mode is False
    login_without_token = booking_client.post("/admin/login", data={"email": A, "password": "x"})
    assert login_without_token.status_code == 403


def test_an_operator_of_one_tenant_can_neither_read_nor_change_another(
    booking_client, booking_store: Engine
) -> None:
    own, other = tenant_id(booking_store), other_tenant(booking_store)
    operator(booking_store, A, {own: "administrator"})
    log_in(booking_client, A)
    token = csrf_token(booking_client.get(f"/admin/{own}/flexibilitet"))
    assert "Annan klinik" not in booking_client.get("/admin/").text
    for tab in ("flexibilitet", "media", "kliniker", "underdoman", "e-post", "sms", "logg"):
        answer = booking_client.get(f"/admin/{other}/{tab}")
        assert answer.status_code == 404, tab
        assert "Annan kliniks text" not in answer.text
    changed = booking_client.post(
        f"/admin/{other}/flexibilitet",
        data={"csrf_token": token, "maintenance_mode": "on", "first_step": "clinic"},
    )
    assert changed.status_code == 404
    assert booking_client.get("/admin/999999/media").status_code == 404
    with session_scope(booking_store) as session:
        assert session.get(TenantSettings, other).maintenance_mode is False


def test_an_analyst_reads_but_cannot_change(booking_client, booking_store: Engine) -> None:
    own = tenant_id(booking_store)
    operator(booking_store, A, {own: "analyst"})
    log_in(booking_client, A)
    assert booking_client.get(f"/admin/{own}/flexibilitet").status_code == 200
    answer = post_tab(booking_client, f"/admin/{own}/flexibilitet", maintenance_mode="on")
    assert answer.status_code == 403


def test_only_an_administrator_sets_the_analytics_script(
    booking_client, booking_store: Engine
) -> None:
    own = tenant_id(booking_store)
    operator(booking_store, A, {own: "operator"})
    operator(booking_store, "admin@tandmottagningen.se", {own: "administrator"})
    log_in(booking_client, A)
    path = f"/admin/{own}/avancerat"
    assert post_tab(booking_client, path, analytics_script="x").status_code == 403
    log_in(booking_client, "admin@tandmottagningen.se")
    assert post_tab(booking_client, path, analytics_script="track()").status_code == 303
    with session_scope(booking_store) as session:
        script = session.scalars(
            select(TenantSettings.analytics_script).where(TenantSettings.tenant_id == own)
        ).one()
    assert script == "track()"
