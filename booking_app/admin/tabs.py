"""The manual's tabs. Each GET shows the tenant's current values; each POST
validates, applies the change with its audit entries (one transaction) and redirects.
The patient site reads the same rows per request, so a change is live at once."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking_app.admin import forms
from booking_app.admin.deps import AdminFormDep, ChangeGrantDep, Grant, GrantDep
from booking_app.admin.pages import saved, tab_page
from booking_app.deps import NowDep, SessionDep, WriteSessionDep
from connectors.store import audit
from connectors.store.models import Clinic, OpusDatabase, TenantSettings

router = APIRouter(prefix="/admin/{tenant_id}")


def _settings(session: Session, grant: Grant) -> TenantSettings:
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


def _flex_page(request: Request, grant: Grant, settings, values=None, errors=None) -> Response:
    return tab_page(
        request,
        "flexibility.html",
        grant,
        "flexibilitet",
        errors=errors,
        status_code=400 if errors else 200,
        settings=values or {n: getattr(settings, n) for n in _FLEX_FIELDS},
        booleans=forms.FLEX_BOOLEANS,
        steps=forms.STEP_FIELDS,
        step_names=("clinic", "treatment", "practitioner", "time"),
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
    return _flex_page(request, grant, _settings(session, grant))


@router.post("/flexibilitet")
def save_flexibility(
    request: Request,
    grant: ChangeGrantDep,
    form: AdminFormDep,
    session: WriteSessionDep,
    now: NowDep,
) -> Response:
    settings = _settings(session, grant)
    parsed = forms.parse_flexibility(form)
    if parsed.errors:
        shown = {n: getattr(settings, n) for n in _FLEX_FIELDS} | parsed.values
        return _flex_page(request, grant, settings, shown, parsed.errors)
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
    grant: ChangeGrantDep,
    form: AdminFormDep,
    session: WriteSessionDep,
    now: NowDep,
) -> Response:
    value = forms.normalise_subdomain(form.get("subdomain", ""))
    problem = forms.subdomain_problem(session, value, grant.tenant.id)
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
    _save(session, grant, grant.tenant, {"subdomain": value}, now, prefix="tenant.")
    return saved(grant, "underdoman")


# -- Media ---------------------------------------------------------------------------


def _clinics(session: Session, tenant_id: int) -> list[Clinic]:
    return list(
        session.scalars(
            select(Clinic)
            .where(Clinic.tenant_id == tenant_id, Clinic.in_opus)
            .order_by(Clinic.display_order, Clinic.name)
        )
    )


_MEDIA_FIELDS = (
    "welcome_text",
    "patient_info_text",
    "default_clinic_text",
    "color_primary",
    "color_accent",
)


@router.get("/media")
def media(request: Request, grant: GrantDep, session: SessionDep) -> Response:
    settings = _settings(session, grant)
    clinics = _clinics(session, grant.tenant.id)
    return tab_page(
        request,
        "media.html",
        grant,
        "media",
        values={n: getattr(settings, n) for n in _MEDIA_FIELDS},
        clinics=clinics,
        clinic_texts={c.id: c.clinic_text for c in clinics},
    )


@router.post("/media")
def save_media(
    request: Request,
    grant: ChangeGrantDep,
    form: AdminFormDep,
    session: WriteSessionDep,
    now: NowDep,
) -> Response:
    settings = _settings(session, grant)
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


@router.get("/kliniker")
def clinics(request: Request, grant: GrantDep, session: SessionDep) -> Response:
    databases = session.scalars(
        select(OpusDatabase)
        .where(OpusDatabase.tenant_id == grant.tenant.id)
        .order_by(OpusDatabase.id)
    ).all()
    clinics = _clinics(session, grant.tenant.id)
    return tab_page(
        request,
        "clinics.html",
        grant,
        "kliniker",
        databases=databases,
        clinics_by_database={
            d.id: [c for c in clinics if c.opus_database_id == d.id] for d in databases
        },
    )


@router.post("/kliniker")
def save_clinics(
    request: Request,
    grant: ChangeGrantDep,
    form: AdminFormDep,
    session: WriteSessionDep,
    now: NowDep,
) -> Response:
    # Only this tenant's clinics are read from the form: an id of another tenant's
    # clinic in it matches nothing here and changes nothing.
    for clinic in _clinics(session, grant.tenant.id):
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


# -- Avancerat -----------------------------------------------------------------------


@router.get("/avancerat")
def advanced(request: Request, grant: GrantDep, session: SessionDep) -> Response:
    settings = _settings(session, grant)
    return tab_page(
        request, "advanced.html", grant, "avancerat", script=settings.analytics_script or ""
    )


@router.post("/avancerat")
def save_advanced(
    request: Request,
    grant: ChangeGrantDep,
    form: AdminFormDep,
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
        )
    _save(session, grant, _settings(session, grant), parsed.values, now)
    return saved(grant, "avancerat")


# -- Logg ----------------------------------------------------------------------------


@router.get("/logg")
def audit_log(request: Request, grant: GrantDep, session: SessionDep) -> Response:
    return tab_page(
        request, "audit.html", grant, "logg", entries=audit.entries(session, grant.tenant.id)
    )
