"""Error pages in the patient's language: 404 for unknown hosts and paths, 503 while
the tenant's page is under maintenance. Other HTTP errors keep FastAPI's default."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from booking_app.csrf import CsrfRejected
from booking_app.deps import UnderMaintenance
from booking_app.forms import BadForm, FormTooLarge
from booking_app.templating import templates

RETRY_AFTER_SECONDS = 600
"""Maintenance has no announced end; ten minutes keeps clients from hammering."""


def error_page(
    request: Request,
    *,
    status_code: int,
    title_key: str,
    body_key: str,
    tenant_name: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "tenant_name": tenant_name,
            # Only a known tenant's host serves /theme.css.
            "themed": tenant_name is not None,
            "title_key": title_key,
            "body_key": body_key,
        },
        status_code=status_code,
        headers=headers,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code != 404:
        return await http_exception_handler(request, exc)
    return error_page(
        request, status_code=404, title_key="not_found_title", body_key="not_found_body"
    )


async def _maintenance(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UnderMaintenance)
    return error_page(
        request,
        status_code=503,
        title_key="maintenance_title",
        body_key="maintenance_body",
        tenant_name=exc.tenant_name,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


# The patient forms' refusals, each a page in the patient's language.
FORM_ERRORS: dict[type[Exception], tuple[int, str]] = {
    CsrfRejected: (403, "csrf"),
    FormTooLarge: (413, "form_too_large"),
    BadForm: (400, "bad_form"),
}


async def _form_error(request: Request, exc: Exception) -> Response:
    status, key = FORM_ERRORS[type(exc)]
    return error_page(request, status_code=status, title_key=f"{key}_title", body_key=f"{key}_body")


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(UnderMaintenance, _maintenance)
    for exception in FORM_ERRORS:
        app.add_exception_handler(exception, _form_error)
