"""The step state in the query string, and the proof-of-work check, on their own."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from booking_app import captcha
from booking_app.flow import (
    ANY,
    BadSelection,
    Selection,
    format_at,
    is_last_open_step,
    next_step,
    parse_at,
    parse_selection,
)
from connectors.store.models import STEPS

AT = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


def test_selection_round_trips_through_the_query_string():
    selection = Selection(
        clinic=3, treatment=5, practitioner=ANY, at=AT, any_clinic=True, week=date(2026, 11, 23)
    )
    assert parse_selection(selection.params()) == selection
    assert selection.params()["at"] == "2026-11-26T07:00Z"
    assert format_at(AT.astimezone()) == "2026-11-26T07:00Z"


def test_only_ids_and_times_travel():
    params = Selection(clinic=3, treatment=5, practitioner=7, at=AT).params()
    assert set(params) == {"clinic", "treatment", "practitioner", "at"}
    assert all(v.replace("-", "").replace(":", "").replace("T", "").rstrip("Z").isalnum()
               for v in params.values())  # fmt: skip


@pytest.mark.parametrize(
    "params",
    [
        {"clinic": "0"},
        {"clinic": "-1"},
        {"clinic": "1.5"},
        {"clinic": "99999999999"},
        {"treatment": "any"},  # there is no "any treatment"
        {"practitioner": "alla"},
        {"at": "2026-11-26 07:00"},
        {"at": "2026-02-30T07:00Z"},
        {"week": "2026-W48"},
        {"month": "2026-13"},
    ],
)
def test_values_no_page_writes_are_refused(params: dict[str, str]):
    with pytest.raises(BadSelection):
        parse_selection(params)


def test_a_week_is_its_monday():
    assert parse_selection({"week": "2026-11-26"}).week == date(2026, 11, 23)
    assert parse_selection({"week": "first"}).first_free


def test_anyclinic_needs_a_settled_clinic():
    assert not parse_selection({"clinic": "any", "anyclinic": "1"}).any_clinic
    assert parse_selection({"clinic": "4", "anyclinic": "1"}).any_clinic


def test_next_step_follows_the_order():
    order = ("treatment", "time", "clinic", "practitioner")
    assert next_step(order, Selection()) == "treatment"
    assert next_step(order, Selection(treatment=1)) == "time"
    assert next_step(order, Selection(treatment=1, at=AT)) == "clinic"
    chosen = Selection(treatment=1, at=AT, clinic=ANY)
    assert next_step(order, chosen) == "practitioner"
    assert is_last_open_step(order, chosen, "practitioner")
    assert not is_last_open_step(order, Selection(treatment=1, at=AT), "clinic")
    assert next_step(STEPS, Selection(1, 2, 3, AT)) is None


def test_changing_a_step_forgets_what_followed_it_and_unsettles_any_clinic():
    settled = Selection(clinic=4, any_clinic=True, treatment=1, practitioner=ANY, at=AT)
    again = settled.without("time")
    assert (again.clinic, again.any_clinic, again.at) == (ANY, False, None)
    assert settled.without("clinic", "treatment").clinic is None
    assert parse_at("2026-11-26T07:00Z") == AT


def test_captcha_round_trip_and_refusals():
    secret, now = b"k" * 32, datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
    challenge = captcha.issue(secret, "ref", now, bits=8)
    nonce = captcha.solve(challenge, 8)
    captcha.verify(secret, challenge, nonce, "ref", now, bits=8)
    for args, key in [
        ((b"other" * 8, challenge, nonce, "ref", now), "captcha_invalid"),
        ((secret, challenge, nonce, "other-ref", now), "captcha_invalid"),
        ((secret, challenge, nonce, "ref", now + captcha.LIFETIME), "captcha_expired"),
        ((secret, challenge, "12a", "ref", now), "captcha_invalid"),
        ((secret, challenge + "x", nonce, "ref", now), "captcha_invalid"),
    ]:
        with pytest.raises(captcha.CaptchaFailed) as failed:
            captcha.verify(*args, bits=8)
        assert failed.value.key == key
    # Signed for 8 bits, so it cannot be passed off as harder.
    with pytest.raises(captcha.CaptchaFailed):
        captcha.verify(secret, challenge, nonce, "ref", now, bits=20)


def test_leading_zero_bits():
    assert captcha.leading_zero_bits(bytes([0, 0, 0x80])) == 16
    assert captcha.leading_zero_bits(bytes([0x01, 0xFF])) == 7
    assert captcha.leading_zero_bits(bytes(4)) == 32
