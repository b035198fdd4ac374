"""Log in, log out, and the list of the operator's tenants."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from booking_app.admin.deps import (
    COOKIE,
    COOKIE_PATH,
    AdminFormDep,
    OperatorDep,
)
from booking_app.deps import NowDep, SessionDep, WriteSessionDep
from booking_app.templating import templates
from connectors.store.operators import (
    SESSION_LIFETIME,
    authenticate,
    end_session,
    granted_tenants,
    start_session,
)

router = APIRouter(prefix="/admin")


def _login_page(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    return templates.TemplateResponse(
        request, "admin/login.html", {"error": error}, status_code=status_code
    )


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
def login(request: Request, form: AdminFormDep, session: WriteSessionDep, now: NowDep) -> Response:
    result = authenticate(session, form.get("email", ""), form.get("password", ""), now)
    if result.operator is None:
        # One message for a wrong address and a wrong password: which one is not said.
        error = "admin_login_locked" if result.locked else "admin_login_failed"
        return _login_page(request, error, status_code=401)
    token = start_session(session, result.operator, now)
    response = RedirectResponse("/admin/", status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(request: Request, form: AdminFormDep, session: WriteSessionDep, now: NowDep) -> Response:
    end_session(session, request.cookies.get(COOKIE), now)
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


@router.get("/")
def index(request: Request, operator: OperatorDep, session: SessionDep) -> Response:
    return templates.TemplateResponse(
        request,
        "admin/index.html",
        {"operator": operator, "tenants": granted_tenants(session, operator)},
    )
