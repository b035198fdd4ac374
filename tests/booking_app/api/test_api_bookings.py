"""POST /bookings: patient validation, hold and confirm in one transaction, the
tenant's settings, and what a client is told when it goes wrong."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from connectors.store.db import session_scope
from connectors.store.models import Booking, OutboxMessage
from tests.booking_app.api.api_client import (
    API,
    booking_body,
    bookings_in,
    patient,
    personal_number,
    times,
    times_apart,
)
from tests.booking_app.booking_pages import change_settings


def _outbox(engine: Engine) -> list[tuple[str, str]]:
    with session_scope(engine) as session:
        return [(m.channel, m.kind) for m in session.scalars(select(OutboxMessage))]


def test_a_booking_is_stored_confirmed_and_the_patient_told(api_both: TestClient, synced):
    slot = times(api_both)[0]

    response = api_both.post(f"{API}/bookings", json=booking_body(slot, serial=5))

    assert response.status_code == 200
    (booking,) = bookings_in(synced)
    assert response.json() == booking.id
    assert (booking.status, booking.channel, booking.any_practitioner) == (
        "confirmed",
        "api",
        False,
    )
    assert booking.personal_number == personal_number(5)
    assert (booking.first_name, booking.last_name) == ("Anna", "Andersson")
    assert (booking.email, booking.mobile) == ("anna5@example.se", "+46701234567")
    assert booking.starts_at == datetime.fromisoformat(slot["Start"])
    assert sorted(_outbox(synced)) == [("email", "new"), ("sms", "new")]
    assert slot not in times(api_both)


def test_the_same_booking_sent_twice_is_one_booking(api_both: TestClient, synced):
    slot = times(api_both)[0]
    body = booking_body(slot)

    first = api_both.post(f"{API}/bookings", json=body)
    second = api_both.post(f"{API}/bookings", json=body)

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json()
    assert len(bookings_in(synced)) == 1
    assert len(_outbox(synced)) == 2  # told once


def test_another_patient_on_a_booked_time_gets_409_and_the_nearest_times(api: TestClient):
    slot = times(api)[0]
    assert api.post(f"{API}/bookings", json=booking_body(slot, serial=1)).status_code == 200

    response = api.post(f"{API}/bookings", json=booking_body(slot, serial=2))

    assert response.status_code == 409
    body = response.json()
    assert body["Message"] == (
        "Tiden är inte längre ledig. Välj någon av de närmaste lediga tiderna."
    )
    nearest = body["NearestFreeTimes"]
    assert 0 < len(nearest) <= 5
    assert nearest == sorted(nearest, key=lambda t: (t["Start"], t["ClinicianID"]))
    assert all(t in times(api) for t in nearest)  # each one is bookable
    booked = api.post(f"{API}/bookings", json=booking_body(nearest[0], serial=2))
    assert booked.status_code == 200


def test_any_clinician_books_one_of_those_free_then(api: TestClient, synced_store: Engine):
    slot = times(api)[0]
    free_then = {t["ClinicianID"] for t in times(api) if t["Start"] == slot["Start"]}

    response = api.post(f"{API}/bookings", json=booking_body({**slot, "ClinicianID": 0}))

    assert response.status_code == 200
    (booking,) = bookings_in(synced_store)
    assert booking.any_practitioner
    taken = {t["ClinicianID"] for t in times(api) if t["Start"] == slot["Start"]}
    assert len(taken) == len(free_then) - 1


def test_booking_a_reservation_by_its_id(api: TestClient, synced_store: Engine):
    slot = times(api)[0]
    reservation_id = api.put(f"{API}/reservations", json=slot).json()

    response = api.post(f"{API}/bookings", json=booking_body({"ID": reservation_id}))
    again = api.post(f"{API}/bookings", json=booking_body({**slot, "ID": reservation_id}))
    other = api.post(f"{API}/bookings", json=booking_body({"ID": reservation_id}, serial=9))

    assert response.json() == reservation_id == again.json()
    (booking,) = bookings_in(synced_store)
    assert (booking.id, booking.status) == (reservation_id, "confirmed")
    assert other.status_code == 409


def test_a_reservation_id_with_another_slot_is_refused(api: TestClient):
    first, second = times(api)[0], times(api)[-1]
    reservation_id = api.put(f"{API}/reservations", json=first).json()

    response = api.post(f"{API}/bookings", json=booking_body({**second, "ID": reservation_id}))

    assert response.status_code == 400
    assert response.json()["ModelState"] == {"TimeSlot": ["Tiden stämmer inte med reservationen."]}


def test_a_released_reservation_is_booked_again_if_the_time_is_free(
    api: TestClient, synced_store: Engine
):
    slot = times(api)[0]
    reservation_id = api.put(f"{API}/reservations", json=slot).json()
    api.delete(f"{API}/reservations/{reservation_id}")

    response = api.post(f"{API}/bookings", json=booking_body({**slot, "ID": reservation_id}))

    assert response.status_code == 200
    assert [b.status for b in bookings_in(synced_store)] == ["expired", "confirmed"]


def test_every_invalid_field_is_named_at_once_in_swedish(api: TestClient, synced_store: Engine):
    slot = times(api)[0]
    body = {
        "Patient": {
            "PatientPersonalIdentification": "19800101-1235",
            "FirstName": "",
            "LastName": "x" * 51,
            "Email": "anna@",
            "MobilePhoneNumber": "0812345",
        },
        "TimeSlot": {**slot, "ClinicID": None},
    }

    response = api.post(f"{API}/bookings", json=body)

    assert response.status_code == 400
    assert response.json() == {
        "Message": "Förfrågan är ogiltig.",
        "ModelState": {
            "Patient.PatientPersonalIdentification": [
                "Personnumrets kontrollsiffra stämmer inte. Kontrollera numret."
            ],
            "Patient.FirstName": ["Förnamn krävs."],
            "Patient.LastName": ["Efternamnet är för långt."],
            "Patient.Email": ["E-postadressen är inte giltig, t.ex. namn@exempel.se."],
            "Patient.MobilePhoneNumber": [
                "Det är inte ett svenskt mobilnummer (fasta nummer och servicenummer som "
                "0771- tar inte emot sms)."
            ],
            "TimeSlot.ClinicID": ["Fältet krävs."],
        },
    }
    assert bookings_in(synced_store) == []  # nothing held, nothing half-stored
    # A message never repeats what was sent: it may be a personal number.
    assert "19800101" not in response.text


def test_a_personal_number_with_serial_000_is_refused(api: TestClient, synced_store: Engine):
    body = booking_body(times(api)[0])
    body["Patient"]["PatientPersonalIdentification"] = "19121212-0008"  # check digit right

    response = api.post(f"{API}/bookings", json=body)

    assert response.status_code == 400
    assert response.json()["ModelState"] == {
        "Patient.PatientPersonalIdentification": [
            "Personnumret finns inte: födelsenumret kan inte vara 000. Kontrollera numret."
        ]
    }
    assert bookings_in(synced_store) == []


def test_messages_in_english_on_request(api: TestClient):
    response = api.post(
        f"{API}/bookings", json={"Patient": {}}, headers={"Accept-Language": "en-GB,en;q=0.8"}
    )

    assert response.json()["ModelState"]["Patient.PersonalNumber"] == [
        "A personal identity number is required."
    ]
    assert response.json()["ModelState"]["TimeSlot"] == ["The field is required."]


def test_a_contact_is_required_so_the_confirmation_reaches_the_patient(api: TestClient):
    body = booking_body(times(api)[0])
    body["Patient"].update(Email="", MobilePhoneNumber=None)

    response = api.post(f"{API}/bookings", json=body)

    assert response.json()["ModelState"] == {
        "Patient.MobilePhoneNumber": [
            "Ange e-postadress eller mobilnummer, så att bekräftelsen når patienten."
        ]
    }


def test_the_personal_number_in_parts_or_as_one_string(api: TestClient, synced_store: Engine):
    slots = times_apart(api, 3)
    number = personal_number(3)
    parts = {
        "Year": int(number[:4]),
        "Month": int(number[4:6]),
        "Day": int(number[6:8]),
        "ExtraDigits": number[8:],
    }
    in_parts = {"Patient": patient(PersonalNumber=parts, PatientPersonalIdentification=None)}
    as_string = {"Patient": patient(3, PersonalNumber=number[2:8] + "-" + number[8:])}
    disagreeing = {"Patient": patient(serial=4, PersonalNumber=parts)}

    assert api.post(f"{API}/bookings", json={**in_parts, "TimeSlot": slots[0]}).status_code == 200
    assert api.post(f"{API}/bookings", json={**as_string, "TimeSlot": slots[1]}).status_code == 200
    response = api.post(f"{API}/bookings", json={**disagreeing, "TimeSlot": slots[2]})
    assert response.status_code == 400
    assert response.json()["ModelState"] == {
        "Patient.PersonalNumber": [
            "PersonalNumber och PatientPersonalIdentification anger olika personnummer."
        ]
    }
    assert [b.personal_number for b in bookings_in(synced_store)] == [number, number]


def test_unknown_ids_are_404_never_500(api: TestClient):
    slot = times(api)[0]

    for change, message in (
        ({"ClinicID": "NOPE"}, "Kliniken finns inte."),
        ({"TreatmentID": 8}, "Behandlingen finns inte eller kan inte bokas online."),
        ({"TreatmentID": 2_147_483_647}, "Behandlingen finns inte eller kan inte bokas online."),
        ({"ClinicianID": 424242}, "Behandlaren finns inte."),
        ({"ID": 987654}, "Reservationen finns inte."),
    ):
        response = api.post(f"{API}/bookings", json=booking_body({**slot, **change}))
        assert (response.status_code, response.json()["Message"]) == (404, message), change


def test_out_of_range_and_odd_values_are_400_never_500(api: TestClient):
    slot = times(api)[0]

    for change in (
        {"ClinicianID": 2**31},
        {"ClinicianID": -1},
        {"TreatmentID": "ett"},
        {"ClinicID": "UPP1\x00"},
        {"ClinicID": "U" * 51},
        {"Start": "tomorrow"},
        {"Start": "9999-12-31T23:59:59"},
        {"Start": "2026-03-29T02:30:00"},  # does not exist in Stockholm (DST)
        {"Start": ["2026-03-02T09:00:00"]},
    ):
        response = api.post(f"{API}/bookings", json=booking_body({**slot, **change}))
        assert response.status_code == 400, (change, response.text)
        assert list(response.json()["ModelState"]) == [f"TimeSlot.{next(iter(change))}"]


@pytest.mark.parametrize(
    ("setting", "status", "message"),
    [
        ({"maintenance_mode": True}, 503, "Bokningen är tillfälligt stängd för underhåll."),
        ({"publish_opus_online": False}, 403, "Onlinebokningen är stängd för den här kliniken."),
        ({"new_booking_enabled": False}, 403, "Kliniken tar inte emot nya bokningar online."),
        (
            {"new_booking_requires_login": True},
            403,
            "Kliniken kräver inloggning med e-legitimation för nya bokningar.",
        ),
    ],
)
def test_settings_that_close_new_bookings(
    api: TestClient, synced_store: Engine, setting, status, message
):
    slot = times(api)[0]
    change_settings(synced_store, **setting)

    booking = api.post(f"{API}/bookings", json=booking_body(slot))
    reservation = api.put(f"{API}/reservations", json=slot)

    assert (booking.status_code, reservation.status_code) == (status, status)
    assert booking.json()["Message"].startswith(message)
    if status == 503:
        assert booking.headers["Retry-After"] == "600"
    assert bookings_in(synced_store) == []
    check = {f"timeSlotToCheck.{k}": v for k, v in slot.items() if k != "ID"}
    assert api.get(f"{API}/reservations/available", params=check).json() is False


def test_maintenance_still_answers_reference_data(api: TestClient, synced_store: Engine):
    change_settings(synced_store, maintenance_mode=True)

    assert api.get(f"{API}/clinics").status_code == 200


def test_campaign_code_and_message_only_when_the_clinic_uses_them(
    api: TestClient, synced_store: Engine
):
    slots = times_apart(api, 3)
    extras = {"CampaignCode": "VAR26", "FreeTextMessage": "Jag är rädd för tandläkare."}

    refused = api.post(f"{API}/bookings", json=booking_body(slots[0], **extras))
    empty_is_fine = api.post(
        f"{API}/bookings", json=booking_body(slots[0], CampaignCode="", FreeTextMessage=None)
    )
    change_settings(synced_store, campaign_code_enabled=True, user_message_enabled=True)
    accepted = api.post(f"{API}/bookings", json=booking_body(slots[1], serial=2, **extras))
    too_long = api.post(
        f"{API}/bookings",
        json=booking_body(slots[2], serial=3, CampaignCode="X" * 31, FreeTextMessage="m" * 501),
    )

    assert refused.status_code == 400
    assert refused.json()["ModelState"] == {
        "FreeTextMessage": [
            "Kliniken tar inte emot meddelanden vid bokning; lämna FreeTextMessage tomt."
        ],
        "CampaignCode": ["Kliniken använder inte kampanjkoder; lämna CampaignCode tomt."],
    }
    assert (empty_is_fine.status_code, accepted.status_code) == (200, 200)
    stored = bookings_in(synced_store)[-1]
    assert (stored.campaign_code, stored.message) == ("VAR26", "Jag är rädd för tandläkare.")
    assert set(too_long.json()["ModelState"]) == {"CampaignCode", "FreeTextMessage"}


def test_the_address_is_kept_only_when_the_clinic_asks_for_it(
    api: TestClient, synced_store: Engine
):
    slots = times_apart(api, 2)
    address = {"Adress1": "Storgatan 1", "PostalCode": "753 20", "City": "Uppsala"}

    api.post(f"{API}/bookings", json={"Patient": patient(**address), "TimeSlot": slots[0]})
    change_settings(synced_store, ask_address=True)
    api.post(f"{API}/bookings", json={"Patient": patient(2, **address), "TimeSlot": slots[1]})

    unasked, asked = bookings_in(synced_store)
    assert (unasked.address1, unasked.city) == (None, None)
    assert (asked.address1, asked.postal_code, asked.city) == ("Storgatan 1", "753 20", "Uppsala")


def test_notify_patient_false_queues_no_confirmation(api: TestClient, synced_store: Engine):
    slot = times(api)[0]

    response = api.post(f"{API}/bookings?notifyPatient=false", json=booking_body(slot))

    assert response.status_code == 200
    assert _outbox(synced_store) == []


def test_bodies_json_or_form_and_nothing_else(api: TestClient, synced_store: Engine):
    slot = times(api)[0]
    form = {f"Patient.{k}": v for k, v in patient(6).items()} | {
        f"TimeSlot.{k}": v for k, v in slot.items()
    }

    as_form = api.post(f"{API}/bookings", data=form)
    as_text_json = api.post(
        f"{API}/bookings",
        content=json.dumps(booking_body(times(api)[0], serial=7)),
        headers={"Content-Type": "text/json; charset=utf-8"},
    )
    as_xml = api.post(
        f"{API}/bookings", content=b"<BookingDTO/>", headers={"Content-Type": "application/xml"}
    )
    broken = api.post(
        f"{API}/bookings", content=b'{"Patient": ', headers={"Content-Type": "application/json"}
    )
    a_list = api.post(f"{API}/bookings", json=[booking_body(slot)])
    deep = api.post(
        f"{API}/bookings",
        content=b"[" * 5000 + b"]" * 5000,
        headers={"Content-Type": "application/json"},
    )

    assert (as_form.status_code, as_text_json.status_code) == (200, 200)
    assert bookings_in(synced_store)[0].personal_number == personal_number(6)
    assert as_xml.status_code == 415
    assert broken.status_code == 400
    assert broken.json() == {"Message": "Innehållet är inte giltig JSON."}
    assert a_list.json() == {"Message": "Innehållet ska vara ett JSON-objekt."}
    assert deep.status_code == 400


def test_an_oversized_body_is_refused_before_it_is_read(api: TestClient, synced_store: Engine):
    body = booking_body(times(api)[0], FreeTextMessage="x" * 20_000)

    declared = api.post(f"{API}/bookings", json=body)

    def chunks():
        yield json.dumps(body)[:10_000].encode()
        yield b" " * 10_000

    chunked = api.post(
        f"{API}/bookings", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert (declared.status_code, chunked.status_code) == (413, 413)
    assert declared.json() == {"Message": "Förfrågan är för stor (högst 16384 byte)."}
    with session_scope(synced_store) as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == 0


def test_control_characters_are_refused_not_stored(api_both: TestClient, synced):
    body = booking_body(times(api_both)[0])
    body["Patient"]["Email"] = "anna\x00@example.se"  # PostgreSQL cannot store a NUL

    response = api_both.post(f"{API}/bookings", json=body)

    assert response.status_code == 400
    assert response.json()["ModelState"] == {
        "Patient.Email": ["Texten innehåller otillåtna tecken."]
    }
    assert bookings_in(synced) == []


def test_a_message_with_windows_line_ends_is_kept(api: TestClient, synced_store: Engine):
    change_settings(synced_store, user_message_enabled=True)
    body = booking_body(times(api)[0], FreeTextMessage="Hej!\r\nJag har ont.")

    assert api.post(f"{API}/bookings", json=body).status_code == 200
    assert bookings_in(synced_store)[0].message == "Hej!\nJag har ont."
