"""The deployments operators see, schedule and trigger in the Prefect UI.

``opus-online serve`` runs them all in one process (the demo, a small installation);
``opus-online deploy`` registers them with a *process* work pool, whose workers
(``prefect worker start --pool opus-online`` on each machine) run them. Their
entrypoints are module paths (``flows.fleet.sync_shard``): a worker imports the
installed opus-online package, so nothing is pulled or built per run.
"""

from __future__ import annotations

from datetime import timedelta

from prefect import deploy, serve
from prefect.automations import Automation
from prefect.client.schemas.objects import StateType
from prefect.deployments.runner import RunnerDeployment
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification
from prefect.schedules import Cron
from prefect.types.entrypoint import EntrypointType

from flows.fleet import sync_shard
from flows.marketplace import sync_boka_vard
from flows.notifications import send_notifications
from flows.reminders import plan_and_queue_reminders
from flows.retention import retention_flow
from flows.sync_schedules import sync_all_tenants, sync_schedules
from flows.visit_stats import visit_stats
from flows.waitlist import waitlist_flow
from flows.write_back import write_back
from opus_online.config import get_settings


def deployments(
    entrypoint_type: EntrypointType = EntrypointType.FILE_PATH,
) -> list[RunnerDeployment]:
    settings = get_settings()
    to = {"entrypoint_type": entrypoint_type}
    return [
        sync_all_tenants.to_deployment(
            name="every-tenant",
            interval=timedelta(minutes=settings.sync_interval_minutes),
            description=(
                "Opus → booking store, every tenant, on a schedule: starts one sync-shard "
                "run per shard of tenants (OPUS_SYNC_SHARDS) and waits for them."
            ),
            tags=["sync"],
            **to,
        ),
        sync_shard.to_deployment(
            name="shard",
            description=(
                "One shard of a sync cycle: these tenants, a few at a time, each within "
                "OPUS_SYNC_TENANT_TIMEOUT_S. Started by every-tenant; each tenant's last "
                "result is the artifact sync-<subdomain>."
            ),
            tags=["sync"],
            **to,
        ),
        sync_schedules.to_deployment(
            name="one-tenant",
            description="Opus → booking store for one tenant (its subdomain), run by hand.",
            tags=["sync"],
            **to,
        ),
        write_back.to_deployment(
            name="write-back",
            interval=timedelta(minutes=1),
            description=(
                "Booking store → Opus. The worker runs it as soon as a booking is "
                "confirmed; this schedule is the safety net."
            ),
            tags=["write-back"],
            **to,
        ),
        send_notifications.to_deployment(
            name="send-notifications",
            interval=timedelta(minutes=1),
            description=(
                "Outbox → patients' e-mail and SMS. The worker sends as soon as a message "
                "is due; this schedule is the safety net."
            ),
            tags=["notifications"],
            **to,
        ),
        plan_and_queue_reminders.to_deployment(
            name="plan-reminders",
            interval=timedelta(minutes=5),
            description=(
                "Appointment reminders: plans the coming appointments' reminders and hands "
                "the due ones to the outbox. The worker does it as they come due; this "
                "schedule is the safety net."
            ),
            tags=["notifications"],
            **to,
        ),
        waitlist_flow.to_deployment(
            name="waitlist",
            interval=timedelta(minutes=1),
            description=(
                "Återbudslista: freed times offered to the first patient in line, lapsed "
                "offers passed on. The worker does it as times free; this is the safety net."
            ),
            tags=["waitlist"],
            **to,
        ),
        sync_boka_vard.to_deployment(
            name="boka-vard",
            interval=timedelta(minutes=settings.sync_interval_minutes),
            description=(
                "Free times → Boka vård (FHIR), its bookings → the booking store; withdraws "
                "everything when Publicera på Boka vård is off."
            ),
            tags=["marketplace"],
            **to,
        ),
        visit_stats.to_deployment(
            name="yesterday-and-today",
            interval=timedelta(hours=1),
            description="Visit and booking statistics: the daily tables of yesterday and today.",
            tags=["statistics"],
            **to,
        ),
        retention_flow.to_deployment(
            name="daily",
            # At night, when few patients book: after the hour's statistics are made.
            schedule=Cron("30 3 * * *", timezone=settings.timezone),
            description=(
                "Gallring: every tenant's retention (Avancerat → Gallring) applied in short "
                "batches: old visit events deleted, bookings' personal data pseudonymised, "
                "sent messages cleared, ended sessions and logins deleted. The artifact "
                "retention counts rows per table."
            ),
            tags=["retention"],
            **to,
        ),
    ]


def serve_deployments() -> None:
    serve(*deployments())


def deploy_to_work_pool(work_pool: str | None = None) -> list:
    """Register every deployment with the work pool (which must exist: `prefect
    work-pool create opus-online --type process`), and the automation that marks its
    runs Crashed when their worker dies; returns the deployments' ids."""
    ensure_zombie_runs_automation()
    return deploy(
        *deployments(EntrypointType.MODULE_PATH),
        work_pool_name=work_pool or get_settings().sync_work_pool,
        build=False,
        push=False,
        print_next_steps_message=False,
        ignore_warnings=True,
    )


ZOMBIE_AUTOMATION = "opus-online: crash unresponsive flow runs"
ZOMBIE_AFTER = timedelta(minutes=9)
"""Three missed heartbeats at Prefect's default PREFECT_FLOWS_HEARTBEAT_FREQUENCY (180 s),
as Prefect's guide on zombie flow runs recommends."""


def zombie_runs_automation() -> Automation:
    """Prefect's recommended automation for a self-hosted server: a flow run that stops
    sending heartbeats (its worker's machine died, or its process was SIGKILLed) is
    marked Crashed, so the UI stops showing it running. (Its tenants need nothing of
    it: their store leases expire, and the next cycle syncs them.)"""
    return Automation(
        name=ZOMBIE_AUTOMATION,
        description="Flow runs without a heartbeat for 9 minutes are marked Crashed.",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.*"},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=ZOMBIE_AFTER,
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                message="No heartbeat for 9 minutes: its worker or process died.",
            )
        ],
    )


def ensure_zombie_runs_automation() -> None:
    """Create the automation, or bring it up to date (``opus-online deploy`` runs
    again after every upgrade: one automation, never a copy per deploy)."""
    wanted = zombie_runs_automation()
    try:
        found = Automation.read(name=ZOMBIE_AUTOMATION)
    except ValueError:  # none by that name yet
        wanted.create()
        return
    wanted.id = found.id
    wanted.update()
