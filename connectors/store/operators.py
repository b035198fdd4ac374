"""Operator accounts, their grants per tenant, and their login sessions.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second
recommended parameter set). A failed login counts against the account; after
:data:`MAX_FAILURES` in a row it is locked for :data:`LOCK_TIME`, which stops password
guessing without letting a stranger lock an account for long. The session cookie holds
a random id; only its SHA-256 is stored, so a copy of the store logs nobody in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.store.models import (
    OPERATOR_ROLES,
    Operator,
    OperatorGrant,
    OperatorSession,
    Tenant,
)

MAX_FAILURES = 5
LOCK_TIME = timedelta(minutes=15)
SESSION_IDLE = timedelta(hours=2)
SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
# Verified when the e-mail is unknown, so that a wrong address takes as long as a
# wrong password and does not reveal which addresses have accounts.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class WeakPassword(ValueError):
    """Shorter than :data:`MIN_PASSWORD_LENGTH`."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_operator(
    session: Session,
    email: str,
    password: str,
    *,
    name: str = "",
    grants: dict[int, str] | None = None,
) -> Operator:
    """A new account with ``grants`` (tenant id → role)."""
    operator = Operator(
        email=normalise_email(email),
        name=name or normalise_email(email),
        password_hash=hash_password(password),
    )
    session.add(operator)
    session.flush()
    for tenant_id, role in (grants or {}).items():
        grant(session, operator, tenant_id, role)
    return operator


def grant(session: Session, operator: Operator, tenant_id: int, role: str) -> None:
    if role not in OPERATOR_ROLES:
        raise ValueError(f"unknown role {role!r}")
    existing = session.get(OperatorGrant, (operator.id, tenant_id))
    if existing is None:
        session.add(OperatorGrant(operator_id=operator.id, tenant_id=tenant_id, role=role))
    else:
        existing.role = role
    session.flush()


@dataclass(frozen=True)
class LoginResult:
    operator: Operator | None
    locked: bool = False


def authenticate(session: Session, email: str, password: str, now: datetime) -> LoginResult:
    """The operator whose password this is, or why not. Counts failures (see module)."""
    operator = session.scalars(
        select(Operator).where(Operator.email == normalise_email(email))
    ).one_or_none()
    if operator is None or operator.disabled:
        _verify(_DUMMY_HASH, password)
        return LoginResult(None)
    if operator.locked_until is not None and operator.locked_until > now:
        return LoginResult(None, locked=True)
    if not _verify(operator.password_hash, password):
        operator.failed_logins += 1
        if operator.failed_logins >= MAX_FAILURES:
            operator.locked_until = now + LOCK_TIME
            operator.failed_logins = 0
        return LoginResult(
            None, locked=operator.locked_until is not None and operator.locked_until > now
        )
    operator.failed_logins = 0
    operator.locked_until = None
    if _hasher.check_needs_rehash(operator.password_hash):
        operator.password_hash = _hasher.hash(password)
    return LoginResult(operator)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, operator: Operator, now: datetime) -> str:
    """A new session; returns the cookie value (never stored)."""
    token = secrets.token_urlsafe(32)
    session.add(
        OperatorSession(
            operator_id=operator.id,
            token_hash=_token_hash(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    session.flush()
    return token


def operator_for_token(session: Session, token: str | None, now: datetime) -> Operator | None:
    """The operator of a live session, which this use keeps alive; ``None`` otherwise."""
    if not token or len(token) > 100:
        return None
    row = session.scalars(
        select(OperatorSession).where(OperatorSession.token_hash == _token_hash(token))
    ).one_or_none()
    if (
        row is None
        or row.ended_at is not None
        or row.expires_at <= now
        or row.last_seen_at + SESSION_IDLE <= now
    ):
        return None
    operator = session.get(Operator, row.operator_id)
    if operator is None or operator.disabled:
        return None
    row.last_seen_at = now
    return operator


def end_session(session: Session, token: str | None, now: datetime) -> None:
    if not token:
        return
    row = session.scalars(
        select(OperatorSession).where(OperatorSession.token_hash == _token_hash(token))
    ).one_or_none()
    if row is not None and row.ended_at is None:
        row.ended_at = now


def granted_tenants(session: Session, operator: Operator) -> list[tuple[Tenant, str]]:
    """The tenants ``operator`` may see, with their role at each, by name."""
    rows = session.execute(
        select(Tenant, OperatorGrant.role)
        .join(OperatorGrant, OperatorGrant.tenant_id == Tenant.id)
        .where(OperatorGrant.operator_id == operator.id)
        .order_by(Tenant.name)
    ).all()
    return [(tenant, role) for tenant, role in rows]


def role_at(session: Session, operator: Operator, tenant_id: int) -> str | None:
    """``operator``'s role at the tenant, ``None`` without a grant."""
    row = session.get(OperatorGrant, (operator.id, tenant_id))
    return row.role if row is not None else None
