"""The API's own OpenAPI document: served as JSON, naming the spec's operations,
paths, parameters and fields. The app's CDN-loading docs pages stay off."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.booking_app.api.api_client import API

OPERATIONS = {
    ("get", "/clinics"): "ClinicsV1_GetClinics",
    ("get", "/clinics/{id}"): "ClinicsV1_GetClinic",
    ("get", "/clinicians"): "CliniciansV1_GetClinicians",
    ("get", "/treatments"): "TreatmentsV1_GetTreatments",
    ("get", "/appointments/schedule/availabletimes"): (
        "AppointmentsV1_GetAvailableTimesForScheduling"
    ),
    ("get", "/appointments/schedule/overview/availabletimes"): "AppointmentsV1_GetOverView",
    ("get", "/timeslots"): "TimeSlotsV1_GetCalendar",
    ("put", "/reservations"): "ReservationsV1_MakeReservation",
    ("get", "/reservations/available"): "ReservationsV1_IsTimeAvailable",
    ("delete", "/reservations/{ReservationId}"): "ReservationsV1_DeleteReservation",
    ("post", "/bookings"): "BookingsV1_AddBooking",
    ("patch", "/bookings"): "BookingsV1_RescheduleBooking",
    ("delete", "/bookings"): "BookingsV1_CancelBooking",
    ("get", "/patients/{patientPersonalIdentification}/bookings"): "PatientsV1_GetBookings",
    ("get", "/patients/{patientPersonalIdentification}/bookings/extended"): (
        "PatientsV1_GetExtendedBookings"
    ),
}
QUERY_NAMES = {
    "/clinics": [
        "request.clinicianID",
        "request.treatmentID",
        "request.onlyWithFreeTimes",
        "request.groupName",
    ],
    "/clinicians": [
        "request.clinicID",
        "request.treatmentID",
        "request.onlyWithFreeTimes",
        "request.groupName",
    ],
    "/treatments": ["request.clinicID", "request.clinicianID", "request.groupName"],
    "/appointments/schedule/availabletimes": [
        "request.from",
        "request.to",
        "request.treatmentID",
        "request.clinicID",
        "request.clinicianID",
        "request.groupName",
    ],
    "/timeslots": ["year", "month", "clinicID", "clinicianID", "treatmentID", "delay", "groupName"],
    "/reservations/available": [
        "timeSlotToCheck.iD",
        "timeSlotToCheck.start",
        "timeSlotToCheck.end",
        "timeSlotToCheck.clinicID",
        "timeSlotToCheck.clinicianID",
        "timeSlotToCheck.treatmentID",
    ],
}


@pytest.fixture
def document(api: TestClient) -> dict:
    response = api.get(f"{API}/swagger.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    return response.json()


def test_both_addresses_serve_the_same_document_without_a_key(api: TestClient, document):
    api.headers.pop("apiKey")
    assert api.get(f"{API}/openapi.json").json() == document
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "apiKey",
    }


def test_the_spec_operations_with_their_ids_and_query_names(document):
    paths = document["paths"]
    found = {
        (method, path.removeprefix(API)): operation["operationId"]
        for path, methods in paths.items()
        for method, operation in methods.items()
    }
    assert found == OPERATIONS
    for path, names in QUERY_NAMES.items():
        params = paths[API + path]["get"]["parameters"]
        assert [p["name"] for p in params] == names, path
    calendar = {p["name"]: p["required"] for p in paths[API + "/timeslots"]["get"]["parameters"]}
    assert (calendar["year"], calendar["month"], calendar["clinicID"]) == (True, True, False)
    delete = paths[API + "/reservations/{ReservationId}"]["delete"]["parameters"]
    assert {p["name"] for p in delete} == {
        "ReservationId",
        "request.reservationId",
        "reservationId",
    }
    # JSON is documented (form data is accepted too, said in the description: its dotted
    # names are no JSON schema), with the input schema that says what is required.
    for method, path, schema in (
        ("put", "/reservations", "TimeSlotDTOInput"),
        ("post", "/bookings", "BookingDTOInput"),
        ("patch", "/bookings", "RescheduleDTOInput"),
    ):
        body = paths[API + path][method]["requestBody"]["content"]
        assert body == {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    assert all(
        "422" not in operation["responses"] for m in paths.values() for operation in m.values()
    )


def test_the_dto_fields_are_the_specs(document):
    schemas = document["components"]["schemas"]

    def fields(name: str) -> list[str]:
        return list(schemas[name]["properties"])

    assert fields("TimeSlotDTO") == ["ID", "Start", "End", "ClinicID", "ClinicianID", "TreatmentID"]
    assert fields("ClinicianDTO") == ["ID", "Name", "Title", "Active", "ClinicID", "Info"]
    assert fields("TreatmentDTO") == ["ID", "Name", "Description", "Duration"]
    assert fields("ClinicDTO")[:3] == ["ID", "Name", "Address1"]
    assert "Postalcode" in fields("ClinicDTO")
    assert {"Patient", "TimeSlot", "CampaignCode", "FreeTextMessage"} <= set(fields("BookingDTO"))
    assert {"PersonalNumber", "PatientPersonalIdentification", "Adress1", "MobilePhoneNumber"} <= (
        set(fields("PatientDTO"))
    )
    assert fields("PersonalIdentification") == ["Year", "Month", "Day", "ExtraDigits"]
    assert fields("ErrorDTO") == [
        "Message",
        "ModelState",
        "NearestFreeTimes",
        "Reason",
        "CutOff",
        "ClinicPhone",
    ]
    assert fields("RescheduleDTO") == [
        "OriginalBookingId",
        "NewTime",
        "PatientToReschedule",
        "RequestedBy",
        "ReschedulerIdentity",
    ]


def test_the_apps_docs_pages_stay_off(api: TestClient):
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
        assert api.get(path).status_code == 404, path


def test_the_document_says_what_the_api_checks(document):
    """Issue 19: required parameters, ranges, formats and patterns, so that a generated
    client's data is accepted (tests/booking_app/api/test_api_fuzz.py fuzzes it)."""
    paths, schemas = document["paths"], document["components"]["schemas"]

    def query(path: str, method: str = "get") -> dict[str, dict]:
        return {p["name"]: p for p in paths[API + path][method]["parameters"]}

    times = query("/appointments/schedule/availabletimes")
    assert times["request.treatmentID"]["required"] is True
    assert times["request.treatmentID"]["schema"]["minimum"] == 0
    assert times["request.from"]["schema"]["format"] == "date-time"
    assert times["request.from"]["schema"]["pattern"].startswith("^ *(20[0-9]{2}|2100)")
    calendar = query("/timeslots")
    assert (calendar["month"]["schema"]["minimum"], calendar["month"]["schema"]["maximum"]) == (
        1, 12,
    )  # fmt: skip
    assert calendar["year"]["schema"]["minimum"] == 2000
    available = query("/reservations/available")
    assert all(
        available[f"timeSlotToCheck.{name}"]["required"]
        for name in ("start", "clinicID", "treatmentID")
    )
    cancel = query("/bookings", "delete")
    assert cancel["request.bookingID"]["required"] is True
    assert cancel["request.requestedByPersonalId.extraDigits"]["schema"]["pattern"] == (
        "^[0-9]{4}$"
    )
    patients = query("/patients/{patientPersonalIdentification}/bookings")
    assert "pattern" in patients["patientPersonalIdentification"]["schema"]
    assert schemas["TimeSlotDTOInput"]["required"] == ["Start", "ClinicID", "TreatmentID"]
    assert schemas["BookingDTOInput"]["required"] == ["Patient", "TimeSlot"]
    assert schemas["PatientDTOInput"]["properties"]["FirstName"]["maxLength"] == 50
    assert schemas["RescheduleDTOInput"]["properties"]["NewTime"]["$ref"].endswith(
        "/NewTimeSlotDTOInput"
    )
    assert schemas["NewTimeSlotDTOInput"]["required"] == ["Start"]
    # The answers' schemas stay as they were: everything but ids may be null.
    assert "required" not in schemas["TimeSlotDTO"]
