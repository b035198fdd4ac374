"""A patient's own bookings through the API: reschedule (``PATCH /bookings``), cancel
(``DELETE /bookings``) and list (``GET /patients/{patientPersonalIdentification}/bookings``).

The rules are the booking page's, from :mod:`connectors.store.my_bookings`: cancelling
needs *Avbokning aktiverad* and the treatment's ``CancelInWeb``, rescheduling *Ändra
bokning aktiverad* and ``ChangeInWeb``, and both close at the stricter of *Ändra
bokningsinställning* and the treatment's ``ChangeInWebLimit``. A refusal is a 403 (409
when the booking is no longer active) whose ``Reason`` names the rule, with the cut-off
and the clinic's phone number.

Who may change a booking: an API key is the clinic chain's (the integrator's), not the
patient's, so a change also names the patient by personal number, and a booking is
only found with its own patient's number (``request.requestedByPersonalId`` /
``PatientToReschedule``). Another patient's booking, another tenant's, or a booking
still on hold are all 404, the same answer, so no id gives away that it exists.

Repeats are harmless: cancelling a cancelled booking answers 200 again; moving a
booking that was already moved to the same new time answers the new booking's id.

Personal numbers reach this module in URLs and query strings (the spec puts them
there); :mod:`booking_app.api.access_log` keeps them out of the access log, and no
message here repeats one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from booking_app.api.binding import STOCKHOLM
from booking_app.api.booking import Wanted, _contested, ensure_open
from booking_app.api.dto import (
    BookingDTO,
    BookingDTOExtended,
    CancelBookingQuery,
    ClinicDTOOslo,
    ClinicianDTO,
    PatientBookingsQuery,
    PatientDTO,
    PersonalIdentification,
    RescheduleDTO,
    TimeSlotDTO,
    TimeSlotDTOOslo,
    TreatmentDTO,
)
from booking_app.api.errors import (
    ApiError,
    Conflict,
    FieldErrors,
    Forbidden,
    NotFound,
)
from booking_app.api.reference import clinic_address, require_clinician, staff
from connectors.store import bookings
from connectors.store.models import (
    Booking,
    Clinic,
    OpusAppointment,
    OutboxMessage,
    Practitioner,
    Tenant,
    Treatment,
)
from connectors.store.my_bookings import Refused, Verdict, cancel_own, rebook_own
from opus_online.formatting import format_datetime
from validations import patient as patient_rules
from validations.patient import Invalid

PATH_TEMPLATE = "{patientPersonalIdentification}"
"""What a client that does not fill the path template sends (the number then comes in
the query)."""

_REFUSALS: dict[str | None, tuple[type[ApiError], str, str]] = {
    "my_booking_cancel_disabled": (Forbidden, "cancel_disabled", "CancelDisabled"),
    "my_booking_change_disabled": (Forbidden, "change_disabled", "ChangeDisabled"),
    "my_booking_cancel_not_for_treatment": (
        Forbidden,
        "cancel_not_for_treatment",
        "CancelNotAllowedForTreatment",
    ),
    "my_booking_change_not_for_treatment": (
        Forbidden,
        "change_not_for_treatment",
        "ChangeNotAllowedForTreatment",
    ),
    "my_booking_past_cutoff": (Forbidden, "past_cutoff", "PastCutOff"),
    "my_booking_not_active": (Conflict, "booking_not_active", "NotActive"),
}


# -- the tenant, the patient, the booking ------------------------------------------------


def personal_number(
    given: Sequence[tuple[str, str | PersonalIdentification | None]],
    now: datetime,
    errors: FieldErrors,
    required_field: str,
) -> str | None:
    """The one personal number in ``given`` (field name, value; ``None`` where not
    sent), as 12 digits. Each value is checked; values given more than once must agree.
    Problems go into ``errors``."""
    today = now.astimezone(STOCKHOLM).date()
    numbers: set[str] = set()
    for field, value in given:
        if value is None:
            continue
        text = value.as_text() if isinstance(value, PersonalIdentification) else value
        try:
            numbers.add(patient_rules.personal_number(text or "", today))
        except Invalid as invalid:
            errors.add(field, invalid.key)
            return None
    if not numbers:
        errors.add(required_field, "personal_number_required")
        return None
    if len(numbers) > 1:
        errors.add(required_field, "personal_number_mismatch")
        return None
    return numbers.pop()


def own_booking(
    session: Session,
    tenant: Tenant,
    booking_id: int,
    number: str,
    opus_clinic_id: str | None = None,
    *,
    lock: bool = False,
) -> Booking:
    """The patient's booking ``booking_id`` in this tenant (at ``opus_clinic_id`` when
    given); 404 for anyone else's, another tenant's, and for a hold (not a booking)."""
    query = select(Booking).where(
        Booking.id == booking_id,
        Booking.tenant_id == tenant.id,
        Booking.personal_number == number,
        Booking.status.in_(("confirmed", "cancelled", "rebooked")),
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    booking = session.scalars(query).first()
    if booking is None:
        raise NotFound("booking_not_found")
    if opus_clinic_id is not None:
        clinic = session.get(Clinic, booking.clinic_id)
        if clinic is None or clinic.opus_clinic_id != opus_clinic_id.strip():
            raise NotFound("booking_not_found")
    return booking


def refusal(verdict: Verdict, lang: str) -> ApiError:
    """The API's answer to a rule's "no": the message, and ``Reason``, ``CutOff`` and
    ``ClinicPhone`` for a client to act on."""
    kind, key, reason = _REFUSALS.get(verdict.reason, _REFUSALS["my_booking_not_active"])
    extra: dict[str, object] = {"Reason": reason, "ClinicPhone": verdict.phone}
    params: dict[str, object] = {}
    if verdict.cutoff_at is not None:
        extra["CutOff"] = verdict.cutoff_at.astimezone(STOCKHOLM).isoformat(timespec="seconds")
    if key == "past_cutoff":
        assert verdict.cutoff_at is not None
        params["time"] = format_datetime(verdict.cutoff_at, lang)
    return kind(key, extra=extra, **params)


def _not_active(session: Session, booking: Booking) -> ApiError:
    clinic = session.get(Clinic, booking.clinic_id)
    return refusal(
        Verdict(False, "my_booking_not_active", phone=clinic.phone if clinic else None), "sv"
    )


def _quiet(session: Session, booking: Booking, kind: str) -> None:
    """``notifyPatient=false``: the patient's messages about this change are not sent."""
    session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.booking_id == booking.id,
            OutboxMessage.kind == kind,
            OutboxMessage.status == "pending",
        )
    )


# -- DELETE /bookings --------------------------------------------------------------------


def cancel(
    session: Session, tenant: Tenant, query: CancelBookingQuery, now: datetime, lang: str
) -> None:
    ensure_open(tenant)
    errors = FieldErrors()
    if not query.booking_id:
        errors.add("request.bookingID", "field_required")
    number = personal_number(
        [("request.requestedByPersonalId", query.personal_id())],
        now,
        errors,
        "request.requestedByPersonalId",
    )
    errors.raise_if_any()
    assert query.booking_id and number is not None
    booking = own_booking(session, tenant, query.booking_id, number, query.clinic_id, lock=True)
    if booking.status == "cancelled":
        return  # cancelled already: the same answer again
    try:
        cancel_own(session, tenant.id, number, booking.reference, now)
    except Refused as refused:
        raise refusal(refused.verdict, lang) from None
    except bookings.NotActive:
        session.refresh(booking)
        if booking.status == "cancelled":
            return
        raise _not_active(session, booking) from None
    if query.notify_patient is False:
        _quiet(session, booking, "cancel")


# -- PATCH /bookings ---------------------------------------------------------------------


def reschedule(
    session: Session,
    tenant: Tenant,
    dto: RescheduleDTO,
    now: datetime,
    lang: str,
    notify_patient: bool = True,
) -> int:
    """Move the booking to ``NewTime``; answers the new booking's id."""
    ensure_open(tenant)
    errors = FieldErrors()
    if not dto.original_booking_id:
        errors.add("OriginalBookingId", "field_required")
    patient = dto.patient_to_reschedule or PatientDTO()
    given: list[tuple[str, str | PersonalIdentification | None]] = [
        (
            "PatientToReschedule.PatientPersonalIdentification",
            patient.patient_personal_identification,
        ),
        ("PatientToReschedule.PersonalNumber", patient.personal_number),
    ]
    if all(value is None for _, value in given):
        # No patient named: the rescheduler is the patient. (A guardian would name the
        # child in PatientToReschedule; the rescheduler is then not checked against the
        # booking, as the store knows no guardians.)
        given = [("ReschedulerIdentity", dto.rescheduler_identity)]
    number = personal_number(given, now, errors, "PatientToReschedule.PersonalNumber")
    slot = dto.new_time
    if slot is None:
        errors.add("NewTime", "field_required")
    elif slot.start is None:
        errors.add("NewTime.Start", "field_required")
    elif slot.end is not None and slot.end <= slot.start:
        errors.add("NewTime.End", "window_order")
    errors.raise_if_any()
    assert dto.original_booking_id and number is not None and slot and slot.start
    booking = own_booking(session, tenant, dto.original_booking_id, number)
    wanted = _wanted(session, tenant, booking, slot)
    if booking.status == "rebooked":
        return _moved_already(session, booking, wanted)
    if booking.status != "confirmed":
        raise _not_active(session, booking)
    if booking.starts_at == wanted.starts_at and booking.practitioner_id in wanted.candidates:
        return booking.id  # already at that time: nothing to move
    bookings.lock_practitioners(session, [*wanted.candidates, booking.practitioner_id])
    try:
        with _contested(session, tenant, wanted, now):
            moved = rebook_own(
                session,
                tenant.id,
                number,
                booking.reference,
                wanted.starts_at,
                wanted.practitioner.id if wanted.practitioner else None,
                now,
                language=lang,
                channel="api",
            )
    except Refused as refused:
        raise refusal(refused.verdict, lang) from None
    except bookings.NotActive:
        session.refresh(booking)
        if booking.status == "rebooked":
            return _moved_already(session, booking, wanted)
        raise _not_active(session, booking) from None
    if not notify_patient:
        _quiet(session, moved, "rebook")
    return moved.id


def _wanted(session: Session, tenant: Tenant, booking: Booking, slot: TimeSlotDTO) -> Wanted:
    """``NewTime`` as store rows: the booking's clinic and treatment (a different one
    named is a 400), and the clinician asked for, or any of the clinic's."""
    assert slot.start is not None
    clinic = session.get(Clinic, booking.clinic_id)
    treatment = session.get(Treatment, booking.treatment_id)
    assert clinic is not None and treatment is not None
    errors = FieldErrors()
    if slot.clinic_id is not None and slot.clinic_id.strip() != clinic.opus_clinic_id:
        errors.add("NewTime.ClinicID", "reschedule_same_clinic")
    if slot.treatment_id and slot.treatment_id != treatment.opus_treatment_id:
        errors.add("NewTime.TreatmentID", "reschedule_same_treatment")
    if slot.end is not None and slot.end != slot.start + timedelta(minutes=treatment.duration_min):
        errors.add("NewTime.End", "end_mismatch")
    errors.raise_if_any()
    members = [m.practitioner for m in staff(session, tenant.id, [clinic])]
    practitioner = None
    if slot.clinician_id:
        practitioner = next((p for p in members if p.opus_clinician_id == slot.clinician_id), None)
        if practitioner is None:
            require_clinician(session, tenant.id, slot.clinician_id)
            raise NotFound("clinician_not_at_clinic")
    candidates = (practitioner.id,) if practitioner else tuple(p.id for p in members)
    return Wanted(clinic, treatment, practitioner, slot.start, candidates)


def _moved_already(session: Session, booking: Booking, wanted: Wanted) -> int:
    """A repeat of a move that was made: the booking it became, if that is at the time
    asked for and still booked; otherwise the booking was moved elsewhere (409)."""
    successor = session.scalars(
        select(Booking).where(
            Booking.rebooked_from_id == booking.id,
            Booking.status == "confirmed",
            Booking.starts_at == wanted.starts_at,
            Booking.practitioner_id.in_(wanted.candidates),
        )
    ).first()
    if successor is None:
        raise _not_active(session, booking)
    return successor.id


# -- GET /patients/{patientPersonalIdentification}/bookings -------------------------------


def _listed_number(
    tenant: Tenant, path_value: str, query: PatientBookingsQuery, now: datetime
) -> str:
    settings = ensure_open(tenant)
    if not settings.view_bookings_enabled:
        raise Forbidden("view_bookings_disabled")
    path_value = path_value.strip()
    errors = FieldErrors()
    number = personal_number(
        [
            (
                "patientPersonalIdentification",
                path_value if path_value and path_value != PATH_TEMPLATE else None,
            ),
            ("request.patientPersonalIdentification", query.patient_personal_identification),
            ("request.personalIdentification", query.personal_id()),
        ],
        now,
        errors,
        "patientPersonalIdentification",
    )
    errors.raise_if_any()
    assert number is not None
    return number


def _listed(
    session: Session, tenant: Tenant, number: str, past_too: bool, now: datetime
) -> list[tuple[Booking | OpusAppointment, Clinic | None, Practitioner | None, Treatment | None]]:
    """The patient's bookings in this tenant, soonest first: confirmed bookings made
    online, and the appointments the sync read from Opus that are not ours already
    (the clinic's own: ``ID`` 0, they are changed by phone)."""
    query = select(Booking).where(
        Booking.tenant_id == tenant.id,
        Booking.personal_number == number,
        Booking.status == "confirmed",
    )
    opus = select(OpusAppointment).where(
        OpusAppointment.tenant_id == tenant.id,
        OpusAppointment.personal_number == number,
        OpusAppointment.status == "booked",
    )
    if not past_too:
        query = query.where(Booking.starts_at > now)
        opus = opus.where(OpusAppointment.starts_at > now)
    found: list[Booking | OpusAppointment] = list(session.scalars(query))
    ours = set(
        session.scalars(
            select(Booking.appointment_key).where(
                Booking.tenant_id == tenant.id, Booking.personal_number == number
            )
        )
    )
    found += [a for a in session.scalars(opus) if a.idempotency_key not in ours]
    found.sort(key=lambda b: (b.starts_at, isinstance(b, OpusAppointment), b.id))

    def get(model, id_):
        return session.get(model, id_) if id_ is not None else None

    return [
        (
            item,
            get(Clinic, item.clinic_id),
            get(Practitioner, item.practitioner_id),
            get(Treatment, item.treatment_id),
        )
        for item in found
    ]


def _patient(item: Booking | OpusAppointment, number: str) -> PatientDTO:
    mine = item if isinstance(item, Booking) else None
    return PatientDTO.model_construct(
        patient_personal_identification=number,
        personal_number=PersonalIdentification.model_construct(
            year=int(number[:4]),
            month=int(number[4:6]),
            day=int(number[6:8]),
            extra_digits=number[8:],
            whole=None,
        ),
        first_name=mine.first_name if mine else None,
        last_name=mine.last_name if mine else None,
        address1=mine.address1 if mine else None,
        postal_code=mine.postal_code if mine else None,
        city=mine.city if mine else None,
        email=mine.email if mine else None,
        mobile_phone_number=mine.mobile if mine else None,
    )


def patient_bookings(
    session: Session, tenant: Tenant, path_value: str, query: PatientBookingsQuery, now: datetime
) -> list[BookingDTO]:
    def time_slot(slot_id: int, item, clinic, practitioner, treatment) -> TimeSlotDTO:
        return TimeSlotDTO.model_construct(
            id=slot_id,
            start=item.starts_at,
            end=item.ends_at,
            clinic_id=clinic.opus_clinic_id if clinic else None,
            clinician_id=practitioner.opus_clinician_id if practitioner else None,
            treatment_id=treatment.opus_treatment_id if treatment else None,
        )

    return _bookings(session, tenant, path_value, query, now, BookingDTO, time_slot)


def patient_bookings_extended(
    session: Session, tenant: Tenant, path_value: str, query: PatientBookingsQuery, now: datetime
) -> list[BookingDTOExtended]:
    def time_slot(slot_id: int, item, clinic, practitioner, treatment) -> TimeSlotDTOOslo:
        return TimeSlotDTOOslo.model_construct(
            id=slot_id,
            start=item.starts_at,
            end=item.ends_at,
            clinic=_clinic(clinic),
            clinician=_clinician(practitioner, clinic),
            treatment=_treatment(treatment),
        )

    return _bookings(session, tenant, path_value, query, now, BookingDTOExtended, time_slot)


def _bookings(
    session: Session,
    tenant: Tenant,
    path_value: str,
    query: PatientBookingsQuery,
    now: datetime,
    dto: type[BookingDTO] | type[BookingDTOExtended],
    time_slot: Callable[..., TimeSlotDTO | TimeSlotDTOOslo],
) -> list:
    """The patient's bookings as ``dto``s, their times made by ``time_slot``: the two
    listings differ only in how a time names its clinic, clinician and treatment."""
    number = _listed_number(tenant, path_value, query, now)
    result = []
    for item, clinic, practitioner, treatment in _listed(
        session, tenant, number, bool(query.include_past_bookings), now
    ):
        mine = item if isinstance(item, Booking) else None  # else an Opus appointment
        result.append(
            dto.model_construct(
                id=mine.id if mine else 0,
                patient=_patient(item, number),
                time_slot=time_slot(mine.id if mine else 0, item, clinic, practitioner, treatment),
                campaign_code=mine.campaign_code if mine else None,
                free_text_message=mine.message if mine else None,
                category_description=None,
                category_code=None,
            )
        )
    return result


def _clinic(clinic: Clinic | None) -> ClinicDTOOslo | None:
    if clinic is None:
        return None
    return ClinicDTOOslo(**clinic_address(clinic))


def _clinician(practitioner: Practitioner | None, clinic: Clinic | None) -> ClinicianDTO | None:
    if practitioner is None:
        return None
    return ClinicianDTO(
        id=practitioner.opus_clinician_id,
        name=practitioner.display_name or None,
        title=practitioner.title,
        active=practitioner.active,
        clinic_id=clinic.opus_clinic_id if clinic else None,
        info=practitioner.info_text,
    )


def _treatment(treatment: Treatment | None) -> TreatmentDTO | None:
    if treatment is None:
        return None
    return TreatmentDTO(
        id=treatment.opus_treatment_id,
        name=treatment.name,
        description=treatment.description,
        duration=treatment.duration_min,
    )
