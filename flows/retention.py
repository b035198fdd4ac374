"""The retention flow: applies every tenant's retention (connectors.store.retention)
once a day, in short batches, and leaves an artifact with counts per table. The work is
:func:`flows.retention_run.run_retention`; this module gives it to Prefect.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from connectors.store.db import engine_for
from connectors.store.types import utcnow
from flows.retention_run import BATCH, run_retention
from opus_online.config import get_settings


@flow(name="retention")
def retention_flow(batch: int = BATCH) -> dict[str, int]:
    """Every tenant's retention, now. Returns the rows changed per table."""
    settings = get_settings()
    engine = engine_for(settings.resolved_store_url)
    outcome = run_retention(engine, utcnow(), ZoneInfo(settings.timezone), batch=batch)
    logger = get_run_logger()
    if not outcome.ran:
        logger.info("another retention run is working; this one did nothing")
        return {}
    totals: dict[str, int] = {}
    for (table, _action), n in outcome.counts.rows.items():
        totals[table] = totals.get(table, 0) + n
    logger.info("retention: %s", ", ".join(f"{t} {n}" for t, n in sorted(totals.items())))
    create_table_artifact(
        key="retention",
        table=outcome.table(),
        description="Gallring: rader per tabell (bara antal, aldrig innehåll)",
    )
    return totals
