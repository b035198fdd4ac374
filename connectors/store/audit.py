"""The audit log: every setting an operator changes, with old and new value.

Settings are changed through :func:`apply_changes`, which writes the entry in the same
transaction as the change: a change without its entry (or the reverse) cannot commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.store.models import AuditEntry, Operator

MAX_VALUE_CHARS = 2000
"""Longer values (a long welcome text) are cut in the log, not in the setting."""


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


def record(
    session: Session,
    *,
    tenant_id: int,
    operator: Operator,
    setting: str,
    old: Any,
    new: Any,
    now: datetime,
) -> None:
    session.add(
        AuditEntry(
            tenant_id=tenant_id,
            operator_id=operator.id,
            operator_email=operator.email,
            at=now,
            setting=setting,
            old_value=_as_text(old),
            new_value=_as_text(new),
        )
    )


def apply_changes(
    session: Session,
    target: object,
    values: Mapping[str, Any],
    *,
    tenant_id: int,
    operator: Operator,
    now: datetime,
    prefix: str = "",
) -> list[str]:
    """Set ``values`` on ``target`` and log each one that differs; returns the names
    changed. ``prefix`` names the row in the log (``clinic 3.group_name``)."""
    changed = []
    for name, new in values.items():
        old = getattr(target, name)
        if old == new:
            continue
        setattr(target, name, new)
        record(
            session,
            tenant_id=tenant_id,
            operator=operator,
            setting=f"{prefix}{name}",
            old=old,
            new=new,
            now=now,
        )
        changed.append(name)
    session.flush()
    return changed


def entries(session: Session, tenant_id: int, limit: int = 200) -> list[AuditEntry]:
    """The tenant's newest entries first."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.tenant_id == tenant_id)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )
