"""The deployments `opus-online serve` registers, so operators see, schedule and
trigger the flows in the Prefect UI."""

from __future__ import annotations

from datetime import timedelta

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.marketplace import sync_boka_vard
from flows.notifications import send_notifications
from flows.sync_schedules import sync_all_tenants, sync_schedules
from flows.visit_stats import visit_stats
from flows.write_back import write_back
from opus_online.config import get_settings


def deployments() -> list[RunnerDeployment]:
    settings = get_settings()
    return [
        sync_all_tenants.to_deployment(
            name="every-tenant",
            interval=timedelta(minutes=settings.sync_interval_minutes),
            description="Opus → booking store, every tenant, on a schedule.",
            tags=["sync"],
        ),
        sync_schedules.to_deployment(
            name="one-tenant",
            description="Opus → booking store for one tenant (its subdomain), run by hand.",
            tags=["sync"],
        ),
        write_back.to_deployment(
            name="write-back",
            interval=timedelta(minutes=1),
            description=(
                "Booking store → Opus. The worker runs it as soon as a booking is "
                "confirmed; this schedule is the safety net."
            ),
            tags=["write-back"],
        ),
        send_notifications.to_deployment(
            name="send-notifications",
            interval=timedelta(minutes=1),
            description=(
                "Outbox → patients' e-mail and SMS. The worker sends as soon as a message "
                "is due; this schedule is the safety net."
            ),
            tags=["notifications"],
        ),
        sync_boka_vard.to_deployment(
            name="boka-vard",
            interval=timedelta(minutes=settings.sync_interval_minutes),
            description=(
                "Free times → Boka vård (FHIR), its bookings → the booking store; withdraws "
                "everything when Publicera på Boka vård is off."
            ),
            tags=["marketplace"],
        ),
        visit_stats.to_deployment(
            name="yesterday-and-today",
            interval=timedelta(hours=1),
            description="Visit and booking statistics: the daily tables of yesterday and today.",
            tags=["statistics"],
        ),
    ]


def serve_deployments() -> None:
    serve(*deployments())
