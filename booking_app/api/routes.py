"""The public API's routes, under ``/api/public/v1``: paths, operation ids and names as
the Opus spec has them. Each route only binds, calls one function and answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter
from pydantic_core import to_json
from sqlalchemy.orm import Session
from starlette.routing import Match

from booking_app.api import (
    access_log,
    booking,
    patient_bookings,
    reference,
    snapshot_times,
    times,
)
from booking_app.api.binding import QueryModel, parse_dto
from booking_app.api.cache import AnswerCache, question
from booking_app.api.deps import KEY_HEADERS, ApiDep, BodyDep
from booking_app.api.dto import (
    AvailableTimesQuery,
    BookingDTO,
    BookingDTOExtended,
    BookingFlags,
    CalendarQuery,
    CancelBookingQuery,
    ClinicDTO,
    ClinicianDTO,
    CliniciansQuery,
    ClinicsQuery,
    PatientBookingsQuery,
    RescheduleDTO,
    RescheduleFlags,
    ReservationQuery,
    TimeSlotDTO,
    TimeSlotQuery,
    TreatmentDTO,
    TreatmentsQuery,
)
from booking_app.api.errors import (
    ApiRoute,
    BadRequest,
    MethodNotAllowed,
    NotFound,
    TooManyRequests,
    error_response,
)
from booking_app.api.openapi import (
    CHANGE_RESPONSES,
    DELETE_RESPONSES,
    ERROR_RESPONSES,
    LIST_RESPONSES,
    WRITE_RESPONSES,
    openapi_document,
    request_body,
)
from booking_app.api.snapshots import Availability, TenantAvailability
from connectors.store.models import Tenant
from connectors.store.snapshot import OutsideSnapshot

PREFIX = "/api/public/v1"

router = APIRouter(prefix=PREFIX, route_class=ApiRoute)

_CLINICS = TypeAdapter(list[ClinicDTO])
_CLINIC = TypeAdapter(ClinicDTO)
_CLINICIANS = TypeAdapter(list[ClinicianDTO])
_TREATMENTS = TypeAdapter(list[TreatmentDTO])
_BOOKINGS = TypeAdapter(list[BookingDTO])
_BOOKINGS_EXTENDED = TypeAdapter(list[BookingDTOExtended])

access_log.install()  # personal numbers in paths and queries stay out of the access log


def _json(adapter: TypeAdapter, value: Any) -> Response:
    # Serialised here rather than through response_model: no second validation of
    # values that the store just produced.
    return Response(adapter.dump_json(value, by_alias=True), media_type="application/json")


def _times(slots: list[dict[str, Any]]) -> Response:
    # Already JSON-ready (times.slot_json); response_model only documents them.
    return Response(to_json(slots), media_type="application/json")


# -- availability ------------------------------------------------------------------------
# First: most of the API's requests, and FastAPI tries the routes in order.


COMPUTING_THREADS = 1
"""Threads that compute free times at once (the rest wait their turn). The work is
Python, so more threads only take turns at the GIL, and starve the event loop that
serves remembered answers. Under 64 concurrent questions (``bench.site``, 100,000
ranges, PostgreSQL) the default pool of 40 threads answered about 200 different
questions a second, two threads 305 and one 317; and with one, the slowest
remembered answers (p99) took 67 ms instead of 218."""


def _on_this_loop(request: Request, name: str, make: Callable[[], Any]) -> Any:
    """The app's ``name`` for the running event loop: a limiter, like a task, belongs
    to one loop, and tests run an app on several in turn."""
    per_loop: WeakKeyDictionary = getattr(request.app.state, name)
    loop = asyncio.get_running_loop()
    if loop not in per_loop:
        per_loop[loop] = make()
    return per_loop[loop]


async def _remembered(
    api: ApiDep,
    asked: type[QueryModel],
    answer: Callable[[Session, Tenant], list[dict[str, Any]]],
    from_memory: Callable[[TenantAvailability], bytes],
) -> Response:
    """Answer from the app's :class:`AnswerCache` when the same question was asked in
    the last few seconds; otherwise from the tenant's snapshot in memory, on the event
    loop (:mod:`booking_app.api.snapshots`); otherwise (its snapshot still loading, or
    the app checking the store's counters on every question) in a worker thread,
    remembering the answer.

    Askers of a question already being computed in a thread wait for that computation
    instead of starting their own: when a popular answer lapses under load, dozens ask
    at once, and each computing it made them all queue for the threads. And while an
    answer that has only just lapsed is computed again, its askers get the lapsed one
    (see :mod:`booking_app.api.cache`) rather than all waiting."""
    request = api.request
    cache: AnswerCache = request.app.state.answer_cache
    availability: Availability = request.app.state.availability
    in_memory = api.in_memory
    if in_memory is None:
        in_memory = availability.for_host(request.headers.get("host"), api.settings.base_domain)
    question_key = question(request, KEY_HEADERS, asked)
    if in_memory is not None:
        # Answers from a snapshot are remembered with its versions: a change made
        # through another process reloads it, and is not hidden for seconds.
        question_key += "|{}|{}".format(*in_memory.versions)
    body = cache.get(question_key)
    if body is not None:
        return Response(body, media_type="application/json")
    if in_memory is not None:
        api.authorise(in_memory.reference.keys)
        with contextlib.suppress(OutsideSnapshot):
            body = from_memory(in_memory)
            cache.put(question_key, body)
            return Response(body, media_type="application/json")
    in_flight: dict[str, asyncio.Task[bytes]] = _on_this_loop(request, "answers_in_flight", dict)
    task = in_flight.get(question_key)
    if task is None:

        def compute() -> bytes:
            with api.reading() as (session, tenant):
                if not availability.checks_each_question:
                    availability.want(tenant.id)  # the next question is answered from it
                elif (checked := availability.checked(tenant.id)) is not None:
                    with contextlib.suppress(OutsideSnapshot):
                        return from_memory(checked)
                return to_json(answer(session, tenant))

        async def compute_and_remember() -> bytes:
            limiter = _on_this_loop(
                request, "computing_limiters", lambda: CapacityLimiter(COMPUTING_THREADS)
            )
            body = await to_thread.run_sync(compute, limiter=limiter)
            cache.put(question_key, body)
            return body

        # A task of its own, so that a first asker who hangs up cancels nobody's answer.
        task = asyncio.ensure_future(compute_and_remember())
        in_flight[question_key] = task
        task.add_done_callback(lambda done: _finished(in_flight, question_key, done))
    lapsed = cache.lapsed(question_key)
    if lapsed is not None:
        return Response(lapsed, media_type="application/json")
    return Response(await asyncio.shield(task), media_type="application/json")


def _finished(in_flight: dict[str, asyncio.Task[bytes]], key: str, task: asyncio.Task) -> None:
    in_flight.pop(key, None)
    if not task.cancelled():
        # Asked for here, so that a failed refresh nobody waited for (its askers got the
        # lapsed answer) is not reported as an exception never retrieved; the next
        # asker computes again and gets the error.
        task.exception()


@router.get(
    "/appointments/schedule/availabletimes",
    operation_id="AppointmentsV1_GetAvailableTimesForScheduling",
    tags=["Availability"],
    response_model=list[TimeSlotDTO],
    responses=ERROR_RESPONSES,
    openapi_extra=AvailableTimesQuery.openapi(),
    description="Every bookable start in the window (default 14 days, at most 31).",
)
async def get_available_times(api: ApiDep) -> Response:
    return await _remembered(
        api,
        AvailableTimesQuery,
        lambda s, t: times.available_times(s, t, AvailableTimesQuery.bind(api.request), api.now),
        lambda m: snapshot_times.available_times(m, AvailableTimesQuery.bind(api.request), api.now),
    )


@router.get(
    "/appointments/schedule/overview/availabletimes",
    operation_id="AppointmentsV1_GetOverView",
    tags=["Availability"],
    response_model=list[TimeSlotDTO],
    responses=ERROR_RESPONSES,
    openapi_extra=AvailableTimesQuery.openapi(),
    description="The first bookable start of each day, per clinic and clinician.",
)
async def get_overview(api: ApiDep) -> Response:
    return await _remembered(
        api,
        AvailableTimesQuery,
        lambda s, t: times.overview(s, t, AvailableTimesQuery.bind(api.request), api.now),
        lambda m: snapshot_times.overview(m, AvailableTimesQuery.bind(api.request), api.now),
    )


@router.get(
    "/timeslots",
    operation_id="TimeSlotsV1_GetCalendar",
    tags=["Availability"],
    response_model=list[TimeSlotDTO],
    responses=ERROR_RESPONSES,
    openapi_extra=CalendarQuery.openapi(),
    description="Every bookable start in one month (Swedish time).",
)
async def get_calendar(api: ApiDep) -> Response:
    return await _remembered(
        api,
        CalendarQuery,
        lambda s, t: times.calendar(s, t, CalendarQuery.bind(api.request), api.now),
        lambda m: snapshot_times.calendar(m, CalendarQuery.bind(api.request), api.now),
    )


AVAILABILITY_ROUTES = [
    route
    for route in router.routes
    if getattr(route, "endpoint", None) in (get_available_times, get_overview, get_calendar)
]
"""Answered by :class:`~booking_app.api.hot_path.AvailabilityHotPath` when they can be."""


# -- reference data ----------------------------------------------------------------------


@router.get(
    "/clinics",
    operation_id="ClinicsV1_GetClinics",
    tags=["Clinics"],
    response_model=list[ClinicDTO],
    responses=ERROR_RESPONSES,
    openapi_extra=ClinicsQuery.openapi(),
)
def get_clinics(api: ApiDep) -> Response:
    with api.reading() as (session, tenant):
        query = ClinicsQuery.bind(api.request)
        return _json(_CLINICS, reference.clinics(session, tenant, query, api.now))


@router.get(
    "/clinics/{id}",
    operation_id="ClinicsV1_GetClinic",
    tags=["Clinics"],
    response_model=ClinicDTO,
    responses=ERROR_RESPONSES,
)
def get_clinic(id: str, api: ApiDep) -> Response:
    with api.reading() as (session, tenant):
        return _json(_CLINIC, reference.clinic(session, tenant, id))


@router.get(
    "/clinicians",
    operation_id="CliniciansV1_GetClinicians",
    tags=["Clinicians"],
    response_model=list[ClinicianDTO],
    responses=ERROR_RESPONSES,
    openapi_extra=CliniciansQuery.openapi(),
)
def get_clinicians(api: ApiDep) -> Response:
    with api.reading() as (session, tenant):
        query = CliniciansQuery.bind(api.request)
        return _json(_CLINICIANS, reference.clinicians(session, tenant, query, api.now))


@router.get(
    "/treatments",
    operation_id="TreatmentsV1_GetTreatments",
    tags=["Treatments"],
    response_model=list[TreatmentDTO],
    responses=ERROR_RESPONSES,
    openapi_extra=TreatmentsQuery.openapi(),
)
def get_treatments(api: ApiDep) -> Response:
    with api.reading() as (session, tenant):
        query = TreatmentsQuery.bind(api.request)
        return _json(_TREATMENTS, reference.treatments(session, tenant, query, api.now))


# -- reservations ------------------------------------------------------------------------


@router.put(
    "/reservations",
    operation_id="ReservationsV1_MakeReservation",
    tags=["Reservations"],
    response_model=int,
    responses=WRITE_RESPONSES,
    openapi_extra=request_body(TimeSlotDTO),
    description="Holds the time for 10 minutes; answers the reservation id.",
)
def make_reservation(body: BodyDep, api: ApiDep) -> Response:
    with api.writing() as (session, tenant):
        slot = parse_dto(TimeSlotDTO, body.data())
        holder, most = api.key_holder(), api.settings.api_max_active_reservations
        try:
            reserved = booking.reserve(session, tenant, slot, api.now, api.lang, holder, most)
        except TooManyRequests as refused:
            return error_response(api.request, refused)  # answered, so the hit is committed
        return JSONResponse(reserved)


@router.get(
    "/reservations/available",
    operation_id="ReservationsV1_IsTimeAvailable",
    tags=["Reservations"],
    response_model=bool,
    responses=ERROR_RESPONSES,
    openapi_extra=TimeSlotQuery.openapi(),
)
def is_time_available(api: ApiDep) -> Response:
    with api.reading() as (session, tenant):
        query = TimeSlotQuery.bind(api.request)
        return JSONResponse(booking.is_available(session, tenant, query, api.now))


@router.delete(
    "/reservations/{ReservationId}",
    operation_id="ReservationsV1_DeleteReservation",
    tags=["Reservations"],
    response_model=dict,
    responses=DELETE_RESPONSES,
    openapi_extra=ReservationQuery.openapi(unprefixed_too=True),
    description="Lets the reservation go. The id may be in the path or in the query.",
)
def delete_reservation(ReservationId: str, api: ApiDep) -> Response:  # the spec's name
    # The spec's template has the id in the path but declares it in the query; clients
    # fill one or the other (or send the template literally).
    path_id = ReservationId.strip()
    from_path = int(path_id) if path_id.isdigit() and len(path_id) <= 10 else None
    with api.writing() as (session, tenant):
        booking.release(session, tenant, _reservation_id(api.request, from_path))
        return JSONResponse({})


@router.delete("/reservations", include_in_schema=False)
def delete_reservation_by_query(api: ApiDep) -> Response:
    with api.writing() as (session, tenant):
        booking.release(session, tenant, _reservation_id(api.request, None))
        return JSONResponse({})


def _reservation_id(request: Request, from_path: int | None) -> int:
    from_query = ReservationQuery.bind(request).reservation_id
    reservation_id = from_query if from_query is not None else from_path
    if reservation_id is None:
        raise BadRequest("invalid_request", fields={"reservationId": ["field_required"]})
    return reservation_id


# -- bookings ----------------------------------------------------------------------------


@router.post(
    "/bookings",
    operation_id="BookingsV1_AddBooking",
    tags=["Bookings"],
    response_model=int,
    responses=WRITE_RESPONSES,
    openapi_extra={**request_body(BookingDTO), **BookingFlags.openapi()},
    description="Validates the patient, holds the time (or takes over the reservation "
    "in TimeSlot.ID) and confirms it, in one transaction; answers the booking id. "
    "Sending the same booking again answers the same id.",
)
def add_booking(body: BodyDep, api: ApiDep) -> Response:
    with api.writing() as (session, tenant):
        dto = parse_dto(BookingDTO, body.data())
        notify = BookingFlags.bind(api.request).notify_patient is not False
        booking_id = booking.book(session, tenant, dto, api.now, api.lang, notify_patient=notify)
        return JSONResponse(booking_id)


@router.patch(
    "/bookings",
    operation_id="BookingsV1_RescheduleBooking",
    tags=["Bookings"],
    response_model=int,
    responses={**CHANGE_RESPONSES, **{k: WRITE_RESPONSES[k] for k in (413, 415)}},
    openapi_extra={**request_body(RescheduleDTO), **RescheduleFlags.openapi()},
    description="Moves the patient's booking to NewTime (same clinic and treatment), when "
    "the clinic allows rebooking online, the treatment allows it (ChangeInWeb) and the "
    "cut-off has not passed; answers the new booking's id. Sending the same move again "
    "answers the same id.",
)
def reschedule_booking(body: BodyDep, api: ApiDep) -> Response:
    with api.writing("patient") as (session, tenant):
        dto = parse_dto(RescheduleDTO, body.data())
        notify = RescheduleFlags.bind(api.request).notify_patient is not False
        moved = patient_bookings.reschedule(
            session, tenant, dto, api.now, api.lang, notify_patient=notify
        )
        return JSONResponse(moved)


@router.delete(
    "/bookings",
    operation_id="BookingsV1_CancelBooking",
    tags=["Bookings"],
    response_model=dict,
    responses=CHANGE_RESPONSES,
    openapi_extra=CancelBookingQuery.openapi(),
    description="Cancels the patient's booking, when the clinic allows cancelling online, "
    "the treatment allows it (CancelInWeb) and the cut-off has not passed. "
    "request.requestedByPersonalId must be the booking's patient. Cancelling again "
    "answers 200 again.",
)
def cancel_booking(api: ApiDep) -> Response:
    with api.writing("patient") as (session, tenant):
        query = CancelBookingQuery.bind(api.request)
        patient_bookings.cancel(session, tenant, query, api.now, api.lang)
        return JSONResponse({})


# -- a patient's bookings ----------------------------------------------------------------


@router.get(
    "/patients/{patientPersonalIdentification}/bookings",
    operation_id="PatientsV1_GetBookings",
    tags=["Patients"],
    response_model=list[BookingDTO],
    responses=LIST_RESPONSES,
    openapi_extra=PatientBookingsQuery.openapi(),
    description="The patient's coming bookings (with request.includePastBookings, past "
    "ones too), soonest first, when the clinic shows bookings online. Appointments the "
    "clinic made in Opus have ID 0: they are changed by phone.",
)
def get_patient_bookings(patientPersonalIdentification: str, api: ApiDep) -> Response:
    with api.reading("patient") as (session, tenant):
        query = PatientBookingsQuery.bind(api.request)
        found = patient_bookings.patient_bookings(
            session, tenant, patientPersonalIdentification, query, api.now
        )
        return _json(_BOOKINGS, found)


@router.get(
    "/patients/{patientPersonalIdentification}/bookings/extended",
    operation_id="PatientsV1_GetExtendedBookings",
    tags=["Patients"],
    response_model=list[BookingDTOExtended],
    responses=LIST_RESPONSES,
    openapi_extra=PatientBookingsQuery.openapi(),
    description="The same bookings with the clinic, clinician and treatment in full.",
)
def get_patient_bookings_extended(patientPersonalIdentification: str, api: ApiDep) -> Response:
    with api.reading("patient") as (session, tenant):
        query = PatientBookingsQuery.bind(api.request)
        found = patient_bookings.patient_bookings_extended(
            session, tenant, patientPersonalIdentification, query, api.now
        )
        return _json(_BOOKINGS_EXTENDED, found)


# -- the document, and everything else under the prefix ----------------------------------


@router.get("/swagger.json", include_in_schema=False)
@router.get("/openapi.json", include_in_schema=False)
def openapi() -> JSONResponse:
    return JSONResponse(openapi_document(router.routes))


@router.api_route(
    "/{rest:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    include_in_schema=False,
)
def unknown(request: Request, rest: str) -> Response:
    """A JSON 404 (or 405 for a known path with another method) instead of the
    patient pages' HTML error page."""
    allowed = sorted(
        method
        for route in router.routes
        if route.matches(request.scope)[0] is Match.PARTIAL
        for method in getattr(route, "methods", ())
    )
    if allowed:
        raise MethodNotAllowed("method_not_allowed", headers={"Allow": ", ".join(allowed)})
    raise NotFound("not_found_path")
