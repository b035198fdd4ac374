"""Logging in with BankID: start, the animated QR code, collect, cancel, log out.

1. ``POST /logga-in/start`` asks BankID for an order and binds it to this browser
   with a random cookie (only its hash is stored);
2. ``GET /logga-in/bankid`` shows the QR code (or the "open BankID" link); its script
   fetches a new code every second from ``GET /logga-in/qr`` (computed here:
   ``qrStartSecret`` never leaves the server) and posts ``/logga-in/status`` every
   two seconds, which collects and says what to do in BankID's words;
3. on completion a session with a *new* id is made, the login cookie goes, and the
   patient returns where they came from.

The personal number comes only from BankID's completion data. With *Inloggning
aktiverad* off every route here is 404. Without JavaScript the page still works:
its "Fortsätt" button posts the same status form.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import math
from datetime import datetime
from typing import Annotated

import segno
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from booking_app import cookies, limits
from booking_app.booking import app_secret, redirect, render
from booking_app.deps import (
    LangDep,
    NowDep,
    OpenTenantDep,
    SessionDep,
    StoreDep,
    WriteSessionDep,
)
from booking_app.flow import url
from booking_app.forms import PostedForm
from booking_app.messages import t
from booking_app.patients import (
    MY_BOOKINGS_PATH,
    SESSION_COOKIE,
    PatientDep,
    login_enabled,
    safe_return,
)
from connectors import bankid
from connectors.store import client_limits, patient_sessions
from connectors.store.db import session_scope, write_session_scope
from connectors.store.models import BankIdOrder, Tenant

router = APIRouter()
LOGIN_COOKIE = cookies.PATIENT_LOGIN
LOGIN_COOKIE_AGE = 10 * 60  # BankID orders live three minutes; a little slack
SESSION_COOKIE_AGE = int(patient_sessions.MAX_AGE.total_seconds())

PENDING_MESSAGES = {
    "noClient": "bankid_rfa1",
    "started": "bankid_rfa14",
    "userSign": "bankid_rfa9",
    "userMrtd": "bankid_rfa23",
}
FAILED_MESSAGES = {
    "expiredTransaction": "bankid_rfa8",
    "certificateErr": "bankid_rfa16",
    "userCancel": "bankid_rfa6",
    "cancelled": "bankid_rfa3",
}
ERROR_MESSAGES = {
    "alreadyInProgress": "bankid_rfa4",
    "requestTimeout": "bankid_rfa5",
    "maintenance": "bankid_rfa5",
    "internalError": "bankid_rfa5",
    "network": "bankid_unreachable",
}


SHOWN_ERRORS = frozenset(
    {
        *PENDING_MESSAGES.values(),
        *FAILED_MESSAGES.values(),
        *ERROR_MESSAGES.values(),
        "bankid_rfa3",
        "bankid_rfa17a",
        "bankid_rfa17b",
        "bankid_rfa22",
        "login_unavailable",
        "limit_bankid_starts_body",
    }
)


def hint_message(status: str, hint_code: str | None, method: str) -> str:
    """The catalogue key of what BankID recommends telling the user (RFA texts)."""
    if status == "pending":
        if hint_code == "outstandingTransaction":
            return "bankid_rfa1" if method == "qr" else "bankid_rfa13"
        return PENDING_MESSAGES.get(hint_code or "", "bankid_rfa21")
    if hint_code == "startFailed":
        return "bankid_rfa17b" if method == "qr" else "bankid_rfa17a"
    return FAILED_MESSAGES.get(hint_code or "", "bankid_rfa22")


def error_message(error: bankid.BankIDError) -> str:
    return ERROR_MESSAGES.get(error.code, "bankid_rfa22")


# -- shared pieces ---------------------------------------------------------------------


def login_tenant(tenant: OpenTenantDep) -> Tenant:
    """The tenant, if *Inloggning aktiverad*; otherwise none of this exists (404)."""
    if not login_enabled(tenant.settings):
        raise HTTPException(status_code=404)
    return tenant


LoginTenantDep = Annotated[Tenant, Depends(login_tenant)]


def bankid_client(request: Request) -> bankid.BankIDClient | None:
    """The app's BankID client, made once (it holds a connection pool)."""
    state = request.app.state
    if not hasattr(state, "bankid"):
        state.bankid = bankid.client_from_settings(state.settings)
    return state.bankid


def close_bankid_client(app) -> None:
    """At shutdown: the client's connection pool, if a login ever made one."""
    client = getattr(app.state, "bankid", None)
    if client is not None:
        client.close()


def end_user_ip(request: Request) -> str:
    """The patient's address as BankID wants it. Behind a proxy uvicorn's
    ``--proxy-headers`` puts the real one here; a test client has a name instead."""
    host = request.client.host if request.client else ""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return "127.0.0.1"


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    # Lax: the BankID app may send the patient back by a link.
    cookies.give(response, request, name, value, max_age=max_age)


def _forget(response: Response, request: Request, name: str) -> None:
    cookies.forget(response, request, name)


def qr_svg(content: str) -> str:
    buffer = io.BytesIO()
    segno.make(content, error="l").save(
        buffer, kind="svg", scale=5, border=2, xmldecl=False, omitsize=True, svgclass="qr"
    )
    return buffer.getvalue().decode()


def current_qr(order: BankIdOrder, now: datetime) -> str | None:
    """The QR content for this second of the order (``None`` once it has ended)."""
    if order.status != "pending" or order.qr_start_secret is None:
        return None
    seconds = max(0, math.floor((now - order.started_at).total_seconds()))
    return bankid.qr_content(order.qr_start_token, order.qr_start_secret, seconds)


def login_page(
    request: Request,
    tenant: Tenant,
    lang: str,
    *,
    status: int = 200,
    error_key: str | None = None,
    return_to: str | None = None,
) -> Response:
    return render(
        request,
        tenant,
        "login.html",
        status=status,
        error_key=error_key,
        return_to=return_to or "",
        action=url("/logga-in/start", lang),
    )


def _pending_order(request: Request, session: Session, tenant: Tenant) -> BankIdOrder | None:
    order = patient_sessions.order_for_browser(
        session, tenant.id, cookies.read(request, LOGIN_COOKIE)
    )
    return order if order is not None and order.status == "pending" else None


# BankID can be slow to answer (seconds, when it is troubled). Its calls are made with
# no transaction open: the order is read first, and what BankID said is recorded after
# in a short write transaction. Inside one, the call would hold SQLite's write lock,
# and every other writer of every tenant would wait for BankID too.


def _browser_order(request: Request, store: Engine, tenant: Tenant) -> BankIdOrder | None:
    """This browser's order, read in a transaction of its own (and detached from it)."""
    with session_scope(store) as session:
        return patient_sessions.order_for_browser(
            session, tenant.id, cookies.read(request, LOGIN_COOKIE)
        )


def _end_order(store: Engine, order: BankIdOrder, status: str, hint: str | None, now) -> None:
    with write_session_scope(store) as session:
        current = session.get(BankIdOrder, order.id)
        if current is not None:
            patient_sessions.end_order(session, current, status, hint, now)


def _may_start(request: Request, store: Engine, tenant: Tenant, now: datetime) -> bool:
    """Count this start against the client's address (in the store: several app
    processes count one address once), in a short transaction of its own before
    BankID is called. False past the limit, with the refusal counted for operators."""
    address_key = limits.client_of(request, app_secret(request)).address_key
    with write_session_scope(store) as session:
        try:
            client_limits.count_bankid_start(session, tenant.id, address_key, now)
        except client_limits.LimitReached:
            return False  # the count and the hit commit with the transaction
    return True


# -- routes ----------------------------------------------------------------------------


@router.get("/logga-in")
def login_form(
    request: Request, tenant: LoginTenantDep, lang: LangDep, patient: PatientDep
) -> Response:
    back = safe_return(request.query_params.get("next"))
    if patient is not None:
        return redirect(back or url(MY_BOOKINGS_PATH, lang))
    error = request.query_params.get("fel")
    if error not in SHOWN_ERRORS:  # only our own keys: the query is anyone's to write
        error = None
    if request.query_params.get("avbruten") == "1":
        error = "login_cancelled"
    return login_page(request, tenant, lang, error_key=error, return_to=back)


@router.post("/logga-in/start")
def start_login(
    request: Request,
    tenant: LoginTenantDep,
    form: PostedForm,
    store: StoreDep,
    now: NowDep,
    lang: LangDep,
) -> Response:
    back = safe_return(form.get("next"))
    method = "app" if form.get("method") == "app" else "qr"
    client = bankid_client(request)
    if client is None:
        return login_page(
            request, tenant, lang, status=503, error_key="login_unavailable", return_to=back
        )
    if not _may_start(request, store, tenant, now):
        return login_page(
            request, tenant, lang, status=429, error_key="limit_bankid_starts_body", return_to=back
        )
    try:
        order = client.auth(end_user_ip(request))
    except bankid.BankIDError as error:
        # Nothing was stored: a failed start leaves no order and no cookie behind.
        status = 409 if error.code == "alreadyInProgress" else 503
        return login_page(
            request, tenant, lang, status=status, error_key=error_message(error), return_to=back
        )
    with write_session_scope(store) as session:
        token = patient_sessions.start_order(
            session,
            tenant.id,
            order_ref=order.order_ref,
            auto_start_token=order.auto_start_token,
            qr_start_token=order.qr_start_token,
            qr_start_secret=order.qr_start_secret,
            method=method,
            return_to=back,
            now=now,
        )
    response = redirect(url("/logga-in/bankid", lang))
    _cookie(response, request, LOGIN_COOKIE, token, LOGIN_COOKIE_AGE)
    return response


def bankid_page(
    request: Request,
    tenant: Tenant,
    order: BankIdOrder,
    now: datetime,
    lang: str,
    *,
    message_key: str | None = None,
    status: int = 200,
) -> Response:
    qr = current_qr(order, now) if order.method == "qr" else None
    return render(
        request,
        tenant,
        "bankid.html",
        status=status,
        method=order.method,
        qr_svg=qr_svg(qr) if qr else None,
        qr_url=url("/logga-in/qr", lang),
        autostart=bankid.autostart_link(order.auto_start_token) if order.method == "app" else None,
        message_key=message_key
        or hint_message("pending", order.hint_code or "outstandingTransaction", order.method),
        status_action=url("/logga-in/status", lang),
        cancel_action=url("/logga-in/avbryt", lang),
    )


@router.get("/logga-in/bankid")
def bankid_wait(
    request: Request, tenant: LoginTenantDep, session: SessionDep, now: NowDep, lang: LangDep
) -> Response:
    order = _pending_order(request, session, tenant)
    if order is None:
        return redirect(url("/logga-in", lang))
    return bankid_page(request, tenant, order, now, lang)


@router.get("/logga-in/qr")
def qr_code(request: Request, tenant: LoginTenantDep, session: SessionDep, now: NowDep) -> Response:
    """This second's QR code, for the page's script (JSON: the content and its SVG)."""
    order = _pending_order(request, session, tenant)
    qr = current_qr(order, now) if order is not None and order.method == "qr" else None
    if qr is None:
        return JSONResponse({"qr": None}, status_code=404, headers={"Cache-Control": "no-store"})
    return JSONResponse({"qr": qr, "svg": qr_svg(qr)}, headers={"Cache-Control": "no-store"})


@router.post("/logga-in/status")
def collect(
    request: Request,
    tenant: LoginTenantDep,
    form: PostedForm,
    store: StoreDep,
    now: NowDep,
    lang: LangDep,
) -> Response:
    """Collect once. The script asks for JSON (``js=1``); a plain form post gets a page."""
    as_json = form.get("js") == "1"
    order = _browser_order(request, store, tenant)
    if order is None or order.status != "pending":
        # No login in progress here (or a replay of one that has ended): start again.
        return _answer(as_json, "failed", "bankid_rfa3", url("/logga-in", lang), lang)
    client = bankid_client(request)
    if client is None:
        return _answer(as_json, "failed", "login_unavailable", url("/logga-in", lang), lang)
    try:
        collected = client.collect(order.order_ref)
    except bankid.BankIDError as error:
        if error.code in ("network", "requestTimeout", "maintenance", "internalError"):
            # Transient: the order may still complete; the page keeps asking.
            if as_json:
                return _answer(True, "pending", error_message(error), None, lang)
            return bankid_page(request, tenant, order, now, lang, message_key=error_message(error))
        _end_order(store, order, "failed", error.code[:40], now)
        return _answer(as_json, "failed", error_message(error), url("/logga-in", lang), lang)
    if collected.status == "pending":
        _note_hint(store, order, (collected.hint_code or "")[:40] or None)
        key = hint_message("pending", collected.hint_code, order.method)
        if as_json:
            return _answer(True, "pending", key, None, lang)
        return bankid_page(request, tenant, order, now, lang, message_key=key)
    if collected.status == "failed":
        key = hint_message("failed", collected.hint_code, order.method)
        _end_order(store, order, "failed", collected.hint_code, now)
        return _answer(as_json, "failed", key, url("/logga-in", lang), lang)
    assert collected.user is not None
    token = _open_session(request, store, tenant, order, collected.user, now)
    if token is None:
        return _answer(as_json, "failed", "bankid_rfa22", url("/logga-in", lang), lang)
    back = order.return_to or url(
        MY_BOOKINGS_PATH if tenant.settings.view_bookings_enabled else "/", lang
    )
    response = _answer(as_json, "complete", None, back, lang)
    _cookie(response, request, SESSION_COOKIE, token, SESSION_COOKIE_AGE)
    _forget(response, request, LOGIN_COOKIE)
    return response


def _note_hint(store: Engine, order: BankIdOrder, hint_code: str | None) -> None:
    """A pending order's latest hint (the page shows it), written only when it moved."""
    if hint_code == order.hint_code:
        return
    with write_session_scope(store) as session:
        current = session.get(BankIdOrder, order.id)
        if current is not None and current.status == "pending":
            current.hint_code = hint_code
    order.hint_code = hint_code


def _open_session(
    request: Request,
    store: Engine,
    tenant: Tenant,
    order: BankIdOrder,
    user: bankid.User,
    now: datetime,
) -> str | None:
    """The completed order's new session (its cookie value), or ``None`` if it cannot
    be opened (the order ended meanwhile: a double poll, a replay)."""
    with write_session_scope(store) as session:
        current = session.get(BankIdOrder, order.id)
        if current is None:
            return None
        try:
            token = patient_sessions.open_session(
                session, current, user.personal_number, user.given_name, user.surname, now
            )
        except patient_sessions.LoginFailed:
            patient_sessions.end_order(session, current, "failed", None, now)
            return None
        # A session this browser had before ends: one browser, one (new) session id.
        patient_sessions.end_session(session, tenant.id, cookies.read(request, SESSION_COOKIE), now)
        return token


def _answer(as_json: bool, status: str, key: str | None, go: str | None, lang: str) -> Response:
    if as_json:
        return JSONResponse(
            {"status": status, "message": t(key, lang) if key else None, "redirect": go},
            headers={"Cache-Control": "no-store"},
        )
    if status == "failed" and key is not None:
        return redirect(url("/logga-in", lang, {"fel": key}))
    return redirect(go or url("/logga-in", lang))


@router.post("/logga-in/avbryt")
def cancel_login(
    request: Request,
    tenant: LoginTenantDep,
    form: PostedForm,
    store: StoreDep,
    now: NowDep,
    lang: LangDep,
) -> Response:
    order = _browser_order(request, store, tenant)
    if order is not None and order.status == "pending":
        client = bankid_client(request)
        if client is not None:
            # If BankID cannot be told, the order times out there anyway; ours ends here.
            with contextlib.suppress(bankid.BankIDError):
                client.cancel(order.order_ref)
        _end_order(store, order, "cancelled", "cancelled", now)
    response = redirect(url("/logga-in", lang, {"avbruten": "1"}))
    _forget(response, request, LOGIN_COOKIE)
    return response


@router.post("/logga-ut")
def logout(
    request: Request,
    tenant: OpenTenantDep,
    session: WriteSessionDep,
    now: NowDep,
    lang: LangDep,
    form: PostedForm,
) -> Response:
    patient_sessions.end_session(session, tenant.id, cookies.read(request, SESSION_COOKIE), now)
    response = redirect(url("/", lang))
    _forget(response, request, SESSION_COOKIE)
    return response
