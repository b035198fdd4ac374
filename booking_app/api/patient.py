"""The patient in a ``POST /bookings``: checked by the same rules as the booking
page's *Dina uppgifter* (:mod:`validations.patient`), every problem reported at once
under the field name the client used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking_app.api.binding import STOCKHOLM
from booking_app.api.dto import BookingDTO, PatientDTO
from booking_app.api.errors import FieldErrors
from connectors.store.models import TenantSettings
from validations import patient as patient_rules
from validations.patient import Invalid


@dataclass(frozen=True)
class Patient:
    """Validated, normalised patient details."""

    personal_number: str
    first_name: str
    last_name: str
    email: str | None
    mobile: str | None
    address1: str | None
    postal_code: str | None
    city: str | None
    message: str | None
    campaign_code: str | None


def validate_patient(
    booking: BookingDTO, settings: TenantSettings, now: datetime, errors: FieldErrors
) -> Patient | None:
    """The patient's details checked as the booking page checks them (the same
    ``validations.patient`` rules). Every problem goes into ``errors``; the result is
    ``None`` when there was one.

    Settings decide three fields: the address is kept only when the clinic asks for it
    (*Registreringsinställningar*; otherwise it is not collected, so not stored); a
    message or a campaign code sent to a clinic that has turned them off is refused
    rather than dropped, as the patient would otherwise believe the clinic got it.
    """
    patient = booking.patient or PatientDTO()
    if booking.patient is None:
        errors.add("Patient", "field_required")
    number = _personal_number(patient, now, errors)
    first_name = _text(errors, "Patient.FirstName", patient.first_name, 50, "first_name", True)
    last_name = _text(errors, "Patient.LastName", patient.last_name, 50, "last_name", True)
    email = _checked(errors, "Patient.Email", patient.email, patient_rules.email)
    # The confirmation goes to the mobile by SMS: one of the tenant's allowed countries.
    sms_countries = patient_rules.sms_countries(settings.sms_country_codes)
    mobile = _checked(
        errors,
        "Patient.MobilePhoneNumber",
        patient.mobile_phone_number,
        lambda number: patient_rules.mobile(number, sms_countries),
    )
    if not (patient.email or "").strip() and not (patient.mobile_phone_number or "").strip():
        errors.add("Patient.MobilePhoneNumber", "contact_required")
    address1 = postal_code = city = None
    if settings.ask_address:
        address1 = _text(errors, "Patient.Adress1", patient.address1, 100, "address")
        postal_code = _text(errors, "Patient.PostalCode", patient.postal_code, 10, "postal_code")
        city = _text(errors, "Patient.City", patient.city, 50, "city")
    message = _optional_setting(
        errors,
        "FreeTextMessage",
        booking.free_text_message,
        settings.user_message_enabled,
        500,
        "message",
    )
    campaign_code = _optional_setting(
        errors,
        "CampaignCode",
        booking.campaign_code,
        settings.campaign_code_enabled,
        30,
        "campaign_code",
    )
    if errors or number is None:
        return None
    assert first_name is not None and last_name is not None
    return Patient(
        number,
        first_name,
        last_name,
        email,
        mobile,
        address1,
        postal_code,
        city,
        message,
        campaign_code,
    )


def _personal_number(patient: PatientDTO, now: datetime, errors: FieldErrors) -> str | None:
    """From ``PatientPersonalIdentification`` (a string) and/or ``PersonalNumber``
    (parts, or a string); when both are sent they must agree."""
    given = []
    if (patient.patient_personal_identification or "").strip():
        given.append(
            ("Patient.PatientPersonalIdentification", patient.patient_personal_identification)
        )
    if patient.personal_number is not None:
        given.append(("Patient.PersonalNumber", patient.personal_number.as_text() or ""))
    if not given:
        errors.add("Patient.PersonalNumber", "personal_number_required")
        return None
    today = now.astimezone(STOCKHOLM).date()
    numbers = set()
    for field, value in given:
        try:
            numbers.add(patient_rules.personal_number(value or "", today))
        except Invalid as invalid:
            errors.add(field, invalid.key)
    if len(numbers) > 1:
        errors.add("Patient.PersonalNumber", "personal_number_mismatch")
    return numbers.pop() if len(numbers) == 1 else None


def _text(
    errors: FieldErrors,
    field: str,
    value: str | None,
    max_length: int,
    key: str,
    required: bool = False,
) -> str | None:
    try:
        return patient_rules.text_field(value, max_length, key, required)
    except Invalid as invalid:
        errors.add(field, invalid.key)
        return None


def _checked(errors: FieldErrors, field: str, value: str | None, check) -> str | None:
    if not (value or "").strip():
        return None
    try:
        return check(value)
    except Invalid as invalid:
        errors.add(field, invalid.key)
        return None


def _optional_setting(
    errors: FieldErrors,
    field: str,
    value: str | None,
    enabled: bool,
    max_length: int,
    key: str,
) -> str | None:
    if not enabled:
        if (value or "").strip():
            errors.add(field, f"{key}_disabled")
        return None
    # Windows clients end lines with CR LF; the stored text (and the rules) use LF.
    value = value.replace("\r\n", "\n") if value else value
    return _text(errors, field, value, max_length, key)
