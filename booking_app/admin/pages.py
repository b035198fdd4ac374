"""Rendering an operator page: the layout's tabs, the tenant, the role."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from booking_app.admin.deps import Grant
from booking_app.templating import templates

TABS: tuple[tuple[str, str], ...] = (
    ("att-hantera", "admin_tab_todo"),  # admin/todo.py: the tenant's start page
    ("kliniker", "admin_tab_clinics"),
    ("behandlare", "admin_tab_practitioners"),
    ("underdoman", "admin_tab_subdomain"),
    ("flexibilitet", "admin_tab_flexibility"),
    ("media", "admin_tab_media"),
    ("e-post", "admin_tab_email"),
    ("sms", "admin_tab_sms"),
    ("aterbudslista", "admin_tab_waitlist"),  # admin/waitlist.py
    ("avancerat", "admin_tab_advanced"),
    ("logg", "admin_tab_audit"),
    ("statistik", "admin_tab_statistics"),  # dashboards/, for every role
)


def tab_page(
    request: Request,
    template: str,
    grant: Grant,
    tab: str,
    *,
    errors: list[str] | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    return templates.TemplateResponse(
        request,
        f"admin/{template}",
        {
            "grant": grant,
            "tenant": grant.tenant,
            "tabs": TABS,
            "tab": tab,
            "errors": errors or [],
            "saved": request.query_params.get("sparat") == "1",
            "operator": grant.operator,
            **context,
        },
        status_code=status_code,
    )


def saved(grant: Grant, tab: str) -> Response:
    """Post/redirect/get: a reload does not post the form again."""
    return RedirectResponse(f"/admin/{grant.tenant.id}/{tab}?sparat=1", status_code=303)
