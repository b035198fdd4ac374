"""Plain helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from connectors.store.db import session_scope

ODBC_ENV = "OPUS_TEST_ODBC"
"""The environment variable the ``odbc_opus`` fixture puts its connection string in."""


def sync_tenant(engine: Engine, subdomain: str, now: datetime | None = None) -> list:
    """One schedule sync of a tenant through the real steps, without Prefect."""
    from connectors.store.schedules import plan_tenant
    from flows.schedule_sync import extract_database, judge_database, publish_tenant

    with session_scope(engine) as session:
        plan = plan_tenant(session, subdomain)
    verdicts = [
        judge_database(
            extract_database(
                db, plan.months_to_sync, timezone="Europe/Stockholm", timeout_s=5, now=now
            ),
            engine,
        )
        for db in plan.databases
    ]
    return publish_tenant(engine, plan, verdicts)


def odbc_connection_string(url: str, driver: str) -> str:
    parsed = make_url(url)
    return (
        f"DRIVER={{{driver}}};SERVER={parsed.host or '127.0.0.1'};PORT={parsed.port or 5432};"
        f"DATABASE={parsed.database};UID={parsed.username or 'postgres'};"
        f"PWD={parsed.password or ''};"
    )
