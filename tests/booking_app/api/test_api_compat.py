"""What clients of the original (ASP.NET) server send, accepted as it is: names in
any case and without the ``request.`` prefix, ``api_key``, ids as strings, times
without an offset, and no ``TimeSlot.ID``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from booking_app.api.binding import STOCKHOLM, format_datetime, parse_datetime
from connectors.store.db import session_scope
from connectors.store.models import Clinic
from demo.store_seed import DEMO_API_KEY
from tests.booking_app.api.api_client import API, api_client, booking_body, bookings_in, times

TIMES = f"{API}/appointments/schedule/availabletimes"


@pytest.mark.parametrize(
    "params",
    [
        {"request.clinicID": "UPP1", "request.treatmentID": "1"},
        {"clinicID": "UPP1", "treatmentID": "1"},
        {"TreatmentID": "1", "ClinicID": "UPP1"},
        {"REQUEST.CLINICID": "UPP1", "request.TreatmentId": "1"},
        {"request.clinicID": "UPP1", "treatmentid": "1", "request.clinicianID": ""},
    ],
    ids=["spec", "no-prefix", "pascal", "shouting", "empty-is-absent"],
)
def test_query_names_in_any_case_with_or_without_the_prefix(api: TestClient, params):
    response = api.get(TIMES, params=params)

    assert response.status_code == 200
    assert response.json() == times(api)


def test_the_prefixed_name_wins_over_the_bare_one(api: TestClient):
    both = api.get(TIMES, params={"request.clinicID": "VAS1", "clinicID": "UPP1", "treatmentID": 1})

    assert {s["ClinicID"] for s in both.json()} == {"VAS1"}


def test_the_key_in_the_api_key_header(synced_store: Engine):
    client = api_client(synced_store, key=None)

    spec = client.get(f"{API}/clinics", headers={"apiKey": DEMO_API_KEY})
    underscore = client.get(f"{API}/clinics", headers={"api_key": DEMO_API_KEY})
    lower = client.get(f"{API}/clinics", headers={"apikey": DEMO_API_KEY})

    assert (spec.status_code, underscore.status_code, lower.status_code) == (200, 200, 200)


def test_ids_as_strings_and_numbers_and_json_names_in_any_case(
    api: TestClient, synced_store: Engine
):
    slot = times(api)[0]
    body = {
        "patient": {
            "patientPersonalIdentification": "198001010019",
            "firstname": "Anna",
            "LASTNAME": "Andersson",
            "email": "anna@example.se",
        },
        "timeSlot": {
            "start": slot["Start"],
            "clinicId": "UPP1",
            "clinicianid": str(slot["ClinicianID"]),
            "TreatmentID": "1",
            "SomethingElse": "ignored, as ASP.NET ignores it",
        },
        "CategoryCode": 3,
    }

    response = api.post(f"{API}/bookings", json=body)

    assert response.status_code == 200, response.text
    (booking,) = bookings_in(synced_store)
    assert booking.first_name == "Anna"


def test_a_numeric_clinic_id_is_read_as_its_string(api: TestClient, synced_store: Engine):
    # The demo's clinic ids are not numeric; give one clinic a numeric id as Opus may.
    with session_scope(synced_store) as session:
        session.execute(
            update(Clinic).where(Clinic.opus_clinic_id == "UPP1").values(opus_clinic_id="101")
        )
    slot = times(api, clinic="101")[0]

    response = api.post(f"{API}/bookings", json=booking_body({**slot, "ClinicID": 101}))

    assert response.status_code == 200, response.text
    assert api.get(f"{API}/clinics/101").json()["ID"] == "101"


@pytest.mark.parametrize("form", ["stockholm-no-offset", "utc-z", "offset", "space", "fraction"])
def test_start_times_without_an_offset_are_stockholm_time(
    api: TestClient, synced_store: Engine, form: str
):
    slot = times(api)[0]
    start = datetime.fromisoformat(slot["Start"])
    local = start.astimezone(STOCKHOLM).replace(tzinfo=None)
    written = {
        "stockholm-no-offset": local.isoformat(),
        "utc-z": start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "offset": slot["Start"],
        "space": local.isoformat(sep=" "),
        "fraction": local.isoformat(timespec="milliseconds"),
    }[form]
    slot = {k: v for k, v in slot.items() if k not in ("ID", "End")}  # TimeSlot.ID left out

    response = api.post(f"{API}/bookings", json=booking_body({**slot, "Start": written}))

    assert response.status_code == 200, response.text
    (booking,) = bookings_in(synced_store)
    assert booking.starts_at == start


def test_local_times_across_the_dst_changes():
    # Spring: 02:30 does not exist; autumn: 02:30 happens twice, the first is meant.
    with pytest.raises(ValueError):
        parse_datetime("2026-03-29T02:30:00")
    autumn = parse_datetime("2026-10-25T02:30:00")
    assert autumn == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert format_datetime(autumn) == "2026-10-25T02:30:00+02:00"
    assert format_datetime(datetime(2026, 10, 25, 1, 30, tzinfo=UTC)) == (
        "2026-10-25T02:30:00+01:00"
    )
    assert parse_datetime("2026-07-01T09:00:00") == datetime(2026, 7, 1, 7, tzinfo=UTC)
    assert parse_datetime("2026-12-01") == datetime(2026, 11, 30, 23, tzinfo=UTC)
