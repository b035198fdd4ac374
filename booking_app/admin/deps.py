"""Who is asking, and for which tenant: the operator pages' dependencies.

Every tenant page's URL carries the tenant id; :func:`get_grant` turns it into the
tenant only when the logged-in operator holds a grant there, and answers 404
otherwise, so another tenant's id reveals nothing, not even that it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from booking_app import cookies
from booking_app.deps import NowDep, SessionDep, SettingsDep, WriteSessionDep
from booking_app.forms import read_form
from connectors.store.db import engine_for
from connectors.store.models import Operator, Tenant
from connectors.store.operators import keep_alive, live_session, operator_for_token, role_at

COOKIE = cookies.OPERATOR_SESSION  # __Host-… over HTTPS, on the admin host only
MAX_FORM_BYTES = 256 * 1024
"""Room for the longest texts (5000-character templates, every character encoded)."""
MAX_FIELDS = 600  # the Kliniker tab has a few fields per practitioner


class NotLoggedIn(Exception):
    """No live operator session: the handler sends the browser to the login page."""


def _logged_in(request: Request, operator: Operator | None) -> Operator:
    if operator is None:
        raise NotLoggedIn()
    request.state.operator = operator
    return operator


def get_operator(
    request: Request, session: SessionDep, now: NowDep, settings: SettingsDep
) -> Operator:
    live = live_session(session, cookies.read(request, COOKIE), now)
    if live is None:
        return _logged_in(request, None)
    row, operator = live
    keep_alive(engine_for(settings.resolved_store_url), row, now)
    return _logged_in(request, operator)


def get_writing_operator(request: Request, session: WriteSessionDep, now: NowDep) -> Operator:
    return _logged_in(request, operator_for_token(session, cookies.read(request, COOKIE), now))


OperatorDep = Annotated[Operator, Depends(get_operator)]
WritingOperatorDep = Annotated[Operator, Depends(get_writing_operator)]


@dataclass(frozen=True)
class Grant:
    """The tenant a page is about and the operator's role there."""

    operator: Operator
    tenant: Tenant
    role: str

    @property
    def can_change(self) -> bool:
        return self.role in ("administrator", "operator")

    @property
    def is_administrator(self) -> bool:
        return self.role == "administrator"


def _grant(session: Session, operator: Operator, tenant_id: int) -> Grant:
    role = role_at(session, operator, tenant_id)
    tenant = session.get(Tenant, tenant_id) if role else None
    if role is None or tenant is None:
        raise HTTPException(status_code=404)
    return Grant(operator, tenant, role)


def get_grant(tenant_id: int, session: SessionDep, operator: OperatorDep) -> Grant:
    return _grant(session, operator, tenant_id)


def get_change_grant(
    tenant_id: int, session: WriteSessionDep, operator: WritingOperatorDep
) -> Grant:
    """For POSTs: the grant, which must allow changes (an analyst's is refused, 403).

    Its write session waits for the whole body before taking the lock; routes declare
    their form (or upload) before the grant all the same, so that the form's own
    limit is the one that stops an oversized body."""
    grant = _grant(session, operator, tenant_id)
    if not grant.can_change:
        raise HTTPException(status_code=403)
    return grant


GrantDep = Annotated[Grant, Depends(get_grant)]
ChangeGrantDep = Annotated[Grant, Depends(get_change_grant)]


async def admin_form(request: Request) -> dict[str, str]:
    """The posted fields (first value of each name), size-limited, CSRF-checked: the
    patient forms' reading, with the operator tabs' larger limits."""
    return await read_form(request, MAX_FORM_BYTES, MAX_FIELDS)


AdminFormDep = Annotated[dict[str, str], Depends(admin_form)]
