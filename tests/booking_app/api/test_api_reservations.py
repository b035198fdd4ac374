"""Reservations: a held time, checked, let go, or booked by its id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from connectors.store import bookings
from connectors.store.db import session_scope
from connectors.store.models import Booking, Clinic, Practitioner, Tenant, Treatment
from tests.booking_app.api.api_client import API, booking_body, bookings_in, times, times_apart


def _check(api: TestClient, slot: dict, **extra) -> bool:
    params = {f"timeSlotToCheck.{k[0].lower() + k[1:]}": v for k, v in slot.items() if k != "ID"}
    response = api.get(f"{API}/reservations/available", params={**params, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_reservation_holds_the_time_until_it_is_let_go(api_both: TestClient, synced: Engine):
    slot = times(api_both)[0]
    assert _check(api_both, slot) is True

    reserved = api_both.put(f"{API}/reservations", json=slot)

    assert reserved.status_code == 200
    reservation_id = reserved.json()
    assert isinstance(reservation_id, int)
    (held,) = bookings_in(synced)
    assert (held.id, held.status, held.channel) == (reservation_id, "held", "api")
    assert slot not in times(api_both)
    assert _check(api_both, slot) is False
    assert _check(api_both, slot, **{"timeSlotToCheck.iD": reservation_id}) is True

    released = api_both.delete(f"{API}/reservations/{reservation_id}")

    assert (released.status_code, released.json()) == (200, {})
    assert bookings_in(synced)[0].status == "expired"
    assert _check(api_both, slot) is True
    # Letting go twice is fine (a retried request).
    assert api_both.delete(f"{API}/reservations/{reservation_id}").status_code == 200


def test_the_reservation_id_may_come_in_the_query(api: TestClient):
    slots = times_apart(api, 3)
    ids = [api.put(f"{API}/reservations", json=s).json() for s in slots]

    by_query = api.delete(f"{API}/reservations", params={"reservationId": ids[0]})
    by_prefixed = api.delete(f"{API}/reservations", params={"request.reservationId": ids[1]})
    # A client that sends the path template as it stands, with the id in the query.
    literal = api.delete(f"{API}/reservations/{{ReservationId}}", params={"reservationid": ids[2]})
    without = api.delete(f"{API}/reservations")

    assert [r.status_code for r in (by_query, by_prefixed, literal)] == [200, 200, 200]
    assert all(_check(api, s) for s in slots)
    assert without.status_code == 400
    assert without.json()["ModelState"] == {"reservationId": ["Fältet krävs."]}


def test_a_taken_time_cannot_be_reserved(api: TestClient):
    slot = times(api)[0]
    assert api.put(f"{API}/reservations", json=slot).status_code == 200

    again = api.put(f"{API}/reservations", json=slot)

    assert again.status_code == 409
    assert again.json()["NearestFreeTimes"]


def test_a_lapsed_reservation_frees_the_time(api: TestClient, synced_store: Engine):
    slot = times(api)[0]
    first = api.put(f"{API}/reservations", json=slot).json()
    with session_scope(synced_store) as session:
        session.execute(
            update(Booking)
            .where(Booking.id == first)
            .values(hold_expires_at=datetime.now().astimezone() - timedelta(minutes=1))
        )

    assert _check(api, slot) is True
    assert _check(api, slot, **{"timeSlotToCheck.iD": first}) is True  # time still free
    only_id = api.get(f"{API}/reservations/available", params={"timeSlotToCheck.iD": first})
    assert only_id.json() is True  # the rest of the slot is the reservation's
    second = api.put(f"{API}/reservations", json=slot)
    assert second.status_code == 200
    assert {b.status for b in bookings_in(synced_store)} == {"expired", "held"}


def test_unknown_reservations_are_404(api: TestClient):
    assert api.delete(f"{API}/reservations/999999").status_code == 404
    assert api.get(f"{API}/reservations/available", params={"timeSlotToCheck.iD": 999999}).json()[
        "Message"
    ] == ("Reservationen finns inte.")


def test_a_booked_reservation_is_not_let_go_by_delete(api: TestClient):
    slot = times(api)[0]
    reservation_id = api.put(f"{API}/reservations", json=slot).json()
    body = booking_body({**slot, "ID": reservation_id})
    assert api.post(f"{API}/bookings", json=body).json() == reservation_id

    response = api.delete(f"{API}/reservations/{reservation_id}")

    assert response.status_code == 409
    assert "redan bokad" in response.json()["Message"]


def test_reservation_body_is_validated(api: TestClient):
    slot = times(api)[0]

    empty = api.put(f"{API}/reservations", json={})
    wrong_end = api.put(f"{API}/reservations", json={**slot, "End": slot["Start"]})
    long_end = api.put(
        f"{API}/reservations",
        json={
            **slot,
            "End": (datetime.fromisoformat(slot["End"]) + timedelta(minutes=15)).isoformat(),
        },
    )
    unknown = api.put(f"{API}/reservations", json={**slot, "ClinicianID": 9})

    assert empty.status_code == 400
    assert set(empty.json()["ModelState"]) == {"Start", "ClinicID", "TreatmentID"}
    assert wrong_end.json()["ModelState"] == {"End": ["Sluttiden måste vara efter starttiden."]}
    assert long_end.json()["ModelState"] == {
        "End": ["Sluttiden stämmer inte med behandlingens längd."]
    }
    assert unknown.status_code == 404  # clinician 9 works in Västerås, not here
    assert unknown.json()["Message"] == "Behandlaren tar inte emot bokningar på den kliniken."


def test_a_patients_hold_on_the_booking_page_is_no_api_reservation(
    api: TestClient, synced_store: Engine
):
    slot = times(api)[0]
    with session_scope(synced_store) as session:
        tenant = session.scalars(select(Tenant)).one()
        clinic = session.scalars(select(Clinic).where(Clinic.opus_clinic_id == "UPP1")).one()
        treatment = session.scalars(select(Treatment).where(Treatment.opus_treatment_id == 1))
        practitioner = session.scalars(
            select(Practitioner).where(Practitioner.opus_clinician_id == slot["ClinicianID"])
        ).one()
        site_hold = bookings.hold(
            session,
            bookings.Request(
                tenant.id,
                clinic.id,
                treatment.one().id,
                datetime.fromisoformat(slot["Start"]),
                practitioner.id,
            ),
            datetime.now(UTC),
        ).id

    assert api.delete(f"{API}/reservations/{site_hold}").status_code == 404
    body = booking_body({"ID": site_hold})
    assert api.post(f"{API}/bookings", json=body).status_code == 404
    assert [b.status for b in bookings_in(synced_store)] == ["held"]
