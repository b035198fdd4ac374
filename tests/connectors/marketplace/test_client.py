"""The marketplace client against the stand-in over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from connectors.marketplace.client import (
    Malformed,
    MarketplaceClient,
    Refused,
    RetryPolicy,
    Unavailable,
    _retry_after,
)
from connectors.marketplace.resources import conditional_url, parse_slot_key, slot_key
from connectors.store.marketplace import OfferedSlot
from demo.fhir_marketplace import FhirMarketplace

TOKEN = "t"


@pytest.fixture
def server() -> Iterator[FhirMarketplace]:
    with FhirMarketplace() as marketplace:
        marketplace.add_account("klinik", TOKEN, active=True)
        yield marketplace


def client(server: FhirMarketplace, waits: list, token: str = TOKEN, **policy) -> MarketplaceClient:
    return MarketplaceClient(
        server.fhir_url,
        token,
        timeout_s=0.5,
        policy=RetryPolicy(**({"retries": 2, "delay_s": 0.1} | policy)),
        sleep=waits.append,
    )


LOCATION = {
    "resourceType": "Location",
    "name": "Klinik",
    "identifier": [
        {"system": "https://opusdentalonline.com/fhir/identifier/location", "value": "t1-c1"}
    ],
}


def put_location(name: str = "Klinik") -> dict:
    return {
        "resource": LOCATION | {"name": name},
        "request": {"method": "PUT", "url": conditional_url("Location", "t1-c1")},
    }


def test_conditional_update_updates_instead_of_duplicating(server):
    with client(server, []) as c:
        c.transaction([put_location()])
        c.transaction([put_location("Ny klinik")])
    assert [r["name"] for r in server.resources("klinik", "Location")] == ["Ny klinik"]


def test_a_transaction_is_all_or_nothing(server):
    # valid FHIR, but its Schedule is not at the marketplace: the server refuses it
    bad = {
        "resource": {
            "resourceType": "Slot",
            "status": "free",
            "start": "2026-01-05T08:00:00Z",
            "end": "2026-01-05T08:30:00Z",
            "schedule": {"reference": conditional_url("Schedule", "missing")},
        },
        "request": {"method": "PUT", "url": conditional_url("Slot", "x")},
    }
    with client(server, []) as c, pytest.raises(Refused) as refused:
        c.transaction([put_location(), bad])
    assert refused.value.status == 412
    assert server.resources("klinik", "Location") == []


def test_retries_are_bounded_and_back_off(server):
    waits: list = []
    server.fail_next(5, status=500)
    with client(server, waits) as c, pytest.raises(Unavailable):
        c.transaction([put_location()])
    assert waits == [0.1, 0.2]


def test_retry_after_as_an_http_date():
    later = datetime.now(UTC) + timedelta(seconds=30)
    assert 25 <= _retry_after(format_datetime(later, usegmt=True)) <= 31
    assert _retry_after("5") == 5.0 and _retry_after("soon") is None


def test_an_unknown_token_and_an_inactive_account(server):
    with client(server, [], token="nope") as c:
        assert c.account_state("klinik") == "refused"
    server.activate("klinik", False)
    with client(server, []) as c:
        assert c.account_state("klinik") == "waiting"
        with pytest.raises(Refused) as refused:
            c.transaction([put_location()])
        assert refused.value.status == 403


def test_a_non_fhir_answer_is_malformed(server):
    server.fail_next(1, status=200, body='{"resourceType": "Patient"}')
    with client(server, []) as c, pytest.raises(Malformed):
        c.transaction([put_location()])


def test_slot_keys_round_trip():
    starts = datetime(2026, 3, 29, 0, 45, tzinfo=UTC)  # the night clocks go forward
    slot = OfferedSlot(3, 7, 11, starts, starts + timedelta(minutes=30))
    ref = parse_slot_key(slot_key(42, slot))
    assert (ref.tenant_id, ref.clinic_id, ref.practitioner_id, ref.treatment_id) == (42, 3, 7, 11)
    assert ref.starts_at == starts and parse_slot_key("t1-c2") is None
