"""The attacks of the security issue's point 3 and 9, performed: one anonymous client
holding a week's times, codes sent without end, and a proof of work a script solves in
milliseconds. Each test fails without the limit it proves."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from connectors.store import client_limits
from connectors.store.db import session_scope
from connectors.store.models import Booking
from tests.booking_app.admin.admin_pages import log_in, operator
from tests.booking_app.booking_pages import client_for
from tests.booking_app.booking_steps import (
    Page,
    booking,
    fill_details,
    follow,
    press,
    reference_of,
    sent_codes,
    time_buttons,
    to_details,
    to_time_step,
)
from tests.booking_app.login_steps import Clock

OPERATOR = "it@tandmottagningen.se"


def _week_with_times(client: TestClient) -> Page:
    page = to_time_step(client)
    if not time_buttons(page):
        page = follow(client, page.link("Första lediga tid"))
    return page


def _active_holds(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).where(Booking.status == "held"))


def _hold_times(client: TestClient, count: int) -> list[Page]:
    """Hold ``count`` different times of one week, as the attacker's script did."""
    pages = []
    week = _week_with_times(client)
    for _ in range(3):  # a short week (a holiday): the next ones too
        for button in time_buttons(week):
            page = press(client, button)
            if page.status != 409:  # 409: a neighbour just held overlaps it, try the next
                pages.append(page)
            if len(pages) == count:
                return pages
        week = follow(client, week.link("Nästa vecka"))
    raise AssertionError("three weeks must offer enough times")


# -- a: at most three active holds per client --------------------------------------------


def test_a_fourth_hold_of_one_browser_is_refused(booking_store: Engine, booking_client):
    held = _hold_times(booking_client, 4)
    assert all("/uppgifter" in page.url for page in held[:3])
    fourth = held[3]
    assert fourth.status == 429
    assert "Du har redan tre tider reserverade" in fourth.html
    assert _active_holds(booking_store) == 3


def test_the_hold_limit_counts_the_address_across_browsers_and_app_processes(
    booking_store: Engine,
):
    # Three clients: new cookies each, one address ("testclient"), separate apps as
    # separate processes would be: they share only the store.
    for _ in range(3):
        assert "/uppgifter" in _hold_times(client_for(booking_store), 1)[0].url
    refused = _hold_times(client_for(booking_store), 1)[0]
    assert refused.status == 429
    assert _active_holds(booking_store) == 3


def test_holds_that_lapsed_no_longer_count(booking_store: Engine, clocked, clock: Clock):
    _hold_times(clocked, 3)
    clock.now += timedelta(minutes=11)
    assert "/uppgifter" in _hold_times(clocked, 1)[0].url


def test_an_operator_sees_the_refusals_counted(booking_store: Engine, booking_client):
    _hold_times(booking_client, 5)
    with session_scope(booking_store) as session:
        tenant_id = session.scalars(select(Booking.tenant_id)).first()
        assert client_limits.hits(session, tenant_id) == {"holds": 2}
    # ... on the tenant's Flexibilitet tab, every limit with its count.
    operator(booking_store, OPERATOR, {tenant_id: "analyst"})
    assert log_in(booking_client, OPERATOR).status_code == 303
    tab = booking_client.get(f"/admin/{tenant_id}/flexibilitet")
    assert tab.status_code == 200
    assert 'id="limit-holds">2<' in tab.text
    for kind in client_limits.KINDS[1:]:
        assert f'id="limit-{kind}">0<' in tab.text
    assert "Högst 3 reserverade tider per besökare" in tab.text


# -- c: code messages limited, the hold not extended without end -------------------------


def test_reposting_details_with_new_numbers_sends_at_most_three_codes(
    booking_store: Engine, clocked: TestClient, clock: Clock
):
    details = to_details(clocked)
    reference = reference_of(details)
    for number in ("070-111 11 11", "070-222 22 22", "070-333 33 33", "070-444 44 44"):
        page = fill_details(clocked, details, code_channel="sms", mobile=number)
        clock.now += timedelta(seconds=61)
    assert len(sent_codes(booking_store, reference)) == 3
    assert page.status == 429 and "Tre koder har redan skickats" in page.html
    assert booking(booking_store, reference).status == "expired"


def test_wrong_tries_count_across_resent_codes(
    booking_store: Engine, clocked: TestClient, clock: Clock
):
    details = to_details(clocked)
    reference = reference_of(details)
    page = fill_details(clocked, details, code_channel="email")
    for _ in range(4):
        page = press(clocked, page.button("Bekräfta bokningen"), code="000000")
    clock.now += timedelta(seconds=61)
    page = press(clocked, page.button("Skicka en ny kod"), code_channel="email")
    for _ in range(4):
        page = press(clocked, page.button("Bekräfta bokningen"), code="000000")
    # Eight wrong in all (a resend did not start over): the time is released.
    assert booking(booking_store, reference).status == "expired"
    assert page.status == 409


# -- 9: the proof of work grows with the client's holds ---------------------------------


def test_the_proof_of_work_is_harder_for_a_client_with_more_holds(
    booking_store: Engine, booking_client: TestClient
):
    from booking_app import captcha
    from tests.booking_app.booking_pages import change_settings

    change_settings(booking_store, code_challenge_enabled=False)
    pages = _hold_times(booking_client, 3)
    page = fill_details(booking_client, pages[-1])
    challenge = page.button("Bekräfta bokningen").form.hidden["challenge"]
    bits = int(challenge.split(".")[2])
    assert bits >= captcha.DIFFICULTY_BITS + 4  # two more holds: 16 times the work
    # The script's base-difficulty answer no longer confirms.
    nonce = captcha.solve(challenge, captcha.DIFFICULTY_BITS)
    refused = press(booking_client, page.button("Bekräfta bokningen"), nonce=nonce)
    # (a base answer solves the harder one too with a chance of 1 in 2**(bits-16))
    assert refused.status == 422 or captcha.solves(challenge, nonce, bits)
