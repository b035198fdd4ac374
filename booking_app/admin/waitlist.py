"""*Återbudslista* for operators: the tenant's waiting-list settings (on or off, how
long an offered time is held, how many offers a patient gets a day) and, per clinic,
how many wait, how many times came free, how many offers went out and how many times
the list booked again. Counts only: nothing about who waits."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from booking_app.admin.deps import AdminFormDep, ChangeGrantDep, Grant, GrantDep
from booking_app.admin.forms import whole_number
from booking_app.admin.pages import saved, tab_page
from booking_app.admin.tabs import tenant_settings
from booking_app.deps import NowDep, SessionDep, WriteSessionDep
from connectors.store import audit, waitlist

router = APIRouter(prefix="/admin/{tenant_id}")
TAB = "aterbudslista"
PERIOD = timedelta(days=30)
HOLD_RANGE = (5, 240)  # minutes; the store's check constraint
OFFERS_RANGE = (1, 20)


def parse(form: dict[str, str]) -> tuple[dict[str, object], list[str]]:
    """The posted settings, and the message keys of what is wrong."""
    values: dict[str, object] = {"waitlist_enabled": form.get("waitlist_enabled") == "on"}
    errors = []
    for name, bounds, error in (
        ("waitlist_hold_minutes", HOLD_RANGE, "admin_waitlist_hold_invalid"),
        ("waitlist_offers_per_day", OFFERS_RANGE, "admin_waitlist_offers_invalid"),
    ):
        text = form.get(name, "").strip()
        number = whole_number(text, bounds)
        if number is not None:
            values[name] = number
        else:
            errors.append(error)
            values[name] = text[:10]
    return values, errors


def _page(
    request: Request,
    grant: Grant,
    session: Session,
    now,
    values: dict[str, object] | None = None,
    errors: list[str] | None = None,
) -> Response:
    settings = tenant_settings(session, grant)
    return tab_page(
        request,
        "waitlist.html",
        grant,
        TAB,
        errors=errors,
        status_code=400 if errors else 200,
        values=values
        or {
            "waitlist_enabled": settings.waitlist_enabled,
            "waitlist_hold_minutes": settings.waitlist_hold_minutes,
            "waitlist_offers_per_day": settings.waitlist_offers_per_day,
        },
        lines=waitlist.clinic_lines(session, grant.tenant.id, now - PERIOD),
    )


@router.get("/" + TAB)
def waitlist_tab(request: Request, grant: GrantDep, session: SessionDep, now: NowDep) -> Response:
    return _page(request, grant, session, now)


@router.post("/" + TAB)
def save_waitlist(
    request: Request,
    form: AdminFormDep,
    grant: ChangeGrantDep,
    session: WriteSessionDep,
    now: NowDep,
) -> Response:
    values, errors = parse(form)
    if errors:
        return _page(request, grant, session, now, values, errors)
    audit.apply_changes(
        session,
        tenant_settings(session, grant),
        values,
        tenant_id=grant.tenant.id,
        operator=grant.operator,
        now=now,
    )
    return saved(grant, TAB)
