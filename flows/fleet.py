"""One sync cycle over every tenant, fanned out over a Prefect work pool.

A process worker starts a new Python process for every flow run (seconds of imports:
pandas, SQLAlchemy, Great Expectations), so a flow run per tenant would spend more on
starting than on syncing. A cycle is therefore split into a few *shards*
(``OPUS_SYNC_SHARDS``): the cycle's own run syncs the first as a subflow, and starts a
run of the ``sync-shard`` deployment for each of the others, which the pool's workers
pick up; each shard syncs its tenants ``OPUS_SYNC_THREADS`` at a time in threads.

No tenant can cost the others more than its own time:
* every tenant's sync runs in its own daemon thread with a deadline
  (``OPUS_SYNC_TENANT_TIMEOUT_S``); the shard stops waiting at the deadline, records the
  tenant as failed and starts the next one. A thread stuck in a driver call on a silent
  socket (which no Python exception can interrupt) is abandoned; being a daemon it
  never keeps the flow run's process alive;
* the ODBC login timeout (``OPUS_OPUS_CONNECT_TIMEOUT_S``) ends a connect to a server
  that accepts and never answers, and retries stop at the deadline.

No tenant is synced by two runs at once: every run holds the tenant's store lease
(:mod:`connectors.store.sync_lease`); a shard skips a tenant whose lease another run
holds, a manual run waits for it. A run past its deadline does not publish, and one
whose lease was taken over cannot (it renews the lease just before publishing).
A killed worker's leases expire after twice the tenant timeout, so the next cycle
syncs its tenants; what it was publishing is rolled back with its transaction.

Operators find every tenant's last result in the Prefect UI as the artifact
``sync-<subdomain>`` (also for a tenant that failed or timed out), each shard's summary
as the shard run's artifact, and run one tenant by hand with the ``one-tenant``
deployment (:func:`flows.sync_schedules.sync_schedules`).
"""

from __future__ import annotations

import contextvars
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from sqlalchemy import Engine

from connectors.opus.connection import OpusConnectionError
from connectors.privacy import scrub
from connectors.store import schedules as store
from connectors.store import sync_lease
from connectors.store.db import engine_for, session_scope
from connectors.store.types import utcnow
from flows.opus_appointments import sync_appointments
from flows.schedule_sync import (
    Counts,
    extract_database,
    judge_database,
    limits_of,
    publish_tenant,
)
from opus_online.config import Settings, get_settings


class TenantTimedOut(RuntimeError):
    """The tenant's sync ran past its deadline; nothing of it is published."""


class LeaseLost(RuntimeError):
    """Another run took the tenant's lease while this one was reading: it publishes."""


@dataclass
class TenantOutcome:
    subdomain: str
    status: str
    """synced | failed | timed out | busy (another run holds it) | idle (publishes nowhere)"""
    seconds: float
    message: str = ""
    counts: list[Counts] = field(default_factory=list)


def lease_lasts(settings: Settings) -> timedelta:
    """Long enough for a run that keeps its deadline, short enough that the next cycle
    (one interval later) finds a dead run's lease expired."""
    return timedelta(seconds=2 * settings.sync_tenant_timeout_s)


# -- one tenant, within its deadline -------------------------------------------------------


def sync_tenant_within(
    engine: Engine, subdomain: str, holder: str, deadline: float, settings: Settings
) -> list[Counts] | None:
    """Extract, judge and publish one tenant whose lease ``holder`` holds, giving up at
    ``deadline`` (time.monotonic()). None: the tenant publishes nowhere."""
    with session_scope(engine) as session:
        tenant = store.plan_tenant(session, subdomain)
    if not tenant.publishing:
        return None
    verdicts = []
    for database in tenant.databases:
        started = utcnow()
        try:
            extracted = _extract_with_retries(database, tenant.months_to_sync, deadline, settings)
        except Exception as exc:
            record_failure(engine, [database], started, str(exc))
            raise
        _check(deadline, subdomain, settings)  # given up already: judge nothing more
        try:
            verdicts.append(judge_database(extracted, engine))
        except Exception as exc:
            record_failure(engine, [database], started, str(exc))
            raise
    _check(deadline, subdomain, settings)
    # The fence: from here to the commit the lease is ours for another full timeout.
    if not sync_lease.renew(
        engine, subdomain, holder, timedelta(seconds=settings.sync_tenant_timeout_s)
    ):
        raise LeaseLost(f"{subdomain}: another run took over the sync; not publishing")
    counts = publish_tenant(engine, tenant, verdicts)
    for database in tenant.databases:
        # As in the one-tenant flow: free time first; appointments catch up next run.
        try:
            sync_appointments(
                engine,
                database,
                timezone=settings.timezone,
                timeout_s=_connect_timeout(deadline, limits_of(database, settings).timeout_s),
            )
        except Exception as exc:  # logged; the published ranges stand
            _log().warning(
                "%s: appointments not mirrored this run: %s", database.name, scrub(str(exc))
            )
    return counts


def _check(deadline: float, subdomain: str, settings: Settings) -> None:
    if time.monotonic() > deadline:
        raise TenantTimedOut(f"{subdomain}: past its {settings.sync_tenant_timeout_s} s")


def _extract_with_retries(database, months: int, deadline: float, settings: Settings):
    """The database's own timeout and retries (else the global ones), within the deadline."""
    limits = limits_of(database, settings)
    attempt = 0
    while True:
        try:
            return extract_database(
                database,
                months,
                timezone=settings.timezone,
                timeout_s=_connect_timeout(deadline, limits.timeout_s),
            )
        except OpusConnectionError:
            delay = settings.opus_retry_delay_s * 2**attempt
            attempt += 1
            if attempt > limits.retries or time.monotonic() + delay >= deadline:
                raise
            time.sleep(delay)


def _connect_timeout(deadline: float, timeout_s: int) -> int:
    return max(1, min(timeout_s, int(deadline - time.monotonic())))


def record_failure(engine: Engine, databases, started, message: str) -> None:
    with session_scope(engine) as session:
        for database in databases:
            store.record_run(
                session,
                database,
                started_at=started,
                status="failed",
                mode="-",
                message=scrub(message)[:2000],
            )


# -- many tenants, a few at a time --------------------------------------------------------


def sync_tenants(
    engine: Engine,
    subdomains: list[str],
    settings: Settings,
    on_outcome: Callable[[TenantOutcome], None] = lambda outcome: None,
) -> list[TenantOutcome]:
    """Sync ``subdomains``, ``settings.sync_threads`` at a time, each in a daemon thread
    given ``settings.sync_tenant_timeout_s``; ``on_outcome`` is called in this thread as
    each tenant ends (or is given up)."""
    timeout_s = settings.sync_tenant_timeout_s
    waiting = deque(subdomains)
    running: dict[str, tuple[float, float]] = {}  # subdomain: (started, deadline)
    ended: queue.Queue[TenantOutcome] = queue.Queue()
    outcomes: list[TenantOutcome] = []

    def one(subdomain: str, started: float, deadline: float) -> None:
        holder = sync_lease.new_holder()
        if not sync_lease.take(engine, subdomain, holder, lease_lasts(settings)):
            ended.put(TenantOutcome(subdomain, "busy", 0.0, "another run is syncing it"))
            return
        try:
            counts = sync_tenant_within(engine, subdomain, holder, deadline, settings)
            status = "idle" if counts is None else "synced"
            ended.put(
                TenantOutcome(subdomain, status, time.monotonic() - started, "", counts or [])
            )
        except Exception as exc:  # one tenant's failure is its own
            message = scrub(str(exc))[:500]
            status = "timed out" if isinstance(exc, TenantTimedOut) else "failed"
            ended.put(TenantOutcome(subdomain, status, time.monotonic() - started, message))
        finally:
            sync_lease.give_back(engine, subdomain, holder)

    def end(outcome: TenantOutcome) -> None:
        outcomes.append(outcome)
        on_outcome(outcome)

    while waiting or running:
        while waiting and len(running) < settings.sync_threads:
            subdomain = waiting.popleft()
            started = time.monotonic()
            running[subdomain] = (started, started + timeout_s)
            # Each thread its own copy of the context: Prefect's run context (logs go to
            # this flow run) cannot be entered by two threads at once.
            thread = threading.Thread(
                target=contextvars.copy_context().run,
                args=(one, subdomain, started, started + timeout_s),
                name=f"sync-{subdomain}",
                daemon=True,
            )
            thread.start()
        next_deadline = min(deadline for _, deadline in running.values())
        try:
            outcome = ended.get(timeout=max(0.0, next_deadline - time.monotonic()))
        except queue.Empty:
            pass
        else:
            if running.pop(outcome.subdomain, None) is not None:
                end(outcome)
            continue  # (a late word from a tenant already given up: already reported)
        now = time.monotonic()
        for subdomain, (started, deadline) in list(running.items()):
            if deadline <= now:
                del running[subdomain]
                end(_given_up(engine, subdomain, started, timeout_s))
    return outcomes


def _given_up(engine: Engine, subdomain: str, started: float, timeout_s: int) -> TenantOutcome:
    message = f"no result within {timeout_s} s (Opus silent or too slow); given up"
    _log().warning("%s: %s", subdomain, message)
    try:
        with session_scope(engine) as session:
            databases = store.plan_tenant(session, subdomain).databases
        record_failure(engine, databases, utcnow() - timedelta(seconds=timeout_s), message)
    except Exception as exc:  # the outcome is reported anyway
        _log().warning("%s: could not record the timeout: %s", subdomain, scrub(str(exc)))
    return TenantOutcome(subdomain, "timed out", time.monotonic() - started, message)


# -- the shard flow -----------------------------------------------------------------------


@flow(name="sync-shard", log_prints=True)
def sync_shard(subdomains: list[str]) -> dict[str, str]:
    """Sync these tenants (a shard of one cycle); fails, once all have had their turn,
    if any failed or timed out."""
    settings = get_settings()
    engine = engine_for(settings.resolved_store_url)
    # No warm-up of Great Expectations: it judges only frames of GX_FROM_ROWS rows and
    # more (a large tenant's full sync, which imports it within its own deadline); the
    # other tenants are judged directly, and a shard of them never pays its seconds.
    with InBackground(tenant_artifact) as leave_artifact:
        outcomes = sync_tenants(engine, subdomains, settings, on_outcome=leave_artifact)
    create_table_artifact(
        table=[
            {"tenant": o.subdomain, "status": o.status, "seconds": round(o.seconds, 2)}
            | ({"message": o.message} if o.message else {})
            for o in outcomes
        ],
        description=f"Schedule sync of {len(subdomains)} tenants (one shard of a cycle).",
    )
    failed = [o.subdomain for o in outcomes if o.status in ("failed", "timed out")]
    if failed:
        raise RuntimeError(f"schedule sync failed for {', '.join(failed)}")
    return {o.subdomain: o.status for o in outcomes}


class InBackground:
    """Calls ``act`` on each item put in, one after another in a thread of its own (in
    a copy of this run's context, so artifacts still belong to the run): the shard's
    loop, which starts the next tenant as one ends, never waits on the Prefect API.
    Leaving the ``with`` block waits for what was put in (at most ``patience_s``)."""

    _DONE = object()

    def __init__(self, act: Callable[[TenantOutcome], None], patience_s: float = 60) -> None:
        self.act = act
        self.patience_s = patience_s
        self.items: queue.Queue = queue.Queue()
        self.thread = threading.Thread(
            target=contextvars.copy_context().run,
            args=(self._drain,),
            name="tenant-artifacts",
            daemon=True,
        )

    def __enter__(self) -> Callable[[TenantOutcome], None]:
        self.thread.start()
        return self.items.put

    def __exit__(self, *exc_info: object) -> None:
        self.items.put(self._DONE)
        self.thread.join(timeout=self.patience_s)
        if self.thread.is_alive():  # the Prefect API too slow: say what was left
            _log().warning("%d tenant artifacts not written in time", self.items.qsize())

    def _drain(self) -> None:
        while (item := self.items.get()) is not self._DONE:
            try:
                self.act(item)
            except Exception as exc:  # an artifact lost is no tenant's failure
                _log().warning("artifact not written: %s", scrub(str(exc)))


def tenant_artifact(outcome: TenantOutcome) -> None:
    """The tenant's last result under its own key, so the UI shows it per tenant."""
    from flows.sync_schedules import artifact_row

    if outcome.status == "busy":
        return  # the run that holds it leaves its own
    rows = [{"status": outcome.status} | artifact_row(c) for c in outcome.counts] or [
        {"status": outcome.status, "message": outcome.message}
    ]
    create_table_artifact(
        key=f"sync-{outcome.subdomain}",
        table=rows,
        description=f"Schedule sync of **{outcome.subdomain}** ({outcome.seconds:.1f} s).",
    )


def shards_of(subdomains: list[str], shards: int) -> list[list[str]]:
    """Round-robin, so that tenants added recently (high ids) spread over all shards."""
    count = max(1, min(shards, len(subdomains)))
    return [subdomains[i::count] for i in range(count)] if subdomains else []


def _log():
    try:
        return get_run_logger()
    except Exception:  # outside a run (benchmarks, plain calls)
        import logging

        return logging.getLogger("opus_online.fleet")
