"""Retention's rules: which tables hold personal data and what retention does with
each (:data:`RULES`), and each tenant's periods (*Avancerat* → *Gallring*) as the
moments before which the rules apply. The batches that apply them are in
:mod:`connectors.store.retention`; the README's *Personal data* section says the same
in words, and a test fails when a model gains a personal-looking column that no rule
names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.store.models import RETENTION_RANGES, Tenant, TenantSettings

# -- the rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """What retention does with one table's personal columns (``action``: delete
    rows, pseudonymise or clear columns, or keep, with the reason in ``when``)."""

    table: str
    columns: tuple[str, ...]
    action: str
    when: str


RULES: tuple[Rule, ...] = (
    Rule(
        "visit_event",
        ("visitor", "source", "path"),
        "delete",
        "after retention_visit_event_days local days (default 400); the stats_* daily "
        "tables made from them stay. The visitor is a daily salted hash already.",
    ),
    Rule("visit_salt", ("salt",), "delete", "when its day is over (visit statistics flow)"),
    Rule(
        "booking",
        (
            "personal_number",
            "first_name",
            "last_name",
            "email",
            "mobile",
            "address1",
            "postal_code",
            "city",
            "message",
            "code_hash",
            "opus_patient_id",
            "write_back_error",
        ),
        "pseudonymise",
        "retention_booking_months after the visit (default 24); a booking whose change "
        "Opus has not yet heard of waits for the write-back",
    ),
    Rule(
        "booking",
        ("client_address_key", "client_cookie_key"),
        "clear",
        "two days after the booking was made (the limits on one client look back a day)",
    ),
    Rule(
        "booking",
        ("*",),
        "delete",
        "expired holds (never booked): a day after the hold lapsed, with their messages",
    ),
    Rule(
        "outbox_message",
        ("recipient", "payload", "provider_id"),
        "clear",
        "retention_message_days after it was queued (default 30), once sent, delivered "
        "or given up; kind, channel, status, tries and times stay",
    ),
    Rule(
        "patient_session",
        ("personal_number", "given_name", "surname"),
        "delete",
        "a day after it ended (logged out, idle or expired)",
    ),
    Rule("bankid_order", ("order_ref", "browser_hash"), "delete", "a day after it ended"),
    Rule(
        "opus_appointment",
        ("personal_number", "mobile", "first_name", "last_name"),
        "clear",
        "a day after the appointment (only coming ones are listed in Mina bokningar)",
    ),
    Rule("login_throttle", ("client",), "delete", "a day after its window (an address)"),
    # Kept on purpose: not patients' data, or not personal at all.
    Rule("operator", ("email", "name"), "keep", "staff accounts, while the account exists"),
    Rule("audit_entry", ("operator_email",), "keep", "who changed a setting: accountability"),
    Rule(
        "clinic",
        ("address1", "address2", "postal_code", "city", "phone", "email"),
        "keep",
        "the clinic's own contact details, from Opus",
    ),
    Rule("practitioner", ("first_name", "last_name"), "keep", "staff, from Opus"),
    Rule(
        "quarantined_row",
        ("row_data",),
        "keep",
        "Opus rows of clinics, clinicians, treatments and free time: no patients",
    ),
    Rule("tenant_settings", ("email_sender",), "keep", "the clinic's sender address"),
    Rule("sync_run", ("message",), "keep", "a sync's outcome for operators: no patients"),
    Rule("message_template", ("body",), "keep", "the clinic's texts, no patient's"),
)


# -- each tenant's retention -----------------------------------------------------------------

ONE_DAY = timedelta(days=1)
CLIENT_KEYS_KEPT = timedelta(days=2)
FINAL_MESSAGE_STATUSES = ("sent", "delivered", "failed")
PURGED_RECIPIENT = ""
"""A cleared message's recipient (the column is NOT NULL)."""
BEGINNING = datetime(1, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Policy:
    tenant_id: int
    visit_event_days: int
    booking_months: int
    message_days: int


DEFAULTS = {name: high for name, (_low, high) in RETENTION_RANGES.items()}


def policies(session: Session) -> list[Policy]:
    """Every tenant's retention (a tenant without a settings row: the defaults)."""
    rows = session.execute(
        select(
            Tenant.id,
            TenantSettings.retention_visit_event_days,
            TenantSettings.retention_booking_months,
            TenantSettings.retention_message_days,
        )
        .outerjoin(TenantSettings, TenantSettings.tenant_id == Tenant.id)
        .order_by(Tenant.id)
    ).all()
    return [
        Policy(
            tenant_id,
            days or DEFAULTS["retention_visit_event_days"],
            months or DEFAULTS["retention_booking_months"],
            message_days or DEFAULTS["retention_message_days"],
        )
        for tenant_id, days, months, message_days in rows
    ]


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def months_before(day: date, months: int) -> date:
    """The same day of the month ``months`` earlier (the month's last, if shorter)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (following - timedelta(days=1)).day))


@dataclass(frozen=True)
class Cutoffs:
    """Per tenant, the moment before which each rule applies."""

    visit_events: dict[int, datetime]
    bookings: dict[int, datetime]
    messages: dict[int, datetime]


def cutoffs(policies_: list[Policy], now: datetime, tz: ZoneInfo) -> Cutoffs:
    today = now.astimezone(tz).date()
    return Cutoffs(
        visit_events={
            p.tenant_id: local_midnight(today - timedelta(days=p.visit_event_days), tz)
            for p in policies_
        },
        bookings={
            p.tenant_id: local_midnight(months_before(today, p.booking_months), tz)
            for p in policies_
        },
        messages={p.tenant_id: now - timedelta(days=p.message_days) for p in policies_},
    )


def groups(by_tenant: dict[int, datetime]) -> list[tuple[datetime, list[int]]]:
    """Tenants that share a cutoff, oldest cutoff first: mostly one group (the
    defaults), so a rule is one walk over its table, not one per tenant."""
    shared: dict[datetime, list[int]] = {}
    for tenant_id, moment in sorted(by_tenant.items()):
        shared.setdefault(moment, []).append(tenant_id)
    return sorted(shared.items())
