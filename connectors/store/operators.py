"""Operator accounts, their grants per tenant, and their login sessions.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second
recommended parameter set). A failed login counts against the account; every
:data:`MAX_FAILURES` in a row lock it for :data:`LOCK_TIME`, which stops password
guessing without letting a stranger lock an account for long. Failures also count
against the client's address (:mod:`connectors.store.login_throttle`).

A check takes argon2 about 0.2 s, on purpose. :func:`authenticate` therefore never
checks inside a transaction: it reads the account, checks with no transaction open,
and records the outcome in a short write transaction (on SQLite one write lock serves
the whole store; held during the check, every writer of every tenant would wait).

The session cookie holds a random id; only its SHA-256 is stored, so a copy of the
store logs nobody in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, case, select, update
from sqlalchemy.orm import Session

from connectors.store import login_throttle
from connectors.store.db import session_scope, write_session_scope
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
KEEP_ALIVE_EVERY = timedelta(minutes=1)
"""How stale a session's last use may be before a use writes it again: a page that only
reads should not write on every view."""
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


LOGIN_KIND = "operator"  # the operator logins' counters in login_throttle


@dataclass(frozen=True)
class LoginResult:
    """``operator`` and a new session's cookie value when the login succeeded; else
    why not, for the record only: a page must answer every refusal the same way, so
    as not to tell which addresses have accounts or which are locked."""

    operator: Operator | None
    token: str | None = None
    locked: bool = False  # the account is locked (it may not exist: see _Account)
    throttled: bool = False  # the client's address has failed too often


@dataclass(frozen=True)
class _Account:
    """What a login needs of the account, read before the password check. An
    unknown or disabled address gets the dummy hash, so it takes as long to refuse."""

    operator_id: int | None
    password_hash: str
    locked: bool


def authenticate(
    engine: Engine, email: str, password: str, now: datetime, client: str = ""
) -> LoginResult:
    """Check a login (see the module): on success a new session is started."""
    with session_scope(engine) as session:
        if client and login_throttle.client_blocked(session, LOGIN_KIND, client, now):
            return LoginResult(None, throttled=True)
        account = _account(session, email, now)
    # No transaction open from here: argon2 takes its time.
    right = _verify(account.password_hash, password) and account.operator_id is not None
    new_hash = None
    if right and not account.locked and _hasher.check_needs_rehash(account.password_hash):
        new_hash = _hasher.hash(password)
    with write_session_scope(engine) as session:
        if not right or account.locked:
            return _record_failure(session, account, client, now)
        assert account.operator_id is not None
        operator = _record_success(session, account.operator_id, new_hash)
        return LoginResult(operator, token=start_session(session, operator, now))


def _account(session: Session, email: str, now: datetime) -> _Account:
    operator = session.scalars(
        select(Operator).where(Operator.email == normalise_email(email))
    ).one_or_none()
    if operator is None or operator.disabled:
        return _Account(None, _DUMMY_HASH, locked=False)
    locked = operator.locked_until is not None and operator.locked_until > now
    # A locked account's password is not checked, but as long is spent on the dummy.
    return _Account(operator.id, _DUMMY_HASH if locked else operator.password_hash, locked)


def _record_failure(session: Session, account: _Account, client: str, now: datetime) -> LoginResult:
    """Count the failure against the client and the account, each in one statement
    (parallel guesses are all counted: no read-modify-write in Python)."""
    if client:
        login_throttle.count_client_failure(session, LOGIN_KIND, client, now)
    if account.operator_id is None:
        return LoginResult(None)
    failures = Operator.failed_logins + 1
    locked_until = session.execute(
        update(Operator)
        .where(Operator.id == account.operator_id)
        .values(
            failed_logins=failures,
            # Every MAX_FAILURES-th failure in a row (re)locks: the count keeps going,
            # so none of a burst of parallel failures is lost to a reset.
            locked_until=case(
                (failures % MAX_FAILURES == 0, now + LOCK_TIME), else_=Operator.locked_until
            ),
        )
        .returning(Operator.locked_until)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return LoginResult(None, locked=locked_until is not None and locked_until > now)


def _record_success(session: Session, operator_id: int, new_hash: str | None) -> Operator:
    operator = session.get_one(Operator, operator_id)
    operator.failed_logins = 0
    operator.locked_until = None
    if new_hash is not None:
        operator.password_hash = new_hash
    session.flush()
    return operator


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


def live_session(
    session: Session, token: str | None, now: datetime
) -> tuple[OperatorSession, Operator] | None:
    """The live session of ``token`` and its operator, if any; changes nothing."""
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
    return row, operator


def operator_for_token(session: Session, token: str | None, now: datetime) -> Operator | None:
    """The operator of a live session, which this use keeps alive (in ``session``, which
    must be one that writes); ``None`` otherwise."""
    live = live_session(session, token, now)
    if live is None:
        return None
    row, operator = live
    if row.last_seen_at + KEEP_ALIVE_EVERY <= now:
        row.last_seen_at = now
    return operator


def keep_alive(engine: Engine, row: OperatorSession, now: datetime) -> None:
    """Record a use of the session ``row`` (read elsewhere) in a short write of its own,
    when its last use is over a minute old. For pages that only read: their transaction
    must not write, since SQLite refuses to turn a reading transaction into a writing
    one while another writer is busy (the page failed with "database is locked")."""
    if row.last_seen_at + KEEP_ALIVE_EVERY > now:
        return
    with write_session_scope(engine) as session:
        session.execute(
            update(OperatorSession)
            .where(OperatorSession.id == row.id, OperatorSession.last_seen_at < now)
            .values(last_seen_at=now)
        )


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
