"""Boka vård end to end: the flow's work against the FHIR stand-in over real HTTP on
loopback, with the demo tenant synced from the demo Opus database."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy import Engine, func, select

from connectors.marketplace.resources import BOOKING_SYSTEM, parse_slot_key
from connectors.store import bookings
from connectors.store.bookings import Request
from connectors.store.db import session_scope, write_session_scope
from connectors.store.models import Booking, MarketplaceAppointment, MarketplaceResource
from demo.fhir_marketplace import FhirMarketplace
from flows.marketplace import Report, artifact_markdown, sync_marketplace
from flows.write_back import write_back_due
from tests.flows.write_back_helpers import OpusBook, book, free_slots
from tests.helpers import sync_tenant
from tests.marketplace_helpers import (
    PATIENT,
    TOKEN,
    TOKEN_ENV,
    Waits,
    account_row,
    client_factory,
    now,
    set_publishing,
    settings_for,
)

TYPES = ("Location", "Practitioner", "PractitionerRole", "HealthcareService", "Schedule", "Slot")


@pytest.fixture
def marketplace(monkeypatch) -> Iterator[FhirMarketplace]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with FhirMarketplace() as server:
        yield server


@pytest.fixture
def tenant(store: Engine, demo_tenant: str, marketplace: FhirMarketplace) -> str:
    sync_tenant(store, demo_tenant)
    set_publishing(store, True)
    marketplace.add_account(demo_tenant, TOKEN, active=True)
    return demo_tenant


@pytest.fixture
def waits() -> Waits:
    return Waits()


def run(store: Engine, tenant: str, marketplace, waits: Waits, **settings) -> Report:
    return sync_marketplace(
        store,
        tenant,
        settings=settings_for(marketplace, **settings),
        client_for=client_factory(waits),
    )


def held(marketplace: FhirMarketplace, tenant: str) -> Counter:
    return Counter({t: len(marketplace.resources(tenant, t)) for t in TYPES})


def state_rows(store: Engine) -> int:
    with session_scope(store) as session:
        return session.scalar(select(func.count()).select_from(MarketplaceResource))


def writes(marketplace: FhirMarketplace) -> int:
    return sum(n for call, n in marketplace.requests.items() if not call.startswith("GET"))


# -- publishing ---------------------------------------------------------------------------


def test_publish_sends_every_resource_once_and_each_is_valid_fhir(
    store, tenant, marketplace, waits
):
    report = run(store, tenant, marketplace, waits)
    assert report.state == "active" and not report.failures
    counts = held(marketplace, tenant)
    assert counts["Location"] > 0 and counts["Schedule"] > 0 and counts["Slot"] > 0
    assert report.published == sum(counts.values()) == state_rows(store)
    for kind in TYPES:
        for resource in marketplace.resources(tenant, kind):
            get_fhir_model_class(kind).model_validate(resource)  # raises when invalid
    # conditional references were resolved to the resources the marketplace holds
    schedule_ids = {s["id"] for s in marketplace.resources(tenant, "Schedule")}
    for slot in marketplace.resources(tenant, "Slot"):
        assert slot["schedule"]["reference"].removeprefix("Schedule/") in schedule_ids
        assert slot["status"] == "free"

    again = run(store, tenant, marketplace, waits)
    assert (again.published, again.withdrawn, again.failures) == (0, 0, [])
    assert held(marketplace, tenant) == counts


def test_a_time_booked_on_the_site_is_withdrawn_next_run(store, tenant, marketplace, waits):
    run(store, tenant, marketplace, waits)
    before = held(marketplace, tenant)["Slot"]
    tenant_id, clinic_id, treatment_id, slots = free_slots(store, days=7)
    booked = book(store, slots[0], (tenant_id, clinic_id, treatment_id))

    report = run(store, tenant, marketplace, waits)
    assert report.withdrawn >= 1 and report.published == 0 and not report.failures
    assert held(marketplace, tenant)["Slot"] == before - report.withdrawn
    for slot in marketplace.resources(tenant, "Slot"):
        ref = parse_slot_key(slot["identifier"][0]["value"])
        overlaps = ref.starts_at < booked.blocks_until and ref.starts_at >= booked.blocks_from
        assert not (ref.practitioner_id == booked.practitioner_id and overlaps)


def test_turning_the_setting_off_withdraws_everything(store, tenant, marketplace, waits):
    run(store, tenant, marketplace, waits)
    set_publishing(store, False)
    report = run(store, tenant, marketplace, waits)
    assert report.withdrawn > 0 and not report.failures
    assert sum(held(marketplace, tenant).values()) == 0
    assert state_rows(store) == 0
    # nothing left to withdraw: the next run does not even call
    calls = sum(marketplace.requests.values())
    assert run(store, tenant, marketplace, waits).state == "off"
    assert sum(marketplace.requests.values()) == calls


def test_nothing_is_published_until_the_account_is_activated(store, tenant, marketplace, waits):
    marketplace.activate(tenant, False)
    report = run(store, tenant, marketplace, waits)
    assert report.state == "waiting" and report.published == 0
    assert writes(marketplace) == 0 and state_rows(store) == 0
    account = account_row(store)
    assert account.state == "waiting" and "aktivering" in (account.last_error or "")

    marketplace.activate(tenant)
    report = run(store, tenant, marketplace, waits)
    assert report.state == "active" and report.published > 0
    assert account_row(store).state == "active"


def test_a_token_the_marketplace_does_not_know_is_a_recorded_failure(
    store, tenant, marketplace, waits, monkeypatch
):
    marketplace.accounts[tenant].token = "another"
    report = run(store, tenant, marketplace, waits)
    assert report.state == "refused" and report.failures and report.published == 0
    assert account_row(store).state == "refused" and account_row(store).last_error


# -- bookings made on the marketplace ---------------------------------------------------


def book_on_site(store: Engine, ref) -> Booking:
    """A patient on the booking site takes the time of a published Slot."""
    with write_session_scope(store) as session:
        request = Request(
            ref.tenant_id, ref.clinic_id, ref.treatment_id, ref.starts_at, ref.practitioner_id
        )
        booking = bookings.hold(session, request, now())
        booking.personal_number = "198112189876"
        return bookings.confirm(session, booking, now())


def first_free_slot(marketplace: FhirMarketplace, tenant: str) -> dict:
    return min(marketplace.resources(tenant, "Slot"), key=lambda s: s["start"])


def test_a_marketplace_booking_becomes_a_booking_and_reaches_opus(
    store, tenant, marketplace, waits, opus_sqlite: Path
):
    run(store, tenant, marketplace, waits)
    slot = first_free_slot(marketplace, tenant)
    appointment = marketplace.book(tenant, slot["identifier"][0]["value"], PATIENT)

    report = run(store, tenant, marketplace, waits)
    assert report.bookings_taken == 1 and not report.conflicts and not report.failures
    with session_scope(store) as session:
        booking = session.scalars(select(Booking).where(Booking.channel == "boka_vard")).one()
    assert booking.status == "confirmed" and booking.personal_number == PATIENT["personal_number"]
    assert booking.starts_at == parse_slot_key(slot["identifier"][0]["value"]).starts_at
    answered = marketplace.resources(tenant, "Appointment")[0]
    assert answered["id"] == appointment["id"] and answered["status"] == "booked"
    assert {"system": BOOKING_SYSTEM, "value": booking.reference} in answered["identifier"]
    # the booked slot is withdrawn in the same run; a rerun takes nothing twice
    assert marketplace.by_identifier(tenant, "Slot", slot["identifier"][0]["value"]) is None
    assert run(store, tenant, marketplace, waits).bookings_taken == 0

    write_back_due(store)
    assert len(OpusBook(opus_sqlite).appointments(booking.appointment_key)) == 1


def test_a_time_booked_on_the_site_meanwhile_wins_and_the_marketplace_is_told(
    store, tenant, marketplace, waits
):
    run(store, tenant, marketplace, waits)
    slot = first_free_slot(marketplace, tenant)
    ref = parse_slot_key(slot["identifier"][0]["value"])
    site = book_on_site(store, ref)
    marketplace.book(tenant, slot["identifier"][0]["value"], PATIENT)  # not yet withdrawn there

    report = run(store, tenant, marketplace, waits)
    assert report.bookings_taken == 0 and len(report.conflicts) == 1
    with session_scope(store) as session:
        active = session.scalars(
            select(Booking).where(Booking.status.in_(("held", "confirmed")))
        ).all()
        row = session.scalars(select(MarketplaceAppointment)).one()
    assert [b.id for b in active] == [site.id]  # exactly one won: the site's
    assert row.outcome == "conflict" and row.reason == "time_taken" and row.told_at
    answered = marketplace.resources(tenant, "Appointment")[0]
    assert answered["status"] == "cancelled" and answered["cancelationReason"]["text"]
    assert "conflicts" in artifact_markdown([report])


def test_a_marketplace_booking_without_a_valid_personal_number_is_refused(
    store, tenant, marketplace, waits
):
    run(store, tenant, marketplace, waits)
    slot = first_free_slot(marketplace, tenant)
    marketplace.book(tenant, slot["identifier"][0]["value"], PATIENT | {"personal_number": "1"})
    report = run(store, tenant, marketplace, waits)
    assert report.bookings_taken == 0 and len(report.refused) == 1
    assert "1" not in report.refused[0].split(": ")[1]  # a reason key, not the number
    assert marketplace.resources(tenant, "Appointment")[0]["status"] == "cancelled"


def test_appointments_on_slots_another_publisher_put_there_are_left_alone(
    store, tenant, marketplace, waits
):
    run(store, tenant, marketplace, waits)
    ours = first_free_slot(marketplace, tenant)
    ref = parse_slot_key(ours["identifier"][0]["value"])
    other_system = {"system": "https://annat-bokningssystem.example/slot", "value": "tid-42"}
    other_tenant = {  # our identifier system, but a Slot key of another tenant
        "system": ours["identifier"][0]["system"],
        "value": ours["identifier"][0]["value"].replace(f"t{ref.tenant_id}-", "t999999-", 1),
    }
    theirs = [
        marketplace.book(
            tenant, marketplace.add_others_slot(tenant, ours, identifier)["id"], PATIENT
        )["id"]
        for identifier in (other_system, other_tenant)
    ]
    mine = marketplace.book(tenant, ours["identifier"][0]["value"], PATIENT)["id"]

    for _ in range(2):  # and the next run leaves them alone too
        report = run(store, tenant, marketplace, waits)
        assert report.not_ours == 2 and not report.refused and not report.failures
    assert report.bookings_taken == 0  # ours was taken in the first run, once

    status = {a["id"]: a for a in marketplace.resources(tenant, "Appointment")}
    for appointment_id in theirs:
        assert status[appointment_id]["status"] == "booked"
        assert "cancelationReason" not in status[appointment_id]
        assert not any(
            i.get("system") == BOOKING_SYSTEM for i in status[appointment_id].get("identifier", [])
        )
    assert status[mine]["status"] == "booked"
    assert any(i["system"] == BOOKING_SYSTEM for i in status[mine]["identifier"])
    with session_scope(store) as session:
        rows = session.scalars(select(MarketplaceAppointment)).all()
    assert [(r.appointment_id, r.outcome) for r in rows] == [(mine, "booked")]
    assert "left alone" in artifact_markdown([report])


# -- faults -------------------------------------------------------------------------------


def test_5xx_is_retried_with_backoff_and_then_succeeds(store, tenant, marketplace, waits):
    marketplace.fail_next(2, status=503, after=2)  # the first transaction, twice
    report = run(store, tenant, marketplace, waits, marketplace_retry_delay_s=0.5)
    assert not report.failures and report.published == state_rows(store) > 0
    assert waits == [0.5, 1.0]


def test_429_retry_after_is_honoured(store, tenant, marketplace, waits):
    marketplace.fail_next(1, status=429, retry_after="7", after=2)
    report = run(store, tenant, marketplace, waits)
    assert not report.failures and waits == [7.0]


def test_a_retry_after_beyond_the_limit_gives_up_without_hammering(
    store, tenant, marketplace, waits
):
    marketplace.fail_next(1, status=429, retry_after="3600", after=2)
    report = run(store, tenant, marketplace, waits)
    assert report.failures and "3600" in report.failures[0] and waits == []
    assert state_rows(store) == 0


def test_publish_state_advances_only_on_success_nothing_lost_nothing_twice(
    store, tenant, marketplace, waits
):
    # Two bundles go through, then the marketplace is down for longer than we retry.
    marketplace.fail_next(3, status=502, after=4)
    first = run(store, tenant, marketplace, waits)
    assert first.failures and first.published == 200 == state_rows(store)
    assert sum(held(marketplace, tenant).values()) == 200
    assert len(waits) == 2  # bounded: two retries, then the run gave up

    second = run(store, tenant, marketplace, waits)
    assert not second.failures
    total = first.published + second.published
    assert total == state_rows(store) == sum(held(marketplace, tenant).values())
    identifiers = [
        r["identifier"][0]["value"] for t in TYPES for r in marketplace.resources(tenant, t)
    ]
    assert len(identifiers) == len(set(identifiers))  # no duplicates at the marketplace


def test_a_timeout_is_retried_and_the_late_work_is_not_duplicated(
    store, tenant, marketplace, waits
):
    # The first transaction is done by the server but answered after the client gave up.
    marketplace.fail_next(1, status=0, hang_s=6, after=2)
    report = run(store, tenant, marketplace, waits, marketplace_timeout_s=2)
    # At least the hung call was retried (a slow answer on a loaded machine may add one).
    assert not report.failures and len(waits) >= 1
    identifiers = [
        r["identifier"][0]["value"] for t in TYPES for r in marketplace.resources(tenant, t)
    ]
    assert len(identifiers) == len(set(identifiers)) == state_rows(store)


def test_a_malformed_answer_is_a_clear_failure_and_corrupts_nothing(
    store, tenant, marketplace, waits
):
    marketplace.fail_next(1, status=200, body="<html>oops</html>", after=2)
    report = run(store, tenant, marketplace, waits)
    assert report.failures and "without JSON" in report.failures[0]
    assert state_rows(store) == 0
    assert not run(store, tenant, marketplace, waits).failures
    assert state_rows(store) == sum(held(marketplace, tenant).values())


def test_no_personal_number_in_failures_or_the_artifact(store, tenant, marketplace, waits):
    run(store, tenant, marketplace, waits)
    slot = first_free_slot(marketplace, tenant)
    marketplace.book(tenant, slot["identifier"][0]["value"], PATIENT)
    marketplace.fail_next(3, status=503, after=2)  # answering the Appointment fails
    report = run(store, tenant, marketplace, waits)
    text = artifact_markdown([report]) + repr(report) + (account_row(store).last_error or "")
    assert PATIENT["personal_number"] not in text and "19121212" not in text


# -- the Prefect flow ----------------------------------------------------------------------


@pytest.mark.prefect
def test_the_flow_publishes_and_leaves_an_artifact(
    prefect_harness, flow_settings, sqlite_store, demo_sqlite_tenant, marketplace, monkeypatch
):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )

    from flows.marketplace import sync_boka_vard
    from opus_online.config import get_settings

    sync_tenant(sqlite_store, demo_sqlite_tenant)
    set_publishing(sqlite_store, True)
    marketplace.add_account(demo_sqlite_tenant, TOKEN, active=True)
    monkeypatch.setenv("OPUS_MARKETPLACE_URL", marketplace.fhir_url)
    monkeypatch.setenv("OPUS_MARKETPLACE_TOKEN_REF", f"env:{TOKEN_ENV}")
    monkeypatch.setenv("OPUS_MARKETPLACE_HORIZON_DAYS", "2")
    get_settings.cache_clear()

    state = sync_boka_vard(return_state=True)

    assert state.is_completed()
    (report,) = state.result()
    assert report.published > 0 and report.published == sum(
        held(marketplace, report.tenant).values()
    )
    with get_client(sync_client=True) as client:
        (artifact,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["sync-boka-vard"]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]),
            )
        )
    assert (
        f"| {demo_sqlite_tenant} | active | {report.published} | 0 | 0 | 0 | 0 |" in artifact.data
    )
