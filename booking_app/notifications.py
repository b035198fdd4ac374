"""The booking site's two ends of patient messages.

``GET /bokning/{reference}``: the short link that e-mail and SMS carry (a long one
would make a confirmation two SMS); it leads to the booking on *Mina bokningar*,
where the patient cancels or rebooks after logging in, or, for a tenant without
login, to a page with the clinic's phone number (never a 404 for a real booking).

``POST /sms/leveransrapport/{message_id}/{token}``: the SMS gateway's delivery report.
Only the gateway can know the URL: ``token`` is a keyed hash of the message id,
checked (in constant time) before anything is looked up, and the message must belong
to the tenant whose host was called. Every refusal is the same bare 404, so the
route tells nobody whether a message exists, nor anything of its content.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from booking_app.body import BodyTooLarge, received_body
from booking_app.booking import render
from booking_app.deps import (
    LangDep,
    NowDep,
    OpenTenantDep,
    SessionDep,
    SettingsDep,
    WriteSessionDep,
)
from booking_app.flow import url
from booking_app.patients import MY_BOOKINGS_PATH, login_enabled
from booking_app.tenancy import tenant_for_host
from connectors.notifications.fields import BOOKING_PATH
from connectors.store import outbox
from connectors.store.models import Booking, Clinic

router = APIRouter()

MAX_REPORT_BYTES = 4096
_REFERENCE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@router.get(BOOKING_PATH, include_in_schema=False)
def booking_link(
    request: Request, reference: str, tenant: OpenTenantDep, session: SessionDep, lang: LangDep
) -> Response:
    """Where *Mina bokningar* is open (login and *Visning av bokning*), the booking's
    cancel page there (behind the login); otherwise a page that says how to change the
    booking: by phone, with the clinic's number. The reference alone shows nothing
    more (it is not a signed link; a reminder's is, see booking_app.manage_booking)."""
    if not 1 <= len(reference) <= 32 or not set(reference) <= _REFERENCE_CHARS:
        raise HTTPException(status_code=404)
    settings = tenant.settings
    if login_enabled(settings) and settings.view_bookings_enabled:
        return RedirectResponse(
            url(f"{MY_BOOKINGS_PATH}/{reference}/avboka", lang), status_code=303
        )
    booking = session.scalars(
        select(Booking).where(Booking.tenant_id == tenant.id, Booking.reference == reference)
    ).one_or_none()
    if booking is None:
        raise HTTPException(status_code=404)
    clinic = session.get(Clinic, booking.clinic_id)
    return render(
        request,
        tenant,
        "booking_link.html",
        clinic_name=clinic.name if clinic else "",
        clinic_phone=clinic.phone if clinic else None,
        book_href=url("/boka", lang),
    )


async def report_form(request: Request) -> dict[str, str]:
    """The gateway's form (``id``, ``status``, ``delivered``), small or refused."""
    try:
        body = await received_body(request, MAX_REPORT_BYTES)
    except BodyTooLarge:
        raise HTTPException(status_code=413) from None
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(status_code=400) from None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


@router.post("/sms/leveransrapport/{message_id}/{token}", include_in_schema=False)
def delivery_report(
    request: Request,
    message_id: int,
    token: str,
    form: Annotated[dict[str, str], Depends(report_form)],
    settings: SettingsDep,
    session: WriteSessionDep,
    now: NowDep,
) -> Response:
    if not outbox.report_token_valid(settings.secret(), message_id, token):
        raise HTTPException(status_code=404)
    tenant = tenant_for_host(session, request.headers.get("host"), settings.base_domain)
    if tenant is None or not outbox.record_delivery_report(
        session, tenant.id, message_id, form.get("id") or None, form.get("status", ""), now
    ):
        raise HTTPException(status_code=404)
    return Response(status_code=204)
