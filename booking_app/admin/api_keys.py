"""*Avancerat* → API-nycklar: the tenant's keys to the public API, for administrators.

A key is shown once, when it is made. A publishable key (read and book) lists the
websites that may use it from the browser (CORS, the booking widget); a server key
(every scope, patients' bookings included) gets none. Every change is audited, with
the key's prefix, never the key.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking_app.admin.deps import AdminFormDep, ChangeGrantDep, Grant, GrantDep
from booking_app.admin.pages import saved, tab_page
from booking_app.deps import NowDep, SessionDep, SettingsDep, WriteSessionDep
from booking_app.messages import t
from connectors.store import audit
from connectors.store.api_keys import (
    PUBLISHABLE,
    SERVER,
    InvalidOrigin,
    create_api_key,
    normalised_origins,
    revoke_api_key,
    set_allowed_origins,
)
from connectors.store.models import ApiKey
from opus_online.config import Settings

router = APIRouter(prefix="/admin/{tenant_id}/avancerat/api-nycklar")
PAGE = "avancerat/api-nycklar"
KINDS = {"publik": PUBLISHABLE, "server": SERVER}


def _administrator(grant: Grant) -> None:
    # A key opens the tenant's API to whoever holds it: administrators only.
    if not grant.is_administrator:
        raise HTTPException(status_code=403)


def _live_keys(session: Session, tenant_id: int) -> list[ApiKey]:
    return list(
        session.scalars(
            select(ApiKey)
            .where(ApiKey.tenant_id == tenant_id, ApiKey.revoked_at.is_(None))
            .order_by(ApiKey.created_at, ApiKey.id)
        )
    )


def _page(
    request: Request,
    grant: Grant,
    session: Session,
    *,
    new_key: str | None = None,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return tab_page(
        request,
        "api_keys.html",
        grant,
        "avancerat",
        keys=_live_keys(session, grant.tenant.id),
        new_key=new_key,
        errors=errors,
        form=form or {},
        status_code=status_code,
    )


def _origins(text: str, settings: Settings) -> list[str]:
    """Loopback pages over HTTP only where the service itself runs on loopback (the
    demo and tests); a clinic's real site is HTTPS."""
    return normalised_origins(text, allow_loopback=settings.base_domain == "localhost")


def _judged_origins(text: str, scopes, settings: Settings) -> tuple[list[str], list[str]]:
    """The typed websites, normalised, and what is wrong with them (error texts or
    catalogue keys): a malformed one, or any at all on a key that reaches patients."""
    try:
        origins = _origins(text, settings)
    except InvalidOrigin as bad:
        return [], [t("admin_api_key_origin_invalid").format(origin=bad)]
    if origins and "patient" in scopes:
        return origins, ["admin_api_key_server_no_origins"]
    return origins, []


@router.get("")
def api_keys(request: Request, grant: GrantDep, session: SessionDep) -> Response:
    _administrator(grant)
    return _page(request, grant, session)


@router.post("")
def create_key(
    request: Request,
    form: AdminFormDep,
    grant: ChangeGrantDep,
    session: WriteSessionDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    _administrator(grant)
    name = form.get("name", "").strip()
    scopes = KINDS.get(form.get("kind", ""), PUBLISHABLE)
    origins, errors = _judged_origins(form.get("origins", ""), scopes, settings)
    if not name or len(name) > 100:
        errors.insert(0, "admin_api_key_name_required")
    if errors:
        return _page(request, grant, session, errors=errors, form=form, status_code=400)
    key = create_api_key(session, grant.tenant.id, name, scopes=scopes, origins=origins)
    _audit(session, grant, now, f"api_key {key[:8]}", None, f"{name}: {' '.join(sorted(scopes))}")
    if origins:
        _audit(session, grant, now, f"api_key {key[:8]}.allowed_origins", None, " ".join(origins))
    return _page(request, grant, session, new_key=key)


@router.post("/{key_id}/webbplatser")
def save_origins(
    request: Request,
    key_id: int,
    form: AdminFormDep,
    grant: ChangeGrantDep,
    session: WriteSessionDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    _administrator(grant)
    key = _own_live_key(session, grant, key_id)
    origins, errors = _judged_origins(form.get("origins", ""), set(key.scopes.split()), settings)
    if errors:
        return _page(request, grant, session, errors=errors, status_code=400)
    old = key.allowed_origins.replace("\n", " ")
    set_allowed_origins(session, grant.tenant.id, key.id, origins)
    if old != " ".join(origins):
        setting = f"api_key {key.prefix}.allowed_origins"
        _audit(session, grant, now, setting, old, " ".join(origins))
    return saved(grant, PAGE)


@router.post("/{key_id}/aterkalla")
def revoke_key(
    key_id: int, form: AdminFormDep, grant: ChangeGrantDep, session: WriteSessionDep, now: NowDep
) -> Response:
    # The form (read, CSRF-checked) before the write transaction opens: see admin_form.
    _administrator(grant)
    key = _own_live_key(session, grant, key_id)
    revoke_api_key(session, grant.tenant.id, key.id, now)
    _audit(session, grant, now, f"api_key {key.prefix}", key.name, None)
    return saved(grant, PAGE)


def _own_live_key(session: Session, grant: Grant, key_id: int) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None or key.tenant_id != grant.tenant.id or key.revoked_at is not None:
        raise HTTPException(status_code=404)
    return key


def _audit(session: Session, grant: Grant, now, setting: str, old, new) -> None:
    audit.record(
        session,
        tenant_id=grant.tenant.id,
        operator=grant.operator,
        setting=setting,
        old=old,
        new=new,
        now=now,
    )
