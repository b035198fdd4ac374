"""*Mina bokningar*: a logged-in patient's coming appointments, with cancel and rebook.

Shown when *Inloggning aktiverad* and *Visning av bokning aktiverad* are on (404
otherwise). Whether a booking may be cancelled or moved is
:mod:`connectors.store.my_bookings`' question, asked again on every post, so a form
kept open past the cut-off (or replayed) is refused with the reason and the
clinic's phone number. Bookings are named by their random reference; another
patient's reference is 404.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from booking_app import formatting, offer, times
from booking_app.booking import redirect, render, timezone
from booking_app.deps import LangDep, NowDep, OpenTenantDep, SessionDep, WriteSessionDep
from booking_app.flow import BadSelection, format_at, parse_at, url
from booking_app.forms import PostedForm
from booking_app.patients import MY_BOOKINGS_PATH, LoggedInPatient, PatientDep, login_href
from booking_app.waitlist import invitations
from connectors.store.bookings import NotActive, NotFound, TimeTaken
from connectors.store.models import Booking, Practitioner, Tenant
from connectors.store.my_bookings import (
    Refused,
    Verdict,
    cancel_own,
    coming_bookings,
    may_cancel,
    may_rebook,
    own_booking,
    rebook_own,
)

if TYPE_CHECKING:
    from booking_app.api.snapshots import TenantAvailability

router = APIRouter()


def my_tenant(tenant: OpenTenantDep) -> Tenant:
    settings = tenant.settings
    if (
        settings is None
        or not settings.login_enabled
        or not settings.view_bookings_enabled
        or not settings.publish_opus_online
    ):
        raise HTTPException(status_code=404)
    return tenant


MyTenantDep = Annotated[Tenant, Depends(my_tenant)]


def _to_login(request: Request, tenant: Tenant) -> Response:
    here = request.url.path if request.method == "GET" else MY_BOOKINGS_PATH
    return redirect(login_href(tenant.settings, here) or "/")


def _find(session: Session, tenant: Tenant, patient: LoggedInPatient, reference: str) -> Booking:
    try:
        return own_booking(session, tenant.id, patient.personal_number, reference)
    except NotFound:
        raise HTTPException(status_code=404) from None


def refused_page(request: Request, tenant: Tenant, verdict: Verdict, lang: str) -> Response:
    return render(
        request,
        tenant,
        "my_booking_refused.html",
        status=409,
        verdict=verdict,
        back_href=url(MY_BOOKINGS_PATH, lang),
    )


@router.get(MY_BOOKINGS_PATH)
def my_bookings(
    request: Request,
    tenant: MyTenantDep,
    session: SessionDep,
    now: NowDep,
    lang: LangDep,
    patient: PatientDep,
) -> Response:
    if patient is None:
        return _to_login(request, tenant)
    items = coming_bookings(session, tenant.id, patient.personal_number, now)
    notice = None
    moved_to = None
    if request.query_params.get("avbokad") == "1":
        notice = "my_booking_cancelled"
    moved = request.query_params.get("ombokad")
    if moved:
        try:
            moved_to = own_booking(session, tenant.id, patient.personal_number, moved).starts_at
            notice = "my_booking_rebooked"
        except NotFound:
            pass
    return render(
        request,
        tenant,
        "my_bookings.html",
        items=items,
        patient=patient,
        notice=notice,
        moved_to=moved_to,
        cancel_href=lambda ref: url(f"{MY_BOOKINGS_PATH}/{ref}/avboka", lang),
        # Återbudslista: the bookings that may wait for an earlier time (True: waiting).
        waiting=invitations(session, tenant.id, [i.reference for i in items if i.reference], now),
        waitlist_href=lambda ref: url(f"{MY_BOOKINGS_PATH}/{ref}/aterbud", lang),
        rebook_href=lambda ref: url(f"{MY_BOOKINGS_PATH}/{ref}/omboka", lang),
        book_href=url("/boka", lang),
    )


# -- cancel ----------------------------------------------------------------------------


@router.get(MY_BOOKINGS_PATH + "/{reference}/avboka")
def cancel_form(
    request: Request,
    reference: str,
    tenant: MyTenantDep,
    session: SessionDep,
    now: NowDep,
    lang: LangDep,
    patient: PatientDep,
) -> Response:
    if patient is None:
        return _to_login(request, tenant)
    booking = _find(session, tenant, patient, reference)
    verdict = may_cancel(session, booking, now)
    if not verdict.allowed:
        return refused_page(request, tenant, verdict, lang)
    return render(
        request,
        tenant,
        "my_booking_cancel.html",
        booking=offer.summary(session, booking),
        action=url(f"{MY_BOOKINGS_PATH}/{booking.reference}/avboka", lang),
        back_href=url(MY_BOOKINGS_PATH, lang),
    )


@router.post(MY_BOOKINGS_PATH + "/{reference}/avboka")
def cancel_booking(
    request: Request,
    reference: str,
    tenant: MyTenantDep,
    session: WriteSessionDep,
    now: NowDep,
    lang: LangDep,
    patient: PatientDep,
    form: PostedForm,
) -> Response:
    if patient is None:
        return _to_login(request, tenant)
    try:
        cancel_own(session, tenant.id, patient.personal_number, reference, now)
    except NotFound:
        raise HTTPException(status_code=404) from None
    except Refused as refused:
        return refused_page(request, tenant, refused.verdict, lang)
    except NotActive:
        return refused_page(request, tenant, Verdict(False, "my_booking_not_active"), lang)
    return redirect(url(MY_BOOKINGS_PATH, lang, {"avbokad": "1"}))


# -- rebook ----------------------------------------------------------------------------


def week_of(request: Request, now: datetime) -> date:
    this_week = times.monday_of(formatting.local_day(now, timezone(request)))
    try:
        asked = date.fromisoformat(request.query_params.get("vecka", ""))
    except ValueError:
        return this_week
    return max(times.monday_of(asked), this_week)


def _search(tenant: Tenant, booking: Booking) -> times.TimeSearch:
    """New times for the same treatment at the same clinic, any practitioner."""
    return times.TimeSearch(tenant.id, (booking.clinic_id,), (booking.treatment_id,), None)


def tenant_snapshot(request: Request, tenant: Tenant) -> TenantAvailability | None:
    """The tenant's free times in memory, as the booking time step's (``None``: the
    store answers)."""
    return request.app.state.availability.for_tenant(tenant.id)


def opening_week(
    request: Request,
    tenant: Tenant,
    session: Session,
    booking: Booking,
    now: datetime,
    snapshot: TenantAvailability | None,
) -> date:
    """The week asked for, else the week of the first free time: a patient who opens
    the page on a Sunday, or whose clinic is full this week, should not land on a week
    of "no free times" and have to page forward to find one."""
    if "vecka" in request.query_params:
        return week_of(request, now)
    tz = timezone(request)
    first = times.first_free(session, tenant.settings, _search(tenant, booking), now, tz, snapshot)
    if first is None:
        return week_of(request, now)
    return times.monday_of(formatting.local_day(first.starts_at, tz))


def rebook_page(
    request: Request,
    tenant: Tenant,
    session: Session,
    booking: Booking,
    now: datetime,
    lang: str,
    monday: date,
    *,
    error_key: str | None = None,
    status: int = 200,
    path: str | None = None,
    back_href: str | None = None,
    back_key: str = "to_my_bookings",
    snapshot: TenantAvailability | None = None,
) -> Response:
    """The week of new times for ``booking``, from ``snapshot`` when given (the page
    the patient opens), else from the store (after a time was just taken: as the
    booking steps' nearest times, fresh); ``path`` is where it posts (and pages),
    ``back_href`` where "back" leads (Mina bokningar, unless a reminder's page)."""
    tz = timezone(request)
    slots = times.find_slots(
        session,
        tenant.settings,
        _search(tenant, booking),
        times.day_start(monday, tz),
        times.day_start(monday + timedelta(days=7), tz),
        now,
        snapshot,
    )
    names = {
        p.id: p.display_name
        for p in session.query(Practitioner).filter(
            Practitioner.id.in_({s.practitioner_id for s in slots})
        )
    }
    days = [
        (
            day.day,
            [
                {
                    "value": f"{c.practitioner_id}|{format_at(c.starts_at)}",
                    "starts_at": c.starts_at,
                    "practitioner": names.get(c.practitioner_id or 0, ""),
                }
                for c in day.times
            ],
        )
        for day in times.week(times.choices(slots, False, True), monday, tz)
    ]
    horizon = times.horizon_end(tenant.settings, now, tz).date()
    this_week = times.monday_of(formatting.local_day(now, tz))
    path = path or f"{MY_BOOKINGS_PATH}/{booking.reference}/omboka"
    return render(
        request,
        tenant,
        "my_booking_rebook.html",
        status=status,
        booking=offer.summary(session, booking),
        days=days,
        error_key=error_key,
        action=url(path, lang),
        previous_week=url(path, lang, {"vecka": (monday - timedelta(days=7)).isoformat()})
        if monday > this_week
        else None,
        next_week=url(path, lang, {"vecka": (monday + timedelta(days=7)).isoformat()})
        if monday + timedelta(days=7) <= horizon
        else None,
        back_href=back_href or url(MY_BOOKINGS_PATH, lang),
        back_key=back_key,
    )


@router.get(MY_BOOKINGS_PATH + "/{reference}/omboka")
def rebook_form(
    request: Request,
    reference: str,
    tenant: MyTenantDep,
    session: SessionDep,
    now: NowDep,
    lang: LangDep,
    patient: PatientDep,
) -> Response:
    if patient is None:
        return _to_login(request, tenant)
    booking = _find(session, tenant, patient, reference)
    verdict = may_rebook(session, booking, now)
    if not verdict.allowed:
        return refused_page(request, tenant, verdict, lang)
    snapshot = tenant_snapshot(request, tenant)  # one per page, so that its questions agree
    monday = opening_week(request, tenant, session, booking, now, snapshot)
    return rebook_page(request, tenant, session, booking, now, lang, monday, snapshot=snapshot)


@router.post(MY_BOOKINGS_PATH + "/{reference}/omboka")
def rebook_booking(
    request: Request,
    reference: str,
    tenant: MyTenantDep,
    session: WriteSessionDep,
    now: NowDep,
    lang: LangDep,
    patient: PatientDep,
    form: PostedForm,
) -> Response:
    if patient is None:
        return _to_login(request, tenant)
    practitioner_text, _, at_text = form.get("slot", "").partition("|")
    try:
        starts_at = parse_at(at_text)
    except BadSelection:
        raise HTTPException(status_code=404) from None
    if not practitioner_text.isdigit() or len(practitioner_text) > 10:
        raise HTTPException(status_code=404)
    try:
        moved = rebook_own(
            session,
            tenant.id,
            patient.personal_number,
            reference,
            starts_at,
            int(practitioner_text),
            now,
            language=lang,
        )
    except NotFound:
        raise HTTPException(status_code=404) from None
    except Refused as refused:
        return refused_page(request, tenant, refused.verdict, lang)
    except NotActive:
        return refused_page(request, tenant, Verdict(False, "my_booking_not_active"), lang)
    except TimeTaken:
        booking = _find(session, tenant, patient, reference)
        monday = times.monday_of(formatting.local_day(starts_at, timezone(request)))
        return rebook_page(
            request,
            tenant,
            session,
            booking,
            now,
            lang,
            max(monday, week_of(request, now)),
            error_key="rebook_taken",
            status=409,
        )
    return redirect(url(MY_BOOKINGS_PATH, lang, {"ombokad": moved.reference}))
