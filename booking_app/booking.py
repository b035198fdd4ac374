"""The booking pages: the steps, the hold, *Dina uppgifter*, the confirmation.

Routes stay thin: choices come from :mod:`booking_app.steps`, fields from
:mod:`booking_app.details`, the booking itself from ``connectors.store.bookings``.
Every form posts with a CSRF token (:mod:`booking_app.forms`); every page after the
hold names the booking by its random reference, never by anything personal.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from booking_app import captcha, cookies, csrf, details, formatting, limits, offer, times
from booking_app.api.snapshots import TenantAvailability
from booking_app.deps import (
    LangDep,
    NowDep,
    OpenTenantDep,
    SessionDep,
    WriteSessionDep,
    get_language,
    get_now,
    get_open_tenant,
    get_tenant,
    tenant_in_memory,
)
from booking_app.flow import (
    ANY,
    BadSelection,
    Selection,
    booking_url,
    is_last_open_step,
    next_step,
    parse_selection,
    step_url,
    url,
)
from booking_app.forms import PostedForm
from booking_app.memory_only import NO_STORE, NeedsStore, in_memory_only
from booking_app.messages import t
from booking_app.page_cache import CSRF_MARK, VISIT_MARK
from booking_app.patients import (
    LoggedInPatient,
    PatientDep,
    current_patient,
    login_href,
    prefilled,
    return_path,
)
from booking_app.routing import PrefixRouter
from booking_app.steps import Resolved, StepContext, Steps, UnknownChoice
from booking_app.templating import templates
from booking_app.tracking import visit_tags_for
from connectors.store.bookings import (
    HOLD,
    CodeCheck,
    HoldLost,
    NotFound,
    ResendTooSoon,
    TimeTaken,
    booking_by_reference,
    check_code,
    code_attempts_left,
    confirm,
    extend_hold,
    send_code,
)
from connectors.store.client_limits import LimitReached, check_new_hold, mark_holder
from connectors.store.models import Booking, Tenant, TenantSettings

router = PrefixRouter("/boka")
HOLD_COOKIE = cookies.HOLD


# -- shared pieces ---------------------------------------------------------------------


def app_secret(request: Request) -> bytes:
    """The app's secret, read once per app (it may live in a file)."""
    state = request.app.state
    if getattr(state, "secret", None) is None:
        state.secret = state.settings.secret()
    return state.secret


SecretDep = Annotated[bytes, Depends(app_secret)]


def site(tenant: Tenant) -> dict[str, Any]:
    """What every page of the tenant's site shows around its content."""
    settings = tenant.settings
    return {
        "tenant_name": tenant.name,
        "themed": True,
        "logo_id": settings.logo_image_id if settings else None,
        "analytics_script": settings.analytics_script if settings else None,  # Avancerat
    }


def render(
    request: Request, tenant: Tenant, template: str, status: int = 200, **context: Any
) -> Response:
    return templates.TemplateResponse(
        request, template, {**site(tenant), **context}, status_code=status
    )


def redirect(location: str) -> Response:
    # 303: after a POST the browser GETs the next page; reloading it posts nothing again.
    return RedirectResponse(location, status_code=303)


def timezone(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.settings.timezone)


def confirmation_mode(settings: TenantSettings) -> str:
    """How a booking is confirmed. *Hoppa över bekräftelse* wins: the manual says it
    means neither a code nor a captcha."""
    if settings.skip_confirmation:
        return "skip"
    return "code" if settings.code_challenge_enabled else "captcha"


def limit_notice(request: Request, tenant: Tenant, reached: LimitReached) -> Response:
    """Why this client may not hold or be sent more now (429). The route must return
    it, not raise: the refusal's count is written in the route's transaction."""
    return render(
        request,
        tenant,
        "notice.html",
        status=429,
        title_key="limit_title",
        body_key=f"{reached.key}_body",
        login_href=None,
    )


def closed_notice(
    request: Request, tenant: Tenant, patient: LoggedInPatient | None
) -> Response | None:
    """The page to show instead when no new booking can be made here now."""
    settings = tenant.settings
    if settings is None or not settings.publish_opus_online:
        key = "booking_closed"
    elif not settings.new_booking_enabled:
        key = "new_booking_disabled"
    elif settings.new_booking_requires_login and patient is None:
        key = "login_required"
    else:
        return None
    return render(
        request,
        tenant,
        "notice.html",
        status=403,
        title_key=f"{key}_title",
        body_key=f"{key}_body",
        # Back to this step after logging in (after a posted form: the first step).
        login_href=login_href(settings, return_path(request, "/boka"))
        if key == "login_required"
        else None,
    )


def make_steps(
    request: Request,
    session: Session,
    tenant: Tenant,
    now: datetime,
    lang: str,
    in_memory: TenantAvailability | None = None,
) -> Steps:
    """The tenant's steps. Their free times come from ``in_memory`` when given (the
    event loop's: see :func:`step_page`), else from the tenant's snapshot as the API's
    (``for_tenant`` may ask the store for its counters: only in a worker thread)."""
    availability = request.app.state.availability
    return Steps(
        session,
        tenant.id,
        tenant.settings,
        now,
        timezone(request),
        lang,
        lambda k: t(k, lang),
        snapshot=(lambda: in_memory)
        if in_memory is not None
        else (lambda: availability.for_tenant(tenant.id)),
        page_facts=availability.page_facts,  # the lookups, once per reference version
    )


def selection_from(params: Any) -> Selection:
    try:
        return parse_selection(params)
    except BadSelection:
        raise HTTPException(status_code=404) from None


def resolve(steps: Steps, selection: Selection) -> Resolved:
    try:
        return steps.resolve(selection)
    except UnknownChoice:
        raise HTTPException(status_code=404) from None


def hold_url(selection: Selection, lang: str) -> str:
    """Where the last step's buttons post: the choice so far rides in the query."""
    return url(
        "/boka/tid", lang, replace(selection, week=None, month=None, first_free=False).params()
    )


# -- the steps -----------------------------------------------------------------------


@router.get("/boka")
async def booking_step(request: Request, session: SessionDep) -> Response:
    """A booking step: on the event loop when memory can answer it (the time step from
    the snapshot, as the API's free times), else in a worker thread with the store
    (:mod:`booking_app.memory_only`).

    Its dependencies are called, not declared: this page is most of the site's
    requests, and FastAPI's solver took a fifth of a page's time for the seventeen
    it resolves (each again where it is shared), more than a kept page's own work."""
    settings = request.app.state.settings
    tenant = await get_open_tenant(await get_tenant(request, session, settings))
    now = await get_now(request)
    lang = await get_language(request)
    patient = await current_patient(request, tenant, now, settings)
    if tenant_in_memory(request):
        try:
            return step_page(request, tenant, NO_STORE, now, lang, patient)
        except NeedsStore:
            pass
    return await run_in_threadpool(step_page, request, tenant, session, now, lang, patient)


def step_page(
    request: Request,
    tenant: Tenant,
    session: Session,
    now: datetime,
    lang: str,
    patient: LoggedInPatient | None,
) -> Response:
    closed = closed_notice(request, tenant, patient)
    if closed:
        return closed
    snapshot = kept = None
    selection = selection_from(request.query_params)
    query = request.scope["query_string"].decode("latin-1")
    if in_memory_only(session):
        snapshot = request.app.state.availability.in_memory(tenant.id)
        if snapshot is None:
            raise NeedsStore("snapshot")
        # Kept only for the site's own links: a logged-in patient's page has their name
        # and forms, and a query with anything more (utm_*, another order) would keep
        # another copy of the same page for every variant.
        if patient is None and step_url(selection, lang) == _boka(query):
            kept = request.app.state.page_cache
            html = kept.get(tenant, query, snapshot, now)
            if html is not None:
                return kept_page(request, tenant, html)
    settings = tenant.settings
    steps = make_steps(request, session, tenant, now, lang, snapshot)
    r = resolve(steps, selection)
    order = settings.step_order
    current = next_step(order, selection)
    if current is None:  # all chosen by links: back to the last step, whose buttons hold
        return redirect(step_url(selection.without(order[-1]), lang))
    if settings.combined_view and (
        current in ("treatment", "practitioner") or (current == "time" and not _pair_ok(steps, r))
    ):
        return combined_step(request, tenant, steps, r, order)
    if current == "time" and selection.first_free:
        first = steps.first_free(r)
        if first is not None:
            day = formatting.local_day(first.starts_at, timezone(request))
            jumped = replace(
                selection, first_free=False, week=times.monday_of(day), month=day.replace(day=1)
            )
            return redirect(step_url(jumped, lang) + "#vecka")
    final = is_last_open_step(order, selection, current)
    context = {
        "clinic": steps.clinic_step,
        "treatment": steps.treatment_step,
        "practitioner": steps.practitioner_step,
        "time": steps.time_step,
    }[current](r, final)
    context.progress = steps.progress(r, order, current)
    if context.time is not None and selection.first_free:
        context.time.none_at_all = True
    page = {
        "page": context,
        "hold_url": hold_url(selection, lang),
        "back_href": _back(steps, r, order, current, lang),
    }
    if kept is not None and snapshot is not None and current == "time":
        html = render_marked(request, tenant, "step_time.html", **page)
        kept.put(
            tenant, query, snapshot, now, html, timezone(request), _days_shown(context, selection)
        )
        return kept_page(request, tenant, html)
    return render(request, tenant, f"step_{current}.html", **page)


def _days_shown(context: StepContext, selection: Selection) -> tuple[date, date] | None:
    """The days whose times a time step page shows (its week and its month), when it
    shows the week asked for; ``None`` when it may show any (the first free week)."""
    step = context.time
    if step is None or selection.week is None or selection.first_free:
        return None
    month, next_month = times.month_bounds(step.month)
    return min(step.monday, month), max(step.monday + timedelta(days=7), next_month)


def _boka(query: str) -> str:
    return f"/boka?{query}" if query else "/boka"


def render_marked(request: Request, tenant: Tenant, template: str, **context: Any) -> str:
    """``template`` as :func:`render` draws it, with markers where each request has its
    own: the CSRF token and the visit tags (:mod:`booking_app.page_cache`)."""
    values = {**site(tenant), **context, "request": request}
    for processor in templates.context_processors:
        values.update(processor(request))
    values["csrf_token"] = lambda: CSRF_MARK
    values["visit_tags"] = lambda _analytics=None: VISIT_MARK
    return templates.env.get_template(template).render(values)


def kept_page(request: Request, tenant: Tenant, html: str) -> Response:
    """A time step page made by :func:`render_marked`, with this request's token (only
    when it has a form: a token may set the browser id cookie) and visit tags."""
    if CSRF_MARK in html:
        html = html.replace(CSRF_MARK, csrf.token(request))
    analytics = tenant.settings.analytics_script if tenant.settings else None
    tags = visit_tags_for(request, "step_time.html", analytics)
    return HTMLResponse(html.replace(VISIT_MARK, tags))


def _back(steps: Steps, r: Resolved, order: tuple[str, ...], current: str, lang: str) -> str:
    """The previous step (the first page before the first step)."""
    index = order.index(current)
    if index == 0:
        return url("/", lang)
    return step_url(r.selection.without(*order[index - 1 :]), lang)


def _pair_ok(steps: Steps, r: Resolved) -> bool:
    """Whether the chosen practitioner has times for the chosen treatment (the merged
    view lets a patient choose both at once)."""
    if r.treatment is None or r.practitioner is None:
        return True
    able = steps.practitioner_step(replace(r, practitioner=None), False).options
    return any(o.value == str(r.practitioner.id) for o in able)


def combined_step(
    request: Request, tenant: Tenant, steps: Steps, r: Resolved, order: tuple[str, ...]
) -> Response:
    """*Sammanslagen visning*: treatment and practitioner on one page (a GET form)."""
    submitted = request.query_params.get("combined") == "1"
    errors: dict[str, str] = {}
    if submitted and r.treatment is None:
        errors["treatment"] = "choose_treatment_error"
    if submitted and r.selection.practitioner is None:
        errors["practitioner"] = "choose_practitioner_error"
    if not _pair_ok(steps, r):
        errors["practitioner"] = "practitioner_cannot_do_treatment"
    treatments = steps.treatment_step(replace(r, treatment=None), False)
    practitioners = steps.practitioner_step(replace(r, treatment=None, practitioner=None), False)
    progress = steps.progress(r, order, "treatment")
    return render(
        request,
        tenant,
        "step_combined.html",
        status=422 if errors else 200,
        treatments=treatments,
        practitioners=practitioners,
        progress=progress,
        errors=errors,
        chosen_treatment=str(r.treatment.id) if r.treatment else "",
        chosen_practitioner=str(r.selection.practitioner or ""),
        hidden=replace(r.selection, treatment=None, practitioner=None).params(),
        back_href=url("/", steps.lang)
        if order.index("clinic") != 0
        else step_url(r.selection.without("clinic", "treatment", "practitioner"), steps.lang),
    )


# -- the hold --------------------------------------------------------------------------


@router.get("/boka/tid")
def hold_by_get(request: Request, lang: LangDep) -> Response:
    """A reload or a language switch on a "time taken" page: back to the steps."""
    return redirect(url("/boka", lang, {k: v for k, v in request.query_params.items()}))


@router.post("/boka/tid")
def place_hold(
    request: Request,
    tenant: OpenTenantDep,
    session: WriteSessionDep,
    now: NowDep,
    lang: LangDep,
    patient: PatientDep,
    form: PostedForm,
) -> Response:
    closed = closed_notice(request, tenant, patient)
    if closed:
        return closed
    selection = selection_from(request.query_params)
    if "slot" in form:
        clinic_text, _, at_text = form["slot"].partition("|")
        chosen = selection_from({"clinic": clinic_text, "at": at_text})
        if selection.clinic == ANY:
            selection = replace(selection, clinic=chosen.clinic, any_clinic=True)
        elif selection.clinic != chosen.clinic:
            raise HTTPException(status_code=404)
        selection = replace(selection, at=chosen.at)
    for name in ("clinic", "treatment", "practitioner"):
        if name in form:
            selection = selection_from({**selection.params(), name: form[name]})
    steps = make_steps(request, session, tenant, now, lang)
    r = resolve(steps, selection)
    if next_step(tenant.settings.step_order, selection) is not None or selection.at is None:
        return redirect(step_url(selection, lang))
    client = limits.client_of(request, app_secret(request))
    try:
        check_new_hold(session, tenant.id, client, now)
    except LimitReached as reached:
        own = _own_hold(request, session, tenant, r, selection)
        if own is not None:  # a double click on a hold this browser has
            return redirect(booking_url(own.reference, "uppgifter", lang))
        return limit_notice(request, tenant, reached)
    try:
        booking = steps.hold(r, selection.at)
        mark_holder(session, booking, client)
    except NotFound:
        raise HTTPException(status_code=404) from None
    except TimeTaken:
        own = _own_hold(request, session, tenant, r, selection)
        if own is not None:  # a double click: the first click holds it for this browser
            return redirect(booking_url(own.reference, "uppgifter", lang))
        retry = r.selection.without("time")
        return render(
            request,
            tenant,
            "lost.html",
            status=409,
            message_key="time_taken",
            nearest=steps.nearest(r, selection.at),
            hold_url=hold_url(retry, lang),
            restart_href=step_url(retry, lang),
        )
    response = redirect(booking_url(booking.reference, "uppgifter", lang))
    # Remembers this browser's newest hold, so that a second click on the same time
    # finds it instead of calling the time taken. HttpOnly and Strict like the CSRF
    # cookie; the reference grants nothing its URL does not.
    cookies.give(
        response, request, HOLD_COOKIE, booking.reference,
        max_age=int(HOLD.total_seconds()), samesite="strict",
    )  # fmt: skip
    return response


def _own_hold(
    request: Request, session: Session, tenant: Tenant, r: Resolved, selection: Selection
) -> Booking | None:
    """This browser's held booking of exactly the asked-for time, if any."""
    reference = cookies.read(request, HOLD_COOKIE)
    if not reference or r.treatment is None:
        return None
    try:
        held = booking_by_reference(session, tenant.id, reference[:64])
    except NotFound:
        return None
    same = (
        held.status == "held"
        and held.starts_at == selection.at
        and held.treatment_id == r.treatment.id
        and (r.clinic is None or held.clinic_id == r.clinic.id)
        and (r.practitioner is None or held.practitioner_id == r.practitioner.id)
    )
    return held if same else None


# -- after the hold: the booking's own pages ------------------------------------------


def find_booking(session: Session, tenant: Tenant, reference: str) -> Booking:
    try:
        return booking_by_reference(session, tenant.id, reference[:64])
    except NotFound:
        raise HTTPException(status_code=404) from None


def lost(
    request: Request,
    tenant: Tenant,
    steps: Steps,
    booking: Booking,
    message_key: str = "hold_lost",
) -> Response:
    """The time is no longer the patient's: say so, and offer the nearest times."""
    try:
        r = steps.for_booking(booking)
    except UnknownChoice:  # the treatment or practitioner is no longer offered
        return render(
            request,
            tenant,
            "lost.html",
            status=409,
            message_key=message_key,
            nearest=[],
            hold_url="",
            restart_href=url("/boka", steps.lang),
        )
    retry = r.selection
    if r.any_clinic:
        retry = replace(retry, clinic=ANY, any_clinic=False)
    return render(
        request,
        tenant,
        "lost.html",
        status=409,
        message_key=message_key,
        nearest=steps.nearest(r, booking.starts_at),
        hold_url=hold_url(retry, steps.lang),
        restart_href=step_url(retry, steps.lang),
    )


def booking_context(session: Session, booking: Booking) -> dict[str, Any]:
    return {"booking": offer.summary(session, booking), "reference": booking.reference}


def _open_booking(
    request: Request,
    tenant: Tenant,
    session: Session,
    now: datetime,
    lang: str,
    patient: LoggedInPatient | None,
    reference: str,
) -> tuple[Booking, Steps, Response | None]:
    """The held booking of ``reference``, or the page to show instead: closed,
    already confirmed (the confirmation), or lost (nearest times)."""
    booking = find_booking(session, tenant, reference)
    steps = make_steps(request, session, tenant, now, lang)
    if booking.status == "confirmed":
        return booking, steps, redirect(booking_url(booking.reference, "bekraftad", lang))
    closed = closed_notice(request, tenant, patient)
    if closed:
        return booking, steps, closed
    if booking.status != "held":
        return booking, steps, lost(request, tenant, steps, booking)
    return booking, steps, None


def details_page(
    request: Request,
    tenant: Tenant,
    steps: Steps,
    session: Session,
    booking: Booking,
    patient: LoggedInPatient | None,
    form: details.Details | None = None,
    status: int = 200,
) -> Response:
    settings = tenant.settings
    return render(
        request,
        tenant,
        "details.html",
        status=status,
        fields=details.fields_for(settings, with_personal_number=patient is None),
        form=form or details.Details(values=prefilled(session, tenant.id, patient)),
        ask_channel=confirmation_mode(settings) == "code",
        patient=patient,
        patient_info=(settings.patient_info_text or "").strip() or None,
        action=booking_url(booking.reference, "uppgifter", steps.lang),
        **booking_context(session, booking),
    )


@router.get("/boka/{reference}/uppgifter")
def details_form(
    request: Request,
    reference: str,
    tenant: OpenTenantDep,
    session: SessionDep,
    now: NowDep,
    lang: LangDep,
    patient: PatientDep,
) -> Response:
    booking, steps, instead = _open_booking(request, tenant, session, now, lang, patient, reference)
    if instead:
        return instead
    return details_page(request, tenant, steps, session, booking, patient)


@router.post("/boka/{reference}/uppgifter")
def save_details(
    request: Request,
    reference: str,
    tenant: OpenTenantDep,
    session: WriteSessionDep,
    now: NowDep,
    lang: LangDep,
    patient: PatientDep,
    form: PostedForm,
) -> Response:
    booking, steps, instead = _open_booking(request, tenant, session, now, lang, patient, reference)
    if instead:
        return instead
    settings = tenant.settings
    mode = confirmation_mode(settings)
    judged = details.judge(
        form,
        settings,
        formatting.local_day(now, timezone(request)),
        with_personal_number=patient is None,
        ask_channel=mode == "code",
    )
    if not judged.valid:
        return details_page(request, tenant, steps, session, booking, patient, judged, 422)
    try:
        extend_hold(session, booking, now)  # first: nothing is stored on a lost hold
    except HoldLost:
        return lost(request, tenant, steps, booking)
    details.store_on(booking, judged)
    if patient is not None:
        booking.personal_number = patient.personal_number
        booking.logged_in_with_eid = True
    if mode == "skip":
        try:
            confirm(session, booking, now)
        except HoldLost:
            return lost(request, tenant, steps, booking)
        return redirect(booking_url(booking.reference, "bekraftad", lang))
    if mode == "code":
        try:
            send_code(
                session, booking, str(judged.cleaned["code_channel"]), app_secret(request), now
            )
        except ResendTooSoon:
            pass  # a code went out a moment ago (a double submit): its page says so
        except HoldLost:
            return lost(request, tenant, steps, booking)
        except LimitReached as reached:
            return limit_notice(request, tenant, reached)
        return redirect(booking_url(booking.reference, "kod", lang))
    return redirect(booking_url(booking.reference, "bekrafta", lang))


# -- confirming with a code ----------------------------------------------------------


def code_page(
    request: Request,
    tenant: Tenant,
    steps: Steps,
    session: Session,
    booking: Booking,
    status: int = 200,
    error_key: str | None = None,
    notice: str | None = None,
) -> Response:
    return render(
        request,
        tenant,
        "code.html",
        status=status,
        channel=booking.code_channel,
        attempts_left=code_attempts_left(booking),
        error_key=error_key,
        notice=notice,
        action=booking_url(booking.reference, "kod", steps.lang),
        resend_action=booking_url(booking.reference, "kod/ny", steps.lang),
        **booking_context(session, booking),
    )


def _booking_awaiting(
    mode: str,
    request: Request,
    tenant: Tenant,
    session: Session,
    now: datetime,
    lang: str,
    patient: LoggedInPatient | None,
    reference: str,
) -> tuple[Booking, Steps, Response | None]:
    """The open booking, if the tenant confirms by ``mode`` and the patient has come
    that far (a code sent, or details given for the captcha); else where to go."""
    booking, steps, instead = _open_booking(request, tenant, session, now, lang, patient, reference)
    come_far = booking.code_sent_at if mode == "code" else booking.first_name
    if instead is None and (confirmation_mode(tenant.settings) != mode or come_far is None):
        instead = redirect(booking_url(booking.reference, "uppgifter", lang))
    return booking, steps, instead


@router.get("/boka/{reference}/kod")
def code_form(
    request: Request,
    reference: str,
    tenant: OpenTenantDep,
    session: SessionDep,
    now: NowDep,
    lang: LangDep,
    patient: PatientDep,
) -> Response:
    booking, steps, instead = _booking_awaiting(
        "code", request, tenant, session, now, lang, patient, reference
    )
    if instead:
        return instead
    notice = t("code_resent", lang) if request.query_params.get("ny") == "1" else None
    return code_page(request, tenant, steps, session, booking, notice=notice)


@router.post("/boka/{reference}/kod")
def check_code_form(
    request: Request,
    reference: str,
    tenant: OpenTenantDep,
    session: WriteSessionDep,
    now: NowDep,
    lang: LangDep,
    patient: PatientDep,
    form: PostedForm,
    secret: SecretDep,
) -> Response:
    booking, steps, instead = _booking_awaiting(
        "code", request, tenant, session, now, lang, patient, reference
    )
    if instead:
        return instead
    code = "".join(form.get("code", "").split())
    if not (len(code) == 6 and code.isdigit()):  # a typo is not a try
        return code_page(request, tenant, steps, session, booking, 422, "code_format")
    result = check_code(session, booking, code, secret, now)
    if result is CodeCheck.LOCKED:
        return lost(request, tenant, steps, booking, "code_locked")
    if result is not CodeCheck.OK:
        return code_page(request, tenant, steps, session, booking, 422, result.value)
    try:
        confirm(session, booking, now)
    except HoldLost:
        return lost(request, tenant, steps, booking)
    return redirect(booking_url(booking.reference, "bekraftad", lang))


@router.post("/boka/{reference}/kod/ny")
def resend_code(
    request: Request,
    reference: str,
    tenant: OpenTenantDep,
    session: WriteSessionDep,
    now: NowDep,
    lang: LangDep,
    patient: PatientDep,
    form: PostedForm,
    secret: SecretDep,
) -> Response:
    booking, steps, instead = _booking_awaiting(
        "code", request, tenant, session, now, lang, patient, reference
    )
    if instead:
        return instead
    channel = form.get("code_channel", "")
    if channel not in details.CODE_CHANNELS:
        return code_page(request, tenant, steps, session, booking, 422, "code_channel_required")
    try:
        send_code(session, booking, channel, secret, now)
    except ResendTooSoon as wait:
        seconds = max(1, round(wait.wait.total_seconds()))
        text = t("code_resend_too_soon", lang).format(seconds=seconds)
        return code_page(request, tenant, steps, session, booking, 429, notice=text)
    except HoldLost:
        return lost(request, tenant, steps, booking)
    except LimitReached as reached:
        return limit_notice(request, tenant, reached)
    return redirect(booking_url(booking.reference, "kod", lang, ny="1"))


# -- confirming with the proof-of-work check ------------------------------------------


def captcha_page(
    request: Request,
    tenant: Tenant,
    steps: Steps,
    session: Session,
    booking: Booking,
    secret: bytes,
    status: int = 200,
    error_key: str | None = None,
) -> Response:
    # Harder for a client that holds or was sent more (a script's work grows with it).
    bits = limits.captcha_bits(session, limits.client_of(request, secret), steps.now)
    return render(
        request,
        tenant,
        "captcha.html",
        status=status,
        challenge=captcha.issue(secret, booking.reference, steps.now, bits),
        bits=bits,
        error_key=error_key,
        action=booking_url(booking.reference, "bekrafta", steps.lang),
        **booking_context(session, booking),
    )


@router.get("/boka/{reference}/bekrafta")
def captcha_form(
    request: Request,
    reference: str,
    tenant: OpenTenantDep,
    session: SessionDep,
    now: NowDep,
    lang: LangDep,
    patient: PatientDep,
    secret: SecretDep,
) -> Response:
    booking, steps, instead = _booking_awaiting(
        "captcha", request, tenant, session, now, lang, patient, reference
    )
    if instead:
        return instead
    return captcha_page(request, tenant, steps, session, booking, secret)


@router.post("/boka/{reference}/bekrafta")
def captcha_confirm(
    request: Request,
    reference: str,
    tenant: OpenTenantDep,
    session: WriteSessionDep,
    now: NowDep,
    lang: LangDep,
    patient: PatientDep,
    form: PostedForm,
    secret: SecretDep,
) -> Response:
    booking, steps, instead = _booking_awaiting(
        "captcha", request, tenant, session, now, lang, patient, reference
    )
    if instead:
        return instead
    try:
        bits = limits.captcha_bits(session, limits.client_of(request, secret), now)
        captcha.verify(
            secret, form.get("challenge", ""), form.get("nonce", ""), booking.reference, now, bits
        )
    except captcha.CaptchaFailed as failed:
        return captcha_page(request, tenant, steps, session, booking, secret, 422, failed.key)
    try:
        confirm(session, booking, now)
    except HoldLost:
        return lost(request, tenant, steps, booking)
    return redirect(booking_url(booking.reference, "bekraftad", lang))


# -- booked ----------------------------------------------------------------------------


@router.get("/boka/{reference}/bekraftad")
def confirmed(
    request: Request,
    reference: str,
    tenant: OpenTenantDep,
    session: SessionDep,
    now: NowDep,
    lang: LangDep,
) -> Response:
    booking = find_booking(session, tenant, reference)
    steps = make_steps(request, session, tenant, now, lang)
    if booking.status == "held":
        return redirect(booking_url(booking.reference, "uppgifter", lang))
    if booking.status != "confirmed":
        return lost(request, tenant, steps, booking)
    from booking_app.waitlist import invitations  # (it imports this module)

    waiting = invitations(session, tenant.id, [booking.reference], now)
    return render(
        request,
        tenant,
        "confirmed.html",
        waitlist_href=booking_url(booking.reference, "aterbud", lang)
        if booking.reference in waiting
        else None,
        on_waitlist=waiting.get(booking.reference, False),
        **booking_context(session, booking),
    )
