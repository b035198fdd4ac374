"""Starts of BankID logins are limited per client address: each start is an order at
BankID (paid for by the relying party, and a way to flood a person's BankID app), and
nothing else stopped a script from starting them without end. Counted in the store,
so several app processes count one address once."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from booking_app.main import create_app
from connectors.store import client_limits
from connectors.store.db import session_scope
from connectors.store.models import BankIdOrder
from tests.booking_app.admin.admin_pages import tenant_id
from tests.booking_app.booking_pages import TENANT_HOST
from tests.booking_app.login_steps import Clock, settings_with_bankid, start_login


def browser(app, address: str) -> TestClient:
    """A new browser (no cookies) at ``address``."""
    return TestClient(app, base_url=f"http://{TENANT_HOST}", client=(address, 50000))


def orders(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(BankIdOrder))


def test_an_address_starting_too_many_bankid_logins_is_refused(
    booking_store: Engine, bankid_standin
):
    clock = Clock()
    most = client_limits.BANKID_STARTS_PER_WINDOW
    # Two app processes (they share only the store).
    apps = [create_app(settings_with_bankid(booking_store, bankid_standin), clock=clock)]
    apps.append(create_app(settings_with_bankid(booking_store, bankid_standin), clock=clock))
    # The script spreads its starts over both, each with fresh cookies.
    for n in range(most):
        page = start_login(browser(apps[n % 2], "10.1.0.1"))
        assert "/logga-in/bankid" in page.url, (n, page.html)
    assert orders(booking_store) == most

    refused = start_login(browser(apps[0], "10.1.0.1"))

    assert refused.status == 429
    assert "för många inloggningar med BankID" in refused.html
    assert orders(booking_store) == most  # BankID was not asked
    with session_scope(booking_store) as session:
        assert client_limits.hits(session, tenant_id(booking_store)) == {"bankid_starts": 1}
    # Another address is not limited by it, and after the window this one is not either.
    other = start_login(browser(apps[1], "10.1.0.2"))
    assert "/logga-in/bankid" in other.url
    clock.advance(minutes=16)
    again = start_login(browser(apps[0], "10.1.0.1"))
    assert "/logga-in/bankid" in again.url
