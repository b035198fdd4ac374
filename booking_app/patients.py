"""Who the patient is, when they have logged in with e-ID (BankID).

The booking pages ask only :func:`current_patient`: it reads the session cookie
(see :mod:`booking_app.login`), finds the live session of this tenant in the store,
and sets ``request.state.patient`` to a :class:`LoggedInPatient`; every gate follows
from that. It also leaves what the page header needs (log in / my bookings / log
out) in ``request.state.account``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from booking_app import cookies
from booking_app.deps import NowDep, SettingsDep, TenantDep
from connectors.store import patient_sessions
from connectors.store.db import engine_for, session_scope, write_session_scope
from connectors.store.models import Tenant, TenantSettings
from connectors.store.my_bookings import latest_details

LOGIN_PATH: str | None = "/logga-in"
"""Where "Logga in med BankID" leads."""
MY_BOOKINGS_PATH = "/mina-bokningar"
LOGOUT_PATH = "/logga-ut"
SESSION_COOKIE = cookies.PATIENT_SESSION
_LOCAL_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9/_\-.?=&%]*")


@dataclass(frozen=True)
class LoggedInPatient:
    """What an e-ID login tells us. ``personal_number`` is 12 digits."""

    personal_number: str
    first_name: str | None = None
    last_name: str | None = None


@dataclass(frozen=True)
class Account:
    """The header's patient links."""

    patient: LoggedInPatient | None
    login_href: str
    my_bookings_href: str | None
    logout_action: str


def login_enabled(settings: TenantSettings | None) -> bool:
    """*Inloggning aktiverad*, and the page published at all."""
    return settings is not None and settings.login_enabled and settings.publish_opus_online


def safe_return(path: str | None) -> str | None:
    """``path`` if it is a path on this site (never another host: no open redirect)."""
    if path and len(path) <= 500 and _LOCAL_PATH.fullmatch(path):
        return path
    return None


def login_href(settings: TenantSettings | None, return_to: str | None = None) -> str | None:
    """The login link, with where to come back to; ``None`` when login is off."""
    if not login_enabled(settings) or LOGIN_PATH is None:
        return None
    back = safe_return(return_to)
    return LOGIN_PATH + ("?" + urlencode({"next": back}) if back else "")


def _find(request: Request, tenant: Tenant, now: datetime, settings) -> LoggedInPatient | None:
    if not login_enabled(tenant.settings):
        return None
    token = cookies.read(request, SESSION_COOKIE)
    if not token:
        return None
    engine = engine_for(settings.resolved_store_url)
    with session_scope(engine) as session:
        found = patient_sessions.active_session(session, tenant.id, token, now)
        if found is None:
            return None
        patient = LoggedInPatient(found.personal_number, found.given_name, found.surname)
        stale = patient_sessions.needs_touch(found, now)
        session_id = found.id
    if stale:
        # Its own short write, before the route's transaction begins (dependencies
        # run first), at most once a minute per session.
        with write_session_scope(engine) as session:
            patient_sessions.touch(session, session_id, now)
    return patient


def return_path(request: Request, fallback: str = "/") -> str:
    """This page, to come back to after logging in (a form's target is not a page:
    ``fallback`` then)."""
    if request.method != "GET":
        return fallback
    query = request.url.query
    return request.url.path + ("?" + query if query else "")


async def current_patient(
    request: Request, tenant: TenantDep, now: NowDep, settings: SettingsDep
) -> LoggedInPatient | None:
    """The logged-in patient of this tenant's site, or ``None``. On the event loop
    unless there is a session to look up (then in a worker thread): most visitors
    are not logged in."""
    if not hasattr(request.state, "account"):  # once per request
        # A patient set by server code before us (a test's middleware) stands.
        preset = getattr(request.state, "patient", None)
        patient = preset if isinstance(preset, LoggedInPatient) else None
        logged_in = login_enabled(tenant.settings) and cookies.read(request, SESSION_COOKIE)
        if patient is None and logged_in:
            patient = await run_in_threadpool(_find, request, tenant, now, settings)
        request.state.patient = patient
        on = login_enabled(tenant.settings)
        request.state.account = (
            Account(
                patient=patient,
                # From the first page a login leads to Mina bokningar (no "next").
                login_href=login_href(tenant.settings, return_path(request).rstrip("/") or None)
                or "",
                my_bookings_href=MY_BOOKINGS_PATH
                if patient and tenant.settings.view_bookings_enabled
                else None,
                logout_action=LOGOUT_PATH,
            )
            if on
            else None
        )
    patient = request.state.patient
    return patient if isinstance(patient, LoggedInPatient) else None


PatientDep = Annotated[LoggedInPatient | None, Depends(current_patient)]


def prefilled(session: Session, tenant_id: int, patient: LoggedInPatient | None) -> dict[str, str]:
    """*Dina uppgifter* for a logged-in patient: the name BankID gave, and the contact
    details of their latest booking here (the patient may change any of them)."""
    if patient is None:
        return {}
    values = latest_details(session, tenant_id, patient.personal_number)
    if patient.first_name:
        values["first_name"] = patient.first_name
    if patient.last_name:
        values["last_name"] = patient.last_name
    return values
