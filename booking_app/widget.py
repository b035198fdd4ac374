"""The booking widget: the booking steps in a frame on a clinic's own website.

    <script src="https://<tenant host>/widget.js" data-clinic="UPP1" data-treatment="1"
            data-lang="sv" async></script>

``/widget.js`` (static/widget.js) draws a frame of ``/inbaddad`` (its deep link turned
into the steps' own choice) and sizes it to the page inside, which reports its height
by ``postMessage`` (static/embedded.js). The steps, rules and confirmation are the
site's own; only the framing differs.

Which websites may frame the steps is the tenant's publishable keys' list of origins
(*Avancerat* → API-nycklar), the same list as for CORS: a frame request
(``Sec-Fetch-Dest: iframe``) for a booking step gets ``frame-ancestors`` with those
origins, and its cookies work in the cross-site frame (:mod:`booking_app.cookies`).
Everything else, personal pages and operator pages included, stays
``frame-ancestors 'none'``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from booking_app.api.cors import live_keys_of_host
from booking_app.cookies import EMBEDDED
from booking_app.deps import SessionDep, TenantDep
from booking_app.flow import url
from booking_app.messages import language
from booking_app.origins import admin_path
from booking_app.security import FRAME_ANCESTORS
from connectors.store.api_keys import origins_of
from connectors.store.models import Clinic, Treatment

router = APIRouter()
WIDGET_JS = (Path(__file__).with_name("static") / "widget.js").read_bytes()

FRAMEABLE = ("/inbaddad", "/boka")
"""The booking steps, from the widget's start to the confirmation, and the front page
(the first step's way back); never a personal or an operator page."""


@router.get("/widget.js", include_in_schema=False)
def widget_js() -> Response:
    return Response(
        WIDGET_JS,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/inbaddad", include_in_schema=False)
def embedded_start(request: Request, tenant: TenantDep, session: SessionDep) -> Response:
    """The widget's first page: ``clinic`` (the API's clinic ID) and ``treatment`` (the
    API's treatment ID) preselect those steps, when the tenant has them."""
    params = request.query_params
    lang = language(params.get("lang"))
    chosen: dict[str, str] = {}
    clinic = _clinic(session, tenant.id, params.get("clinic"))
    if clinic is not None:
        chosen["clinic"] = str(clinic.id)
        treatment = _treatment(session, clinic, params.get("treatment"))
        if treatment is not None:
            chosen["treatment"] = str(treatment.id)
    return RedirectResponse(url("/boka", lang, chosen), status_code=303)


def _clinic(session, tenant_id: int, opus_id: str | None) -> Clinic | None:
    if not opus_id or len(opus_id) > 50:
        return None
    return session.scalars(
        select(Clinic)
        .where(Clinic.tenant_id == tenant_id, Clinic.opus_clinic_id == opus_id.strip())
        .order_by(Clinic.id)
    ).first()


def _treatment(session, clinic: Clinic, opus_id: str | None) -> Treatment | None:
    if not opus_id or not opus_id.strip().isdigit() or len(opus_id) > 9:
        return None
    return session.scalars(
        select(Treatment).where(
            Treatment.opus_database_id == clinic.opus_database_id,
            Treatment.opus_treatment_id == int(opus_id),
        )
    ).first()


class WidgetFramingMiddleware:
    """Lets the tenant's listed websites frame the booking steps, and nothing else."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _frameable(scope):
            headers = Headers(scope=scope)
            if headers.get("sec-fetch-dest") in ("iframe", "frame"):
                origins = origins_of(await live_keys_of_host(scope, headers))
                if origins:
                    state = scope.setdefault("state", {})
                    state[FRAME_ANCESTORS] = tuple(sorted(origins))
                    state[EMBEDDED] = True
        await self.app(scope, receive, send)


def _frameable(scope: Scope) -> bool:
    path = scope["path"]
    if admin_path(path):
        return False
    return path == "/" or any(path == p or path.startswith(p + "/") for p in FRAMEABLE)


def install(app) -> None:
    app.include_router(router)
    app.add_middleware(WidgetFramingMiddleware)
