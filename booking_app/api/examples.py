"""``/api/public/v1/``: how a clinic's web agency uses the API from the clinic's own
website, with this tenant's host filled in: a browser ``fetch`` with a publishable key,
and the booking widget's tag. A page for people, so HTML from the site's templates;
it shows no key and nothing of any patient."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from booking_app.api.routes import PREFIX
from booking_app.templating import templates
from booking_app.tenancy import tenant_for_host
from connectors.store.db import engine_for, session_scope

router = APIRouter(prefix=PREFIX)


@router.get("", include_in_schema=False)
@router.get("/", include_in_schema=False)
def examples(request: Request) -> Response:
    settings = request.app.state.settings
    with session_scope(engine_for(settings.resolved_store_url)) as session:
        tenant = tenant_for_host(session, request.headers.get("host"), settings.base_domain)
        if tenant is None:
            raise HTTPException(status_code=404)
        session.expunge(tenant)
    base = str(request.base_url).rstrip("/")
    return templates.TemplateResponse(
        request,
        "api_examples.html",
        {"tenant": tenant, "base": base, "api": f"{base}{PREFIX}"},
    )
