"""Patients' BankID logins and sessions in the store.

A login is a :class:`~connectors.store.models.BankIdOrder` bound to the browser that
started it; its completion makes a :class:`~connectors.store.models.PatientSession`
with a *new* random id (never the login's: a session id planted before login is
worth nothing after it). Only SHA-256 hashes of the ids are stored; every lookup is
by tenant too, so one tenant's cookie opens nothing on another tenant's site.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connectors.store.models import BankIdOrder, PatientSession

IDLE = timedelta(minutes=20)
MAX_AGE = timedelta(hours=2)
TOUCH_EVERY = timedelta(minutes=1)
"""A session's last-seen time is written at most this often (a write per page view
would serialise every logged-in patient on SQLite's one write lock)."""
_PERSONAL_NUMBER = re.compile(r"\d{12}")


class LoginFailed(Exception):
    """The order cannot make a session (ended already, or odd completion data)."""


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_order(
    session: Session,
    tenant_id: int,
    *,
    order_ref: str,
    auto_start_token: str,
    qr_start_token: str,
    qr_start_secret: str,
    method: str,
    return_to: str | None,
    now: datetime,
) -> str:
    """Record a started BankID order; returns the browser's token for it."""
    token = new_token()
    session.add(
        BankIdOrder(
            tenant_id=tenant_id,
            browser_hash=token_hash(token),
            order_ref=order_ref,
            auto_start_token=auto_start_token,
            qr_start_token=qr_start_token,
            qr_start_secret=qr_start_secret,
            method=method,
            return_to=return_to,
            status="pending",
            started_at=now,
        )
    )
    session.flush()
    return token


def order_for_browser(session: Session, tenant_id: int, token: str | None) -> BankIdOrder | None:
    if not token:
        return None
    return session.scalars(
        select(BankIdOrder).where(
            BankIdOrder.tenant_id == tenant_id, BankIdOrder.browser_hash == token_hash(token[:64])
        )
    ).one_or_none()


def end_order(
    session: Session, order: BankIdOrder, status: str, hint_code: str | None, now: datetime
) -> None:
    """A failed or cancelled order: its secret goes, it stays for the record."""
    if order.status != "pending":
        return
    order.status = status
    order.hint_code = hint_code
    order.qr_start_secret = None
    order.ended_at = now
    session.flush()


def open_session(
    session: Session,
    order: BankIdOrder,
    personal_number: str,
    given_name: str | None,
    surname: str | None,
    now: datetime,
) -> str:
    """The completed order's session; returns its new id (for the cookie). Only a
    pending order completes, once: the conditional update makes a second request
    with the same order (a replay, a double poll) fail instead of logging in again."""
    if not _PERSONAL_NUMBER.fullmatch(personal_number):
        raise LoginFailed("completion data without a 12-digit personal number")
    done = session.execute(
        update(BankIdOrder)
        .where(BankIdOrder.id == order.id, BankIdOrder.status == "pending")
        .values(status="complete", qr_start_secret=None, ended_at=now, hint_code=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(order)
    if not done:
        raise LoginFailed("the order has ended already")
    token = new_token()
    session.add(
        PatientSession(
            tenant_id=order.tenant_id,
            token_hash=token_hash(token),
            order_id=order.id,
            personal_number=personal_number,
            given_name=(given_name or None) and given_name[:100],
            surname=(surname or None) and surname[:100],
            created_at=now,
            last_seen_at=now,
            expires_at=now + MAX_AGE,
        )
    )
    session.flush()
    return token


def active_session(
    session: Session, tenant_id: int, token: str | None, now: datetime
) -> PatientSession | None:
    """The tenant's live session of ``token``: not ended, not idle too long, not
    past its maximum age."""
    if not token:
        return None
    found = session.scalars(
        select(PatientSession).where(
            PatientSession.tenant_id == tenant_id,
            PatientSession.token_hash == token_hash(token[:64]),
        )
    ).one_or_none()
    if (
        found is None
        or found.ended_at is not None
        or now >= found.expires_at
        or now >= found.last_seen_at + IDLE
    ):
        return None
    return found


def needs_touch(patient_session: PatientSession, now: datetime) -> bool:
    return now - patient_session.last_seen_at >= TOUCH_EVERY


def touch(session: Session, session_id: int, now: datetime) -> None:
    """Keep an active session alive (idle time counts from here)."""
    session.execute(
        update(PatientSession)
        .where(PatientSession.id == session_id, PatientSession.ended_at.is_(None))
        .values(last_seen_at=now)
    )


def end_session(session: Session, tenant_id: int, token: str | None, now: datetime) -> None:
    """Log out: the session ends for good (kept, so the id can never come back)."""
    if not token:
        return
    session.execute(
        update(PatientSession)
        .where(
            PatientSession.tenant_id == tenant_id,
            PatientSession.token_hash == token_hash(token[:64]),
            PatientSession.ended_at.is_(None),
        )
        .values(ended_at=now)
    )
