"""The manual's tabs. Each GET shows the tenant's current values; each POST
validates, applies the change with its audit entries (one transaction) and redirects.
The patient site reads the same rows per request, so a change is live at once."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking_app.admin import forms, retention
from booking_app.admin.deps import AdminFormDep, ChangeGrantDep, Grant, GrantDep
from booking_app.admin.pages import saved, tab_page
from booking_app.deps import NowDep, SessionDep, SettingsDep, WriteSessionDep
from booking_app.tenancy import redirect_expiry
from connectors.store import audit, client_limits
from connectors.store.models import (
    Clinic,
    ClinicPractitioner,
    MarketplaceAccount,
    OpusDatabase,
    SubdomainRedirect,
    TenantSettings,
)
from opus_online.config import Settings

router = APIRouter(prefix="/admin/{tenant_id}")


def tenant_settings(session: Session, grant: Grant) -> TenantSettings:
    settings = session.get(TenantSettings, grant.tenant.id)
    if settings is None:  # a tenant made before it had settings gets the defaults
        settings = TenantSettings(tenant_id=grant.tenant.id)
        session.add(settings)
        session.flush()
    return settings


def _save(session: Session, grant: Grant, target: object, values: dict, now, prefix="") -> None:
    audit.apply_changes(
        session,
        target,
        values,
        tenant_id=grant.tenant.id,
        operator=grant.operator,
        now=now,
        prefix=prefix,
    )


# -- Flexibilitet --------------------------------------------------------------------


def _flex_page(
    request: Request,
    grant: Grant,
    session: Session,
    settings,
    values=None,
    errors=None,
    sms_limits=None,
    sms_limit_errors=None,
) -> Response:
    return tab_page(
        request,
        "flexibility.html",
        grant,
        "flexibilitet",
        errors=errors,
        status_code=400 if errors or sms_limit_errors else 200,
        settings=values or {n: getattr(settings, n) for n in _FLEX_FIELDS},
        booleans=forms.FLEX_BOOLEANS,
        steps=forms.STEP_FIELDS,
        step_names=("clinic", "treatment", "practitioner", "time"),
        # Next to *Publicera på "Boka vård"*: whether publishing can happen at all.
        marketplace=session.get(MarketplaceAccount, grant.tenant.id),
        # What the limits on anonymous clients have refused so far, by kind: that they
        # bite, and whether one bites too often (the tenant's hourly cap, say).
        limit_hits=client_limits.hits(session, grant.tenant.id),
        limit_kinds=client_limits.KINDS,
        sms_limits=sms_limits
        or {
            "sms_country_codes": forms.shown_country_codes(settings.sms_country_codes),
            "code_messages_per_hour": settings.code_messages_per_hour,
        },
        sms_limit_errors=sms_limit_errors or [],
    )


_FLEX_FIELDS = (
    *forms.FLEX_BOOLEANS,
    *forms.FLEX_OTHER_BOOLEANS,
    *forms.STEP_FIELDS,
    "change_cutoff_hours",
    "months_to_sync",
)


@router.get("/flexibilitet")
def flexibility(request: Request, grant: GrantDep, session: SessionDep) -> Response:
    return _flex_page(request, grant, session, tenant_settings(session, grant))


@router.post("/flexibilitet")
def save_flexibility(
    request: Request,
    form: AdminFormDep,
    grant: ChangeGrantDep,
    session: WriteSessionDep,
    now: NowDep,
) -> Response:
    settings = tenant_settings(session, grant)
    parsed = forms.parse_flexibility(form)
    if parsed.errors:
        shown = {n: getattr(settings, n) for n in _FLEX_FIELDS} | parsed.values
        return _flex_page(request, grant, session, settings, shown, parsed.errors)
    _save(session, grant, settings, parsed.values, now)
    return saved(grant, "flexibilitet")


@router.post("/flexibilitet/granser")
def save_sms_limits(
    request: Request,
    form: AdminFormDep,
    grant: ChangeGrantDep,
    session: WriteSessionDep,
    now: NowDep,
) -> Response:
    """Where SMS may go and how many codes an hour the chain sends: what an abused
    booking page costs, so only an administrator may change them."""
    if not grant.is_administrator:
        raise HTTPException(status_code=403)
    settings = tenant_settings(session, grant)
    parsed = forms.parse_sms_limits(form)
    if parsed.errors:
        shown = {
            "sms_country_codes": form.get("sms_country_codes", ""),
            "code_messages_per_hour": form.get("code_messages_per_hour", ""),
        }
        return _flex_page(
            request, grant, session, settings, sms_limits=shown, sms_limit_errors=parsed.errors
        )
    _save(session, grant, settings, parsed.values, now)
    return saved(grant, "flexibilitet")


# -- Underdomän ----------------------------------------------------------------------


@router.get("/underdoman")
def subdomain(request: Request, grant: GrantDep) -> Response:
    return tab_page(
        request, "subdomain.html", grant, "underdoman", value=grant.tenant.subdomain, free=None
    )


@router.post("/underdoman")
def save_subdomain(
    request: Request,
    form: AdminFormDep,
    grant: ChangeGrantDep,
    session: WriteSessionDep,
    now: NowDep,
) -> Response:
    value = forms.normalise_subdomain(form.get("subdomain", ""))
    problem = forms.subdomain_problem(session, value, grant.tenant.id, now)
    if problem is not None or form.get("action") == "check":
        # Kontrollera tillgänglighet: the answer, nothing saved.
        return tab_page(
            request,
            "subdomain.html",
            grant,
            "underdoman",
            errors=[problem] if problem else [],
            status_code=400 if problem else 200,
            value=value,
            free=problem is None,
        )
    old = grant.tenant.subdomain
    if value != old:
        _move_subdomain(session, grant.tenant.id, old, value, now)
    _save(session, grant, grant.tenant, {"subdomain": value}, now, prefix="tenant.")
    return saved(grant, "underdoman")


def _move_subdomain(session: Session, tenant_id: int, old: str, new: str, now) -> None:
    """The old name redirects to the tenant for :data:`REDIRECT_DAYS`; the new one
    stops redirecting (the tenant's own former name, or another's that expired)."""
    taken = session.get(SubdomainRedirect, new)
    if taken is not None:
        session.delete(taken)
    redirect = session.get(SubdomainRedirect, old)
    if redirect is None:
        redirect = SubdomainRedirect(subdomain=old)
        session.add(redirect)
    redirect.tenant_id = tenant_id
    redirect.created_at = now
    redirect.expires_at = redirect_expiry(now)
    session.flush()


# -- Media ---------------------------------------------------------------------------


def _clinics(session: Session, tenant_id: int) -> list[Clinic]:
    return list(
        session.scalars(
            select(Clinic)
            .where(Clinic.tenant_id == tenant_id, Clinic.in_opus)
            .order_by(Clinic.display_order, Clinic.id)  # the patient site's order
        )
    )


_MEDIA_FIELDS = (
    "welcome_text",
    "patient_info_text",
    "default_clinic_text",
    "color_primary",
    "color_accent",
)


def media_page(
    request: Request, grant: Grant, session: Session, errors: list[str] | None = None
) -> Response:
    settings = tenant_settings(session, grant)
    clinics = _clinics(session, grant.tenant.id)
    return tab_page(
        request,
        "media.html",
        grant,
        "media",
        errors=errors,
        status_code=400 if errors else 200,
        values={n: getattr(settings, n) for n in _MEDIA_FIELDS},
        clinics=clinics,
        clinic_texts={c.id: c.clinic_text for c in clinics},
        logo_id=settings.logo_image_id,
    )


@router.get("/media")
def media(request: Request, grant: GrantDep, session: SessionDep) -> Response:
    return media_page(request, grant, session)


@router.post("/media")
def save_media(
    request: Request,
    form: AdminFormDep,
    grant: ChangeGrantDep,
    session: WriteSessionDep,
    now: NowDep,
) -> Response:
    settings = tenant_settings(session, grant)
    clinics = _clinics(session, grant.tenant.id)
    parsed, clinic_texts = forms.parse_media(form, [c.id for c in clinics])
    if parsed.errors:
        return tab_page(
            request,
            "media.html",
            grant,
            "media",
            errors=sorted(set(parsed.errors)),
            status_code=400,
            values=parsed.values,
            clinics=clinics,
            clinic_texts=clinic_texts,
            logo_id=settings.logo_image_id,
        )
    _save(session, grant, settings, parsed.values, now)
    for clinic in clinics:
        _save(
            session,
            grant,
            clinic,
            {"clinic_text": clinic_texts[clinic.id]},
            now,
            f"clinic {clinic.id}.",
        )
    return saved(grant, "media")


# -- Kliniker ------------------------------------------------------------------------


def opus_databases(session: Session, tenant_id: int) -> list[OpusDatabase]:
    return list(
        session.scalars(
            select(OpusDatabase)
            .where(OpusDatabase.tenant_id == tenant_id)
            .order_by(OpusDatabase.id)
        )
    )


def clinics_page(
    request: Request,
    grant: Grant,
    session: Session,
    settings: Settings,
    *,
    errors: list[str] | None = None,
    **connection: object,
) -> Response:
    """The *Kliniker* tab; ``connection``: the posted values and the errors of its
    *Anslutning till Opus* form (booking_app.admin.opus_connections), when refused."""
    databases = opus_databases(session, grant.tenant.id)
    clinics = _clinics(session, grant.tenant.id)
    return tab_page(
        request,
        "clinics.html",
        grant,
        "kliniker",
        errors=errors,
        status_code=400 if errors else 200,
        # After an up/down move: that button gets the focus again (see move_in_clinics).
        moved=request.query_params.get("flyttad"),
        databases=databases,
        clinics_by_database={
            d.id: [c for c in clinics if c.opus_database_id == d.id] for d in databases
        },
        connect_defaults=(settings.opus_connect_timeout_s, settings.opus_retries),
        **connection,
    )


@router.get("/kliniker")
def clinics(
    request: Request, grant: GrantDep, session: SessionDep, settings: SettingsDep
) -> Response:
    return clinics_page(request, grant, session, settings)


@router.post("/kliniker")
def save_clinics(
    request: Request,
    form: AdminFormDep,
    grant: ChangeGrantDep,
    session: WriteSessionDep,
    now: NowDep,
) -> Response:
    clinics = _clinics(session, grant.tenant.id)
    _only_own_ids(form, clinics)
    for clinic in clinics:
        values: dict[str, object] = {}
        order = forms.parse_order(form.get(f"order_{clinic.id}"))
        if order is not None:
            values["display_order"] = order
        if f"group_{clinic.id}" in form:
            group = form[f"group_{clinic.id}"].strip()[: forms.MAX_GROUP_CHARS]
            values["group_name"] = group or None
        _save(session, grant, clinic, values, now, f"clinic {clinic.id}.")
        for link in clinic.practitioners:
            key = f"{clinic.id}_{link.practitioner_id}"
            if f"seen_{key}" not in form:
                continue
            values = {"added": form.get(f"added_{key}") == "on"}
            order = forms.parse_order(form.get(f"porder_{key}"))
            if order is not None:
                values["display_order"] = order
            _save(
                session,
                grant,
                link,
                values,
                now,
                f"clinic {clinic.id}.practitioner {link.practitioner_id}.",
            )
    return saved(grant, "kliniker")


_CLINIC_FIELDS = ("order_", "group_")
_LINK_FIELDS = ("seen_", "added_", "porder_")


def _only_own_ids(form: dict[str, str], clinics: list[Clinic]) -> None:
    """404 when the form names a clinic or practitioner that is not this tenant's:
    another tenant's id in a form is answered as if it did not exist."""
    clinic_ids = {str(c.id) for c in clinics}
    link_keys = {f"{c.id}_{link.practitioner_id}" for c in clinics for link in c.practitioners}
    for name in form:
        for prefix, known in ((_CLINIC_FIELDS, clinic_ids), (_LINK_FIELDS, link_keys)):
            for p in prefix:
                if name.startswith(p) and name[len(p) :] not in known:
                    raise HTTPException(status_code=404)


def _in_order(links: list[ClinicPractitioner]) -> list[ClinicPractitioner]:
    """A clinic's practitioners in the patient site's order (see practitioners_at)."""
    return sorted(links, key=lambda link: (link.display_order, link.practitioner_id))


@router.post("/kliniker/flytta")
def move_in_clinics(
    form: AdminFormDep, grant: ChangeGrantDep, session: WriteSessionDep, now: NowDep
) -> Response:
    """The up/down buttons: ``move`` is ``clinic:<id>:up`` or
    ``practitioner:<clinic id>:<practitioner id>:down``. The list is renumbered 1, 2, …
    in its shown order with the two neighbours swapped (each changed number audited).

    The page comes back with the focus on the button pressed (``flyttad``), so a
    keyboard user moves an item on by pressing Enter again instead of tabbing back
    from the top of the page."""
    parts = (form.get("move") or "").split(":")
    kind, ids, direction = parts[0], parts[1:-1], parts[-1]
    if direction not in ("up", "down") or not ids or not all(i.isdigit() for i in ids):
        raise HTTPException(status_code=404)
    clinics = _clinics(session, grant.tenant.id)
    clinic = next((c for c in clinics if c.id == int(ids[0])), None)
    if clinic is None:
        raise HTTPException(status_code=404)
    if kind == "clinic" and len(ids) == 1:
        siblings: list = clinics
        moving: object = clinic
        prefix = "clinic {id}."
    elif kind == "practitioner" and len(ids) == 2:
        siblings = _in_order([link for link in clinic.practitioners if link.in_opus])
        moving = next((x for x in siblings if x.practitioner_id == int(ids[1])), None)
        if moving is None:
            raise HTTPException(status_code=404)
        prefix = f"clinic {clinic.id}.practitioner {{id}}."
    else:
        raise HTTPException(status_code=404)
    i = siblings.index(moving)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(siblings):
        siblings = list(siblings)
        siblings[i], siblings[j] = siblings[j], siblings[i]
        for position, item in enumerate(siblings, start=1):
            key = item.practitioner_id if isinstance(item, ClinicPractitioner) else item.id
            _save(session, grant, item, {"display_order": position}, now, prefix.format(id=key))
    # Rebuilt from the checked parts (digits and up/down), never the posted text.
    pressed = ":".join((kind, *ids, direction))
    return RedirectResponse(
        f"/admin/{grant.tenant.id}/kliniker?sparat=1&flyttad={pressed}", status_code=303
    )


# -- Avancerat -----------------------------------------------------------------------


@router.get("/avancerat")
def advanced(request: Request, grant: GrantDep, session: SessionDep) -> Response:
    settings = tenant_settings(session, grant)
    return tab_page(
        request,
        "advanced.html",
        grant,
        "avancerat",
        script=settings.analytics_script or "",
        **retention.context(settings),
    )


@router.post("/avancerat")
def save_advanced(
    request: Request,
    form: AdminFormDep,
    grant: ChangeGrantDep,
    session: WriteSessionDep,
    now: NowDep,
) -> Response:
    # A script runs on every patient's page: only an administrator may set one.
    if not grant.is_administrator:
        raise HTTPException(status_code=403)
    parsed = forms.parse_script(form)
    if parsed.errors:
        return tab_page(
            request,
            "advanced.html",
            grant,
            "avancerat",
            errors=parsed.errors,
            status_code=400,
            script=parsed.values["analytics_script"] or "",
            **retention.context(tenant_settings(session, grant)),
        )
    _save(session, grant, tenant_settings(session, grant), parsed.values, now)
    return saved(grant, "avancerat")


# -- Logg ----------------------------------------------------------------------------


@router.get("/logg")
def audit_log(request: Request, grant: GrantDep, session: SessionDep) -> Response:
    return tab_page(
        request, "audit.html", grant, "logg", entries=audit.entries(session, grant.tenant.id)
    )
