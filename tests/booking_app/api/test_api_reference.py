"""Clinics, clinicians and treatments: the spec's field names, only what patients may
book (added practitioners, web treatments), and the spec's filters."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from connectors.store.db import session_scope
from connectors.store.models import (
    Clinic,
    ClinicPractitioner,
    Practitioner,
    Treatment,
)
from tests.booking_app.api.api_client import API

CLINIC_FIELDS = {
    "ID",
    "Name",
    "Address1",
    "Address2",
    "Postalcode",
    "City",
    "Home",
    "Work",
    "Fax",
    "Mobile",
    "Email",
    "Group",
    "Clinicians",
}
CLINICIAN_FIELDS = {"ID", "Name", "Title", "Active", "ClinicID", "Info"}


def test_clinics_in_the_operators_order_with_the_spec_fields(api: TestClient):
    clinics = api.get(f"{API}/clinics").json()

    assert [c["ID"] for c in clinics] == ["UPP1", "UPP2", "VAS1", "ENK1"]
    assert all(set(c) == CLINIC_FIELDS for c in clinics)
    centrum = clinics[0]
    assert centrum["Name"] == "Tandmottagningen Centrum"
    assert (centrum["Address1"], centrum["Postalcode"], centrum["City"]) == (
        "Kungsgatan 12",
        "753 21",
        "Uppsala",
    )
    assert centrum["Work"] == "018-10 20 30"
    assert (centrum["Group"], clinics[3]["Group"]) == ("Uppsala", None)
    assert [c["ID"] for c in centrum["Clinicians"]] == [1, 2, 3, 4]
    assert all(set(c) == CLINICIAN_FIELDS for c in centrum["Clinicians"])
    assert centrum["Clinicians"][0] == {
        "ID": 1,
        "Name": "Märta Karlsson",
        "Title": "Tandläkare",
        "Active": True,
        "ClinicID": "UPP1",
        "Info": None,
    }


def test_one_clinic_by_its_opus_id(api: TestClient):
    clinic = api.get(f"{API}/clinics/VAS1").json()

    assert (clinic["ID"], clinic["Group"]) == ("VAS1", "Västerås")
    assert [c["ClinicID"] for c in clinic["Clinicians"]] == ["VAS1"] * 4


def test_an_unknown_clinic_is_404_in_json(api: TestClient):
    response = api.get(f"{API}/clinics/NOPE")

    assert response.status_code == 404
    assert response.json() == {"Message": "Kliniken finns inte."}


def test_practitioners_the_operator_has_not_added_are_not_shown(
    api: TestClient, synced_store: Engine
):
    with session_scope(synced_store) as session:
        oskar = session.scalars(select(Practitioner).where(Practitioner.opus_clinician_id == 2))
        session.execute(
            update(ClinicPractitioner)
            .where(ClinicPractitioner.practitioner_id == oskar.one().id)
            .values(added=False)
        )

    centrum = api.get(f"{API}/clinics/UPP1").json()
    listed = api.get(f"{API}/clinicians", params={"request.clinicID": "UPP1"}).json()

    assert [c["ID"] for c in centrum["Clinicians"]] == [1, 3, 4]
    assert [c["ID"] for c in listed] == [1, 3, 4]


def test_clinics_by_group_clinician_and_treatment(api: TestClient, synced_store: Engine):
    def ids(**params) -> list[str]:
        response = api.get(f"{API}/clinics", params=params)
        assert response.status_code == 200, response.text
        return [c["ID"] for c in response.json()]

    assert ids(**{"request.groupName": "uppsala"}) == ["UPP1", "UPP2"]
    assert ids(**{"request.groupName": "Västerås"}) == ["VAS1"]
    assert ids(**{"request.groupName": "Stockholm"}) == []
    # Clinician 1 works at both Uppsala clinics.
    assert ids(**{"request.clinicianID": 1}) == ["UPP1", "UPP2"]
    assert ids(**{"request.clinicianID": 9}) == ["VAS1"]
    # Every clinic publishes time for an examination; with free times only, the same.
    assert ids(**{"request.treatmentID": 1}) == ["UPP1", "UPP2", "VAS1", "ENK1"]
    assert ids(**{"request.onlyWithFreeTimes": "true"}) == ["UPP1", "UPP2", "VAS1", "ENK1"]
    # Root canal treatment is booked by the clinic only: not a web treatment.
    assert api.get(f"{API}/clinics", params={"request.treatmentID": 8}).status_code == 404
    assert api.get(f"{API}/clinics", params={"request.clinicianID": 999}).status_code == 404


def test_only_with_free_times_drops_a_clinic_whose_time_is_all_past(
    api: TestClient, synced_store: Engine
):
    with session_scope(synced_store) as session:
        enk = session.scalars(select(Clinic).where(Clinic.opus_clinic_id == "ENK1")).one()
        session.execute(
            update(ClinicPractitioner)
            .where(ClinicPractitioner.clinic_id == enk.id)
            .values(added=False)
        )

    listed = api.get(f"{API}/clinics", params={"request.onlyWithFreeTimes": True}).json()
    everything = api.get(f"{API}/clinics").json()

    assert [c["ID"] for c in listed] == ["UPP1", "UPP2", "VAS1"]
    assert [c["ID"] for c in everything] == ["UPP1", "UPP2", "VAS1", "ENK1"]


def test_clinicians_per_clinic_with_filters(api: TestClient):
    def pairs(**params) -> list[tuple[str, int]]:
        response = api.get(f"{API}/clinicians", params=params)
        assert response.status_code == 200, response.text
        return [(c["ClinicID"], c["ID"]) for c in response.json()]

    everyone = pairs()
    assert len(everyone) == 17  # 16 clinicians, one of them at two clinics
    assert ("UPP1", 1) in everyone and ("UPP2", 1) in everyone
    assert pairs(**{"request.clinicID": "VAS1"}) == [("VAS1", n) for n in (9, 10, 11, 12)]
    assert {c for c, _ in pairs(**{"request.groupName": "Uppsala"})} == {"UPP1", "UPP2"}
    assert pairs(**{"request.clinicID": "VAS1", "request.groupName": "Uppsala"}) == []
    # Clinician 1 works at Gränby too but publishes time only at Centrum.
    free = pairs(**{"request.onlyWithFreeTimes": "true"})
    assert free == [p for p in everyone if p != ("UPP2", 1)]
    # Which clinicians offer a treatment is known from their published free time.
    hygiene = pairs(**{"request.treatmentID": 5})
    assert hygiene and set(hygiene) < set(everyone)
    assert api.get(f"{API}/clinicians", params={"request.clinicID": "X"}).status_code == 404


def test_treatments_are_the_web_bookable_ones(api: TestClient):
    treatments = api.get(f"{API}/treatments").json()

    assert [t["ID"] for t in treatments] == [1, 2, 3, 4, 5, 6, 7]  # not 8: clinic only
    assert treatments[0] == {
        "ID": 1,
        "Name": "Undersökning",
        "Description": "Undersökning med röntgen",
        "Duration": 45,
    }


def test_treatments_filtered_by_what_is_offered_there(api: TestClient, synced_store: Engine):
    def ids(**params) -> list[int]:
        response = api.get(f"{API}/treatments", params=params)
        assert response.status_code == 200, response.text
        return [t["ID"] for t in response.json()]

    at_centrum = ids(**{"request.clinicID": "UPP1"})
    assert at_centrum and set(at_centrum) <= {1, 2, 3, 4, 5, 6, 7}
    by_clinician = ids(**{"request.clinicianID": 3})
    assert by_clinician and set(by_clinician) <= set(ids())
    assert ids(**{"request.groupName": "Uppsala"})
    with session_scope(synced_store) as session:
        session.execute(
            update(Treatment).where(Treatment.opus_treatment_id == 1).values(create_in_web=False)
        )
    assert 1 not in ids(**{"request.clinicID": "UPP1"})
    assert api.get(f"{API}/treatments", params={"request.clinicianID": 999}).status_code == 404
