"""The whole booking path with TestClient, in the default order with the default
settings (code challenge on): steps, hold, details, code, confirmation."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from connectors.store.db import session_scope
from connectors.store.models import Booking, OutboxMessage
from tests.booking_app.booking_steps import (
    PATIENT,
    booking,
    fill_details,
    get,
    press,
    reference_of,
    sent_codes,
    to_details,
)


def test_a_full_booking_with_a_code(booking_store: Engine, booking_client: TestClient):
    details = to_details(booking_client)
    assert details.status == 200
    assert details.h1 == "Dina uppgifter"
    reference = reference_of(details)
    held = booking(booking_store, reference)
    assert held.status == "held" and not held.any_practitioner

    code_page = fill_details(booking_client, details, code_channel="sms")
    assert code_page.h1 == "Bekräfta med kod", code_page.html
    [(channel, recipient, code)] = sent_codes(booking_store, reference)
    assert (channel, recipient) == ("sms", "+46701234567")

    done = press(booking_client, code_page.button("Bekräfta bokningen"), code=code)
    assert done.h1 == "Din tid är bokad"
    stored = booking(booking_store, reference)
    assert stored.status == "confirmed"
    assert stored.personal_number == "191212121212"
    assert (stored.first_name, stored.email) == (PATIENT["first_name"], PATIENT["email"])
    with session_scope(booking_store) as session:
        kinds = session.scalars(
            select(OutboxMessage.kind).where(OutboxMessage.booking_id == stored.id)
        ).all()
    assert sorted(kinds) == ["code", "new", "new"]  # the code, then e-mail and SMS


def test_double_submit_of_the_code_shows_the_same_booking(
    booking_store: Engine, booking_client: TestClient
):
    details = to_details(booking_client)
    reference = reference_of(details)
    code_page = fill_details(booking_client, details, code_channel="email")
    code = sent_codes(booking_store, reference)[0][2]
    button = code_page.button("Bekräfta bokningen")
    first = press(booking_client, button, code=code)
    second = press(booking_client, button, code=code)
    assert first.h1 == second.h1 == "Din tid är bokad"
    assert first.url == second.url
    with session_scope(booking_store) as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == 1
        news = session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "new")
        )
    assert news == 2  # one e-mail and one SMS, not four


def test_details_page_has_no_personal_data_in_its_address(booking_client: TestClient):
    details = to_details(booking_client)
    page = fill_details(booking_client, details, code_channel="email")
    for text in PATIENT.values():
        assert text not in page.url
    assert get(booking_client, page.url).status == 200
