"""Prefect flows of the schedule sync: per tenant, and for every tenant.

Three coarse tasks per Opus database (extract, judge) and one per tenant (publish),
each over whole DataFrames. The steps themselves live in :mod:`flows.schedule_sync`.
"""

from __future__ import annotations

import time

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.deployments import run_deployment
from prefect.tasks import exponential_backoff

from connectors.privacy import scrub
from connectors.store import schedules as store
from connectors.store import sync_lease
from connectors.store.db import engine_for, session_scope
from connectors.store.schedules import DatabasePlan, TenantPlan
from connectors.store.types import utcnow
from flows.fleet import LeaseLost, lease_lasts, shards_of, sync_shard
from flows.opus_appointments import sync_appointments
from flows.schedule_sync import (
    Counts,
    Extract,
    Verdict,
    extract_database,
    judge_database,
    limits_of,
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
        database,
        months,
        timezone=settings.timezone,
        timeout_s=limits_of(database, settings).timeout_s,
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
        timeout_s=limits_of(database, settings).timeout_s,
    )


@flow(name="sync-schedules", flow_run_name="sync-{subdomain}", log_prints=True)
def sync_schedules(subdomain: str) -> list[Counts]:
    """Extract one tenant's Opus databases, judge, publish; leave a table artifact.

    Holds the tenant's sync lease throughout: when a cycle (or another manual run) is
    syncing the tenant, this run waits for it to finish rather than sync alongside."""
    settings = get_settings()
    engine = engine_for(settings.resolved_store_url)
    holder = sync_lease.new_holder()
    _wait_for_lease(engine, subdomain, holder, settings)
    try:
        return _sync_holding_lease(subdomain, holder, settings)
    finally:
        sync_lease.give_back(engine, subdomain, holder)


def _wait_for_lease(engine, subdomain: str, holder: str, settings) -> None:
    lasts = lease_lasts(settings)
    # A run that holds it ends within its lease, or its lease expires: wait that long.
    give_up = time.monotonic() + lasts.total_seconds() + 5
    told = False
    while not sync_lease.take(engine, subdomain, holder, lasts):
        if time.monotonic() > give_up:
            raise TimeoutError(f"{subdomain}: another run kept syncing it; try again later")
        if not told:
            get_run_logger().info("%s: another run is syncing it; waiting", subdomain)
            told = True
        time.sleep(0.5)


def _sync_holding_lease(subdomain: str, holder: str, settings) -> list[Counts]:
    store_url = settings.resolved_store_url
    tenant = plan(store_url, subdomain)
    if not tenant.publishing:
        get_run_logger().info("%s publishes nowhere; nothing to sync", subdomain)
        return []
    verdicts = []
    for database in tenant.databases:
        started = utcnow()
        retrying_extract = extract.with_options(
            retries=limits_of(database, settings).retries,  # its own, or OPUS_OPUS_RETRIES
            retry_delay_seconds=exponential_backoff(backoff_factor=settings.opus_retry_delay_s),
        )
        try:
            verdicts.append(judge(retrying_extract(database, tenant.months_to_sync), store_url))
        except Exception as exc:
            _record_failure(store_url, database, started, exc)
            raise
    if not sync_lease.renew(engine_for(store_url), subdomain, holder, lease_lasts(settings)):
        raise LeaseLost(f"{subdomain}: another run took over the sync; not publishing")
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


SHARD_DEPLOYMENT = "sync-shard/shard"


@flow(name="sync-all-tenants", log_prints=True)
def sync_all_tenants(shards: int | None = None) -> dict[str, str]:
    """One sync cycle of every tenant, split into shards (``OPUS_SYNC_SHARDS``).

    Run from a deployment, every shard is a run of the ``sync-shard`` deployment that
    any worker of the pool picks up, and this run waits for them (at most one sync
    interval); called directly (tests, scripts), the shards run here one after another.
    Fails, once all have had their turn, if any tenant failed."""
    settings = get_settings()
    with session_scope(engine_for(settings.resolved_store_url)) as session:
        subdomains = store.tenant_subdomains(session)
    groups = shards_of(subdomains, shards or settings.sync_shards)
    if FlowRunContext.get().flow_run.deployment_id is None:
        summary: dict[str, str] = {}
        failed = False
        for group in groups:
            state = sync_shard(group, return_state=True)
            failed |= not state.is_completed()
            summary |= state.result(raise_on_failure=False) if state.is_completed() else {}
        if failed:
            raise RuntimeError("schedule sync failed for some tenants; see the shards' artifacts")
        return summary
    return _fan_out(groups, timeout_s=settings.sync_interval_minutes * 60)


def _fan_out(groups: list[list[str]], timeout_s: float) -> dict[str, str]:
    """Start one ``sync-shard`` run per group but the first on the work pool, sync the
    first here (a subflow: this run's process has paid its imports already, a new
    one would pay them again), then wait for the others."""
    name = FlowRunContext.get().flow_run.name
    runs = [
        run_deployment(
            SHARD_DEPLOYMENT,
            parameters={"subdomains": group},
            flow_run_name=f"{name}-shard-{number}-of-{len(groups)}",
            timeout=0,  # do not wait here: all shards at once
        )
        for number, group in enumerate(groups[1:], start=2)
    ]
    give_up = time.monotonic() + timeout_s
    states = {}
    if groups:
        own = sync_shard.with_options(flow_run_name=f"{name}-shard-1-of-{len(groups)}")
        states[f"{name}-shard-1-of-{len(groups)}"] = own(groups[0], return_state=True)
    with get_client(sync_client=True) as client:
        while True:
            states |= {run.name: client.read_flow_run(run.id).state for run in runs}
            if all(s is not None and s.is_final() for s in states.values()):
                break
            if time.monotonic() > give_up:
                break
            time.sleep(1)
    unfinished = [n for n, s in states.items() if s is None or not s.is_completed()]
    if unfinished:
        raise RuntimeError(
            f"shards not completed: {', '.join(unfinished)}; their tenants' artifacts say why"
        )
    return {name: "completed" for name in states}


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
