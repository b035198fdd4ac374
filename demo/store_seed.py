"""The demo tenant in the booking store, set up as an operator would have done it:
the Opus database chosen, clinics grouped by town (one left ungrouped), every
practitioner added except those the demo data marks otherwise, a welcome text, and a
key to the public API."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.store.api_keys import PUBLISHABLE, create_api_key, key_hash
from connectors.store.marketplace import account_for, record_check
from connectors.store.models import (
    ApiKey,
    Clinic,
    ClinicPractitioner,
    Operator,
    OpusDatabase,
    Practitioner,
    Tenant,
    TenantSettings,
)
from connectors.store.operators import create_operator
from demo.opus_data import DemoOpus

DEMO_SUBDOMAIN = "tandmottagningen"
DEMO_API_KEY = "oo_demo_tandmottagningen_not_a_secret"
"""The demo tenant's public API key: fixed, so the README and the demo's banner can show
it. Only the demo tenant gets it; a real tenant's keys are random (``create_api_key``)."""
DEMO_PUBLISHABLE_KEY = "oo_pub_demo_tandmottagningen_visible_to_all"
"""The demo tenant's publishable key (read and book, never a patient's bookings), which
the demo's clinic website (demo/clinic_site.py) uses from the browser."""
DEMO_CLINIC_SITE = "http://localhost:8031"
"""That website's origin: the one page allowed to use the publishable key."""
DEMO_OPERATOR = "operator@tandmottagningen.se"
DEMO_OPERATOR_PASSWORD = "demo-operator-not-a-secret"
"""The demo tenant's administrator at /admin: fixed, so the README can show it."""
DEMO_WELCOME = (
    "Välkommen till Tandmottagningen! Här bokar du tid hos oss i Uppsala, Västerås och Enköping."
)


def seed_demo_tenant(
    session: Session, demo: DemoOpus, opus_path: Path, subdomain: str = DEMO_SUBDOMAIN
) -> Tenant:
    """Create the demo tenant (or return it when it exists)."""
    existing = session.scalars(select(Tenant).where(Tenant.subdomain == subdomain)).one_or_none()
    if existing is not None:
        _ensure_demo_api_key(session, existing)  # a store seeded before the API had keys
        _ensure_demo_operator(session, existing)  # ... or before operators had accounts
        return existing
    tenant = Tenant(name="Tandmottagningen", subdomain=subdomain)
    tenant.settings = TenantSettings(welcome_text=DEMO_WELCOME)
    database = OpusDatabase(name="Huvuddatabas", connection_ref=f"sqlite:///{opus_path.resolve()}")
    tenant.databases.append(database)
    session.add(tenant)
    session.flush()

    clinics = {}
    for order, row in enumerate(demo.clinics.itertuples(), start=1):
        clinic = Clinic(
            tenant_id=tenant.id,
            opus_database_id=database.id,
            opus_clinic_id=row.ClinicID,
            name=row.Name,
            group_name=demo.groups.get(row.ClinicID),
            display_order=order,
        )
        session.add(clinic)
        clinics[row.ClinicID] = clinic
    practitioners = {}
    for row in demo.clinicians.itertuples():
        practitioner = Practitioner(
            tenant_id=tenant.id,
            opus_database_id=database.id,
            opus_clinician_id=int(row.ClinicianID),
            first_name=row.FirstName,
            last_name=row.LastName,
            title=row.Title,
        )
        session.add(practitioner)
        practitioners[int(row.ClinicianID)] = practitioner
    session.flush()
    for order, row in enumerate(demo.clinician_clinics.itertuples(), start=1):
        session.add(
            ClinicPractitioner(
                clinic_id=clinics[row.ClinicID].id,
                practitioner_id=practitioners[int(row.ClinicianID)].id,
                tenant_id=tenant.id,
                added=int(row.ClinicianID) not in demo.not_added,
                display_order=order,
            )
        )
    session.flush()
    _ensure_demo_api_key(session, tenant)
    _ensure_demo_operator(session, tenant)
    return tenant


def _ensure_demo_api_key(session: Session, tenant: Tenant) -> None:
    if tenant.subdomain != DEMO_SUBDOMAIN:
        return
    known = set(session.scalars(select(ApiKey.key_hash).where(ApiKey.tenant_id == tenant.id)))
    if key_hash(DEMO_API_KEY) not in known:
        create_api_key(session, tenant.id, "Demo", key=DEMO_API_KEY)
    if key_hash(DEMO_PUBLISHABLE_KEY) not in known:
        create_api_key(
            session,
            tenant.id,
            "Klinikens webbplats (demo)",
            key=DEMO_PUBLISHABLE_KEY,
            scopes=PUBLISHABLE,
            origins=[DEMO_CLINIC_SITE],
        )


def _ensure_demo_operator(session: Session, tenant: Tenant) -> None:
    if tenant.subdomain != DEMO_SUBDOMAIN:
        return
    known = session.scalars(select(Operator.id).where(Operator.email == DEMO_OPERATOR))
    if known.first() is None:
        create_operator(
            session,
            DEMO_OPERATOR,
            DEMO_OPERATOR_PASSWORD,
            name="Demo-operatör",
            grants={tenant.id: "administrator"},
        )


def show_the_product(session: Session, tenant: Tenant, now: datetime) -> None:
    """The settings a new user of the demo should see at work (the demo runner applies
    them once, to a tenant it has just made; tests seed the tenant with the defaults):
    *Användarmeddelande* and *Kampanjkod* on, so the Opus appointment text shows the
    message and ``CC: <code>``; *Publicera på "Boka vård"* on, with the account linked
    and recorded active as the stand-in reports it (the first publish run checks again);
    and both "any practitioner" and "any clinic"; reminders by e-mail and SMS, whose
    link lets the patient cancel or rebook without BankID (the demo runner makes them
    come a minute after booking, see demo/run.py); and the *Återbudslista* (an offer
    held 15 minutes, as by default)."""
    settings = tenant.settings
    settings.reminder_email_enabled = True
    settings.reminder_sms_enabled = True
    settings.manage_without_login = True
    settings.waitlist_enabled = True
    settings.user_message_enabled = True
    settings.campaign_code_enabled = True
    settings.publish_boka_vard = True
    settings.any_practitioner_option = True
    settings.any_clinic_option = True
    account_for(session, tenant)
    record_check(session, tenant.id, "active", now)
    session.flush()
