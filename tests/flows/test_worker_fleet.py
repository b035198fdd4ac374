"""The worker beside other writers: it sleeps, without flow runs, while every due Opus
database is being written by someone else; its messages go out while an Opus database
does not answer; and a store error on one message fails that one, not the batch."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text, update

from connectors.store import write_back as store
from connectors.store import write_back_lock as locks
from connectors.store.db import session_scope
from connectors.store.models import OpusDatabase, OutboxMessage
from demo.mail_catcher import MailCatcher
from demo.sms_gateway import SmsGatewayStandIn
from flows.notifications import deliver_due
from opus_online.config import Settings
from tests.flows.write_back_helpers import OpusBook, book, free_slots, now, reload
from tests.helpers import sync_tenant

BOUND_S = 60  # a bound for a hung worker, not a timing claim


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + BOUND_S
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


@pytest.fixture
def stand_ins(flow_settings, monkeypatch) -> Iterator[tuple[MailCatcher, SmsGatewayStandIn]]:
    from opus_online.config import get_settings

    with MailCatcher() as catcher, SmsGatewayStandIn(report_delay_s=0) as gateway:
        monkeypatch.setenv("OPUS_SMTP_PORT", str(catcher.port))
        monkeypatch.setenv("OPUS_SMS_GATEWAY_URL", f"{gateway.url}/a1/sms")
        monkeypatch.setenv("OPUS_SECRET_KEY", "worker-test")
        get_settings.cache_clear()
        yield catcher, gateway
    get_settings.cache_clear()


def write_back_runs() -> tuple[int, int]:
    """Flow runs of write-back, and its artifacts, in the Prefect server so far."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterKey,
        FlowFilter,
        FlowFilterName,
    )

    with get_client(sync_client=True) as client:
        runs = client.count_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["write-back"]))
        )
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["write-back"]))
        )
    return runs, len(artifacts)


@pytest.mark.prefect
def test_a_worker_finding_the_lock_busy_backs_off_without_a_flow_run_per_round(
    prefect_harness, flow_settings, sqlite_store, demo_sqlite_tenant, opus_sqlite
):
    from flows.worker import write_back_loop

    sync_tenant(sqlite_store, demo_sqlite_tenant)
    *ids, slots = free_slots(sqlite_store)
    booking = book(sqlite_store, slots[0], ids)
    with session_scope(sqlite_store) as session:
        [database_id] = store.due_databases(session, now())
    other = locks.take(sqlite_store, database_id, clock=now)  # another worker writes it
    before = write_back_runs()
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # counted, not waited: the rounds are what matter
        sleeps.append(seconds)

    url = str(sqlite_store.url)
    write_back_loop(
        sqlite_store,
        url,
        poll_s=0.1,
        max_sleep_s=2,
        keep_going=lambda: len(sleeps) < 8,
        sleep=sleep,
    )

    assert sleeps == [0.2, 0.4, 0.8, 1.6, 2, 2, 2, 2]  # backing off, up to the bound
    assert write_back_runs() == before  # no flow run and no artifact for a busy round
    other.release()
    write_back_loop(
        sqlite_store,
        url,
        poll_s=0.1,
        keep_going=lambda: reload(sqlite_store, booking).written_seq == 0,
        sleep=sleep,
    )
    assert write_back_runs() == (before[0] + 1, before[1] + 1)
    assert len(OpusBook(opus_sqlite).appointments(booking.appointment_key)) == 1


@pytest.mark.prefect
def test_messages_go_out_while_an_opus_database_does_not_answer(
    prefect_harness, stand_ins, sqlite_store, demo_sqlite_tenant, opus_sqlite
):
    from flows.worker import run_worker
    from opus_online.config import get_settings

    catcher, gateway = stand_ins
    sync_tenant(sqlite_store, demo_sqlite_tenant)
    with session_scope(sqlite_store) as session:  # this database's own, longer timeout
        session.execute(update(OpusDatabase).values(connect_timeout_s=BOUND_S))
    silent = sqlite3.connect(opus_sqlite, isolation_level=None)
    silent.execute("BEGIN EXCLUSIVE")  # Opus takes no write (nor read) until it lets go
    stop = threading.Event()
    worker = threading.Thread(
        target=run_worker,
        kwargs={"settings": get_settings(), "poll_s": 0.1, "keep_going": lambda: not stop.is_set()},
    )
    worker.start()
    try:
        *ids, slots = free_slots(sqlite_store)
        booking = book(sqlite_store, slots[0], ids)
        wait_for(lambda: catcher.messages and gateway.received, "the confirmation was sent")
        waiting = reload(sqlite_store, booking)
        # Sent while write-back still waits at Opus: not after its try, nor its timeout.
        assert waiting.written_seq < waiting.change_seq and waiting.write_back_attempts == 0
        silent.execute("ROLLBACK")
        opus = OpusBook(opus_sqlite)
        wait_for(lambda: opus.appointments(booking.appointment_key), "written back")
    finally:
        silent.close()
        stop.set()
        worker.join()
    assert len(catcher.messages) == 1 and len(gateway.received) == 1
    assert len(OpusBook(opus_sqlite).appointments(booking.appointment_key)) == 1


def test_a_store_error_on_one_message_fails_that_message_not_the_batch(
    synced_postgres_store: Engine, tmp_path: Path
):
    engine = synced_postgres_store
    *ids, slots = free_slots(engine)
    book(engine, slots[0], ids)
    book(engine, slots[-1], ids)
    with session_scope(engine) as session:
        first = session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id))
        # A real store error, for one message only: its "sent" cannot be recorded.
        session.execute(
            text(
                "CREATE FUNCTION refuse_sent() RETURNS trigger AS $$ BEGIN"
                " IF NEW.status = 'sent' THEN RAISE EXCEPTION 'disk full'; END IF;"
                " RETURN NEW; END $$ LANGUAGE plpgsql"
            )
        )
        session.execute(
            text(
                "CREATE TRIGGER refuse_sent BEFORE UPDATE ON outbox_message FOR EACH ROW"
                f" WHEN (NEW.id = {int(first)}) EXECUTE FUNCTION refuse_sent()"
            )
        )
    with MailCatcher() as catcher, SmsGatewayStandIn(report_delay_s=0) as gateway:
        settings = Settings(
            store_url=engine.url.render_as_string(hide_password=False),
            data_dir=tmp_path,
            secret_key="worker-test",
            public_base_url="http://{subdomain}.localhost:9",
            smtp_port=catcher.port,
            sms_gateway_url=f"{gateway.url}/a1/sms",
        )
        result = deliver_due(engine, settings, datetime.now(UTC))
    assert (result.sent, result.retrying, result.failed) == (3, 1, 0)
    with session_scope(engine) as session:
        statuses = dict(session.execute(select(OutboxMessage.id, OutboxMessage.status)).all())
        error = session.scalar(select(OutboxMessage.last_error).where(OutboxMessage.id == first))
    assert statuses.pop(first) == "pending" and "store error" in error  # tried again later
    assert set(statuses.values()) == {"sent"}
