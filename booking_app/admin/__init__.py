"""The operators' configuration pages under ``/admin``: the manual's tabs per tenant,
behind a login, scoped to the tenants the operator is granted, every change audited."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from booking_app.admin import (
    api_keys,
    auth,
    opus_connections,
    patient_data,
    practitioners,
    reminders_tab,
    retention,
    tabs,
    templates_tab,
    todo,
    waitlist,
)
from booking_app.admin.deps import NotLoggedIn

router = APIRouter()
router.include_router(auth.router)
router.include_router(tabs.router)
router.include_router(opus_connections.router)  # Kliniker → Anslutning till Opus
router.include_router(api_keys.router)  # Avancerat → API-nycklar
router.include_router(patient_data.router)  # Avancerat → Patientdata
router.include_router(retention.router)  # Avancerat → Gallring
router.include_router(todo.router)  # Att hantera
router.include_router(practitioners.router)  # Behandlare, the logo
router.include_router(reminders_tab.router)  # E-post/SMS → Påminnelser
router.include_router(waitlist.router)  # Återbudslista
router.include_router(templates_tab.router)  # last: its /{tab} takes e-post and sms


async def _login_first(request: Request, exc: Exception) -> Response:
    return RedirectResponse("/admin/login", status_code=303)


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.add_exception_handler(NotLoggedIn, _login_first)
