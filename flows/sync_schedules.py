"""Prefect flows of the schedule sync: per tenant, and for every tenant.

Three coarse tasks per Opus database (extract, judge) and one per tenant (publish),
each over whole DataFrames. The steps themselves live in :mod:`flows.schedule_sync`.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from connectors.privacy import scrub
from connectors.store import schedules as store
from connectors.store.db import engine_for, session_scope
from connectors.store.schedules import DatabasePlan, TenantPlan
from connectors.store.types import utcnow
from flows.opus_appointments import sync_appointments
from flows.schedule_sync import (
    Counts,
    Extract,
    Verdict,
    extract_database,
    judge_database,
    publish_tenant,
)
from opus_online.config import get_settings
from validations.reasons import describe

# DataFrames are neither hashed for a cache key nor persisted: NO_CACHE everywhere.


@task(name="plan", cache_policy=NO_CACHE)
def plan(store_url: str, subdomain: str) -> TenantPlan:
    with session_scope(engine_for(store_url)) as session:
        return store.plan_tenant(session, subdomain)


@task(name="extract", cache_policy=NO_CACHE, retry_jitter_factor=0.5)
def extract(database: DatabasePlan, months: int) -> Extract:
    settings = get_settings()
    result = extract_database(
        database, months, timezone=settings.timezone, timeout_s=settings.opus_connect_timeout_s
    )
    get_run_logger().info(
        "%s: read %d ranges (%s)",
        database.name,
        len(result.ranges.ranges),
        "incremental" if result.ranges.incremental else "full",
    )
    return result


@task(name="judge", cache_policy=NO_CACHE)
def judge(extracted: Extract, store_url: str) -> Verdict:
    return judge_database(extracted, engine_for(store_url))


@task(name="publish", cache_policy=NO_CACHE)
def publish(store_url: str, tenant: TenantPlan, verdicts: list[Verdict]) -> list[Counts]:
    return publish_tenant(engine_for(store_url), tenant, verdicts)


@task(name="mirror appointments", cache_policy=NO_CACHE)
def mirror_appointments(store_url: str, database: DatabasePlan) -> int:
    """Reception's appointments, for the patients' *Mina bokningar*."""
    settings = get_settings()
    return sync_appointments(
        engine_for(store_url),
        database,
        timezone=settings.timezone,
        timeout_s=settings.opus_connect_timeout_s,
    )


@flow(name="sync-schedules", flow_run_name="sync-{subdomain}", log_prints=True)
def sync_schedules(subdomain: str) -> list[Counts]:
    """Extract one tenant's Opus databases, judge, publish; leave a table artifact."""
    settings = get_settings()
    store_url = settings.resolved_store_url
    tenant = plan(store_url, subdomain)
    if not tenant.publishing:
        get_run_logger().info("%s publishes nowhere; nothing to sync", subdomain)
        return []
    retrying_extract = extract.with_options(
        retries=settings.opus_retries,
        retry_delay_seconds=exponential_backoff(backoff_factor=settings.opus_retry_delay_s),
    )
    verdicts = []
    for database in tenant.databases:
        started = utcnow()
        try:
            verdicts.append(judge(retrying_extract(database, tenant.months_to_sync), store_url))
        except Exception as exc:
            _record_failure(store_url, database, started, exc)
            raise
    counts = publish(store_url, tenant, verdicts)
    for database in tenant.databases:
        # Free time matters more than the appointment list: a failure here is logged,
        # the published ranges stand, and the next run catches up (incremental).
        state = mirror_appointments(store_url, database, return_state=True)
        if not state.is_completed():
            get_run_logger().warning(
                "%s: appointments not mirrored this run: %s", database.name, state.message
            )
    for c in counts:
        if c.count_mismatch:
            get_run_logger().warning(
                "%s: the store's count of ranges differs from Opus's; a removal escaped "
                "Opus's deletion log. The next run compares every id.",
                c.database,
            )
    create_table_artifact(
        key=f"sync-{subdomain}",
        table=[artifact_row(c) for c in counts],
        description=f"Schedule sync of **{subdomain}**: what was read from Opus and what changed.",
    )
    return counts


@flow(name="sync-all-tenants", log_prints=True)
def sync_all_tenants() -> dict[str, list[Counts]]:
    """One sync of every tenant; a tenant's failure does not stop the others, but
    fails this run once all have had their turn."""
    store_url = get_settings().resolved_store_url
    with session_scope(engine_for(store_url)) as session:
        subdomains = store.tenant_subdomains(session)
    summary: dict[str, list[Counts]] = {}
    failed: list[str] = []
    for subdomain in subdomains:
        state = sync_schedules(subdomain, return_state=True)
        if state.is_completed():
            summary[subdomain] = state.result()
        else:
            failed.append(subdomain)
    if failed:
        raise RuntimeError(f"schedule sync failed for {', '.join(failed)}")
    return summary


def artifact_row(counts: Counts) -> dict[str, object]:
    return {
        "database": counts.database,
        "mode": counts.mode,
        "extracted": counts.extracted,
        "added": counts.added,
        "changed": counts.changed,
        "removed": counts.removed,
        "unchanged": counts.unchanged,
        "quarantined": counts.quarantined,
        "outside window": counts.outside_window,
        "count check": "differs: ids compared next run" if counts.count_mismatch else "ok",
        "reasons": "; ".join(
            f"{describe(code, 'en')}: {n}" for code, n in sorted(counts.reasons.items())
        ),
    }


def summary_line(counts: Counts) -> str:
    return ", ".join(f"{key} {value}" for key, value in artifact_row(counts).items() if value != "")


def _record_failure(store_url: str, database: DatabasePlan, started, exc: Exception) -> None:
    with session_scope(engine_for(store_url)) as session:
        store.record_run(
            session,
            database,
            started_at=started,
            status="failed",
            mode="-",
            message=scrub(str(exc))[:2000],
        )
