"""`opus-online admin create-user`: run as clinic IT would, as a process against a
store; the account it creates can log in at /admin, and what it refuses stores nothing."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from connectors.store.db import session_scope
from connectors.store.models import Operator, OperatorGrant, Tenant
from connectors.store.operators import authenticate

PASSWORD = "ett-långt-lösenord"


def create_user(store: Engine, *args: str, password: str = PASSWORD) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPUS_STORE_URL": store.url.render_as_string(hide_password=False)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "opus_online.cli",
            "admin",
            "create-user",
            "--password-stdin",
            *args,
        ],
        input=password + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )


def _tenant(store: Engine, subdomain: str) -> int:
    with session_scope(store) as session:
        tenant = Tenant(name=subdomain.title(), subdomain=subdomain)
        session.add(tenant)
        session.flush()
        return tenant.id


def _operators(store: Engine) -> int:
    with session_scope(store) as session:
        return session.scalar(select(func.count()).select_from(Operator))


def test_the_account_can_log_in_with_its_role_at_each_tenant(store: Engine) -> None:
    first, second = _tenant(store, "norr"), _tenant(store, "syd")

    result = create_user(
        store,
        "--email",
        " IT@Klinik.se ",
        "--tenant",
        "norr",
        "--tenant",
        "syd",
        "--role",
        "analyst",
    )

    assert result.returncode == 0, result.stderr
    assert "created it@klinik.se (analyst: norr, syd)" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr
    login = authenticate(store, "it@klinik.se", PASSWORD, datetime.now(UTC))
    assert login.operator is not None
    with session_scope(store) as session:
        grants = session.execute(
            select(OperatorGrant.tenant_id, OperatorGrant.role).where(
                OperatorGrant.operator_id == login.operator.id
            )
        ).all()
    assert sorted(grants) == [(first, "analyst"), (second, "analyst")]


def create_user_here(
    store: Engine, monkeypatch: pytest.MonkeyPatch, *args: str, password: str = PASSWORD
) -> int:
    """The same command through its entry point in this process: each process of the
    real command costs seconds of start-up, and one test above already pays it."""
    from opus_online.cli import main
    from opus_online.config import get_settings

    monkeypatch.setenv("OPUS_STORE_URL", store.url.render_as_string(hide_password=False))
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    get_settings.cache_clear()
    try:
        return main(["admin", "create-user", "--password-stdin", *args])
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (("--tenant", "okand"), PASSWORD, "no tenant with the subdomain 'okand'"),
        (("--tenant", "norr", "--role", "chef"), PASSWORD, "unknown role 'chef'"),
        (("--tenant", "norr"), "kort", "the password is too short"),
        (("--email", "inte-en-adress", "--tenant", "norr"), PASSWORD, "is not an e-mail address"),
    ],
    ids=["unknown tenant", "unknown role", "short password", "not an address"],
)
def test_refusals_say_why_and_store_nothing(
    store: Engine, monkeypatch: pytest.MonkeyPatch, capsys, args, password, message
) -> None:
    _tenant(store, "norr")
    if "--email" not in args:
        args = ("--email", "it@klinik.se", *args)

    assert create_user_here(store, monkeypatch, *args, password=password) == 1

    assert message in capsys.readouterr().err
    assert _operators(store) == 0


def test_an_existing_account_is_not_replaced(
    store: Engine, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    _tenant(store, "norr")
    assert create_user_here(store, monkeypatch, "--email", "it@klinik.se", "--tenant", "norr") == 0

    again = create_user_here(
        store,
        monkeypatch,
        "--email",
        "IT@klinik.se",
        "--tenant",
        "norr",
        password="ett-annat-lösenord",
    )

    assert again == 1
    assert "an account for it@klinik.se already exists" in capsys.readouterr().err
    assert authenticate(store, "it@klinik.se", PASSWORD, datetime.now(UTC)).operator
