"""Available times: the store's bookable starts, in Stockholm time with the offset,
for the spec's three time operations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from booking_app.api.binding import STOCKHOLM
from connectors.store.availability import bookable_times, rules_for
from connectors.store.db import session_scope
from connectors.store.models import Clinic, Practitioner, Tenant, Treatment
from tests.booking_app.api.api_client import API, times
from tests.booking_app.booking_pages import change_settings

SLOT_FIELDS = {"ID", "Start", "End", "ClinicID", "ClinicianID", "TreatmentID"}


def _store_times(engine: Engine, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    with session_scope(engine) as session:
        tenant = session.scalars(select(Tenant)).one()
        clinic = session.scalars(select(Clinic).where(Clinic.opus_clinic_id == "UPP1")).one()
        treatment = session.scalars(select(Treatment).where(Treatment.opus_treatment_id == 1)).one()
        now = datetime.now(UTC)
        rules = rules_for(tenant.settings, treatment, clinic, now)
        slots = bookable_times(session, tenant.id, clinic.id, treatment, rules, start, end, now)
        opus = dict(session.execute(select(Practitioner.id, Practitioner.opus_clinician_id)).all())
        return [(s.starts_at, opus[s.practitioner_id]) for s in slots]


def test_available_times_are_the_stores_bookable_times_in_stockholm_time(
    api: TestClient, synced_store: Engine
):
    slots = times(api)

    assert slots and all(set(s) == SLOT_FIELDS for s in slots)
    first = slots[0]
    start = datetime.fromisoformat(first["Start"])
    # Local clinic time with its offset: +01:00 in winter, +02:00 in summer.
    assert start.utcoffset() == start.astimezone(STOCKHOLM).utcoffset()
    assert first["Start"] == start.astimezone(STOCKHOLM).isoformat(timespec="seconds")
    assert datetime.fromisoformat(first["End"]) - start == timedelta(minutes=45)
    assert (first["ID"], first["ClinicID"], first["TreatmentID"]) == (0, "UPP1", 1)
    window_end = datetime.now(UTC) + timedelta(days=14)
    expected = _store_times(synced_store, datetime.now(UTC), window_end)
    got = [(datetime.fromisoformat(s["Start"]), s["ClinicianID"]) for s in slots]
    assert got == expected


def test_the_window_is_14_days_by_default_and_31_at_most(api: TestClient):
    now = datetime.now(STOCKHOLM)

    default = times(api)
    asked = times(
        api,
        **{
            "request.from": now.isoformat(),
            "request.to": (now + timedelta(days=90)).isoformat(),
        },
    )

    def last(slots) -> datetime:
        return datetime.fromisoformat(slots[-1]["Start"])

    assert last(default) <= now + timedelta(days=14)
    assert now + timedelta(days=14) < last(asked) <= now + timedelta(days=31)


def test_a_window_narrows_the_times_and_an_inverted_one_is_refused(api: TestClient):
    # A day with a morning time (the first day's first time may be after noon).
    morning = next(s for s in times(api) if datetime.fromisoformat(s["Start"]).hour < 12)
    day = datetime.fromisoformat(morning["Start"]).date()
    # Stockholm local time, written without an offset, as Opus clients send it.
    narrowed = times(api, **{"request.from": f"{day}T00:00:00", "request.to": f"{day}T12:00:00"})

    assert narrowed and all(
        datetime.fromisoformat(s["Start"]).date() == day
        and datetime.fromisoformat(s["Start"]).hour < 12
        for s in narrowed
    )
    inverted = api.get(
        f"{API}/appointments/schedule/availabletimes",
        params={
            "request.treatmentID": 1,
            "request.from": f"{day}T12:00:00",
            "request.to": f"{day}T08:00:00",
        },
    )
    assert inverted.status_code == 400
    assert inverted.json()["ModelState"] == {
        "request.to": ["Sluttiden måste vara efter starttiden."]
    }


def test_times_need_a_treatment_and_known_ids(api: TestClient):
    url = f"{API}/appointments/schedule/availabletimes"

    missing = api.get(url, params={"request.clinicID": "UPP1"})
    unknown_treatment = api.get(url, params={"request.treatmentID": 99})
    unknown_clinic = api.get(url, params={"request.treatmentID": 1, "request.clinicID": "X"})
    unknown_clinician = api.get(url, params={"request.treatmentID": 1, "request.clinicianID": 99})
    not_a_number = api.get(url, params={"request.treatmentID": "one"})

    assert missing.status_code == 400
    assert missing.json()["ModelState"] == {"request.treatmentID": ["Fältet krävs."]}
    assert [r.status_code for r in (unknown_treatment, unknown_clinic, unknown_clinician)] == [
        404
    ] * 3
    assert not_a_number.status_code == 400
    assert not_a_number.json()["ModelState"] == {"request.treatmentID": ["Ska vara ett heltal."]}


def test_without_a_clinic_every_clinic_in_time_order(api: TestClient):
    slots = times(api, clinic=None)  # params with None are left out
    uppsala = times(api, clinic=None, **{"request.groupName": "Uppsala"})

    assert {s["ClinicID"] for s in slots} == {"UPP1", "UPP2", "VAS1", "ENK1"}
    starts = [datetime.fromisoformat(s["Start"]) for s in slots]
    assert starts == sorted(starts)
    assert {s["ClinicID"] for s in uppsala} == {"UPP1", "UPP2"}


def test_one_clinicians_times(api: TestClient):
    slots = times(api, **{"request.clinicianID": 3})
    elsewhere = times(api, clinic="VAS1", **{"request.clinicianID": 3})

    assert slots and {s["ClinicianID"] for s in slots} == {3}
    assert elsewhere == []  # a clinician of another clinic: nothing there


def test_the_overview_has_each_days_first_time_per_clinician(api: TestClient):
    every = times(api)
    overview = api.get(
        f"{API}/appointments/schedule/overview/availabletimes",
        params={"request.clinicID": "UPP1", "request.treatmentID": 1},
    ).json()

    def day_of(slot) -> tuple:
        return (datetime.fromisoformat(slot["Start"]).date(), slot["ClinicianID"])

    assert len({day_of(s) for s in overview}) == len(overview)
    firsts = {}
    for slot in every:
        firsts.setdefault(day_of(slot), slot)
    assert sorted(overview, key=lambda s: (s["Start"], s["ClinicianID"])) == sorted(
        firsts.values(), key=lambda s: (s["Start"], s["ClinicianID"])
    )


def test_timeslots_lists_a_calendar_month(api: TestClient):
    first = datetime.fromisoformat(times(api)[0]["Start"])

    month = api.get(
        f"{API}/timeslots",
        params={"year": first.year, "month": first.month, "clinicID": "UPP1", "treatmentID": 1},
    )
    later = api.get(
        f"{API}/timeslots",
        params={
            "year": first.year,
            "month": first.month,
            "clinicID": "UPP1",
            "treatmentID": 1,
            "delay": 24 * 60 * 40,
        },
    )

    assert month.status_code == 200
    assert month.json()[0] == times(api)[0]
    assert all(
        (s := datetime.fromisoformat(t["Start"])).month == first.month and s.year == first.year
        for t in month.json()
    )
    assert later.json() == []  # 40 days of extra notice: nothing left this month


def test_timeslots_needs_year_and_month_in_range(api: TestClient):
    missing = api.get(f"{API}/timeslots", params={"treatmentID": 1})
    wrong = api.get(f"{API}/timeslots", params={"treatmentID": 1, "year": 2026, "month": 13})

    assert missing.status_code == 400
    assert set(missing.json()["ModelState"]) == {"year", "month"}
    assert wrong.status_code == 400
    assert wrong.json()["ModelState"] == {"month": ["Månaden ska vara 1–12."]}


def test_no_times_when_the_site_is_not_published(api: TestClient, synced_store: Engine):
    change_settings(synced_store, publish_opus_online=False)

    assert times(api) == []


def test_weekend_times_follow_helgbokning(api: TestClient, synced_store: Engine):
    def weekend(slots) -> list:
        return [s for s in slots if datetime.fromisoformat(s["Start"]).weekday() >= 5]

    assert weekend(times(api, clinic=None)) == []
    change_settings(synced_store, weekend_booking_enabled=True)
    # Changed behind the app's back: its answers of the last seconds still stand ...
    assert weekend(times(api, clinic=None)) == []
    api.app.state.answer_cache.forget(api.base_url.host)  # ... until they lapse
    assert weekend(times(api, clinic=None))  # the demo has a few Saturday ranges
