"""A patient's data across the store, for the operators: finding it, exporting it as
one JSON document, and the audit of every such look-up (erasure is in
:mod:`connectors.store.patient_erasure`).

A patient is found by personal number within one tenant, never by name: two patients
may share a name, and a family may share an e-mail address or a phone. Messages and
marketplace appointments are a patient's through the patient's bookings, BankID orders
through the patient's logins (see :mod:`connectors.store.personal_data`).

Every look-up (an export, an erasure's preview, an erasure) is audited: who, when,
which tenant, what was found, and the patient as a keyed hash of tenant and personal
number (HMAC-SHA256 with a key derived from the app's secret), never the number. The
same patient gives the same hash, so an audit log can answer "was this patient's data
erased?" for whoever knows the number and holds the secret, and nobody else. An
operator may look up at most :data:`LOOKUPS_PER_HOUR` patients an hour, counted in
the audit log itself: a stolen session cannot list who is a patient.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from connectors.store.models import (
    AuditEntry,
    BankIdOrder,
    Base,
    Booking,
    Clinic,
    MarketplaceAppointment,
    Operator,
    OpusAppointment,
    OutboxMessage,
    PatientSession,
    Practitioner,
    Reminder,
    Tenant,
    Treatment,
)
from connectors.store.personal_data import PATIENT_TABLES
from connectors.store.waitlist_models import WaitlistEntry, WaitlistOffer

EXPORT_FORMAT = "opus-online/patient-export/1"
LOOKUPS_PER_HOUR = 30
"""Patients one operator may export, preview for erasure or erase in an hour."""
AUDIT_ACTIONS = ("patient.export", "patient.erase.preview", "patient.erase")
_PERSONAL_NUMBER = re.compile(r"[0-9]{12}")


class TooManyLookups(Exception):
    """The operator has looked up :data:`LOOKUPS_PER_HOUR` patients in the last hour."""


@dataclass(frozen=True)
class Actor:
    """Who asks: an operator on the admin pages, or the command line (no account;
    ``name`` says which user on which machine)."""

    name: str
    operator_id: int | None = None

    @classmethod
    def of(cls, operator: Operator) -> Actor:
        return cls(operator.email, operator.id)


def subject_key(secret: bytes, tenant_id: int, personal_number: str) -> str:
    """The patient as the audit log names them: a keyed hash, 32 hex digits."""
    key = hashlib.sha256(b"patient-subject\n" + secret).digest()
    digest = hmac.new(key, f"{tenant_id}\n{personal_number}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _checked(personal_number: str) -> str:
    if not _PERSONAL_NUMBER.fullmatch(personal_number or ""):
        raise ValueError("a personal number as 12 digits (validations.patient.personal_number)")
    return personal_number


# -- which rows are the patient's -------------------------------------------------------


def _bookings(tenant_id: int, pn: str) -> Select:
    return select(Booking.id).where(Booking.tenant_id == tenant_id, Booking.personal_number == pn)


def _opus_appointments(tenant_id: int, pn: str) -> Select:
    return select(OpusAppointment.id).where(
        OpusAppointment.tenant_id == tenant_id, OpusAppointment.personal_number == pn
    )


def _reminder_messages(tenant_id: int, pn: str) -> Select:
    """The messages reminding of the patient's Opus appointments (they name no booking)."""
    return select(Reminder.outbox_message_id).where(
        Reminder.tenant_id == tenant_id,
        Reminder.opus_appointment_id.in_(_opus_appointments(tenant_id, pn)),
        Reminder.outbox_message_id.is_not(None),
    )


def _orders(tenant_id: int, pn: str) -> Select:
    return select(PatientSession.order_id).where(
        PatientSession.tenant_id == tenant_id, PatientSession.personal_number == pn
    )


FINDERS: dict[str, tuple[type[Base], Callable[[int, str], Any]]] = {
    "booking": (
        Booking,
        lambda t, pn: (Booking.tenant_id == t) & (Booking.personal_number == pn),
    ),
    "outbox_message": (
        OutboxMessage,
        lambda t, pn: (
            (OutboxMessage.tenant_id == t)
            & (
                OutboxMessage.booking_id.in_(_bookings(t, pn))
                | OutboxMessage.id.in_(_reminder_messages(t, pn))
            )
        ),
    ),
    "reminder": (
        Reminder,
        lambda t, pn: (
            (Reminder.tenant_id == t)
            & (
                Reminder.booking_id.in_(_bookings(t, pn))
                | Reminder.opus_appointment_id.in_(_opus_appointments(t, pn))
            )
        ),
    ),
    "patient_session": (
        PatientSession,
        lambda t, pn: (PatientSession.tenant_id == t) & (PatientSession.personal_number == pn),
    ),
    "bankid_order": (
        BankIdOrder,
        lambda t, pn: (BankIdOrder.tenant_id == t) & BankIdOrder.id.in_(_orders(t, pn)),
    ),
    "opus_appointment": (
        OpusAppointment,
        lambda t, pn: (OpusAppointment.tenant_id == t) & (OpusAppointment.personal_number == pn),
    ),
    "waitlist_entry": (
        WaitlistEntry,
        lambda t, pn: (
            (WaitlistEntry.tenant_id == t) & WaitlistEntry.booking_id.in_(_bookings(t, pn))
        ),
    ),
    "waitlist_offer": (
        WaitlistOffer,
        lambda t, pn: (
            (WaitlistOffer.tenant_id == t)
            & WaitlistOffer.entry_id.in_(
                select(WaitlistEntry.id).where(
                    WaitlistEntry.tenant_id == t, WaitlistEntry.booking_id.in_(_bookings(t, pn))
                )
            )
        ),
    ),
    "marketplace_appointment": (
        MarketplaceAppointment,
        lambda t, pn: (
            (MarketplaceAppointment.tenant_id == t)
            & MarketplaceAppointment.booking_id.in_(_bookings(t, pn))
        ),
    ),
}
"""Per patient table of the register: its model and the condition that selects one
patient's rows of it (tenant id, 12-digit personal number)."""


def model_of(table_name: str) -> type[Base]:
    return FINDERS[table_name][0]


def condition(table_name: str, tenant_id: int, personal_number: str):
    """The WHERE clause of the patient's rows of ``table_name``; KeyError for a
    patient table of the register that has no finder (a test makes sure none lacks one)."""
    return FINDERS[table_name][1](tenant_id, _checked(personal_number))


def counts(session: Session, tenant_id: int, personal_number: str) -> dict[str, int]:
    """How many rows of each patient table are the patient's."""
    found = {}
    for entry in PATIENT_TABLES:
        model = model_of(entry.name)
        where = condition(entry.name, tenant_id, personal_number)
        found[entry.name] = session.scalar(select(func.count()).select_from(model).where(where))
    return found


# -- export ----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return None  # no patient table holds bytes; never dump raw bytes
    return value


def _row(model: type[Base], row: Base, omit: tuple[str, ...]) -> dict[str, Any]:
    return {
        column.key: _plain(getattr(row, column.key))
        for column in model.__table__.columns
        if column.key not in omit
    }


def _payload(text: str) -> Any:
    """A message's merge fields, without a one-time code that might still be in it."""
    try:
        payload = json.loads(text or "{}")
    except ValueError:
        return None
    if isinstance(payload, dict):
        payload.pop("code", None)
    return payload


def _names(session: Session, model: type[Base], ids: set[int], name) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(model.id, name(model)).where(model.id.in_(ids))).all())


def export(session: Session, tenant: Tenant, personal_number: str, now: datetime) -> dict:
    """Everything the store holds about the patient at ``tenant``, as one JSON-ready
    document: per patient table of the register, the patient's rows (without our own
    secrets), with a note of what each table is and what is not in the store."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for entry in PATIENT_TABLES:
        model = model_of(entry.name)
        rows = session.scalars(
            select(model)
            .where(condition(entry.name, tenant.id, personal_number))
            .order_by(*model.__table__.primary_key.columns)
        ).all()
        tables[entry.name] = [_row(model, row, entry.export_omits) for row in rows]
    for message in tables["outbox_message"]:
        message["payload"] = _payload(message["payload"])
    _name_bookings(session, tables["booking"])
    return {
        "format": EXPORT_FORMAT,
        "exported_at": now.isoformat(),
        "tenant": {"name": tenant.name, "subdomain": tenant.subdomain},
        "personal_number": personal_number,
        "tables": tables,
        "about": {
            entry.name: {
                "holds": {c.name: c.holds for c in entry.columns},
                "note": entry.note,
            }
            for entry in PATIENT_TABLES
        },
        "not_in_this_export": (
            "The clinic's records in Opus Dental (the patient record, the journal, the "
            "appointments and their texts) are not kept here; the clinic answers for them."
        ),
    }


def _name_bookings(session: Session, bookings: list[dict[str, Any]]) -> None:
    """Clinic, practitioner and treatment by name, as the patient knows them."""
    clinics = _names(session, Clinic, {b["clinic_id"] for b in bookings}, lambda m: m.name)
    practitioners = {
        p.id: p.display_name
        for p in session.scalars(
            select(Practitioner).where(
                Practitioner.id.in_({b["practitioner_id"] for b in bookings})
            )
        )
    }
    treatments = _names(session, Treatment, {b["treatment_id"] for b in bookings}, lambda m: m.name)
    for booking in bookings:
        booking["clinic"] = clinics.get(booking["clinic_id"])
        booking["practitioner"] = practitioners.get(booking["practitioner_id"])
        booking["treatment"] = treatments.get(booking["treatment_id"])


# -- audit and the rate limit -----------------------------------------------------------


def check_rate(session: Session, actor: Actor, now: datetime) -> None:
    """Raise :class:`TooManyLookups` when ``actor`` (an operator) has looked up
    :data:`LOOKUPS_PER_HOUR` patients in the last hour. Call it in the write
    transaction that will audit the look-up: on PostgreSQL it locks the operator's
    row, so that parallel requests count one after another (SQLite's write lock does
    the same for the whole store). The command line is not limited: whoever runs it
    holds the store's credentials already."""
    if actor.operator_id is None:
        return
    session.execute(select(Operator.id).where(Operator.id == actor.operator_id).with_for_update())
    recent = session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.operator_id == actor.operator_id,
            AuditEntry.setting.in_(AUDIT_ACTIONS),
            AuditEntry.at > now - timedelta(hours=1),
        )
    )
    if recent >= LOOKUPS_PER_HOUR:
        raise TooManyLookups()


def record(
    session: Session,
    *,
    tenant_id: int,
    actor: Actor,
    action: str,
    subject: str,
    outcome: str,
    now: datetime,
) -> None:
    """Audit one look-up: ``subject`` is :func:`subject_key`'s hash, ``outcome`` what
    was found or done, as counts (never a value from the patient's rows)."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(action)
    session.add(
        AuditEntry(
            tenant_id=tenant_id,
            operator_id=actor.operator_id,
            operator_email=actor.name[:254],
            at=now,
            setting=action,
            old_value=None,
            new_value=f"patient {subject}: {outcome}"[:2000],
        )
    )
    session.flush()


def describe(found: dict[str, int]) -> str:
    """Counts as the audit log shows them: ``booking 3, outbox_message 6``."""
    shown = [f"{name} {count}" for name, count in found.items() if count]
    return ", ".join(shown) or "nothing found"
