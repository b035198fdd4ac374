"""Bring the Opus books' appointments into the store (for *Mina bokningar*): one
small step per Opus database, meant to run in the schedule sync after the ranges.

Incremental by ``RowVersion``: only appointments changed since the last run are read.
Patients are read whole (their personal numbers can change in Opus). Not yet wired:
the lead calls :func:`sync_appointments` from the sync (see the e-ID issue's report).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from connectors.opus.connection import OpusSource, opened
from connectors.opus.reader import OpusReader
from connectors.store import opus_appointments
from connectors.store.db import session_scope
from connectors.store.schedules import DatabasePlan


def sync_appointments(engine: Engine, plan: DatabasePlan, *, timezone: str, timeout_s: int) -> int:
    """Mirror one Opus database's changed appointments; returns how many were written."""
    with session_scope(engine) as session:
        since = opus_appointments.last_row_version(session, plan.id)
    with opened(OpusSource(plan.name, plan.connection_ref), timeout_s=timeout_s) as connection:
        reader = OpusReader(connection, timezone)
        appointments = reader.appointments(changed_since=since)
        patients = reader.patients() if len(appointments) else None
    if patients is None:
        return 0
    with session_scope(engine) as session:
        return opus_appointments.mirror(
            session, plan.tenant_id, plan.id, appointments, patients, ZoneInfo(timezone)
        )
