"""The Opus books' appointments in the store, for *Mina bokningar* and reminders.

The sync reads ``OnlineAppointment`` rows changed since the highest row version held
here, with their patients' personal numbers, and upserts them into
:class:`~connectors.store.models.OpusAppointment` (keyed by Opus's id per database).
Ids are mapped to the store's clinics, practitioners and treatments of the same
database; an id the store does not know is kept as ``NULL`` (the appointment is
still the patient's). Times are Opus's local wall-clock times, stored in UTC.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.opus.reader import local_to_utc
from connectors.store.models import Clinic, OpusAppointment, Practitioner, Treatment
from connectors.store.types import utcnow

_PERSONAL_NUMBER = re.compile(r"\d{12}")


def last_row_version(session: Session, opus_database_id: int) -> int:
    return session.scalar(
        select(func.coalesce(func.max(OpusAppointment.row_version), 0)).where(
            OpusAppointment.opus_database_id == opus_database_id
        )
    )


def personal_number(raw: Any) -> str | None:
    """Opus's personal number as 12 digits (``19121212-1212`` → ``191212121212``);
    ``None`` for anything else (a reserve number, a blank)."""
    if raw is None or raw is pd.NA or (isinstance(raw, float) and pd.isna(raw)):
        return None
    digits = re.sub(r"[\s-]", "", str(raw))
    return digits if _PERSONAL_NUMBER.fullmatch(digits) else None


def mobile_number(raw: Any) -> str | None:
    """Opus's mobile number in E.164 (``070-123 45 67`` → ``+46701234567``) when it is
    a valid mobile number; ``None`` for anything else (a landline, a blank, a typo):
    reminders go only to numbers that take an SMS."""
    if raw is None or raw is pd.NA or (isinstance(raw, float) and pd.isna(raw)):
        return None
    try:
        number = phonenumbers.parse(str(raw).strip()[:30], "SE")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _text(raw: Any, limit: int) -> str | None:
    if raw is None or raw is pd.NA or (isinstance(raw, float) and pd.isna(raw)):
        return None
    return str(raw).strip()[:limit] or None


def mirror(
    session: Session,
    tenant_id: int,
    opus_database_id: int,
    appointments: pd.DataFrame,
    patients: pd.DataFrame,
    tz: ZoneInfo,
) -> int:
    """Upsert ``appointments`` (the reader's frame) with the personal numbers of
    ``patients`` (the reader's frame); returns how many rows were written. Rows without
    times are skipped (Opus cannot show them either), and so are times that a DST
    change makes missing or twice-occurring: they become ``NaT`` rather than a guess."""
    numbers = {
        int(row.PatientID): personal_number(row.PersonalNumber)
        for row in patients.itertuples()
        if not pd.isna(row.PatientID)
    }
    # For reminders of every Opus appointment: whom to text, and how to greet them.
    contacts = {
        int(row.PatientID): (
            mobile_number(getattr(row, "MobilePhone", None)),
            _text(getattr(row, "FirstName", None), 50),
            _text(getattr(row, "LastName", None), 50),
        )
        for row in patients.itertuples()
        if not pd.isna(row.PatientID)
    }
    clinics = dict(
        session.execute(
            select(Clinic.opus_clinic_id, Clinic.id).where(
                Clinic.opus_database_id == opus_database_id
            )
        ).all()
    )
    practitioners = dict(
        session.execute(
            select(Practitioner.opus_clinician_id, Practitioner.id).where(
                Practitioner.opus_database_id == opus_database_id
            )
        ).all()
    )
    treatments = dict(
        session.execute(
            select(Treatment.opus_treatment_id, Treatment.id).where(
                Treatment.opus_database_id == opus_database_id
            )
        ).all()
    )
    existing = {
        a.opus_appointment_id: a
        for a in session.scalars(
            select(OpusAppointment).where(
                OpusAppointment.opus_database_id == opus_database_id,
                OpusAppointment.opus_appointment_id.in_(
                    [int(i) for i in appointments["AppointmentID"].dropna()]
                ),
            )
        )
    }
    starts_utc = local_to_utc(pd.to_datetime(appointments["StartTime"]), tz.key)
    ends_utc = local_to_utc(pd.to_datetime(appointments["EndTime"]), tz.key)
    written = 0
    now = utcnow()
    for row, starts, ends in zip(appointments.itertuples(), starts_utc, ends_utc, strict=True):
        if pd.isna(row.AppointmentID) or pd.isna(starts) or pd.isna(ends):
            continue
        ident = int(row.AppointmentID)
        target = existing.get(ident) or OpusAppointment(
            tenant_id=tenant_id, opus_database_id=opus_database_id, opus_appointment_id=ident
        )
        target.clinic_id = clinics.get(None if pd.isna(row.ClinicID) else str(row.ClinicID))
        target.practitioner_id = (
            None if pd.isna(row.ClinicianID) else practitioners.get(int(row.ClinicianID))
        )
        target.treatment_id = (
            None if pd.isna(row.TreatmentID) else treatments.get(int(row.TreatmentID))
        )
        patient = None if pd.isna(row.PatientID) else int(row.PatientID)
        target.personal_number = None if patient is None else numbers.get(patient)
        target.mobile, target.first_name, target.last_name = contacts.get(
            patient, (None, None, None)
        )
        target.first_seen_at = target.first_seen_at or now
        target.starts_at, target.ends_at = starts.to_pydatetime(), ends.to_pydatetime()
        target.status = "booked" if pd.isna(row.Status) else str(row.Status)[:20]
        target.idempotency_key = None if pd.isna(row.IdempotencyKey) else str(row.IdempotencyKey)
        target.row_version = int(row.RowVersion)
        target.synced_at = now
        session.add(target)
        written += 1
    session.flush()
    return written
