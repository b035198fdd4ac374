"""`opus-online admin create-user`: the first operator account of a tenant (and any
later one), from the command line, for clinic IT before anyone can log in at /admin.

The password is never an argument (it would stay in the shell's history and show in
``ps``): it is asked for twice at the terminal, or read from the first line of
standard input with ``--password-stdin`` for scripts.
"""

from __future__ import annotations

import getpass
import sys
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.store.db import engine_for, migrate, session_scope
from connectors.store.models import OPERATOR_ROLES, Operator, Tenant
from connectors.store.operators import WeakPassword, create_operator, normalise_email


class CreateUserError(Exception):
    """What stops the account from being created; the message is for the operator."""


@dataclass(frozen=True)
class NewUser:
    email: str
    tenants: tuple[str, ...]
    role: str
    name: str = ""


def create_user(session: Session, user: NewUser, password: str) -> Operator:
    """The account with ``user.role`` at each named tenant, or :class:`CreateUserError`
    (then nothing is stored: the caller's transaction rolls back)."""
    email = normalise_email(user.email)
    if "@" not in email.strip("@"):
        raise CreateUserError(f"{user.email!r} is not an e-mail address")
    if user.role not in OPERATOR_ROLES:
        raise CreateUserError(f"unknown role {user.role!r}; one of {', '.join(OPERATOR_ROLES)}")
    if session.scalars(select(Operator.id).where(Operator.email == email)).first() is not None:
        raise CreateUserError(f"an account for {email} already exists")
    grants = {}
    for subdomain in user.tenants:
        tenant_id = session.scalars(select(Tenant.id).where(Tenant.subdomain == subdomain)).first()
        if tenant_id is None:
            raise CreateUserError(f"no tenant with the subdomain {subdomain!r}")
        grants[tenant_id] = user.role
    try:
        return create_operator(session, email, password, name=user.name, grants=grants)
    except WeakPassword as error:
        raise CreateUserError(f"the password is too short: {error}") from None


def read_password(from_stdin: bool, stdin: TextIO | None = None) -> str:
    if from_stdin:
        return (stdin or sys.stdin).readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise CreateUserError("the passwords differ")
    return first


def run(user: NewUser, password_from_stdin: bool, store_url: str) -> int:
    try:
        password = read_password(password_from_stdin)
        migrate(store_url)
        with session_scope(engine_for(store_url)) as session:
            operator = create_user(session, user, password)
            email = operator.email
    except CreateUserError as error:
        print(f"opus-online admin create-user: {error}", file=sys.stderr)
        return 1
    where = ", ".join(user.tenants) or "no tenant yet"
    print(f"created {email} ({user.role}: {where}); log in at /admin/login")
    return 0
