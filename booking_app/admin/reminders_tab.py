"""*Påminnelser*: the reminder section of the E-post and SMS tabs.

Each tab has its channel's switch and lead time (the SMS tab also whose appointments:
online bookings only, or every Opus appointment with a mobile number), and both the
settings the channels share: the quiet hours, and whether the reminder's link may
cancel and rebook without BankID. A change is audited like every setting, and the
tenant's planned reminders are planned again with it (the next worker round).
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking_app.admin.deps import AdminFormDep, ChangeGrantDep
from booking_app.admin.forms import Parsed
from booking_app.admin.pages import saved
from booking_app.deps import NowDep, WriteSessionDep
from connectors.store import audit, reminders
from connectors.store.models import OutboxMessage, Reminder, TenantSettings

router = APIRouter(prefix="/admin/{tenant_id}")

HOURS_RANGE = (1, 336)  # two weeks; the store's check constraints
CHANNELS = {"e-post": "email", "sms": "sms"}
SCOPES = ("online", "all")
SHARED = ("reminder_quiet_start", "reminder_quiet_end", "manage_without_login")


def fields(channel: str) -> tuple[str, ...]:
    """The settings the channel's tab shows (and posts)."""
    own = (f"reminder_{channel}_enabled", f"reminder_{channel}_hours")
    return (*own, *(("reminder_scope",) if channel == "sms" else ()), *SHARED)


def values_of(settings: TenantSettings | None, channel: str) -> dict[str, object]:
    defaults = TenantSettings(
        reminder_email_enabled=False, reminder_email_hours=72, reminder_sms_enabled=False,
        reminder_sms_hours=48, reminder_scope="online", reminder_quiet_start=21,
        reminder_quiet_end=8, manage_without_login=False,
    )  # fmt: skip
    source = settings or defaults
    return {name: getattr(source, name) for name in fields(channel)}


def parse(form: dict[str, str], channel: str) -> Parsed:
    parsed = Parsed()
    parsed.values[f"reminder_{channel}_enabled"] = form.get(f"reminder_{channel}_enabled") == "on"
    parsed.values["manage_without_login"] = form.get("manage_without_login") == "on"
    _number(form, f"reminder_{channel}_hours", HOURS_RANGE, parsed)
    _number(form, "reminder_quiet_start", (0, 23), parsed)
    _number(form, "reminder_quiet_end", (0, 23), parsed)
    if channel == "sms":
        scope = form.get("reminder_scope", "")
        if scope in SCOPES:
            parsed.values["reminder_scope"] = scope
        else:
            parsed.errors.append("admin_error_reminder_scope")
    return parsed


def _number(form: dict[str, str], name: str, bounds: tuple[int, int], parsed: Parsed) -> None:
    raw = form.get(name, "").strip()
    if not raw.isdigit() or len(raw) > 4 or not bounds[0] <= int(raw) <= bounds[1]:
        parsed.errors.append(f"admin_error_{name}")
    else:
        parsed.values[name] = int(raw)


def context(session: Session, tenant_id: int, channel: str, now, shown=None, errors=None) -> dict:
    """What the tab's reminder section shows: the values, what went wrong, whether the
    lead time ends after the web cut-off, and how many reminders are planned and sent."""
    settings = session.get(TenantSettings, tenant_id)
    values = shown if shown is not None else values_of(settings, channel)
    cutoff = settings.change_cutoff_hours if settings else 24
    hours = values.get(f"reminder_{channel}_hours")
    late = isinstance(hours, int) and hours <= cutoff
    planned = session.scalar(
        select(func.count()).where(
            Reminder.tenant_id == tenant_id,
            Reminder.channel == channel,
            Reminder.status == "planned",
        )
    )
    return {
        "reminder": values,
        "reminder_errors": errors or [],
        "reminder_channel": channel,
        "reminder_after_cutoff": {"hours": hours, "cutoff": cutoff} if late else None,
        "reminder_planned": planned or 0,
        "reminder_sent": sent_lately(session, tenant_id, channel, now),
    }


def sent_lately(session: Session, tenant_id: int, channel: str, now) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                OutboxMessage.tenant_id == tenant_id,
                OutboxMessage.channel == channel,
                OutboxMessage.kind == "reminder",
                OutboxMessage.status.in_(("sent", "delivered")),
                OutboxMessage.created_at >= now - timedelta(days=7),
            )
        )
        or 0
    )


@router.post("/{tab}/paminnelser")
def save_reminders(
    request: Request,
    tab: str,
    form: AdminFormDep,
    grant: ChangeGrantDep,
    session: WriteSessionDep,
    now: NowDep,
) -> Response:
    if tab not in CHANNELS:
        raise HTTPException(status_code=404)
    channel = CHANNELS[tab]
    parsed = parse(form, channel)
    if parsed.errors:
        from booking_app.admin.templates_tab import tab_with_reminder_errors

        shown = {name: form.get(name, "") for name in fields(channel)}
        for name in (f"reminder_{channel}_enabled", "manage_without_login"):
            shown[name] = form.get(name) == "on"
        return tab_with_reminder_errors(request, grant, session, tab, shown, parsed.errors)
    settings = session.get(TenantSettings, grant.tenant.id)
    if settings is None:
        settings = TenantSettings(tenant_id=grant.tenant.id)
        session.add(settings)
        session.flush()
    before = {name: getattr(settings, name) for name in parsed.values}
    audit.apply_changes(
        session, settings, parsed.values, tenant_id=grant.tenant.id,
        operator=grant.operator, now=now,
    )  # fmt: skip
    if before != {name: getattr(settings, name) for name in parsed.values}:
        reminders.forget_planned(session, grant.tenant.id)
    return saved(grant, tab)
