"""A patient's own bookings through the public API: PATCH /bookings (reschedule),
DELETE /bookings (cancel) and GET /patients/{…}/bookings, under the booking page's
rules (settings, the treatment's CancelInWeb/ChangeInWeb, the stricter cut-off), found
only with the patient's own personal number and only within the key's tenant."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from booking_app.api.access_log import mask
from connectors.store.db import session_scope
from connectors.store.models import (
    Booking,
    Clinic,
    OpusAppointment,
    OutboxMessage,
    Practitioner,
    Tenant,
    Treatment,
)
from demo.store_seed import DEMO_SUBDOMAIN
from tests.booking_app.api.api_client import (
    API,
    OTHER_HOST,
    add_second_tenant,
    api_client,
    booking_body,
    bookings_in,
    personal_number,
    times,
)
from tests.booking_app.booking_pages import change_settings

STOCKHOLM_OFFSETS = ("+01:00", "+02:00")


# -- helpers -----------------------------------------------------------------------------


def later_times(client: TestClient, days: int = 3) -> list[dict[str, Any]]:
    """Free times more than ``days`` ahead: well before any 24-hour cut-off."""
    after = datetime.now(UTC) + timedelta(days=days)
    return [t for t in times(client) if datetime.fromisoformat(t["Start"]) > after]


def book(client: TestClient, slot: dict[str, Any], serial: int = 1) -> int:
    response = client.post(f"{API}/bookings", json=booking_body(slot, serial=serial))
    assert response.status_code == 200, response.text
    return response.json()


def who(serial: int = 1) -> dict[str, Any]:
    """``request.requestedByPersonalId.*`` for the patient ``serial``."""
    number = personal_number(serial)
    return {
        "request.requestedByPersonalId.year": number[:4],
        "request.requestedByPersonalId.month": number[4:6],
        "request.requestedByPersonalId.day": number[6:8],
        "request.requestedByPersonalId.extraDigits": number[8:],
    }


def cancel(client: TestClient, booking_id: int, serial: int = 1, **params: Any):
    return client.delete(
        f"{API}/bookings", params={"request.bookingID": booking_id, **who(serial), **params}
    )


def reschedule(client: TestClient, booking_id: int, slot: dict[str, Any], serial: int = 1, **q):
    body = {
        "OriginalBookingId": booking_id,
        "NewTime": slot,
        "PatientToReschedule": {"PatientPersonalIdentification": personal_number(serial)},
        "RequestedBy": "Anna Andersson",
    }
    return client.patch(f"{API}/bookings", json=body, params=q)


def booking(engine: Engine, booking_id: int) -> Booking:
    with session_scope(engine) as session:
        found = session.get(Booking, booking_id)
        assert found is not None
        session.expunge(found)
        return found


def outbox(engine: Engine, booking_id: int) -> list[tuple[str, str]]:
    with session_scope(engine) as session:
        return sorted(
            (m.channel, m.kind)
            for m in session.scalars(
                select(OutboxMessage).where(OutboxMessage.booking_id == booking_id)
            )
        )


def change_treatment(engine: Engine, booking_id: int, **values: Any) -> None:
    with session_scope(engine) as session:
        treatment_id = session.get(Booking, booking_id).treatment_id
        session.execute(update(Treatment).where(Treatment.id == treatment_id).values(**values))


def at(client: TestClient, moment: datetime) -> None:
    """The app's "now" from here on."""
    client.app.state.clock = lambda: moment


def other_slot(client: TestClient, slot: dict[str, Any]) -> dict[str, Any]:
    """Another free time at the same clinic, for the same treatment, well before any
    cut-off and not overlapping ``slot``."""
    start = datetime.fromisoformat(slot["Start"])
    return next(
        t
        for t in later_times(client)
        if abs(datetime.fromisoformat(t["Start"]) - start) > timedelta(hours=3)
    )


# -- cancel ------------------------------------------------------------------------------


def test_a_cancellation_is_a_status_change_and_frees_the_time(api_both: TestClient, synced):
    slot = later_times(api_both)[0]
    booking_id = book(api_both, slot)

    response = cancel(api_both, booking_id)

    assert (response.status_code, response.json()) == (200, {})
    cancelled = booking(synced, booking_id)
    assert cancelled.status == "cancelled"  # kept, for write-back and statistics
    assert cancelled.write_back_next_at is not None
    assert ("email", "cancel") in outbox(synced, booking_id)
    assert slot in times(api_both)


def test_cancelling_again_answers_the_same_and_tells_the_patient_once(api_both: TestClient, synced):
    booking_id = book(api_both, later_times(api_both)[0])

    first, second = cancel(api_both, booking_id), cancel(api_both, booking_id)

    assert (first.status_code, second.status_code) == (200, 200)
    assert outbox(synced, booking_id).count(("email", "cancel")) == 1


def test_notify_patient_false_sends_no_cancellation(api: TestClient, synced_store: Engine):
    booking_id = book(api, later_times(api)[0])

    response = cancel(api, booking_id, **{"request.notifyPatient": "false"})

    assert response.status_code == 200
    assert [kind for _, kind in outbox(synced_store, booking_id)] == ["new", "new"]


@pytest.mark.parametrize(
    ("settings", "treatment", "reason", "message"),
    [
        (
            {"cancel_enabled": False},
            {},
            "CancelDisabled",
            "Kliniken tar inte emot avbokningar online (Avbokning är avstängd). Kontakta kliniken.",
        ),
        (
            {},
            {"cancel_in_web": False},
            "CancelNotAllowedForTreatment",
            "Den här behandlingen kan inte avbokas online. Kontakta kliniken.",
        ),
    ],
)
def test_cancel_refused_by_each_rule_names_the_reason(
    api: TestClient, synced_store: Engine, settings, treatment, reason, message
):
    booking_id = book(api, later_times(api)[0])
    change_settings(synced_store, **settings) if settings else None
    change_treatment(synced_store, booking_id, **treatment) if treatment else None

    response = cancel(api, booking_id)

    assert response.status_code == 403
    body = response.json()
    assert (body["Reason"], body["Message"]) == (reason, message)
    assert "ClinicPhone" in body
    assert booking(synced_store, booking_id).status == "confirmed"


def test_cancel_past_the_cutoff_is_refused_with_when_it_closed(api_both: TestClient, synced):
    booking_id = book(api_both, later_times(api_both)[0])
    starts_at = booking(synced, booking_id).starts_at
    at(api_both, starts_at - timedelta(hours=23))  # the default cut-off is 24 hours

    response = cancel(api_both, booking_id)

    assert response.status_code == 403
    body = response.json()
    assert body["Reason"] == "PastCutOff"
    assert body["Message"].startswith("Det är för sent att avboka eller boka om online")
    cut_off = datetime.fromisoformat(body["CutOff"])
    assert cut_off == starts_at - timedelta(hours=24)
    assert body["CutOff"].endswith(STOCKHOLM_OFFSETS)
    assert booking(synced, booking_id).status == "confirmed"


def test_the_stricter_of_the_two_cutoffs_decides(api: TestClient, synced_store: Engine):
    booking_id = book(api, later_times(api)[0])
    starts_at = booking(synced_store, booking_id).starts_at
    change_settings(synced_store, change_cutoff_hours=2)
    change_treatment(synced_store, booking_id, change_in_web_limit_hours=48)
    at(api, starts_at - timedelta(hours=30))

    refused = cancel(api, booking_id)
    change_treatment(synced_store, booking_id, change_in_web_limit_hours=1)
    allowed = cancel(api, booking_id)

    assert (refused.status_code, refused.json()["Reason"]) == (403, "PastCutOff")
    assert datetime.fromisoformat(refused.json()["CutOff"]) == starts_at - timedelta(hours=48)
    assert allowed.status_code == 200


def test_a_moved_booking_cannot_be_cancelled_by_its_old_id(api: TestClient):
    slot = later_times(api)[0]
    booking_id = book(api, slot)
    reschedule(api, booking_id, other_slot(api, slot))

    response = cancel(api, booking_id)

    assert (response.status_code, response.json()["Reason"]) == (409, "NotActive")


# -- reschedule --------------------------------------------------------------------------


def test_a_reschedule_moves_the_booking_and_keeps_the_old_as_rebooked(api_both: TestClient, synced):
    slot = later_times(api_both)[0]
    booking_id = book(api_both, slot, serial=3)
    new = other_slot(api_both, slot)

    response = reschedule(api_both, booking_id, new, serial=3)

    assert response.status_code == 200, response.text
    moved = booking(synced, response.json())
    old = booking(synced, booking_id)
    assert (old.status, moved.status) == ("rebooked", "confirmed")
    assert moved.rebooked_from_id == booking_id
    assert moved.starts_at == datetime.fromisoformat(new["Start"])
    assert (moved.personal_number, moved.channel) == (personal_number(3), "api")
    assert moved.appointment_key == old.appointment_key  # Opus moves the one appointment
    assert ("email", "rebook") in outbox(synced, moved.id)
    assert slot in times(api_both) and new not in times(api_both)


def test_sending_the_same_reschedule_again_answers_the_same_id(api_both: TestClient, synced):
    slot = later_times(api_both)[0]
    booking_id = book(api_both, slot)
    new = other_slot(api_both, slot)

    first = reschedule(api_both, booking_id, new)
    second = reschedule(api_both, booking_id, new)
    elsewhere = reschedule(api_both, booking_id, other_slot(api_both, new))

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json()
    assert [b.status for b in bookings_in(synced)] == ["rebooked", "confirmed"]
    assert (elsewhere.status_code, elsewhere.json()["Reason"]) == (409, "NotActive")


def test_reschedule_by_rescheduler_identity_and_any_clinician(
    api: TestClient, synced_store: Engine
):
    slot = later_times(api)[0]
    booking_id = book(api, slot)
    number = personal_number(1)
    body = {
        "OriginalBookingId": str(booking_id),
        "NewTime": {"Start": other_slot(api, slot)["Start"], "ClinicianID": 0},
        "ReschedulerIdentity": {
            "Year": int(number[:4]),
            "Month": int(number[4:6]),
            "Day": int(number[6:8]),
            "ExtraDigits": number[8:],
        },
    }

    response = api.patch(f"{API}/bookings", json=body, params={"notifyPatient": "false"})

    assert response.status_code == 200, response.text
    assert booking(synced_store, response.json()).status == "confirmed"
    assert outbox(synced_store, response.json()) == []


@pytest.mark.parametrize(
    ("settings", "treatment", "reason"),
    [
        ({"change_enabled": False}, {}, "ChangeDisabled"),
        ({}, {"change_in_web": False}, "ChangeNotAllowedForTreatment"),
        ({"change_cutoff_hours": 720}, {}, "PastCutOff"),
    ],
)
def test_reschedule_refused_by_each_rule_names_the_reason(
    api: TestClient, synced_store: Engine, settings, treatment, reason
):
    slot = later_times(api)[0]
    booking_id = book(api, slot)
    new = other_slot(api, slot)
    change_settings(synced_store, **settings) if settings else None
    change_treatment(synced_store, booking_id, **treatment) if treatment else None

    response = reschedule(api, booking_id, new)

    assert response.status_code == 403
    assert response.json()["Reason"] == reason
    assert [b.status for b in bookings_in(synced_store)] == ["confirmed"]


def test_reschedule_to_a_taken_time_is_409_with_the_nearest_free_times(api: TestClient):
    slot = later_times(api)[0]
    booking_id = book(api, slot, serial=1)
    taken = other_slot(api, slot)
    book(api, taken, serial=2)

    response = reschedule(api, booking_id, taken, serial=1)

    assert response.status_code == 409
    nearest = response.json()["NearestFreeTimes"]
    assert nearest and all(t in times(api) for t in nearest)


def test_reschedule_stays_at_the_bookings_clinic_and_treatment(api: TestClient):
    slot = later_times(api)[0]
    booking_id = book(api, slot)
    new = {**other_slot(api, slot), "ClinicID": "NOPE", "TreatmentID": 999}

    response = reschedule(api, booking_id, new)

    assert response.status_code == 400
    assert set(response.json()["ModelState"]) == {"NewTime.ClinicID", "NewTime.TreatmentID"}


# -- whose booking -----------------------------------------------------------------------


def test_another_patients_booking_is_404(api: TestClient, synced_store: Engine):
    slot = later_times(api)[0]
    booking_id = book(api, slot, serial=1)

    cancelled = cancel(api, booking_id, serial=2)
    moved = reschedule(api, booking_id, other_slot(api, slot), serial=2)
    unknown = cancel(api, booking_id + 1000)

    for response in (cancelled, moved, unknown):
        assert response.status_code == 404
        assert response.json() == {"Message": "Bokningen finns inte (för den patienten)."}
    assert booking(synced_store, booking_id).status == "confirmed"


def test_another_tenants_booking_id_is_404(tmp_path: Path, synced_store: Engine, start_day):
    other_key = add_second_tenant(tmp_path, synced_store, start_day)
    other = api_client(synced_store, host=OTHER_HOST, key=other_key)
    slot = later_times(other)[0]
    their_id = book(other, slot)
    demo = api_client(synced_store)

    cancelled = cancel(demo, their_id)
    moved = reschedule(demo, their_id, slot)
    listed = demo.get(f"{API}/patients/{personal_number(1)}/bookings")

    assert (cancelled.status_code, moved.status_code) == (404, 404)
    assert listed.json() == []
    assert booking(synced_store, their_id).status == "confirmed"


def test_a_booking_at_another_clinic_than_named_is_404(api: TestClient):
    booking_id = book(api, later_times(api)[0])

    response = cancel(api, booking_id, **{"request.clinicID": "UPP2"})

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/bookings"),
        ("DELETE", "/bookings?request.bookingID=1"),
        ("GET", "/patients/198001011234/bookings"),
        ("GET", "/patients/198001011234/bookings/extended"),
    ],
)
def test_every_patient_endpoint_needs_the_key(synced_store: Engine, method: str, path: str):
    response = api_client(synced_store, key=None).request(method, API + path, json={})

    assert response.status_code == 401


# -- validation --------------------------------------------------------------------------


def test_cancel_names_every_missing_or_invalid_field(api: TestClient):
    missing = api.delete(f"{API}/bookings")
    invalid = api.delete(
        f"{API}/bookings",
        params={
            "request.bookingID": "x",
            "request.requestedByPersonalId.year": "1980",
            "request.requestedByPersonalId.month": "1",
            "request.requestedByPersonalId.day": "1",
            "request.requestedByPersonalId.extraDigits": "1235",
            "request.notifyPatient": "maybe",
        },
    )
    bad_number = api.delete(
        f"{API}/bookings",
        params={"request.bookingID": 1, "request.requestedByPersonalId": "19800101-1235"},
    )

    assert missing.status_code == 400
    assert missing.json()["ModelState"] == {
        "request.bookingID": ["Fältet krävs."],
        "request.requestedByPersonalId": ["Personnummer krävs."],
    }
    assert set(invalid.json()["ModelState"]) == {"request.bookingID", "request.notifyPatient"}
    assert bad_number.json()["ModelState"] == {
        "request.requestedByPersonalId": [
            "Personnumrets kontrollsiffra stämmer inte. Kontrollera numret."
        ]
    }


def test_reschedule_names_every_missing_or_invalid_field(api: TestClient):
    empty = api.patch(f"{API}/bookings", json={})
    wrong_types = api.patch(
        f"{API}/bookings",
        json={"OriginalBookingId": "abc", "NewTime": {"Start": "tomorrow"}},
    )
    no_start = api.patch(
        f"{API}/bookings",
        json={
            "OriginalBookingId": 1,
            "NewTime": {"ClinicID": "UPP1"},
            "PatientToReschedule": {"PatientPersonalIdentification": "123"},
        },
    )

    assert empty.status_code == 400
    assert set(empty.json()["ModelState"]) == {
        "OriginalBookingId",
        "PatientToReschedule.PersonalNumber",
        "NewTime",
    }
    assert set(wrong_types.json()["ModelState"]) == {"OriginalBookingId", "NewTime.Start"}
    assert set(no_start.json()["ModelState"]) == {
        "PatientToReschedule.PatientPersonalIdentification",
        "NewTime.Start",
    }


# -- the listing -------------------------------------------------------------------------


def test_a_patients_bookings_are_listed_soonest_first_in_the_specs_shape(
    api_both: TestClient, synced
):
    first, second, theirs = later_times(api_both)[0], later_times(api_both)[-1], None
    later_id = book(api_both, second, serial=4)
    sooner_id = book(api_both, first, serial=4)
    theirs = book(api_both, other_slot(api_both, first), serial=5)
    cancelled = book(api_both, later_times(api_both)[1], serial=4)
    cancel(api_both, cancelled, serial=4)

    response = api_both.get(f"{API}/patients/{personal_number(4)}/bookings")

    assert response.status_code == 200
    listed = response.json()
    assert [b["ID"] for b in listed] == [sooner_id, later_id]
    assert theirs not in [b["ID"] for b in listed]
    item = listed[0]
    assert set(item) == {
        "ID",
        "Patient",
        "TimeSlot",
        "CampaignCode",
        "FreeTextMessage",
        "CategoryDescription",
        "CategoryCode",
    }
    assert item["TimeSlot"] == {**first, "ID": sooner_id}
    assert item["Patient"]["PatientPersonalIdentification"] == personal_number(4)
    assert item["Patient"]["PersonalNumber"] == {
        "Year": 1980,
        "Month": 1,
        "Day": 1,
        "ExtraDigits": personal_number(4)[8:],
    }
    assert (item["Patient"]["FirstName"], item["Patient"]["Email"]) == ("Anna", "anna4@example.se")


def test_the_listing_includes_the_clinics_own_appointments_and_past_on_request(
    api: TestClient, synced_store: Engine
):
    booking_id = book(api, later_times(api)[0], serial=6)
    starts_at = booking(synced_store, booking_id).starts_at
    with session_scope(synced_store) as session:
        tenant_id = session.scalars(
            select(Tenant.id).where(Tenant.subdomain == DEMO_SUBDOMAIN)
        ).one()
        made = session.get(Booking, booking_id)
        session.add(
            OpusAppointment(
                tenant_id=tenant_id,
                opus_database_id=session.get(Treatment, made.treatment_id).opus_database_id,
                opus_appointment_id=99001,
                clinic_id=made.clinic_id,
                practitioner_id=made.practitioner_id,
                treatment_id=made.treatment_id,
                personal_number=personal_number(6),
                starts_at=starts_at + timedelta(days=1),
                ends_at=starts_at + timedelta(days=1, minutes=30),
                status="booked",
                row_version=1,
            )
        )
    at(api, starts_at + timedelta(hours=1))  # the online booking is past now
    path = f"{API}/patients/{personal_number(6)}/bookings"

    coming = api.get(path).json()
    everything = api.get(path, params={"request.includePastBookings": "true"}).json()

    assert [b["ID"] for b in coming] == [0]  # the clinic's own: changed by phone
    assert [b["ID"] for b in everything] == [booking_id, 0]


def test_the_extended_listing_names_clinic_clinician_and_treatment(
    api: TestClient, synced_store: Engine
):
    slot = later_times(api)[0]
    booking_id = book(api, slot, serial=7)

    response = api.get(f"{API}/patients/{personal_number(7)}/bookings/extended")

    assert response.status_code == 200
    (item,) = response.json()
    time_slot = item["TimeSlot"]
    assert item["ID"] == time_slot["ID"] == booking_id
    assert time_slot["Clinic"]["ID"] == slot["ClinicID"]
    assert "Group" not in time_slot["Clinic"]
    assert time_slot["Clinician"]["ID"] == slot["ClinicianID"]
    assert time_slot["Treatment"]["ID"] == slot["TreatmentID"]
    with session_scope(synced_store) as session:
        made = session.get_one(Booking, booking_id)
        clinic = session.get_one(Clinic, made.clinic_id)
        clinician = session.get_one(Practitioner, made.practitioner_id)
        treatment = session.get_one(Treatment, made.treatment_id)
        assert time_slot["Clinic"]["Name"] == clinic.name
        assert time_slot["Clinician"]["Name"] == clinician.display_name
        assert time_slot["Treatment"]["Name"] == treatment.name
        assert time_slot["Treatment"]["Duration"] == treatment.duration_min
        assert all([clinic.name, clinician.display_name, treatment.name])  # not vacuous


def test_the_number_may_come_in_the_query_and_must_be_valid(api: TestClient):
    booking_id = book(api, later_times(api)[0], serial=8)
    number = personal_number(8)

    by_query = api.get(
        f"{API}/patients/{{patientPersonalIdentification}}/bookings",
        params={"request.patientPersonalIdentification": number},
    )
    by_parts = api.get(
        f"{API}/patients/{number}/bookings",
        params={
            "request.personalIdentification.year": number[:4],
            "request.personalIdentification.month": number[4:6],
            "request.personalIdentification.day": number[6:8],
            "request.personalIdentification.extraDigits": number[8:],
        },
    )
    disagreeing = api.get(
        f"{API}/patients/{number}/bookings",
        params={"request.patientPersonalIdentification": personal_number(9)},
    )
    invalid = api.get(f"{API}/patients/19800101-0000/bookings")

    assert [b["ID"] for b in by_query.json()] == [booking_id]
    assert [b["ID"] for b in by_parts.json()] == [booking_id]
    assert disagreeing.status_code == 400
    assert invalid.status_code == 400
    assert list(invalid.json()["ModelState"]) == ["patientPersonalIdentification"]
    assert "0000" not in invalid.text  # the number is never repeated


def test_the_listing_follows_visning_av_bokning(api: TestClient, synced_store: Engine):
    change_settings(synced_store, view_bookings_enabled=False)

    response = api.get(f"{API}/patients/{personal_number(1)}/bookings")

    assert response.status_code == 403
    assert "Visning av bokning" in response.json()["Message"]


def test_maintenance_closes_changes_too(api: TestClient, synced_store: Engine):
    booking_id = book(api, later_times(api)[0])
    change_settings(synced_store, maintenance_mode=True)

    assert cancel(api, booking_id).status_code == 503
    assert booking(synced_store, booking_id).status == "confirmed"


# -- personal numbers stay out of the logs -----------------------------------------------


def test_the_access_log_masks_personal_numbers_in_paths_and_queries(synced_store: Engine):
    api_client(synced_store)  # the app, as uvicorn loads it
    uvicorn.Config("booking_app.main:create_app", factory=True, log_level="info")  # logging set
    number = personal_number(1)
    lines = [
        f"/api/public/v1/patients/{number}/bookings?request.includePastBookings=true",
        f"/api/public/v1/patients/x/bookings?request.patientPersonalIdentification={number}",
        "/api/public/v1/bookings?request.bookingID=5&request.requestedByPersonalId.year=1980"
        f"&request.requestedByPersonalId.extraDigits={number[8:]}",
        f"/api/public/v1/patients?request.ssn={number[2:8]}-{number[8:]}",
    ]
    logged = []
    for line in lines:
        record = logging.LogRecord(
            "uvicorn.access",
            logging.INFO,
            __file__,
            0,
            '%s - "%s %s HTTP/%s" %d',
            ("127.0.0.1:5000", "GET", line, "1.1", 200),
            None,
        )
        assert logging.getLogger("uvicorn.access").filter(record)
        logged.append(record.getMessage())

    assert all(number not in m and number[8:] not in m for m in logged), logged
    assert "request.bookingID=5" in logged[2]
    assert mask("/api/public/v1/bookings?request.bookingID=5") == (
        "/api/public/v1/bookings?request.bookingID=5"
    )


# -- the document ------------------------------------------------------------------------


def test_the_openapi_document_has_the_patient_operations(api: TestClient):
    paths = api.get(f"{API}/swagger.json").json()["paths"]

    assert paths[f"{API}/bookings"]["patch"]["operationId"] == "BookingsV1_RescheduleBooking"
    assert paths[f"{API}/bookings"]["delete"]["operationId"] == "BookingsV1_CancelBooking"
    listing = paths[f"{API}/patients/{{patientPersonalIdentification}}/bookings"]["get"]
    assert listing["operationId"] == "PatientsV1_GetBookings"
    assert [p["name"] for p in listing["parameters"]] == [
        "patientPersonalIdentification",
        "request.includePastBookings",
        "request.patientPersonalIdentification",
        "request.personalIdentification.year",
        "request.personalIdentification.month",
        "request.personalIdentification.day",
        "request.personalIdentification.extraDigits",
    ]
    cancel_names = [p["name"] for p in paths[f"{API}/bookings"]["delete"]["parameters"]]
    assert cancel_names == [
        "request.bookingID",
        "request.clinicID",
        "request.requestedBy",
        "request.requestedByPersonalId.year",
        "request.requestedByPersonalId.month",
        "request.requestedByPersonalId.day",
        "request.requestedByPersonalId.extraDigits",
        "request.notifyPatient",
    ]
    body = paths[f"{API}/bookings"]["patch"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/RescheduleDTOInput"}
