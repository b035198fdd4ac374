"""The ``retention`` flow under Prefect's test harness: it applies the rules and its
artifact counts rows per table, with nothing of any row's content."""

from __future__ import annotations

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from sqlalchemy import Engine, func, select

from connectors.store.models import Booking
from flows.retention import retention_flow
from tests.connectors.store.retention_world import PERSONAL_NUMBER, build


def test_the_flow_leaves_counts_per_table_and_no_personal_data(
    prefect_harness, flow_settings, sqlite_store: Engine
) -> None:
    build(sqlite_store)
    totals = retention_flow()
    assert totals["visit_event"] >= 9 and totals["booking"] >= 3
    with sqlite_store.connect() as connection:
        assert (
            connection.execute(
                select(func.count()).where(Booking.pseudonymised_at.is_not(None))
            ).scalar_one()
            >= 3
        )
    with get_client(sync_client=True) as client:
        (artifact,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["retention"]))
        )
    assert '"tabell": "visit_event"' in artifact.data and '"rader"' in artifact.data
    for personal in (PERSONAL_NUMBER, "anna", "Svensson", "+46701234567", "Storgatan"):
        assert personal.lower() not in artifact.data.lower()
