"""*Avancerat* → *Gallring*: how long the tenant's personal data is kept (the
retention flow, flows/retention.py, applies it nightly). Everyone with a grant sees
it; only an administrator changes it, each change audited like every setting."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from booking_app.admin.deps import AdminFormDep, ChangeGrantDep
from booking_app.admin.forms import Parsed, parse_whole_number
from booking_app.admin.pages import saved, tab_page
from booking_app.deps import NowDep, WriteSessionDep
from connectors.store import audit
from connectors.store.models import RETENTION_RANGES, TenantSettings

router = APIRouter(prefix="/admin/{tenant_id}/avancerat")

FIELDS = tuple(RETENTION_RANGES)
"""retention_visit_event_days, retention_booking_months, retention_message_days"""


def context(settings: TenantSettings, shown: dict[str, Any] | None = None, errors=None) -> dict:
    """What advanced.html needs for its *Gallring* section."""
    return {
        "retention": shown or {name: getattr(settings, name) for name in FIELDS},
        "retention_ranges": RETENTION_RANGES,
        "retention_errors": errors or [],
    }


def parse(form: dict[str, str]) -> Parsed:
    """Whole numbers within the store's own bounds (its check constraints say the same)."""
    parsed = Parsed()
    for name, bounds in RETENTION_RANGES.items():
        parse_whole_number(form, name, bounds, parsed)
    return parsed


@router.post("/gallring")
def save_retention(
    request: Request,
    form: AdminFormDep,
    grant: ChangeGrantDep,
    session: WriteSessionDep,
    now: NowDep,
) -> Response:
    if not grant.is_administrator:
        raise HTTPException(status_code=403)
    settings = session.get(TenantSettings, grant.tenant.id)
    if settings is None:  # a tenant made before it had settings gets the defaults
        settings = TenantSettings(tenant_id=grant.tenant.id)
        session.add(settings)
        session.flush()
    parsed = parse(form)
    if parsed.errors:
        shown = {name: form.get(name, "")[:10] for name in FIELDS}
        return tab_page(
            request,
            "advanced.html",
            grant,
            "avancerat",
            status_code=400,
            script=settings.analytics_script or "",
            **context(settings, shown, parsed.errors),
        )
    audit.apply_changes(
        session,
        settings,
        parsed.values,
        tenant_id=grant.tenant.id,
        operator=grant.operator,
        now=now,
    )
    return saved(grant, "avancerat")
