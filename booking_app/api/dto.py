"""The Opus public API's data, field for field as its spec names them
(``opus-public-api-v1.yaml``, ``Opus.Online.OnlineBooking.Model.DTO.*``): the DTOs that
go out and come in, and the query "Request" objects of the GET operations.

Attributes are snake_case; the JSON names are the aliases. Only the fields this
service fills or reads are declared: other spec fields in a request are ignored, as
the original server's binder ignores unknown ones.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator
from pydantic.json_schema import SkipJsonSchema

from booking_app.api.binding import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    FreeText,
    Int32,
    OptionalDateTime,
    OptionalInt32,
    OptionalOpusIdText,
    OpusModel,
    QueryModel,
)

# What the document says of a personal number's parts and of a month (the checks are
# validations.patient's and times.in_month's; a generated client can check these first).
MONTH: dict[str, Any] = {"minimum": 1, "maximum": 12}
BIRTH_YEAR: dict[str, Any] = {
    "minimum": 1800,
    "maximum": LATEST_YEAR,
    "description": "The year of birth (not in the future).",
}
BIRTH_DAY: dict[str, Any] = {
    "minimum": 1,
    "maximum": 91,
    "description": "The day of birth; plus 60 in a coordination number (samordningsnummer).",
}
EXTRA_DIGITS: dict[str, Any] = {
    "pattern": "^[0-9]{4}$",
    "description": "The last four digits: serial number and Luhn check digit.",
}
PERSONAL_NUMBER: dict[str, Any] = {
    "pattern": "^ *([0-9]{6}|[0-9]{8})[-+]?[0-9]{4} *$",
    "description": "A Swedish personal or coordination number: 12 or 10 digits "
    "(YYYYMMDDNNNC, YYMMDD-NNNC; '+' for 100 years or older), with a valid date and "
    "Luhn check digit.",
    "example": "191212121212",
}


# -- reference data (out) ----------------------------------------------------------------


class ClinicianDTO(OpusModel):
    """One clinician at one clinic: a clinician working at two clinics is listed once
    per clinic, each with its ``ClinicID``."""

    id: int = Field(alias="ID", description="The Opus clinician id.")
    name: str | None = Field(None, alias="Name")
    title: str | None = Field(None, alias="Title")
    active: bool = Field(True, alias="Active")
    clinic_id: str | None = Field(None, alias="ClinicID")
    info: str | None = Field(None, alias="Info")


class ClinicDTOOslo(OpusModel):
    """``Model.DTO.ClinicDTOOslo``: a clinic's address and phones (ClinicDTO without
    Group and Clinicians)."""

    id: str = Field(alias="ID", description="The Opus clinic id.")
    name: str | None = Field(None, alias="Name")
    address1: str | None = Field(None, alias="Address1")
    address2: str | None = Field(None, alias="Address2")
    postal_code: str | None = Field(None, alias="Postalcode")
    city: str | None = Field(None, alias="City")
    home: str | None = Field(None, alias="Home")
    work: str | None = Field(None, alias="Work", description="The clinic's phone.")
    fax: str | None = Field(None, alias="Fax")
    mobile: str | None = Field(None, alias="Mobile")
    email: str | None = Field(None, alias="Email")


class ClinicDTO(ClinicDTOOslo):
    group: str | None = Field(None, alias="Group")
    clinicians: list[ClinicianDTO] = Field(default_factory=list, alias="Clinicians")


class TreatmentDTO(OpusModel):
    id: int = Field(alias="ID", description="The Opus treatment (booking template) id.")
    name: str | None = Field(None, alias="Name")
    description: str | None = Field(None, alias="Description")
    duration: int = Field(alias="Duration", description="Minutes.")


# -- times, reservations, bookings (out and in) ------------------------------------------


class TimeSlotDTO(OpusModel):
    """A bookable time. Out: ``ID`` is 0 (a free time is no reservation yet). In:
    ``ID`` is optional; where it counts (``POST /bookings``) it is a reservation id
    from ``PUT /reservations``, and 0 means none."""

    id: OptionalInt32 = Field(None, alias="ID")
    start: OptionalDateTime = Field(None, alias="Start")
    end: OptionalDateTime = Field(None, alias="End")
    clinic_id: OptionalOpusIdText = Field(None, alias="ClinicID")
    clinician_id: OptionalInt32 = Field(
        None, alias="ClinicianID", description="Absent or 0 when booking: any clinician."
    )
    treatment_id: OptionalInt32 = Field(None, alias="TreatmentID")


class PersonalIdentification(OpusModel):
    """A personal number in parts (``Model.PersonalIdentification``). Clients also send
    the number as one string in its place; that is accepted too."""

    year: OptionalInt32 = Field(None, alias="Year", json_schema_extra=BIRTH_YEAR)
    month: OptionalInt32 = Field(None, alias="Month", json_schema_extra=MONTH)
    day: OptionalInt32 = Field(None, alias="Day", json_schema_extra=BIRTH_DAY)
    extra_digits: FreeText = Field(None, alias="ExtraDigits", json_schema_extra=EXTRA_DIGITS)
    whole: SkipJsonSchema[str | None] = Field(None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        if isinstance(data, str | int) and not isinstance(data, bool):
            return {"whole": str(data)}
        return data

    def as_text(self) -> str | None:
        if self.whole is not None:
            return self.whole
        if self.year is None and self.month is None and self.day is None:
            return self.extra_digits
        if None in (self.year, self.month, self.day, self.extra_digits):
            return ""  # parts missing: an invalid number, not an absent one
        return f"{self.year:04d}{self.month:02d}{self.day:02d}{self.extra_digits}"


class PatientDTO(OpusModel):
    """The patient fields a booking reads (``Model.DTO.PatientDTO``; ``Adress1`` is
    spelled as in the spec)."""

    patient_personal_identification: FreeText = Field(
        None, alias="PatientPersonalIdentification", json_schema_extra=PERSONAL_NUMBER
    )
    personal_number: PersonalIdentification | None = Field(None, alias="PersonalNumber")
    first_name: FreeText = Field(None, alias="FirstName")
    last_name: FreeText = Field(None, alias="LastName")
    address1: FreeText = Field(None, alias="Adress1")
    postal_code: FreeText = Field(None, alias="PostalCode")
    city: FreeText = Field(None, alias="City")
    email: FreeText = Field(None, alias="Email")
    mobile_phone_number: FreeText = Field(None, alias="MobilePhoneNumber")


def _not_kept(value: object) -> None:
    return None


NotKeptText = Annotated[str | None, BeforeValidator(_not_kept)]
NotKeptInt32 = Annotated[
    int | None,
    BeforeValidator(_not_kept),
    WithJsonSchema({"anyOf": [{"type": "integer", "format": "int32"}, {"type": "null"}]}),
]
"""Spec fields this service has no value for: ignored when sent, null when answered."""


class BookingDTO(OpusModel):
    """``POST /bookings``' body and ``GET /patients/{…}/bookings``' items
    (``Model.DTO.BookingDTO``)."""

    id: OptionalInt32 = Field(None, alias="ID", description="Ignored on create.")
    patient: PatientDTO | None = Field(None, alias="Patient")
    time_slot: TimeSlotDTO | None = Field(None, alias="TimeSlot")
    campaign_code: FreeText = Field(
        None, alias="CampaignCode", description="Only when the clinic uses campaign codes."
    )
    free_text_message: FreeText = Field(
        None,
        alias="FreeTextMessage",
        description="Only when the clinic accepts messages (Användarmeddelande).",
    )
    category_description: NotKeptText = Field(
        None, alias="CategoryDescription", description="Not used: always null."
    )
    category_code: NotKeptInt32 = Field(
        None, alias="CategoryCode", description="Not used: always null."
    )


class RescheduleDTO(OpusModel):
    """``PATCH /bookings``' body (``Model.DTO.RescheduleDTO``): move a booking to a new
    time at the same clinic, for the same treatment."""

    original_booking_id: OptionalInt32 = Field(
        None,
        alias="OriginalBookingId",
        description="The booking to move (its ID).",
        json_schema_extra={"minimum": 1},
    )
    new_time: TimeSlotDTO | None = Field(
        None,
        alias="NewTime",
        description="Start (required); ClinicianID absent or 0: any clinician. ClinicID "
        "and TreatmentID, when given, must be the booking's.",
    )
    patient_to_reschedule: PatientDTO | None = Field(
        None,
        alias="PatientToReschedule",
        description="The booking's patient: PatientPersonalIdentification or "
        "PersonalNumber (or ReschedulerIdentity) must be the booking's personal number.",
    )
    requested_by: FreeText = Field(None, alias="RequestedBy")
    rescheduler_identity: PersonalIdentification | None = Field(None, alias="ReschedulerIdentity")


# -- GET /patients/{…}/bookings/extended (out) -------------------------------------------


class TimeSlotDTOOslo(OpusModel):
    id: OptionalInt32 = Field(None, alias="ID")
    start: OptionalDateTime = Field(None, alias="Start")
    end: OptionalDateTime = Field(None, alias="End")
    clinic: ClinicDTOOslo | None = Field(None, alias="Clinic")
    clinician: ClinicianDTO | None = Field(None, alias="Clinician")
    treatment: TreatmentDTO | None = Field(None, alias="Treatment")


class BookingDTOExtended(OpusModel):
    id: OptionalInt32 = Field(None, alias="ID")
    patient: PatientDTO | None = Field(None, alias="Patient")
    time_slot: TimeSlotDTOOslo | None = Field(None, alias="TimeSlot")
    campaign_code: FreeText = Field(None, alias="CampaignCode")
    free_text_message: FreeText = Field(None, alias="FreeTextMessage")
    category_description: NotKeptText = Field(None, alias="CategoryDescription")
    category_code: NotKeptInt32 = Field(None, alias="CategoryCode")


class ErrorDTO(OpusModel):
    """Every error answer (as ASP.NET Web API shapes them)."""

    message: str = Field(alias="Message")
    model_state: dict[str, list[str]] | None = Field(
        None, alias="ModelState", description="400: the invalid fields and why."
    )
    nearest_free_times: list[TimeSlotDTO] | None = Field(
        None, alias="NearestFreeTimes", description="409: the free times nearest the asked one."
    )
    reason: str | None = Field(
        None,
        alias="Reason",
        description="Cancel/reschedule refused: which rule (CancelDisabled, ChangeDisabled, "
        "CancelNotAllowedForTreatment, ChangeNotAllowedForTreatment, PastCutOff, NotActive).",
    )
    cut_off: OptionalDateTime = Field(
        None, alias="CutOff", description="When web changes to the booking closed (or close)."
    )
    clinic_phone: str | None = Field(None, alias="ClinicPhone", description="Call instead.")


# -- query "Request" objects -------------------------------------------------------------


class ClinicsQuery(QueryModel):
    clinician_id: OptionalInt32 = Field(None, alias="clinicianID")
    treatment_id: OptionalInt32 = Field(None, alias="treatmentID")
    only_with_free_times: bool | None = Field(None, alias="onlyWithFreeTimes")
    group_name: OptionalOpusIdText = Field(None, alias="groupName")


class CliniciansQuery(QueryModel):
    clinic_id: OptionalOpusIdText = Field(None, alias="clinicID")
    treatment_id: OptionalInt32 = Field(None, alias="treatmentID")
    only_with_free_times: bool | None = Field(None, alias="onlyWithFreeTimes")
    group_name: OptionalOpusIdText = Field(None, alias="groupName")


class TreatmentsQuery(QueryModel):
    clinic_id: OptionalOpusIdText = Field(None, alias="clinicID")
    clinician_id: OptionalInt32 = Field(None, alias="clinicianID")
    group_name: OptionalOpusIdText = Field(None, alias="groupName")


class AvailableTimesQuery(QueryModel):
    """``GetAvailableTime.Request`` and ``GetOverview.Request`` (the same fields)."""

    documented_required: ClassVar[frozenset[str]] = frozenset({"treatmentID"})

    from_: OptionalDateTime = Field(None, alias="from", description="Default: now.")
    to: OptionalDateTime = Field(
        None,
        alias="to",
        description="After from. Default: from + 14 days; a longer window is cut to 31 days.",
    )
    treatment_id: OptionalInt32 = Field(None, alias="treatmentID")
    clinic_id: OptionalOpusIdText = Field(None, alias="clinicID")
    clinician_id: OptionalInt32 = Field(None, alias="clinicianID")
    group_name: OptionalOpusIdText = Field(None, alias="groupName")


class CalendarQuery(QueryModel):
    """``GET /timeslots``: the spec gives these names no prefix (``request.`` is still
    accepted, like everywhere)."""

    prefix: ClassVar[str] = ""
    documented_required: ClassVar[frozenset[str]] = frozenset({"treatmentID"})

    year: Int32 = Field(
        alias="year", json_schema_extra={"minimum": EARLIEST_YEAR, "maximum": LATEST_YEAR}
    )
    month: Int32 = Field(alias="month", json_schema_extra=MONTH)
    clinic_id: OptionalOpusIdText = Field(None, alias="clinicID")
    clinician_id: OptionalInt32 = Field(None, alias="clinicianID")
    treatment_id: OptionalInt32 = Field(None, alias="treatmentID")
    delay: OptionalInt32 = Field(
        None, alias="delay", description="Minutes of extra notice (the spec gives no unit)."
    )
    group_name: OptionalOpusIdText = Field(None, alias="groupName")


class TimeSlotQuery(QueryModel):
    """``GET /reservations/available``: a TimeSlotDTO flattened as ``timeSlotToCheck.*``."""

    prefix: ClassVar[str] = "timeSlotToCheck."
    documented_required: ClassVar[frozenset[str]] = frozenset({"start", "clinicID", "treatmentID"})

    id: OptionalInt32 = Field(None, alias="iD")
    start: OptionalDateTime = Field(None, alias="start")
    end: OptionalDateTime = Field(
        None, alias="end", description="When given: start + the treatment's Duration."
    )
    clinic_id: OptionalOpusIdText = Field(None, alias="clinicID")
    clinician_id: OptionalInt32 = Field(None, alias="clinicianID")
    treatment_id: OptionalInt32 = Field(None, alias="treatmentID")

    def as_slot(self) -> TimeSlotDTO:
        return TimeSlotDTO.model_construct(
            id=self.id,
            start=self.start,
            end=self.end,
            clinic_id=self.clinic_id,
            clinician_id=self.clinician_id,
            treatment_id=self.treatment_id,
        )


class ReservationQuery(QueryModel):
    """``DELETE /reservations``: the spec declares the id in the query (``reservationId``
    and ``request.reservationId``) although its path template has it too."""

    reservation_id: OptionalInt32 = Field(None, alias="reservationId")


class CancelBookingQuery(QueryModel):
    """``DELETE /bookings`` (``Features.Bookings.CancelBooking.Request``). The personal
    number (in parts, or whole as ``request.requestedByPersonalId``) must be the
    booking's patient's."""

    documented_required: ClassVar[frozenset[str]] = frozenset({"bookingID"})

    booking_id: OptionalInt32 = Field(None, alias="bookingID", json_schema_extra={"minimum": 1})
    clinic_id: OptionalOpusIdText = Field(None, alias="clinicID")
    requested_by: OptionalOpusIdText = Field(None, alias="requestedBy")
    year: OptionalInt32 = Field(
        None, alias="requestedByPersonalId.year", json_schema_extra=BIRTH_YEAR
    )
    month: OptionalInt32 = Field(None, alias="requestedByPersonalId.month", json_schema_extra=MONTH)
    day: OptionalInt32 = Field(None, alias="requestedByPersonalId.day", json_schema_extra=BIRTH_DAY)
    extra_digits: OptionalOpusIdText = Field(
        None, alias="requestedByPersonalId.extraDigits", json_schema_extra=EXTRA_DIGITS
    )
    whole: SkipJsonSchema[OptionalOpusIdText] = Field(None, alias="requestedByPersonalId")
    notify_patient: bool | None = Field(None, alias="notifyPatient")

    def personal_id(self) -> PersonalIdentification | None:
        return _parts(self.whole, self.year, self.month, self.day, self.extra_digits)


class PatientBookingsQuery(QueryModel):
    """``GET /patients/{patientPersonalIdentification}/bookings`` (and ``/extended``):
    the number may be in the path, ``request.patientPersonalIdentification`` or the
    ``request.personalIdentification.*`` parts; given more than once, they must agree."""

    include_past_bookings: bool | None = Field(None, alias="includePastBookings")
    patient_personal_identification: OptionalOpusIdText = Field(
        None, alias="patientPersonalIdentification", json_schema_extra=PERSONAL_NUMBER
    )
    year: OptionalInt32 = Field(
        None, alias="personalIdentification.year", json_schema_extra=BIRTH_YEAR
    )
    month: OptionalInt32 = Field(
        None, alias="personalIdentification.month", json_schema_extra=MONTH
    )
    day: OptionalInt32 = Field(
        None, alias="personalIdentification.day", json_schema_extra=BIRTH_DAY
    )
    extra_digits: OptionalOpusIdText = Field(
        None, alias="personalIdentification.extraDigits", json_schema_extra=EXTRA_DIGITS
    )

    def personal_id(self) -> PersonalIdentification | None:
        return _parts(None, self.year, self.month, self.day, self.extra_digits)


def _parts(
    whole: str | None, year: int | None, month: int | None, day: int | None, extra: str | None
) -> PersonalIdentification | None:
    if whole is not None:
        return PersonalIdentification.model_construct(whole=whole)
    if year is None and month is None and day is None and extra is None:
        return None
    return PersonalIdentification.model_construct(
        year=year, month=month, day=day, extra_digits=extra, whole=None
    )


class RescheduleFlags(QueryModel):
    """``PATCH /bookings``' query flag (no prefix in the spec)."""

    prefix: ClassVar[str] = ""

    notify_patient: bool | None = Field(None, alias="notifyPatient")


class BookingFlags(QueryModel):
    """``POST /bookings``' query flags (no prefix in the spec)."""

    prefix: ClassVar[str] = ""

    notify_patient: bool | None = Field(None, alias="notifyPatient")
    activate_patient: bool | None = Field(None, alias="activatePatient")
