"""The page a reminder's link opens: ``/h/<token>``, the appointment by a signed link.

The token (:mod:`opus_online.signed_links`, purpose ``reminder``, this tenant) names a
booking or an Opus appointment and works until the cancel/rebook cut-off. What the
page offers:

- the tenant allows it (*manage without BankID*, off by default): cancel and rebook
  here, under the same rules as *Mina bokningar* (:mod:`connectors.store.my_bookings`,
  asked again on every post); a refusal says why, with the clinic's phone number;
- otherwise the appointment, and the way to change it: *Mina bokningar* behind the
  BankID login where the tenant has it, else the clinic's phone number;
- an appointment the clinic made in Opus: it, and the clinic's phone number;
- a link past its cut-off (410): the appointment and the phone number; a cancelled or
  past one says so; one that was rebooked shows the new time.

An altered, foreign or malformed token is a plain 404: the page tells nobody whether
a booking exists. The language is the patient's (the booking's), unless ``?lang=``
says otherwise. Nothing personal is shown beyond what the message itself said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking_app import formatting, offer, times
from booking_app.booking import SecretDep, redirect, render, timezone
from booking_app.deps import NowDep, OpenTenantDep, SessionDep, WriteSessionDep
from booking_app.flow import BadSelection, parse_at, url
from booking_app.forms import PostedForm
from booking_app.messages import language
from booking_app.my_bookings import opening_week, rebook_page, tenant_snapshot, week_of
from booking_app.patients import MY_BOOKINGS_PATH, login_href
from connectors.notifications.fields import MANAGE_PATH
from connectors.store import reminders
from connectors.store.bookings import NotActive, TimeTaken
from connectors.store.models import Booking, OpusAppointment, Tenant
from connectors.store.my_bookings import (
    MyBooking,
    Refused,
    Verdict,
    as_my_booking,
    cancel_checked,
    from_opus,
    may_cancel,
    may_rebook,
    rebook_checked,
)
from opus_online import signed_links

router = APIRouter()
NO_STORE = {"Cache-Control": "no-store"}
MAX_REBOOK_HOPS = 50


@dataclass
class Link:
    """A genuine token's appointment: a booking (followed to its latest rebooking) or
    an Opus appointment; ``expired``: past its cut-off."""

    token: str
    expired: bool
    booking: Booking | None = None
    appointment: OpusAppointment | None = None
    moved: bool = False  # the link's booking was rebooked: this is the new one


def resolve(session: Session, secret: bytes, tenant: Tenant, token: str, now: datetime) -> Link:
    """The appointment ``token`` names in this tenant, or 404."""
    try:
        subject = signed_links.verify(
            secret, token, purpose=reminders.PURPOSE, tenant=str(tenant.id), now=now
        ).subject
        expired = False
    except signed_links.LinkExpired:
        subject, expired = token.split(".", 1)[0], True  # genuine: the MAC was checked
    except signed_links.LinkInvalid:
        raise HTTPException(status_code=404) from None
    parsed = reminders.parse_subject(subject)
    if parsed is None:
        raise HTTPException(status_code=404)
    kind, ident = parsed
    if kind == "opus":
        appointment = session.get(OpusAppointment, ident)
        if appointment is None or appointment.tenant_id != tenant.id:
            raise HTTPException(status_code=404)
        return Link(token, expired, appointment=appointment)
    booking = session.get(Booking, ident)
    if booking is None or booking.tenant_id != tenant.id:
        raise HTTPException(status_code=404)
    moved = False
    for _ in range(MAX_REBOOK_HOPS):
        if booking.status != "rebooked":
            break
        newer = session.scalars(
            select(Booking)
            .where(
                Booking.tenant_id == tenant.id,
                Booking.rebooked_from_id == booking.id,
                Booking.status.in_(("confirmed", "rebooked", "cancelled")),
            )
            .order_by(Booking.id.desc())
            .limit(1)
        ).one_or_none()
        if newer is None:
            break
        booking, moved = newer, True
    return Link(token, expired, booking=booking, moved=moved)


def _lang(request: Request, link: Link) -> str | None:
    """The page's language: ``?lang=``, else the patient's (``None``: it is given)."""
    if "lang" in request.query_params:
        return None
    own = link.booking.language if link.booking is not None else "sv"
    return language(own) if own != "sv" else None


def _fresh_link(secret: bytes, tenant: Tenant, session: Session, booking: Booking) -> str:
    """A token for ``booking`` (a rebooking's new one), valid until its cut-off."""
    return signed_links.sign(
        secret,
        purpose=reminders.PURPOSE,
        tenant=str(tenant.id),
        subject=reminders.link_subject(booking_id=booking.id),
        expires_at=reminders.link_expiry(session, booking, None),
    )


def _page_path(token: str, *rest: str) -> str:
    return "/".join((MANAGE_PATH.format(token=token), *rest))


def _managed(tenant: Tenant) -> bool:
    return bool(tenant.settings and tenant.settings.manage_without_login)


def _login(tenant: Tenant) -> str | None:
    settings = tenant.settings
    if settings is None or not settings.view_bookings_enabled:
        return None
    return login_href(settings, MY_BOOKINGS_PATH)


def _show(
    request: Request,
    tenant: Tenant,
    session: Session,
    link: Link,
    now: datetime,
    lang: str,
    notice: str | None = None,
) -> Response:
    item: MyBooking | None = None
    state = "active"
    if link.booking is not None:
        item = as_my_booking(session, link.booking, now)
        if link.booking.status == "cancelled":
            state = "cancelled"
        elif link.booking.status != "confirmed":
            state = "gone"
        elif link.booking.starts_at <= now:
            state = "passed"
    else:
        assert link.appointment is not None
        item = from_opus(session, link.appointment)
        if link.appointment.status != "booked":
            state = "gone"
        elif link.appointment.starts_at <= now:
            state = "passed"
    may_change = (
        state == "active"
        and not link.expired
        and link.booking is not None
        and _managed(tenant)
        and (item.cancel.allowed or item.rebook.allowed)
    )
    return render(
        request,
        tenant,
        "manage_booking.html",
        status=410 if link.expired and state == "active" else 200,
        item=item,
        state=state,
        expired=link.expired,
        moved=link.moved,
        notice=notice,
        managed=_managed(tenant) and link.booking is not None,
        may_change=may_change,
        by_clinic=link.appointment is not None,
        login_href=None if link.appointment is not None else _login(tenant),
        cancel_href=url(_page_path(link.token, "avboka"), lang),
        rebook_href=url(_page_path(link.token, "omboka"), lang),
        book_href=url("/boka", lang),
    )


# -- the page -----------------------------------------------------------------------------


@router.get(MANAGE_PATH, include_in_schema=False)
def manage(
    request: Request,
    token: str,
    tenant: OpenTenantDep,
    session: SessionDep,
    secret: SecretDep,
    now: NowDep,
) -> Response:
    link = resolve(session, secret, tenant, token, now)
    own = _lang(request, link)
    if own is not None:
        return redirect(url(_page_path(token), own))
    lang = language(request.query_params.get("lang"))
    notice = None
    if request.query_params.get("avbokad") == "1":
        notice = "my_booking_cancelled"
    elif request.query_params.get("ombokad") == "1":
        notice = "my_booking_rebooked"
    response = _show(request, tenant, session, link, now, lang, notice)
    response.headers.update(NO_STORE)
    return response


def _changeable(
    request: Request, tenant: Tenant, session: Session, secret: bytes, token: str, now: datetime
) -> tuple[Booking | None, Response | None, str, Link]:
    """The link's booking when the tenant lets the link change it and it is not past
    its cut-off; else the page itself (which says what can be done instead)."""
    link = resolve(session, secret, tenant, token, now)
    lang = language(request.query_params.get("lang"))
    if link.booking is None or link.expired or not _managed(tenant):
        return None, _show(request, tenant, session, link, now, lang), lang, link
    return link.booking, None, lang, link


def _refused(request: Request, tenant: Tenant, verdict: Verdict, token: str, lang: str) -> Response:
    return render(
        request,
        tenant,
        "my_booking_refused.html",
        status=409,
        verdict=verdict,
        back_href=url(_page_path(token), lang),
        back_key="manage_back",
    )


@router.get(MANAGE_PATH + "/avboka", include_in_schema=False)
def cancel_form(
    request: Request,
    token: str,
    tenant: OpenTenantDep,
    session: SessionDep,
    secret: SecretDep,
    now: NowDep,
) -> Response:
    booking, page, lang, _ = _changeable(request, tenant, session, secret, token, now)
    if booking is None:
        return page
    verdict = may_cancel(session, booking, now)
    if not verdict.allowed:
        return _refused(request, tenant, verdict, token, lang)
    response = render(
        request,
        tenant,
        "my_booking_cancel.html",
        booking=offer.summary(session, booking),
        action=url(_page_path(token, "avboka"), lang),
        back_href=url(_page_path(token), lang),
    )
    response.headers.update(NO_STORE)
    return response


@router.post(MANAGE_PATH + "/avboka", include_in_schema=False)
def cancel_booking(
    request: Request,
    token: str,
    tenant: OpenTenantDep,
    session: WriteSessionDep,
    secret: SecretDep,
    now: NowDep,
    form: PostedForm,
) -> Response:
    booking, page, lang, _ = _changeable(request, tenant, session, secret, token, now)
    if booking is None:
        return page
    try:
        cancel_checked(session, booking, now)
    except Refused as refused:
        return _refused(request, tenant, refused.verdict, token, lang)
    except NotActive:
        return _refused(request, tenant, Verdict(False, "my_booking_not_active"), token, lang)
    return redirect(url(_page_path(token), lang, {"avbokad": "1"}))


@router.get(MANAGE_PATH + "/omboka", include_in_schema=False)
def rebook_form(
    request: Request,
    token: str,
    tenant: OpenTenantDep,
    session: SessionDep,
    secret: SecretDep,
    now: NowDep,
) -> Response:
    booking, page, lang, _ = _changeable(request, tenant, session, secret, token, now)
    if booking is None:
        return page
    verdict = may_rebook(session, booking, now)
    if not verdict.allowed:
        return _refused(request, tenant, verdict, token, lang)
    snapshot = tenant_snapshot(request, tenant)  # one per page, so that its questions agree
    monday = opening_week(request, tenant, session, booking, now, snapshot)
    response = rebook_page(
        request, tenant, session, booking, now, lang, monday,
        path=_page_path(token, "omboka"), back_href=url(_page_path(token), lang),
        back_key="manage_back", snapshot=snapshot,
    )  # fmt: skip
    response.headers.update(NO_STORE)
    return response


@router.post(MANAGE_PATH + "/omboka", include_in_schema=False)
def rebook_booking(
    request: Request,
    token: str,
    tenant: OpenTenantDep,
    session: WriteSessionDep,
    secret: SecretDep,
    now: NowDep,
    form: PostedForm,
) -> Response:
    booking, page, lang, _ = _changeable(request, tenant, session, secret, token, now)
    if booking is None:
        return page
    practitioner_text, _, at_text = form.get("slot", "").partition("|")
    try:
        starts_at = parse_at(at_text)
    except BadSelection:
        raise HTTPException(status_code=404) from None
    if not practitioner_text.isdigit() or len(practitioner_text) > 10:
        raise HTTPException(status_code=404)
    try:
        moved = rebook_checked(
            session, booking, starts_at, int(practitioner_text), now, language=booking.language
        )
    except Refused as refused:
        return _refused(request, tenant, refused.verdict, token, lang)
    except NotActive:
        return _refused(request, tenant, Verdict(False, "my_booking_not_active"), token, lang)
    except TimeTaken:
        monday = times.monday_of(formatting.local_day(starts_at, timezone(request)))
        return rebook_page(
            request, tenant, session, booking, now, lang, max(monday, week_of(request, now)),
            error_key="rebook_taken", status=409, path=_page_path(token, "omboka"),
            back_href=url(_page_path(token), lang), back_key="manage_back",
        )  # fmt: skip
    # The new booking's own link: valid until its own cut-off.
    fresh = _fresh_link(secret, tenant, session, moved)
    return redirect(url(_page_path(fresh), lang, {"ombokad": "1"}))
