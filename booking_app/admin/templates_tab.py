"""*E-post* and *SMS*: the sender and the templates (new booking, rebooking,
cancellation, and the reminder, whose settings are
:mod:`booking_app.admin.reminders_tab`'s). A template is checked with the
notifications' own rules before it is saved (:func:`check_template`); an empty one
means Opus's default text. The SMS tab shows each template's estimated length with
realistic long values."""

from __future__ import annotations

import re
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking_app.admin import reminders_tab
from booking_app.admin.deps import AdminFormDep, ChangeGrantDep, Grant, GrantDep
from booking_app.admin.pages import saved, tab_page
from booking_app.deps import NowDep, SessionDep, SettingsDep, WriteSessionDep
from booking_app.messages import language, t
from connectors.notifications.fields import FIELDS, sample_values
from connectors.notifications.templates import (
    TemplateFault,
    check_template,
    estimate_sms_length,
    render,
)
from connectors.sms import valid_sender
from connectors.store import audit
from connectors.store.models import MessageTemplate, TenantSettings

SMS_SENDER_MAX = 11  # tenant_settings.sms_sender's length (a check constraint)

router = APIRouter(prefix="/admin/{tenant_id}")

KINDS = ("new", "rebook", "cancel", "reminder")
CHANNELS = {"e-post": "email", "sms": "sms"}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# An alphanumeric sender id (at most 11 characters) or a phone number in E.164.


def _channel(tab: str) -> str:
    if tab not in CHANNELS:
        raise HTTPException(status_code=404)
    return CHANNELS[tab]


def _templates(session: Session, tenant_id: int, channel: str) -> dict[str, MessageTemplate]:
    rows = session.scalars(
        select(MessageTemplate).where(
            MessageTemplate.tenant_id == tenant_id, MessageTemplate.channel == channel
        )
    )
    return {row.kind: row for row in rows}


def preview(text: str, channel: str, kind: str | None = None) -> str | None:
    """``text`` filled in with the channel's sample values (plain text: the page shows
    it as text); ``None`` when the template does not render."""
    try:
        return render(text, sample_values(channel, kind))
    except TemplateFault:
        return None


def _page(
    request: Request,
    grant: Grant,
    tab: str,
    values: dict,
    session: Session,
    now: datetime,
    errors=None,
    reminder: dict | None = None,
    reminder_errors: list[str] | None = None,
) -> Response:
    channel = CHANNELS[tab]
    lengths = (
        {kind: estimate_sms_length(values[f"body_{kind}"] or "", kind) for kind in KINDS}
        if channel == "sms"
        else {}
    )
    parts = ("subject", "body") if channel == "email" else ("body",)
    previews = {
        f"{part}_{kind}": preview(values[f"{part}_{kind}"], channel, kind)
        for part in parts
        for kind in KINDS
        if values[f"{part}_{kind}"]
    }
    return tab_page(
        request,
        "messages.html",
        grant,
        tab,
        errors=errors,
        status_code=400 if errors or reminder_errors else 200,
        channel=channel,
        kinds=KINDS,
        values=values,
        lengths=lengths,
        previews=previews,
        fields=FIELDS,
        **reminders_tab.context(session, grant.tenant.id, channel, now, reminder, reminder_errors),
    )


def tab_with_reminder_errors(
    request: Request, grant: Grant, session: Session, tab: str, shown: dict, errors: list[str]
) -> Response:
    """The tab again, its templates as saved and the reminder section as posted, with
    what is wrong in it."""
    values = _saved_values(session, grant.tenant.id, CHANNELS[tab])
    now = request.app.state.clock()
    return _page(request, grant, tab, values, session, now, None, shown, errors)


@router.post("/{tab}/forhandsvisning")
def live_preview(request: Request, tab: str, grant: GrantDep, form: AdminFormDep) -> JSONResponse:
    """For the tab's script, as the operator types: the text with sample values, what
    is wrong with it, and on the SMS tab its estimated length. Changes nothing; the
    form's CSRF token keeps other sites from using the operator's session for it."""
    channel = _channel(tab)
    text = form.get("text", "").replace("\r\n", "\n")
    kind = form.get("kind") if form.get("kind") in KINDS else None
    problems = check_template(text)
    answer: dict[str, object] = {
        "preview": None if problems else preview(text, channel, kind),
        "problems": problems,
    }
    if channel == "sms":
        length = estimate_sms_length(text, kind)
        answer["length"] = {
            "characters": length.characters,
            "encoding": length.encoding,
            "segments": length.segments,
            "text": t("admin_sms_length", language(request.query_params.get("lang"))).format(
                characters=length.characters,
                encoding=length.encoding,
                segments=length.segments,
            ),
        }
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


def _saved_values(session: Session, tenant_id: int, channel: str) -> dict[str, str]:
    settings = session.get(TenantSettings, tenant_id)
    rows = _templates(session, tenant_id, channel)
    values: dict[str, str] = {
        "sender": (settings.email_sender if channel == "email" else settings.sms_sender) or ""
        if settings
        else ""
    }
    for kind in KINDS:
        row = rows.get(kind)
        values[f"subject_{kind}"] = (row.subject or "") if row else ""
        values[f"body_{kind}"] = row.body if row else ""
    return values


@router.get("/{tab}")
def message_templates(
    request: Request, tab: str, grant: GrantDep, session: SessionDep, now: NowDep
) -> Response:
    channel = _channel(tab)
    return _page(
        request, grant, tab, _saved_values(session, grant.tenant.id, channel), session, now
    )


@router.post("/{tab}")
def save_message_templates(
    request: Request,
    tab: str,
    form: AdminFormDep,
    grant: ChangeGrantDep,
    session: WriteSessionDep,
    now: NowDep,
    app_settings: SettingsDep,
) -> Response:
    channel = _channel(tab)
    values = {name: form.get(name, "").replace("\r\n", "\n").strip() for name in _names()}
    errors: list[str] = []
    sender = values["sender"]
    # The SMS rule is the gateway client's own (a sender it would refuse is refused
    # here), within the store's 11 characters (a longer one failed there, as a 500).
    valid = (
        _EMAIL.fullmatch(sender)
        if channel == "email"
        else valid_sender(sender) and len(sender) <= SMS_SENDER_MAX
    )
    if sender and not valid:
        errors.append("admin_error_sender")
    elif sender and channel == "email" and not app_settings.email_domain_verified(sender):
        # Sent From it, the mail would be spoofing a domain we hold no SPF/DKIM for (and
        # the sending path would not use it anyway): the operator is told here.
        errors.append("admin_error_sender_domain")
    for kind in KINDS:
        for part in ("subject", "body") if channel == "email" else ("body",):
            # check_template's own texts are Swedish sentences for the operator.
            errors.extend(check_template(values[f"{part}_{kind}"]))
    if errors:
        return _page(request, grant, tab, values, session, now, errors)
    settings = session.get(TenantSettings, grant.tenant.id)
    if settings is not None:
        field = "email_sender" if channel == "email" else "sms_sender"
        audit.apply_changes(
            session, settings, {field: sender or None}, tenant_id=grant.tenant.id,
            operator=grant.operator, now=now,
        )  # fmt: skip
    rows = _templates(session, grant.tenant.id, channel)
    for kind in KINDS:
        _save_template(session, grant, channel, kind, rows.get(kind), values, now)
    return saved(grant, tab)


def _names() -> list[str]:
    return ["sender", *(f"{p}_{k}" for p in ("subject", "body") for k in KINDS)]


def _save_template(session, grant, channel, kind, row, values, now) -> None:
    body = values[f"body_{kind}"]
    subject = (values[f"subject_{kind}"] or None) if channel == "email" else None
    setting = f"{channel}.{kind}"
    old = (row.subject, row.body) if row else (None, None)
    if old == (subject, body or None):
        return
    # An empty body gives the template up: Opus's default text is sent again.
    if not body:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(
            MessageTemplate(
                tenant_id=grant.tenant.id, channel=channel, kind=kind, subject=subject, body=body
            )
        )
    else:
        row.subject, row.body = subject, body
    for part, before, after in (("subject", old[0], subject), ("body", old[1], body or None)):
        if before != after:
            audit.record(
                session, tenant_id=grant.tenant.id, operator=grant.operator,
                setting=f"{setting}.{part}", old=before, new=after, now=now,
            )  # fmt: skip
