"""*Att hantera*: what needs an operator's hand, per tenant, the first tab after login.

- write-back conflicts (reception had taken the time), and whether the patient has
  been told (the conflict message sent, waiting, failed, or nobody to tell);
- patients' messages that failed for good, each with *Försök igen* or *Avfärda*
  (both audited; a dismissed message stays failed and leaves the list);
- Opus rows the sync quarantined, with their reasons;
- Boka vård: the account's last error, or an account not (yet) active while
  publishing is on.
Each section links to the Prefect artifact of the flow that found it. Nothing here
shows a personal number, an e-mail address or a phone number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking_app.admin.deps import AdminFormDep, ChangeGrantDep, GrantDep
from booking_app.admin.pages import tab_page
from booking_app.deps import NowDep, SessionDep, WriteSessionDep
from booking_app.messages import MESSAGES, t
from connectors.store import audit, outbox
from connectors.store.models import (
    Booking,
    MarketplaceAccount,
    OutboxMessage,
    QuarantinedRow,
    TenantSettings,
)
from connectors.store.write_back import open_conflicts
from opus_online.config import get_settings
from validations.reasons import describe

router = APIRouter(prefix="/admin/{tenant_id}")

TOLD = {"sent": "told", "delivered": "told", "failed": "not_told", "pending": "telling"}
TOLD["sending"] = "telling"
ARTIFACTS = {
    "conflicts": "write-back",
    "messages": "notifications-failed",
    "quarantine": "sync-{subdomain}",
    "marketplace": "sync-boka-vard",
}


@dataclass
class Todo:
    conflicts: list[tuple[Booking, str]] = field(default_factory=list)
    messages: list[OutboxMessage] = field(default_factory=list)
    quarantine: list[QuarantinedRow] = field(default_factory=list)
    marketplace: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in ARTIFACTS}


def todo(session: Session, tenant_id: int) -> Todo:
    found = Todo()
    conflicts = open_conflicts(session, tenant_id)
    told = dict(
        session.execute(
            select(OutboxMessage.booking_id, func.max(OutboxMessage.status))
            .where(
                OutboxMessage.booking_id.in_([b.id for b in conflicts]),
                OutboxMessage.kind == "conflict",
            )
            .group_by(OutboxMessage.booking_id)
        ).all()
    )
    found.conflicts = [(b, TOLD.get(told.get(b.id, ""), "nobody_to_tell")) for b in conflicts]
    found.messages = list(
        session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.tenant_id == tenant_id,
                OutboxMessage.status == "failed",
                OutboxMessage.dismissed_at.is_(None),
            )
            .order_by(OutboxMessage.created_at.desc())
        )
    )
    found.quarantine = list(
        session.scalars(
            select(QuarantinedRow)
            .where(QuarantinedRow.tenant_id == tenant_id)
            .order_by(QuarantinedRow.stream, QuarantinedRow.source_id)
        )
    )
    found.marketplace = _marketplace_problems(session, tenant_id)
    return found


def _marketplace_problems(session: Session, tenant_id: int) -> list[str]:
    account = session.get(MarketplaceAccount, tenant_id)
    settings = session.get(TenantSettings, tenant_id)
    if account is not None and account.last_error:
        return [account.last_error]
    if (
        settings is not None
        and settings.publish_boka_vard
        and (account is None or account.state != "active")
    ):
        return ["admin_todo_marketplace_not_active"]
    return []


def todo_count(session: Session, tenant_id: int) -> int:
    """How many things *Att hantera* lists for the tenant, counted without loading
    them (the start page shows it for each tenant)."""
    conflicts = session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(Booking.tenant_id == tenant_id, Booking.status == "conflict")
    )
    messages = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.tenant_id == tenant_id,
            OutboxMessage.status == "failed",
            OutboxMessage.dismissed_at.is_(None),
        )
    )
    quarantine = session.scalar(
        select(func.count())
        .select_from(QuarantinedRow)
        .where(QuarantinedRow.tenant_id == tenant_id)
    )
    marketplace = len(_marketplace_problems(session, tenant_id))
    return (conflicts or 0) + (messages or 0) + (quarantine or 0) + marketplace


def message_kind(kind: str, lang: str) -> str:
    """What a message was, in the clinic's words ("Avbokning"); a kind with no text
    yet (a feature's new kind) shows as stored rather than breaking the page."""
    key = f"admin_todo_kind_{kind}"
    return t(key, lang) if key in MESSAGES else kind


def prefect_artifact(key: str) -> str:
    """The Prefect UI's page of an artifact key (the demo's local server; a service
    puts its Prefect UI at the same port behind its operator host)."""
    return f"http://127.0.0.1:{get_settings().prefect_port}/artifacts/key/{key}"


@router.get("/att-hantera")
def todo_page(request: Request, grant: GrantDep, session: SessionDep) -> Response:
    found = todo(session, grant.tenant.id)
    links = {
        name: prefect_artifact(key.format(subdomain=grant.tenant.subdomain))
        for name, key in ARTIFACTS.items()
    }
    return tab_page(
        request,
        "todo.html",
        grant,
        "att-hantera",
        todo=found,
        counts=found.counts(),
        links=links,
        describe=describe,
        message_kind=message_kind,
    )


@router.post("/att-hantera/meddelanden/{message_id}/forsok-igen")
def retry_message(
    message_id: int,
    form: AdminFormDep,
    grant: ChangeGrantDep,
    session: WriteSessionDep,
    now: NowDep,
) -> Response:
    """Send a failed message again: back to ``pending``, its attempts from zero, due now."""
    if not outbox.retry_message(session, grant.tenant.id, message_id, now):
        raise HTTPException(status_code=404)
    return _audited(session, grant, message_id, "pending", now)


@router.post("/att-hantera/meddelanden/{message_id}/avfarda")
def dismiss_message(
    message_id: int,
    form: AdminFormDep,
    grant: ChangeGrantDep,
    session: WriteSessionDep,
    now: NowDep,
) -> Response:
    """Take a failed message off the list (the clinic told the patient another way): it
    stays ``failed``, with the time it was dismissed."""
    if not outbox.dismiss_message(session, grant.tenant.id, message_id, now):
        raise HTTPException(status_code=404)
    return _audited(session, grant, message_id, "dismissed", now)


def _audited(
    session: Session, grant: ChangeGrantDep, message_id: int, new: str, now: datetime
) -> Response:
    audit.record(
        session,
        tenant_id=grant.tenant.id,
        operator=grant.operator,
        setting=f"meddelande {message_id}",
        old="failed",
        new=new,
        now=now,
    )
    return RedirectResponse(f"/admin/{grant.tenant.id}/att-hantera?sparat=1", status_code=303)
