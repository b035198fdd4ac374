"""*Underdomän*: after a change the old name redirects to the new one for
:data:`REDIRECT_DAYS` days, and no other tenant can take it meanwhile."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select

from booking_app.admin.forms import subdomain_problem
from booking_app.tenancy import REDIRECT_DAYS
from connectors.store.db import session_scope
from connectors.store.models import SubdomainRedirect
from connectors.store.types import utcnow
from tests.booking_app.admin.admin_pages import log_in, operator, other_tenant, post_tab, tenant_id
from tests.booking_app.booking_pages import client_for

A = "a@tandmottagningen.se"
B = "b@annanklinik.se"


def _rename(client, tenant: int, name: str) -> None:
    answer = post_tab(client, f"/admin/{tenant}/underdoman", subdomain=name, action="save")
    assert answer.status_code == 303, answer.text


def test_old_names_redirect_with_path_query_and_method_and_chain(
    booking_client, booking_store: Engine
) -> None:
    own = tenant_id(booking_store)
    operator(booking_store, A, {own: "administrator"})
    log_in(booking_client, A)
    _rename(booking_client, own, "nyklinik")
    client = client_for(booking_store, "nyklinik.booking.test")
    log_in(client, A)
    _rename(client, own, "tredje")
    for old in ("tandmottagningen", "nyklinik"):
        answer = client.get(f"http://{old}.booking.test:8080/boka?clinic=1", follow_redirects=False)
        assert answer.status_code == 308
        assert answer.headers["location"] == "http://tredje.booking.test:8080/boka?clinic=1"
    # 308: a form posted to the old name is posted again to the new one.
    posted = client.post("http://nyklinik.booking.test/boka/tid", follow_redirects=False)
    assert posted.status_code == 308
    assert client.get("http://tredje.booking.test/").status_code == 200
    with session_scope(booking_store) as session:
        rows = session.scalars(select(SubdomainRedirect).order_by(SubdomainRedirect.subdomain))
        assert [(r.subdomain, r.tenant_id) for r in rows] == [
            ("nyklinik", own),
            ("tandmottagningen", own),
        ]


def test_taking_the_old_name_back_ends_its_redirect(booking_client, booking_store: Engine) -> None:
    own = tenant_id(booking_store)
    operator(booking_store, A, {own: "administrator"})
    log_in(booking_client, A)
    _rename(booking_client, own, "nyklinik")
    client = client_for(booking_store, "nyklinik.booking.test")
    log_in(client, A)
    _rename(client, own, "tandmottagningen")
    assert booking_client.get("/").status_code == 200
    moved = booking_client.get("http://nyklinik.booking.test/", follow_redirects=False)
    assert moved.headers["location"] == "http://tandmottagningen.booking.test/"


def test_another_tenant_cannot_take_an_old_name_until_it_expires(
    booking_client, booking_store: Engine
) -> None:
    own = tenant_id(booking_store)
    other = other_tenant(booking_store)
    operator(booking_store, A, {own: "administrator"})
    operator(booking_store, B, {other: "administrator"})
    log_in(booking_client, A)
    _rename(booking_client, own, "nyklinik")
    theirs = client_for(booking_store, "annanklinik.booking.test")
    log_in(theirs, B)
    path = f"/admin/{other}/underdoman"
    for action in ("check", "save"):
        answer = post_tab(theirs, path, subdomain="Tandmottagningen", action=action)
        assert answer.status_code == 400 and "används redan" in answer.text
    later = utcnow() + timedelta(days=REDIRECT_DAYS, minutes=1)
    with session_scope(booking_store) as session:
        assert subdomain_problem(session, "tandmottagningen", other, later) is None
    # After the expiry the old name answers nothing (it is free again).
    expired = client_for(booking_store, "tandmottagningen.booking.test", clock=lambda: later)
    assert expired.get("/", follow_redirects=False).status_code == 404
