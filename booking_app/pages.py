"""The patient pages. Routes stay thin: the tenant comes from a dependency, data from
:mod:`booking_app.queries`, text from the templates and the message catalogue."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from booking_app.deps import LangDep, NowDep, OpenTenantDep, SessionDep, TenantDep
from booking_app.patients import PatientDep
from booking_app.queries import front_page_clinics, group_clinics
from booking_app.templating import templates
from booking_app.theme import theme_css
from connectors.store.models import Image

router = APIRouter()


@router.get("/theme.css")
def theme(tenant: TenantDep) -> Response:
    settings = tenant.settings
    css = theme_css(
        settings.color_primary if settings else None,
        settings.color_accent if settings else None,
    )
    # no-cache: an operator's new colours show on the next page load.
    return Response(css, media_type="text/css", headers={"Cache-Control": "no-cache"})


@router.get("/", response_class=HTMLResponse)
def front_page(
    request: Request,
    tenant: OpenTenantDep,
    session: SessionDep,
    now: NowDep,
    lang: LangDep,
    patient: PatientDep,  # the header's log in / my bookings links
) -> Response:
    settings = tenant.settings
    # A tenant without a settings row has never been configured: treat it as closed.
    published = settings is not None and settings.publish_opus_online
    groups = group_clinics(front_page_clinics(session, tenant.id, now)) if published else []
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "tenant_name": tenant.name,
            "themed": True,
            "welcome_text": settings.welcome_text if settings else None,
            "published": published,
            # Links into the booking steps; the steps say why when booking needs a login.
            "booking_open": published and settings.new_booking_enabled,
            "logo_id": settings.logo_image_id if settings else None,
            "analytics_script": settings.analytics_script if settings else None,  # Avancerat
            "groups": groups,
        },
    )


IMAGE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/svg+xml"}
)
# An uploaded SVG could carry script; opened on its own it must not run any.
IMAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@router.get("/bild/{image_id}")
def image(image_id: str, tenant: TenantDep, session: SessionDep) -> Response:
    """A logo or practitioner photo of this tenant's, as uploaded. Ids are never
    reused for other content (a new upload is a new row), so browsers may cache long."""
    if not image_id.isdigit() or len(image_id) > 10:
        raise HTTPException(status_code=404)
    row = session.get(Image, int(image_id))
    if row is None or row.tenant_id != tenant.id or row.content_type not in IMAGE_TYPES:
        raise HTTPException(status_code=404)
    return Response(
        row.data,
        media_type=row.content_type,
        headers={
            "Cache-Control": "public, max-age=86400",
            "ETag": f'"{row.sha256}"',
            "Content-Security-Policy": IMAGE_POLICY,
        },
    )
