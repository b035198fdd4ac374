"""Operator accounts, sessions, grants and the audit log, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, OperationalError

from connectors.store import audit
from connectors.store.db import session_scope, write_session_scope
from connectors.store.login_throttle import MAX_CLIENT_FAILURES
from connectors.store.login_throttle import WINDOW as CLIENT_WINDOW
from connectors.store.models import Operator, Tenant, TenantSettings
from connectors.store.operators import (
    KEEP_ALIVE_EVERY,
    LOCK_TIME,
    MAX_FAILURES,
    SESSION_IDLE,
    LoginResult,
    WeakPassword,
    authenticate,
    create_operator,
    end_session,
    granted_tenants,
    keep_alive,
    live_session,
    operator_for_token,
    role_at,
    start_session,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PASSWORD = "ett-långt-lösenord"


def _tenant(session, subdomain: str) -> Tenant:
    tenant = Tenant(name=subdomain.title(), subdomain=subdomain)
    tenant.settings = TenantSettings()
    session.add(tenant)
    session.flush()
    return tenant


def test_passwords_are_argon2id_and_checked(store: Engine) -> None:
    with session_scope(store) as session:
        operator = create_operator(session, " Anna@Klinik.SE ", PASSWORD)
        assert operator.email == "anna@klinik.se"
        assert operator.password_hash.startswith("$argon2id$")
        assert PASSWORD not in operator.password_hash
    right = authenticate(store, "ANNA@klinik.se", PASSWORD, NOW)
    assert right.operator is not None and right.operator.id == operator.id
    assert right.token is not None
    assert authenticate(store, "anna@klinik.se", "fel-lösenord", NOW).operator is None
    assert authenticate(store, "ingen@klinik.se", PASSWORD, NOW).operator is None
    with pytest.raises(WeakPassword), session_scope(store) as session:
        create_operator(session, "kort@klinik.se", "kort")


def test_repeated_failures_lock_the_account_for_a_while(store: Engine) -> None:
    with session_scope(store) as session:
        create_operator(session, "anna@klinik.se", PASSWORD)
    for _ in range(MAX_FAILURES):
        authenticate(store, "anna@klinik.se", "fel-lösenord", NOW)
    locked = authenticate(store, "anna@klinik.se", PASSWORD, NOW)
    assert locked.operator is None and locked.locked
    later = NOW + LOCK_TIME + timedelta(seconds=1)
    assert authenticate(store, "anna@klinik.se", PASSWORD, later).operator is not None
    with session_scope(store) as session:
        account = session.scalars(select(Operator)).one()
        assert account.failed_logins == 0 and account.locked_until is None


def test_one_address_failing_too_often_is_refused_unchecked(store: Engine) -> None:
    with session_scope(store) as session:
        create_operator(session, "anna@klinik.se", PASSWORD)
    for n in range(MAX_CLIENT_FAILURES):  # at many accounts: each locks only itself
        authenticate(store, f"gissning{n}@klinik.se", "fel-lösenord", NOW, client="10.0.0.9")
    refused = authenticate(store, "anna@klinik.se", PASSWORD, NOW, client="10.0.0.9")
    assert refused.operator is None and refused.throttled
    elsewhere = authenticate(store, "anna@klinik.se", PASSWORD, NOW, client="10.0.0.10")
    assert elsewhere.operator is not None
    later = NOW + CLIENT_WINDOW + timedelta(seconds=1)
    assert authenticate(store, "anna@klinik.se", PASSWORD, later, client="10.0.0.9").operator


def test_parallel_wrong_guesses_are_each_counted(postgres_store: Engine) -> None:
    """Each failure is one UPDATE ... SET failed_logins = failed_logins + 1: guesses
    that pass the check at the same moment (here on PostgreSQL, from threads with a
    connection each) are all counted, none lost to a read-modify-write."""
    with session_scope(postgres_store) as session:
        create_operator(session, "anna@klinik.se", PASSWORD)
    guesses = 12
    start = threading.Barrier(guesses)

    def guess(n: int) -> LoginResult:
        start.wait()
        return authenticate(postgres_store, "anna@klinik.se", f"fel-{n}", NOW, client=f"10.0.1.{n}")

    with ThreadPoolExecutor(guesses) as pool:
        results = list(pool.map(guess, range(guesses)))
    assert all(result.operator is None for result in results)
    with session_scope(postgres_store) as session:
        account = session.scalars(select(Operator)).one()
        # Every guess was checked (the account was not locked when each read it) and
        # counted; the fifth and the tenth locked it.
        checked = sum(1 for result in results if not result.throttled)
        assert checked == guesses
        assert account.failed_logins == guesses
        assert account.locked_until == NOW + LOCK_TIME


def test_sessions_lapse_when_idle_and_end_at_logout(store: Engine) -> None:
    with session_scope(store) as session:
        operator = create_operator(session, "anna@klinik.se", PASSWORD)
        token = start_session(session, operator, NOW)
        assert operator_for_token(session, token, NOW + timedelta(minutes=5)) is operator
        assert operator_for_token(session, token + "x", NOW) is None
        assert operator_for_token(session, token, NOW + timedelta(minutes=5) + SESSION_IDLE) is None
        other = start_session(session, operator, NOW)
        end_session(session, other, NOW)
        assert operator_for_token(session, other, NOW) is None


def test_a_reading_page_keeps_the_session_alive_in_a_write_of_its_own(
    sqlite_store: Engine,
) -> None:
    with session_scope(sqlite_store) as session:
        token = start_session(session, create_operator(session, "anna@klinik.se", PASSWORD), NOW)
    later = NOW + KEEP_ALIVE_EVERY + timedelta(seconds=1)
    with session_scope(sqlite_store) as reading:
        row, _ = live_session(reading, token, later)  # the page's reading transaction
        with write_session_scope(sqlite_store) as other:  # meanwhile, another writer
            other.add(Tenant(name="Annan", subdomain="annan"))
        keep_alive(sqlite_store, row, later)
        # Written in the reading transaction instead, the page would fail: SQLite cannot
        # turn it into a writing one after another writer has committed.
        row.last_seen_at = later
        with pytest.raises(OperationalError, match="locked"):
            reading.flush()
        reading.rollback()
    with session_scope(sqlite_store) as session:
        assert live_session(session, token, later)[0].last_seen_at == later


def test_grants_scope_tenants_and_roles_are_checked(store: Engine) -> None:
    with session_scope(store) as session:
        one, two = _tenant(session, "ett"), _tenant(session, "tva")
        operator = create_operator(session, "anna@klinik.se", PASSWORD, grants={one.id: "operator"})
        assert [(t.subdomain, r) for t, r in granted_tenants(session, operator)] == [
            ("ett", "operator")
        ]
        assert role_at(session, operator, two.id) is None
        with pytest.raises(ValueError):
            create_operator(session, "b@klinik.se", PASSWORD, grants={one.id: "superuser"})
    with pytest.raises(IntegrityError), session_scope(store) as session:
        session.add(Operator(email="Stor@Klinik.se", name="x", password_hash="x"))
        session.flush()


def test_apply_changes_logs_old_and_new_values(store: Engine) -> None:
    with session_scope(store) as session:
        tenant = _tenant(session, "ett")
        operator = create_operator(session, "anna@klinik.se", PASSWORD)
        changed = audit.apply_changes(
            session,
            tenant.settings,
            {"maintenance_mode": True, "months_to_sync": 3},  # 3 is the default: no entry
            tenant_id=tenant.id,
            operator=operator,
            now=NOW,
        )
        assert changed == ["maintenance_mode"]
        [entry] = audit.entries(session, tenant.id)
        assert (entry.setting, entry.old_value, entry.new_value) == (
            "maintenance_mode",
            "false",
            "true",
        )
        assert (entry.operator_email, entry.at) == ("anna@klinik.se", NOW)
        assert session.scalars(select(TenantSettings.maintenance_mode)).one() is True
