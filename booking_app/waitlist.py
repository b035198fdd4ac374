"""The patient's side of the earlier-time waiting list (*återbudslista*).

- ``/boka/{reference}/aterbud``: from the confirmation page, the booking named by its
  random reference (as the confirmation itself is);
- ``/mina-bokningar/{reference}/aterbud``: the same form for a logged-in patient's
  own booking (another patient's reference is 404);
- ``/tid/{token}``: the offer's page, from the SMS or e-mail; the signed token
  (purpose ``offer``, this tenant) names the offer, nothing personal. Take the time,
  let it go, or leave the list.

The form's limits are checked here and again by the store and the database. Every
form posts with a CSRF token.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from booking_app import offer as summaries
from booking_app.booking import app_secret, redirect, render
from booking_app.deps import LangDep, NowDep, OpenTenantDep, SessionDep, WriteSessionDep
from booking_app.flow import url
from booking_app.forms import PostedForm
from booking_app.patients import MY_BOOKINGS_PATH, PatientDep, login_href
from connectors.notifications.offer import OFFER_PATH
from connectors.store import waitlist, waitlist_answers
from connectors.store.bookings import NotFound, booking_by_reference
from connectors.store.models import Booking, Practitioner, Tenant
from connectors.store.my_bookings import own_booking
from connectors.store.waitlist import Limits, NotEligible
from opus_online import signed_links

router = APIRouter()

_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# -- joining -------------------------------------------------------------------------------


def read_limits(form: dict[str, str], weekends: bool) -> tuple[Limits, list[str]]:
    """The posted limits, and the message keys of what is wrong with them."""
    errors: list[str] = []
    days = "".join(str(d) for d in range(1, 8 if weekends else 6) if form.get(f"day_{d}") == "on")
    minutes = []
    for name in ("earliest", "latest"):
        text = form.get(name, "").strip()
        match = _CLOCK.fullmatch(text)
        if text and match is None:
            errors.append("waitlist_time_invalid")
        minutes.append(int(match[1]) * 60 + int(match[2]) if match else None)
    not_before = None
    text = form.get("not_before", "").strip()
    if text:
        try:
            not_before = date.fromisoformat(text) if len(text) == 10 else None
        except ValueError:
            not_before = None
        if not_before is None:
            errors.append("waitlist_date_invalid")
    limits = Limits(
        any_practitioner=form.get("practitioner") == "any",
        weekdays=days,
        earliest_minute=minutes[0],
        latest_minute=minutes[1],
        not_before=not_before,
    )
    errors += [e for e in limits.problems() if e not in errors]
    return limits, errors


def _clock(minute: int | None) -> str:
    return "" if minute is None else f"{minute // 60:02d}:{minute % 60:02d}"


def _form_values(session: Session, booking: Booking) -> dict[str, Any]:
    entry = waitlist.entry_of(session, booking)
    if entry is None:
        return {"on_list": False, "any": False, "days": "12345", "earliest": "", "latest": "",
                "not_before": ""}  # fmt: skip
    return {
        "on_list": True,
        "any": entry.practitioner_id is None,
        "days": entry.weekdays,
        "earliest": _clock(entry.earliest_minute),
        "latest": _clock(entry.latest_minute),
        "not_before": entry.not_before.isoformat() if entry.not_before else "",
    }


def join_page(
    request: Request,
    tenant: Tenant,
    session: Session,
    booking: Booking,
    action: str,
    back_href: str,
    *,
    values: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    notice: str | None = None,
    refused: str | None = None,
) -> Response:
    settings = tenant.settings
    practitioner = session.get_one(Practitioner, booking.practitioner_id)
    return render(
        request,
        tenant,
        "waitlist_join.html",
        status=409 if refused else 400 if errors else 200,
        booking=summaries.summary(session, booking),
        practitioner_name=practitioner.display_name,
        values=values or _form_values(session, booking),
        weekdays=range(1, 8 if settings.weekend_booking_enabled else 6),
        weekday_keys=WEEKDAY_KEYS,
        errors=errors or [],
        notice=notice,
        refused=refused,
        action=action,
        back_href=back_href,
        hold_minutes=settings.waitlist_hold_minutes,
        offers_per_day=settings.waitlist_offers_per_day,
    )


def _save(
    request: Request,
    tenant: Tenant,
    session: Session,
    booking: Booking,
    form: dict[str, str],
    now,
    action: str,
    back_href: str,
) -> Response:
    if form.get("leave") == "1":
        waitlist.leave(session, booking, now)
        return redirect(action + ("&" if "?" in action else "?") + "lamnad=1")
    limits, errors = read_limits(form, tenant.settings.weekend_booking_enabled)
    if errors:
        shown = {
            "on_list": waitlist.entry_of(session, booking) is not None,
            "any": limits.any_practitioner,
            "days": limits.weekdays,
            "earliest": form.get("earliest", "")[:5],
            "latest": form.get("latest", "")[:5],
            "not_before": form.get("not_before", "")[:10],
        }
        return join_page(
            request, tenant, session, booking, action, back_href, values=shown, errors=errors
        )
    try:
        waitlist.join(session, booking, limits, now)
    except NotEligible as refused:
        return join_page(request, tenant, session, booking, action, back_href, refused=refused.key)
    return redirect(action + ("&" if "?" in action else "?") + "sparad=1")


def _notice(request: Request) -> str | None:
    if request.query_params.get("sparad") == "1":
        return "waitlist_joined"
    if request.query_params.get("lamnad") == "1":
        return "waitlist_left"
    return None


def _show(
    request: Request, tenant: Tenant, session: Session, booking: Booking, now, action, back
) -> Response:
    reason = waitlist.why_not(session, booking, now)
    if reason == "waitlist_off":
        raise HTTPException(status_code=404)
    return join_page(
        request,
        tenant,
        session,
        booking,
        action,
        back,
        notice=_notice(request),
        refused=reason if _notice(request) is None else None,
    )


def _by_reference(session: Session, tenant: Tenant, reference: str) -> Booking:
    try:
        return booking_by_reference(session, tenant.id, reference[:64])
    except NotFound:
        raise HTTPException(status_code=404) from None


@router.get("/boka/{reference}/aterbud")
def join_form(
    request: Request,
    reference: str,
    tenant: OpenTenantDep,
    session: SessionDep,
    now: NowDep,
    lang: LangDep,
) -> Response:
    booking = _by_reference(session, tenant, reference)
    action = url(f"/boka/{booking.reference}/aterbud", lang)
    back = url(f"/boka/{booking.reference}/bekraftad", lang)
    return _show(request, tenant, session, booking, now, action, back)


@router.post("/boka/{reference}/aterbud")
def join_post(
    request: Request,
    reference: str,
    tenant: OpenTenantDep,
    session: WriteSessionDep,
    now: NowDep,
    lang: LangDep,
    form: PostedForm,
) -> Response:
    booking = _by_reference(session, tenant, reference)
    action = url(f"/boka/{booking.reference}/aterbud", lang)
    back = url(f"/boka/{booking.reference}/bekraftad", lang)
    return _save(request, tenant, session, booking, form, now, action, back)


def _own(session: Session, tenant: Tenant, personal_number: str, reference: str) -> Booking:
    try:
        return own_booking(session, tenant.id, personal_number, reference)
    except NotFound:
        raise HTTPException(status_code=404) from None


@router.get(MY_BOOKINGS_PATH + "/{reference}/aterbud")
def my_join_form(
    request: Request,
    reference: str,
    tenant: OpenTenantDep,
    session: SessionDep,
    now: NowDep,
    lang: LangDep,
    patient: PatientDep,
) -> Response:
    if patient is None:
        return redirect(login_href(tenant.settings, request.url.path) or "/")
    booking = _own(session, tenant, patient.personal_number, reference)
    action = url(f"{MY_BOOKINGS_PATH}/{booking.reference}/aterbud", lang)
    return _show(request, tenant, session, booking, now, action, url(MY_BOOKINGS_PATH, lang))


@router.post(MY_BOOKINGS_PATH + "/{reference}/aterbud")
def my_join_post(
    request: Request,
    reference: str,
    tenant: OpenTenantDep,
    session: WriteSessionDep,
    now: NowDep,
    lang: LangDep,
    patient: PatientDep,
    form: PostedForm,
) -> Response:
    if patient is None:
        return redirect(login_href(tenant.settings, MY_BOOKINGS_PATH) or "/")
    booking = _own(session, tenant, patient.personal_number, reference)
    action = url(f"{MY_BOOKINGS_PATH}/{booking.reference}/aterbud", lang)
    return _save(request, tenant, session, booking, form, now, action, url(MY_BOOKINGS_PATH, lang))


# -- the offer -------------------------------------------------------------------------------


def _offer(request: Request, session: Session, tenant: Tenant, token: str, now):
    """The offer, or the page that says why there is none."""
    try:
        return waitlist_answers.offer_for_token(session, app_secret(request), tenant.id, token, now)
    except signed_links.LinkExpired:
        return _gone(request, tenant, "waitlist_offer_expired", 410)
    except signed_links.LinkInvalid:
        return _gone(request, tenant, "offer_link_invalid", 404)


def _gone(request: Request, tenant: Tenant, key: str, status: int) -> Response:
    return render(request, tenant, "waitlist_offer.html", status=status, state="gone", key=key)


def offer_page(
    request: Request,
    tenant: Tenant,
    session: Session,
    offer,
    token: str,
    lang: str,
    now,
    *,
    state: str | None = None,
    key: str | None = None,
    status: int = 200,
) -> Response:
    held = session.get_one(Booking, offer.held_booking_id)
    current = waitlist_answers.current_booking(session, offer)
    if state is None:
        if offer.status == "accepted":
            state = "accepted"
        elif offer.status == "offered" and offer.expires_at > now:
            state = "open"
        else:
            state, key = (
                "gone",
                (
                    "waitlist_offer_expired"
                    if offer.status in ("offered", "expired")
                    else "waitlist_offer_gone"
                ),
            )
    return render(
        request,
        tenant,
        "waitlist_offer.html",
        status=status,
        state=state,
        key=key,
        offered=summaries.summary(session, held),
        current=summaries.summary(session, current) if current is not None else None,
        expires_at=offer.expires_at,
        action=url(OFFER_PATH.format(token=token), lang),
        my_bookings_href=url(MY_BOOKINGS_PATH, lang),
    )


@router.get(OFFER_PATH)
def show_offer(
    request: Request,
    token: str,
    tenant: OpenTenantDep,
    session: SessionDep,
    now: NowDep,
    lang: LangDep,
) -> Response:
    found = _offer(request, session, tenant, token, now)
    if isinstance(found, Response):
        return found
    held = session.get_one(Booking, found.held_booking_id)
    if "lang" not in request.query_params and held.language != lang:
        # The SMS's link is short and bare: the page speaks the patient's language.
        return redirect(url(OFFER_PATH.format(token=token), held.language))
    answered = {"nej": "offer_declined", "lamnad": "waitlist_left"}.get(
        request.query_params.get("svar", "")
    )
    if answered and found.status != "accepted":
        return offer_page(
            request, tenant, session, found, token, lang, now, state="declined", key=answered
        )
    return offer_page(request, tenant, session, found, token, lang, now)


@router.post(OFFER_PATH)
def answer_offer(
    request: Request,
    token: str,
    tenant: OpenTenantDep,
    session: WriteSessionDep,
    now: NowDep,
    lang: LangDep,
    form: PostedForm,
) -> Response:
    found = _offer(request, session, tenant, token, now)
    if isinstance(found, Response):
        return found
    here = url(OFFER_PATH.format(token=token), lang)
    answer = form.get("answer")
    if answer == "accept":
        try:
            waitlist_answers.accept(session, found, now)
        except waitlist_answers.OfferError as exc:
            return offer_page(
                request, tenant, session, found, token, lang, now, state="gone", key=exc.key,
                status=409,
            )  # fmt: skip
        return redirect(here)
    if answer in ("decline", "leave"):
        waitlist_answers.decline(session, found, now)
        if answer == "leave":
            current = waitlist_answers.current_booking(session, found)
            if current is not None:
                waitlist.leave(session, current, now)
        reply = "lamnad" if answer == "leave" else "nej"
        return redirect(url(OFFER_PATH.format(token=token), lang, {"svar": reply}))
    raise HTTPException(status_code=400)


# -- invitations on the confirmation page and in Mina bokningar --------------------------------


def invitations(session: Session, tenant_id: int, references: list[str], now) -> dict[str, bool]:
    """For each of these bookings that may join the list: whether it is on it already
    (the page says "change or leave" instead of "tell me")."""
    result: dict[str, bool] = {}
    if not references or not waitlist.enabled(session, tenant_id):
        return result
    for reference in references:
        try:
            booking = booking_by_reference(session, tenant_id, reference)
        except NotFound:
            continue
        if waitlist.why_not(session, booking, now) is None:
            result[reference] = waitlist.entry_of(session, booking) is not None
    return result
