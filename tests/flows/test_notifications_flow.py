"""The ``send-notifications`` flow under Prefect's test harness, and the worker's
notification round: messages go out, and what was given up is an artifact."""

from __future__ import annotations

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)

from demo.mail_catcher import MailCatcher
from demo.sms_gateway import SmsGatewayStandIn
from tests.flows.write_back_helpers import book, free_slots
from tests.helpers import apart, sync_tenant

pytestmark = pytest.mark.prefect


@pytest.fixture
def stand_ins(flow_settings, monkeypatch):
    from opus_online.config import get_settings

    with MailCatcher() as catcher, SmsGatewayStandIn(report_delay_s=0) as gateway:
        monkeypatch.setenv("OPUS_SMTP_PORT", str(catcher.port))
        monkeypatch.setenv("OPUS_SMS_GATEWAY_URL", f"{gateway.url}/a1/sms")
        monkeypatch.setenv("OPUS_SECRET_KEY", "flow-test")
        get_settings.cache_clear()
        yield catcher, gateway
    get_settings.cache_clear()


def test_the_flow_sends_and_leaves_the_failures_as_an_artifact(
    prefect_harness, stand_ins, sqlite_store, demo_sqlite_tenant
):
    from flows.notifications import Delivered, send_notifications

    catcher, gateway = stand_ins
    # The server's reply echoes the address (and, a chatty one, more of the patient).
    catcher.refuse["nobody@example.se"] = (
        "550 5.1.1 <nobody@example.se>: No such user (19121212-1212, 070-123 45 67)"
    )
    sync_tenant(sqlite_store, demo_sqlite_tenant)
    *ids, slots = free_slots(sqlite_store)
    first, second = apart(slots, 2)
    book(sqlite_store, first, ids)
    book(sqlite_store, second, ids, email="nobody@example.se", mobile=None)

    state = send_notifications(return_state=True)

    assert state.is_completed()
    assert state.result() == Delivered(sent=2, failed=1)
    assert len(catcher.messages) == 1 and len(gateway.received) == 1
    with get_client(sync_client=True) as client:
        (artifact,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["notifications-failed"]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]),
            )
        )
    assert artifact.type == "table"
    assert "550 5.1.1 <***>: No such user" in artifact.data
    for planted in ("nobody@example.se", "19121212-1212", "070-123 45 67"):
        assert planted not in artifact.data  # reasons, not addresses


def test_the_worker_sends_a_bookings_messages_without_waiting_for_a_schedule(
    prefect_harness, stand_ins, sqlite_store, demo_sqlite_tenant
):
    import threading
    import time

    from flows.worker import run_worker
    from opus_online.config import get_settings

    catcher, gateway = stand_ins
    sync_tenant(sqlite_store, demo_sqlite_tenant)
    stop = threading.Event()
    worker = threading.Thread(
        target=run_worker,
        kwargs={"settings": get_settings(), "poll_s": 0.1, "keep_going": lambda: not stop.is_set()},
    )
    worker.start()
    try:
        *ids, slots = free_slots(sqlite_store)
        book(sqlite_store, slots[0], ids)
        deadline = time.monotonic() + 60  # a bound for a hung worker, not a timing claim
        while not (catcher.messages and gateway.received) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        worker.join()
    assert len(catcher.messages) == 1 and len(gateway.received) == 1
