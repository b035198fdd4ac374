"""*Avancerat* → Patientdata: a patient's export and erasure, for administrators only.

The personal number is only ever posted (never in a URL, so not in a proxy's log or the
browser's history) and never shown back. Erasure has a confirm step: the preview says
what would be erased and what stays in Opus, and carries the patient's keyed hash,
not the number; erasing needs the number typed again (it must give the same hash) and
a ticked box. Every look-up is audited and counted against the operator's hourly
limit (:mod:`connectors.store.patient_requests`), in short transactions of its own:
these routes hold no write transaction of the request's.

Pages with a patient's data say ``Cache-Control: no-store``.
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from booking_app.admin.deps import AdminFormDep, Grant, GrantDep
from booking_app.admin.pages import tab_page
from booking_app.deps import NowDep, SettingsDep, StoreDep
from booking_app.messages import language, t
from connectors.store import patient_requests
from connectors.store.patient_data import LOOKUPS_PER_HOUR, Actor, TooManyLookups, subject_key
from connectors.store.personal_data import PATIENT_TABLES
from opus_online.config import Settings
from validations.patient import Invalid, personal_number

router = APIRouter(prefix="/admin/{tenant_id}/avancerat/patientdata")
NO_STORE = {"Cache-Control": "no-store"}


def _administrator(grant: Grant) -> None:
    if not grant.is_administrator:
        raise HTTPException(status_code=403)


def _page(
    request: Request,
    grant: Grant,
    *,
    errors: list[str] | None = None,
    status_code: int = 200,
    **context,
) -> Response:
    response = tab_page(
        request,
        "patient_data.html",
        grant,
        "avancerat",
        errors=errors,
        status_code=status_code,
        tables=PATIENT_TABLES,
        limit=LOOKUPS_PER_HOUR,
        **{"preview": None, "erased": None, "subject": "", **context},
    )
    response.headers.update(NO_STORE)
    return response


def _number(request: Request, raw: str, now: datetime, settings: Settings) -> tuple[str, str]:
    """The 12-digit number, or '' and the error's text."""
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    try:
        return personal_number(raw, today), ""
    except Invalid as invalid:
        return "", t(invalid.key, language(request.query_params.get("lang")))


def _actor(grant: Grant) -> Actor:
    return Actor.of(grant.operator)


@router.get("")
def page(request: Request, grant: GrantDep) -> Response:
    _administrator(grant)
    return _page(request, grant)


@router.post("/export")
def export(
    request: Request,
    form: AdminFormDep,
    grant: GrantDep,
    store: StoreDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    _administrator(grant)
    number, error = _number(request, form.get("personal_number", ""), now, settings)
    if error:
        return _page(request, grant, errors=[error], status_code=400)
    actor, secret = _actor(grant), settings.secret()
    try:
        document = patient_requests.export(store, grant.tenant, number, actor, secret, now)
    except TooManyLookups:
        return _page(request, grant, errors=["admin_patient_too_many"], status_code=429)
    # No personal number in the file's name: it ends up in download lists.
    name = f"patientdata-{grant.tenant.subdomain}-{now:%Y%m%d-%H%M%S}.json"
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/granska")
def review(
    request: Request,
    form: AdminFormDep,
    grant: GrantDep,
    store: StoreDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    _administrator(grant)
    number, error = _number(request, form.get("personal_number", ""), now, settings)
    if error:
        return _page(request, grant, errors=[error], status_code=400)
    actor, secret = _actor(grant), settings.secret()
    try:
        found = patient_requests.preview(store, grant.tenant.id, number, actor, secret, now)
    except TooManyLookups:
        return _page(request, grant, errors=["admin_patient_too_many"], status_code=429)
    subject = subject_key(secret, grant.tenant.id, number)
    return _page(request, grant, preview=found, subject=subject)


@router.post("/radera")
def erase(
    request: Request,
    form: AdminFormDep,
    grant: GrantDep,
    store: StoreDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    _administrator(grant)
    number, error = _number(request, form.get("personal_number", ""), now, settings)
    secret = settings.secret()
    if error or form.get("confirm") != "ja":
        errors = [error] if error else []
        return _page(
            request, grant, errors=[*errors, "admin_patient_confirm_required"], status_code=400
        )
    reviewed = form.get("subject", "")
    if not hmac.compare_digest(subject_key(secret, grant.tenant.id, number), reviewed):
        return _page(request, grant, errors=["admin_patient_confirm_mismatch"], status_code=400)
    try:
        erased = patient_requests.erase(store, grant.tenant.id, number, _actor(grant), secret, now)
    except TooManyLookups:
        return _page(request, grant, errors=["admin_patient_too_many"], status_code=429)
    status = 409 if erased.refused else 200
    return _page(request, grant, preview=erased.preview, erased=erased, status_code=status)
