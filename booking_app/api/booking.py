"""Reservations and bookings through the API, on the store's hold and confirm.

- ``PUT /reservations`` holds a time (:data:`connectors.store.bookings.HOLD`) and
  answers the booking's id: the reservation id. Ids are the store's booking ids; they
  are only ever looked up within the tenant whose key is used, so another tenant's id
  is simply not found.
- ``POST /bookings`` validates the patient, then holds the time (or takes over the
  reservation named by ``TimeSlot.ID``) and confirms it, all in one transaction: a
  failure leaves nothing behind. The answer is the booking id (the reservation's id
  when there was one).
- Sending the same booking twice gives one booking: a confirmed booking of the same
  patient at the same time, clinic, treatment and clinician is answered again.

Who gets a contested time is the database's decision (exclusion constraint / SQLite
triggers). Writers to one clinician's time also queue before they look: on SQLite the
write transaction holds the database's write lock, on PostgreSQL an advisory lock per
clinician is taken first. Without that queue, two PostgreSQL transactions that each
inserted a conflicting hold wait for each other inside the exclusion check, and the
deadlock detector, not the constraint, decides after a second. Locks are taken in one
order (advisory lock, then row lock), so they cannot deadlock among themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from booking_app.api.dto import BookingDTO, TimeSlotDTO, TimeSlotQuery
from booking_app.api.errors import (
    BadRequest,
    Conflict,
    FieldErrors,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unavailable,
)
from booking_app.api.patient import Patient, validate_patient
from booking_app.api.reference import clinic_by_opus_id, require_clinician, staff
from booking_app.api.times import nearest_times, published
from connectors.store import bookings, client_limits
from connectors.store.availability import bookable_times, rules_for
from connectors.store.client_limits import Client, LimitReached
from connectors.store.models import (
    Booking,
    Clinic,
    OutboxMessage,
    Practitioner,
    Tenant,
    TenantSettings,
    Treatment,
)

DEADLOCK = "40P01"


@dataclass(frozen=True)
class Wanted:
    """A time slot the client asked for, resolved to store rows."""

    clinic: Clinic
    treatment: Treatment
    practitioner: Practitioner | None  # None: any of the clinic's clinicians
    starts_at: datetime
    candidates: tuple[int, ...]  # practitioners that could take it (store ids)


@dataclass(frozen=True)
class SlotFields:
    """What the client calls a slot's fields, for messages about them."""

    start: str
    end: str
    clinic: str
    clinician: str
    treatment: str
    whole: str

    @classmethod
    def body(cls, prefix: str) -> SlotFields:
        return cls(
            f"{prefix}Start",
            f"{prefix}End",
            f"{prefix}ClinicID",
            f"{prefix}ClinicianID",
            f"{prefix}TreatmentID",
            prefix.rstrip(".") or "TimeSlot",
        )


QUERY_SLOT = SlotFields(
    *(f"timeSlotToCheck.{n}" for n in ("start", "end", "clinicID", "clinicianID", "treatmentID")),
    "timeSlotToCheck",
)


# -- the tenant's settings ---------------------------------------------------------------


def ensure_open(tenant: Tenant) -> TenantSettings:
    """The gate every booking call passes: maintenance closes new bookings and changes
    alike (503); a site that is not published has no online bookings (403)."""
    settings = tenant.settings
    if settings is not None and settings.maintenance_mode:
        raise Unavailable("maintenance")
    if settings is None or not published(tenant):
        raise Forbidden("booking_closed")
    return settings


def ensure_open_for_booking(tenant: Tenant) -> TenantSettings:
    """The settings that close new bookings, each with its own answer."""
    settings = ensure_open(tenant)
    if not settings.new_booking_enabled:
        raise Forbidden("new_booking_disabled")
    if settings.new_booking_requires_login:
        # The API has no e-ID session to show for it; the gate stays shut.
        raise Forbidden("new_booking_requires_login")
    return settings


# -- resolving a slot --------------------------------------------------------------------


def check_slot_fields(slot: TimeSlotDTO | None, names: SlotFields, errors: FieldErrors) -> None:
    if slot is None:
        errors.add(names.whole, "field_required")
        return
    for value, name in (
        (slot.start, names.start),
        (slot.clinic_id, names.clinic),
        (slot.treatment_id, names.treatment),
    ):
        if value is None:
            errors.add(name, "field_required")
    if slot.start is not None and slot.end is not None and slot.end <= slot.start:
        errors.add(names.end, "window_order")


def resolve_slot(session: Session, tenant: Tenant, slot: TimeSlotDTO, names: SlotFields) -> Wanted:
    """The store rows behind a slot; 404 for ids that do not exist here. Call
    :func:`check_slot_fields` first."""
    assert slot.start is not None and slot.clinic_id is not None and slot.treatment_id is not None
    clinic = clinic_by_opus_id(session, tenant.id, slot.clinic_id)
    treatment = session.scalars(
        select(Treatment).where(
            Treatment.tenant_id == tenant.id,
            Treatment.opus_database_id == clinic.opus_database_id,
            Treatment.opus_treatment_id == slot.treatment_id,
            Treatment.in_opus,
            Treatment.create_in_web,
        )
    ).first()
    if treatment is None:
        raise NotFound("treatment_not_found")
    members = [m.practitioner for m in staff(session, tenant.id, [clinic])]
    practitioner = None
    if slot.clinician_id:  # absent or 0: any clinician
        practitioner = next((p for p in members if p.opus_clinician_id == slot.clinician_id), None)
        if practitioner is None:
            require_clinician(session, tenant.id, slot.clinician_id)
            raise NotFound("clinician_not_at_clinic")
    if slot.end is not None and slot.end != slot.start + timedelta(minutes=treatment.duration_min):
        raise BadRequest("invalid_request", fields={names.end: ["end_mismatch"]})
    candidates = (practitioner.id,) if practitioner else tuple(p.id for p in members)
    return Wanted(clinic, treatment, practitioner, slot.start, candidates)


# -- reservations ------------------------------------------------------------------------


def reserve(
    session: Session,
    tenant: Tenant,
    slot: TimeSlotDTO,
    now: datetime,
    lang: str,
    holder: Client | None = None,
    most: int = client_limits.MAX_ACTIVE_HOLDS,
) -> int:
    """Hold a time for ``holder`` (the API key), which may hold ``most`` at once:
    past that, :class:`TooManyRequests` (429), with the refusal counted in the
    caller's transaction (the caller answers it, so that it commits)."""
    ensure_open_for_booking(tenant)
    names = SlotFields.body("")
    errors = FieldErrors()
    check_slot_fields(slot, names, errors)
    errors.raise_if_any()
    wanted = resolve_slot(session, tenant, slot, names)
    if holder is not None:
        try:
            client_limits.check_new_hold(session, tenant.id, holder, now, most, "api_holds")
        except LimitReached:
            raise TooManyRequests("too_many_reservations", most=most) from None
    bookings.lock_practitioners(session, wanted.candidates)
    held = _hold(session, tenant, wanted, now, lang)
    if holder is not None:
        client_limits.mark_holder(session, held, holder)
    return held.id


def is_available(session: Session, tenant: Tenant, query: TimeSlotQuery, now: datetime) -> bool:
    """Whether the slot could be reserved now. With ``iD``: true while that reservation
    holds it, and otherwise whether its time could be reserved again (the fields left
    out are the reservation's)."""
    slot = query.as_slot()
    if query.id:
        reservation = _reservation(session, tenant, query.id)
        if not _matches(session, reservation, slot):
            return False
        if (
            reservation.status == "held"
            and reservation.hold_expires_at is not None
            and reservation.hold_expires_at > now
        ):
            return True
        slot = _completed(session, reservation, slot)
    errors = FieldErrors()
    check_slot_fields(slot, QUERY_SLOT, errors)
    errors.raise_if_any()
    wanted = resolve_slot(session, tenant, slot, QUERY_SLOT)
    try:
        settings = ensure_open_for_booking(tenant)
    except (Unavailable, Forbidden):
        return False
    rules = rules_for(settings, wanted.treatment, wanted.clinic, now)
    slots = bookable_times(
        session,
        tenant.id,
        wanted.clinic.id,
        wanted.treatment,
        rules,
        wanted.starts_at,
        wanted.starts_at + timedelta(minutes=1),
        now,
        list(wanted.candidates),
    )
    return any(s.starts_at == wanted.starts_at for s in slots)


def release(session: Session, tenant: Tenant, reservation_id: int) -> None:
    """Let a reservation go. Gone already: fine (a retried DELETE). Booked: 409, as a
    booking is cancelled through its own operation, never by its reservation."""
    reservation = _locked_reservation(session, tenant, reservation_id)
    if reservation.status == "confirmed":
        raise Conflict("reservation_booked")
    bookings.release(session, reservation)


# -- bookings ----------------------------------------------------------------------------


def book(
    session: Session,
    tenant: Tenant,
    booking: BookingDTO,
    now: datetime,
    lang: str,
    notify_patient: bool = True,
) -> int:
    settings = ensure_open_for_booking(tenant)
    errors = FieldErrors()
    patient = validate_patient(booking, settings, now, errors)
    slot = booking.time_slot
    names = SlotFields.body("TimeSlot.")
    if slot is not None and slot.id:
        errors.raise_if_any()
        assert patient is not None
        return _book_reservation(session, tenant, slot, patient, now, lang, notify_patient)
    check_slot_fields(slot, names, errors)
    errors.raise_if_any()
    assert patient is not None and slot is not None
    wanted = resolve_slot(session, tenant, slot, names)
    bookings.lock_practitioners(session, wanted.candidates)
    existing = _same_booking(session, tenant, wanted, patient)
    if existing is not None:
        return existing.id
    held = _hold(session, tenant, wanted, now, lang)
    return _confirm(session, tenant, held, patient, wanted, now, notify_patient)


def _book_reservation(
    session: Session,
    tenant: Tenant,
    slot: TimeSlotDTO,
    patient: Patient,
    now: datetime,
    lang: str,
    notify_patient: bool,
) -> int:
    assert slot.id
    reservation = _locked_reservation(session, tenant, slot.id)
    if not _matches(session, reservation, slot):
        raise BadRequest("invalid_request", fields={"TimeSlot": ["reservation_mismatch"]})
    clinic = session.get(Clinic, reservation.clinic_id)
    treatment = session.get(Treatment, reservation.treatment_id)
    practitioner = session.get(Practitioner, reservation.practitioner_id)
    assert clinic is not None and treatment is not None and practitioner is not None
    wanted = Wanted(
        clinic,
        treatment,
        practitioner,
        reservation.starts_at,
        (practitioner.id,),
    )
    if reservation.status == "confirmed":
        if reservation.personal_number == patient.personal_number:
            return reservation.id  # the same booking, sent again
        raise _conflict(session, tenant, wanted, now)
    if reservation.status == "held":
        return _confirm(session, tenant, reservation, patient, wanted, now, notify_patient)
    # Lapsed or let go: the same time again, if nobody has taken it meanwhile.
    held = _hold(session, tenant, wanted, now, lang)
    return _confirm(session, tenant, held, patient, wanted, now, notify_patient)


def _hold(session: Session, tenant: Tenant, wanted: Wanted, now: datetime, lang: str) -> Booking:
    request = bookings.Request(
        tenant_id=tenant.id,
        clinic_id=wanted.clinic.id,
        treatment_id=wanted.treatment.id,
        starts_at=wanted.starts_at,
        practitioner_id=wanted.practitioner.id if wanted.practitioner else None,
        channel="api",
        language=lang,
    )
    with _contested(session, tenant, wanted, now):
        return bookings.hold(session, request, now)


def _confirm(
    session: Session,
    tenant: Tenant,
    booking: Booking,
    patient: Patient,
    wanted: Wanted,
    now: datetime,
    notify_patient: bool,
) -> int:
    # Details first: confirm() queues the confirmation to the e-mail and mobile on it.
    booking.personal_number = patient.personal_number
    booking.first_name, booking.last_name = patient.first_name, patient.last_name
    booking.email, booking.mobile = patient.email, patient.mobile
    booking.address1, booking.postal_code, booking.city = (
        patient.address1,
        patient.postal_code,
        patient.city,
    )
    booking.message, booking.campaign_code = patient.message, patient.campaign_code
    session.flush()
    with _contested(session, tenant, wanted, now):
        bookings.confirm(session, booking, now)
    if not notify_patient:
        session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.booking_id == booking.id,
                OutboxMessage.kind == "new",
                OutboxMessage.status == "pending",
            )
        )
    return booking.id


@contextmanager
def _contested(session: Session, tenant: Tenant, wanted: Wanted, now: datetime) -> Iterator[None]:
    """However the store says the time is gone, the client hears 409 and other times.

    A deadlock counts too: a writer that does not queue like the API's (the booking
    pages') can still meet ours in PostgreSQL's exclusion check, and then the
    deadlock's survivor has the time. The failed statement was inside the store's
    savepoint, so this transaction can still look up the nearest times."""
    try:
        yield
    except (bookings.TimeTaken, bookings.HoldLost):
        raise _conflict(session, tenant, wanted, now) from None
    except OperationalError as error:
        if getattr(error.orig, "sqlstate", None) != DEADLOCK:
            raise
        raise _conflict(session, tenant, wanted, now) from None


def _conflict(session: Session, tenant: Tenant, wanted: Wanted, now: datetime) -> Conflict:
    nearest = nearest_times(
        session,
        tenant,
        wanted.clinic,
        wanted.treatment,
        wanted.starts_at,
        now,
        wanted.practitioner.id if wanted.practitioner else None,
    )
    return Conflict("time_taken", extra={"NearestFreeTimes": nearest})


def _same_booking(
    session: Session, tenant: Tenant, wanted: Wanted, patient: Patient
) -> Booking | None:
    """This patient's confirmed booking of exactly this slot, if there is one."""
    return session.scalars(
        select(Booking)
        .where(
            Booking.tenant_id == tenant.id,
            Booking.practitioner_id.in_(wanted.candidates),
            # blocks_from is fixed by the start: it lets the index find the row.
            Booking.blocks_from
            == wanted.starts_at - timedelta(minutes=wanted.treatment.warm_up_min),
            Booking.starts_at == wanted.starts_at,
            Booking.clinic_id == wanted.clinic.id,
            Booking.treatment_id == wanted.treatment.id,
            Booking.status == "confirmed",
            Booking.personal_number == patient.personal_number,
        )
        .limit(1)
    ).first()


def _reservation(session: Session, tenant: Tenant, reservation_id: int) -> Booking:
    """A reservation made through the API. A patient's hold on the booking page is not
    one: an integration must not confirm or drop it by guessing its id."""
    reservation = session.scalars(
        select(Booking).where(
            Booking.id == reservation_id,
            Booking.tenant_id == tenant.id,
            Booking.channel == "api",
        )
    ).first()
    if reservation is None:
        raise NotFound("reservation_not_found")
    return reservation


def _locked_reservation(session: Session, tenant: Tenant, reservation_id: int) -> Booking:
    """The reservation, read again after queueing for its clinician's time and with its
    row locked (PostgreSQL), so its status is the latest committed one."""
    found = _reservation(session, tenant, reservation_id)
    bookings.lock_practitioners(session, [found.practitioner_id])
    return session.scalars(
        select(Booking)
        .where(Booking.id == found.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _completed(session: Session, reservation: Booking, slot: TimeSlotDTO) -> TimeSlotDTO:
    """``slot`` with the fields it leaves out taken from the reservation."""
    clinic = session.get(Clinic, reservation.clinic_id)
    treatment = session.get(Treatment, reservation.treatment_id)
    practitioner = session.get(Practitioner, reservation.practitioner_id)
    assert clinic is not None and treatment is not None and practitioner is not None
    return TimeSlotDTO.model_construct(
        id=reservation.id,
        start=slot.start or reservation.starts_at,
        end=slot.end,
        clinic_id=slot.clinic_id or clinic.opus_clinic_id,
        clinician_id=slot.clinician_id or practitioner.opus_clinician_id,
        treatment_id=slot.treatment_id or treatment.opus_treatment_id,
    )


def _matches(session: Session, reservation: Booking, slot: TimeSlotDTO) -> bool:
    """Whether the slot's given fields (any may be left out) describe the reservation."""
    if slot.start is not None and slot.start != reservation.starts_at:
        return False
    if slot.end is not None and slot.end != reservation.ends_at:
        return False
    if slot.clinic_id is not None:
        clinic = session.get(Clinic, reservation.clinic_id)
        if clinic is None or clinic.opus_clinic_id != slot.clinic_id.strip():
            return False
    if slot.treatment_id is not None:
        treatment = session.get(Treatment, reservation.treatment_id)
        if treatment is None or treatment.opus_treatment_id != slot.treatment_id:
            return False
    if slot.clinician_id:
        practitioner = session.get(Practitioner, reservation.practitioner_id)
        if practitioner is None or practitioner.opus_clinician_id != slot.clinician_id:
            return False
    return True
