"""Log in, log out, and the list of the operator's tenants."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from booking_app import cookies
from booking_app.admin.deps import (
    COOKIE,
    AdminFormDep,
    OperatorDep,
)
from booking_app.admin.todo import todo_count
from booking_app.deps import NowDep, SessionDep, StoreDep, WriteSessionDep
from booking_app.templating import templates
from connectors.store.operators import (
    SESSION_LIFETIME,
    authenticate,
    end_session,
    granted_tenants,
)

router = APIRouter(prefix="/admin")


def _login_page(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    return templates.TemplateResponse(
        request, "admin/login.html", {"error": error}, status_code=status_code
    )


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


def client_address(request: Request) -> str:
    """The address login failures count against (behind a proxy, uvicorn's
    ``--proxy-headers`` puts the real one here)."""
    return request.client.host if request.client else ""


@router.post("/login")
def login(request: Request, form: AdminFormDep, store: StoreDep, now: NowDep) -> Response:
    # No write session here: authenticate checks the password between transactions
    # of its own (argon2 takes ~0.2 s, which must not hold the store's write lock).
    result = authenticate(
        store, form.get("email", ""), form.get("password", ""), now, client_address(request)
    )
    token = result.token
    if result.operator is None or token is None:
        # One answer for an unknown address, a wrong password, a locked account and a
        # throttled client: which one it was is not said.
        return _login_page(request, "admin_login_failed", status_code=401)
    response = RedirectResponse("/admin/", status_code=303)
    cookies.give(response, request, COOKIE, token, max_age=int(SESSION_LIFETIME.total_seconds()))
    return response


@router.post("/logout")
def logout(request: Request, form: AdminFormDep, session: WriteSessionDep, now: NowDep) -> Response:
    end_session(session, cookies.read(request, COOKIE), now)
    response = RedirectResponse("/admin/login", status_code=303)
    cookies.forget(response, request, COOKIE)
    return response


@router.get("/")
def index(request: Request, operator: OperatorDep, session: SessionDep) -> Response:
    return templates.TemplateResponse(
        request,
        "admin/index.html",
        {
            "operator": operator,
            "tenants": [
                (tenant, role, todo_count(session, tenant.id))
                for tenant, role in granted_tenants(session, operator)
            ],
        },
    )
