"""The patient pages. Routes stay thin: the tenant comes from a dependency, data from
:mod:`booking_app.queries`, text from the templates and the message catalogue."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from booking_app.deps import LangDep, NowDep, OpenTenantDep, SessionDep, TenantDep
from booking_app.queries import front_page_clinics, group_clinics
from booking_app.templating import templates
from booking_app.theme import theme_css

router = APIRouter()


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness for the demo runner, on any host; it does not touch the store, so a
    busy store does not make the process look dead."""
    return {"status": "ok"}


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
    request: Request, tenant: OpenTenantDep, session: SessionDep, now: NowDep, lang: LangDep
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
            "groups": groups,
        },
    )
