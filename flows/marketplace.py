"""Boka vård: publish the tenant's free times there and take its bookings back.

:func:`sync_marketplace` does one tenant's work without Prefect (tests call it):
1. ask the marketplace whether the account is activated; until it is, nothing is
   sent and the account's state says it waits;
2. take the Appointments booked there on the tenant's own Slots into the store as
   confirmed bookings (channel 'boka_vard'; write-back then puts them into Opus), or
   record the conflict when the site booked the time first, and tell the marketplace
   either way. Appointments on Slots someone else published (another booking system
   of the clinic, another tenant) are not ours to answer: they are left alone;
3. withdraw what is no longer offered (everything, once *Publicera på "Boka vård"*
   is off), then publish what is new or changed, in transaction Bundles. The publish
   state advances after each Bundle the marketplace accepted, never before.
Bookings are taken before publishing so that the times they took are withdrawn in
the same run. The flow :func:`sync_boka_vard` runs it per tenant as one coarse task
and leaves an artifact (published, withdrawn, bookings taken, failures).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import ValidationError
from sqlalchemy import Engine, exists, or_, select

from connectors.marketplace.appointments import BookedAppointment, accept, booked_appointments
from connectors.marketplace.appointments import reject as reject_appointment
from connectors.marketplace.client import (
    MarketplaceClient,
    MarketplaceError,
    RetryPolicy,
    resolve_token,
)
from connectors.marketplace.resources import Built, build, conditional_url
from connectors.privacy import scrub
from connectors.store import marketplace as store
from connectors.store.db import engine_for, session_scope, write_session_scope
from connectors.store.models import MarketplaceAccount, MarketplaceResource, Tenant, TenantSettings
from opus_online.config import Settings, get_settings
from validations import patient

NOT_OUR_SLOT = "not_our_slot"
"""The reason earlier runs recorded (and cancelled) Appointments on others' Slots
with; such a row not yet told is left alone now like any other of theirs."""

ClientFactory = Callable[[MarketplaceAccount, Settings], MarketplaceClient]


@dataclass
class Report:
    """One tenant's run, as operators read it (appointment ids, never patient data)."""

    tenant: str
    state: str = "unknown"  # the account: waiting / active / refused / off
    published: int = 0
    withdrawn: int = 0
    bookings_taken: int = 0
    not_ours: int = 0  # Appointments on Slots another publisher put there: left alone
    conflicts: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def default_client(account: MarketplaceAccount, settings: Settings) -> MarketplaceClient:
    token = resolve_token(account.token_ref or settings.marketplace_token_ref)
    return MarketplaceClient(
        settings.marketplace_url,
        token,
        timeout_s=settings.marketplace_timeout_s,
        policy=RetryPolicy(
            retries=settings.marketplace_retries, delay_s=settings.marketplace_retry_delay_s
        ),
    )


def sync_marketplace(
    engine: Engine,
    subdomain: str,
    *,
    settings: Settings | None = None,
    client_for: ClientFactory = default_client,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Report:
    settings = settings or get_settings()
    report = Report(subdomain)
    with write_session_scope(engine) as session:
        tenant = session.scalars(select(Tenant).where(Tenant.subdomain == subdomain)).one()
        tenant_id, publishing = tenant.id, tenant.settings.publish_boka_vard
        account = store.account_for(session, tenant)
        anything_out = bool(store.published(session, tenant_id))
    if not publishing and not anything_out:
        report.state = "off"
        return report
    try:
        client = client_for(account, settings)
    except MarketplaceError as exc:
        return _finish(engine, tenant_id, report, clock, f"token: {exc}")
    with client:
        try:
            report.state = client.account_state(account.account)
        except MarketplaceError as exc:
            return _finish(engine, tenant_id, report, clock, f"activation check: {exc}")
        with write_session_scope(engine) as session:
            store.record_check(session, tenant_id, report.state, clock())
        if report.state == "waiting":
            return report  # the state row says so; nothing may be sent yet
        if report.state != "active":
            return _finish(engine, tenant_id, report, clock, "the marketplace refuses our token")
        _take_bookings(engine, client, tenant_id, report, clock)
        _publish(engine, client, tenant_id, publishing, settings, report, clock)
    return _finish(engine, tenant_id, report, clock, None)


def _finish(engine, tenant_id, report: Report, clock, error: str | None) -> Report:
    if error is not None:
        report.failures.append(error)
    # The marketplace's words, the driver's, ours: whatever they quote stays out of the
    # report (the artifact) and the account's row.
    report.failures = [scrub(failure) for failure in report.failures]
    with write_session_scope(engine) as session:
        store.record_run(session, tenant_id, clock(), "; ".join(report.failures)[:2000] or None)
    return report


# -- bookings made there ---------------------------------------------------------------


def _take_bookings(engine, client: MarketplaceClient, tenant_id: int, report: Report, clock):
    try:
        booked = booked_appointments(client, clock())
    except MarketplaceError as exc:
        report.failures.append(f"reading Appointments: {exc}")
        return
    for appointment in booked:
        with write_session_scope(engine) as session:
            row = store.taken(session, tenant_id, appointment.appointment_id)
            if row is not None and row.told_at is not None:
                continue
            # Checked only for Appointments not yet taken: once ours is taken, its Slot is
            # withdrawn and the Appointment no longer shows whose it was.
            if (row is None or row.reason == NOT_OUR_SLOT) and not _on_our_slot(
                appointment, tenant_id
            ):
                # Cancelling it would cancel a patient's booking with someone else.
                report.not_ours += 1
                continue
            if row is None:
                row = _take_one(session, tenant_id, appointment, clock())
                if row.outcome == "booked":
                    report.bookings_taken += 1
                elif row.outcome == "conflict":
                    report.conflicts.append(appointment.appointment_id)
                else:
                    report.refused.append(f"{appointment.appointment_id}: {row.reason}")
            outcome, row_id = row.outcome, row.id
            reference = store.booking_reference(session, row)
        # Told after the commit: a crash in between only repeats the telling.
        try:
            if outcome == "booked":
                accept(client, appointment, reference or "")
            else:
                reject_appointment(client, appointment, outcome)
        except (MarketplaceError, ValidationError) as exc:
            report.failures.append(f"answering Appointment {appointment.appointment_id}: {exc}")
            continue
        with write_session_scope(engine) as session:
            store.mark_told(session, row_id, clock())


def _on_our_slot(appointment: BookedAppointment, tenant_id: int) -> bool:
    """Booked on a Slot this tenant published (our identifier, our tenant)."""
    return appointment.slot is not None and appointment.slot.tenant_id == tenant_id


def _take_one(session, tenant_id: int, appointment: BookedAppointment, now: datetime):
    slot = appointment.slot
    assert slot is not None  # _on_our_slot
    try:
        number = patient.personal_number(appointment.personal_number or "")
    except patient.Invalid as exc:
        return store.refuse(session, tenant_id, appointment.appointment_id, exc.key, now)
    wanted = store.WantedBooking(
        appointment_id=appointment.appointment_id,
        clinic_id=slot.clinic_id,
        practitioner_id=slot.practitioner_id,
        treatment_id=slot.treatment_id,
        starts_at=slot.starts_at,
        personal_number=number,
        first_name=(appointment.first_name or "")[:50] or None,
        last_name=(appointment.last_name or "")[:50] or None,
        email=_or_none(patient.email, appointment.email),
        mobile=_or_none(patient.mobile, appointment.phone),
        message=(appointment.comment or "")[:500] or None,
    )
    return store.take(session, tenant_id, wanted, now)


def _or_none(judge, value: str | None) -> str | None:
    """A contact detail the marketplace sent, if it is usable; a bad one is dropped
    (the booking itself stands: the personal number identifies the patient)."""
    if not value:
        return None
    try:
        return judge(value)
    except patient.Invalid:
        return None


# -- publishing -----------------------------------------------------------------------


def _publish(engine, client, tenant_id: int, publishing: bool, settings, report, clock) -> None:
    horizon = timedelta(days=settings.marketplace_horizon_days)
    try:
        with session_scope(engine) as session:
            offer = store.catalogue(session, tenant_id, clock(), horizon) if publishing else None
            out = store.published(session, tenant_id)
        built = build(offer) if offer is not None else []
    except ValidationError as exc:  # ours to fix: send nothing rather than half
        detail = scrub(str(exc))[:300]
        report.failures.append(f"a resource is not valid FHIR: {detail}")
        return
    by_key: dict = {b.key: b for b in built}
    puts, gone = store.changes(out, {b.key: b.content_hash for b in built})
    size = settings.marketplace_bundle_size
    for start in range(0, len(gone), size):
        chunk = gone[start : start + size]
        entries = [{"request": {"method": "DELETE", "url": conditional_url(*k)}} for k in chunk]
        if not _send(client, entries, report):
            return
        with write_session_scope(engine) as session:
            store.record_withdrawn(session, tenant_id, chunk)
        report.withdrawn += len(chunk)
    for start in range(0, len(puts), size):
        chunk: list[Built] = [by_key[k] for k in puts[start : start + size]]
        entries = [
            {"resource": b.resource, "request": {"method": "PUT", "url": conditional_url(*b.key)}}
            for b in chunk
        ]
        if not _send(client, entries, report):
            return
        with write_session_scope(engine) as session:
            store.record_published(
                session, tenant_id, [(b.key, b.content_hash) for b in chunk], clock()
            )
        report.published += len(chunk)


def _send(client: MarketplaceClient, entries: list[dict], report: Report) -> bool:
    """One transaction; on failure the rest of this run's publishing waits for the
    next run (what was not accepted is still a difference then)."""
    try:
        client.transaction(entries)
        return True
    except MarketplaceError as exc:
        report.failures.append(f"publishing: {exc}")
        return False


# -- Prefect --------------------------------------------------------------------------


def tenants_to_sync(engine: Engine) -> list[str]:
    """Tenants that publish, or that still have something published to withdraw."""
    with session_scope(engine) as session:
        published_any = exists().where(MarketplaceResource.tenant_id == Tenant.id)
        return list(
            session.scalars(
                select(Tenant.subdomain)
                .join(TenantSettings, TenantSettings.tenant_id == Tenant.id)
                .where(or_(TenantSettings.publish_boka_vard, published_any))
                .order_by(Tenant.subdomain)
            )
        )


@task(name="sync with Boka vård", cache_policy=NO_CACHE)
def sync_tenant_task(store_url: str, subdomain: str) -> Report:
    return sync_marketplace(engine_for(store_url), subdomain)


@flow(name="sync-boka-vard", log_prints=False)
def sync_boka_vard(subdomain: str | None = None, store_url: str | None = None) -> list[Report]:
    """Publish to Boka vård and take its bookings, for one tenant or every one that
    publishes (or has something to withdraw). Fails when any tenant had a failure,
    after the artifact has recorded it."""
    url = store_url or get_settings().resolved_store_url
    subdomains = [subdomain] if subdomain else tenants_to_sync(engine_for(url))
    reports = [sync_tenant_task(url, name) for name in subdomains]
    create_markdown_artifact(markdown=scrub(artifact_markdown(reports)), key="sync-boka-vard")
    failed = [r.tenant for r in reports if r.failures]
    if failed:
        raise RuntimeError(f"Boka vård sync had failures for {', '.join(failed)}")
    return reports


def artifact_markdown(reports: list[Report]) -> str:
    if not reports:
        return "No tenant publishes on Boka vård."
    lines = [
        "| tenant | account | published | withdrawn | bookings taken | conflicts | failures |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        state = {"waiting": "waits for activation", "off": "setting off"}.get(r.state, r.state)
        lines.append(
            f"| {r.tenant} | {state} | {r.published} | {r.withdrawn} | {r.bookings_taken} "
            f"| {len(r.conflicts)} | {len(r.failures)} |"
        )
    for r in reports:
        if r.conflicts:
            lines += [
                "",
                f"**{r.tenant}: conflicts** (time booked on the site first; the "
                "Appointment was cancelled at Boka vård):",
                "",
            ]
            lines += [f"- Appointment {a}" for a in r.conflicts]
        if r.refused:
            lines += ["", f"**{r.tenant}: refused Appointments**:", ""]
            lines += [f"- {a}" for a in r.refused]
        if r.not_ours:
            lines += [
                "",
                f"**{r.tenant}:** {r.not_ours} Appointments on Slots another publisher put "
                "on the account were left alone.",
            ]
        if r.failures:
            lines += ["", f"**{r.tenant}: failures** (retried next run):", ""]
            lines += [f"- {f}" for f in r.failures]
    return "\n".join(lines)
