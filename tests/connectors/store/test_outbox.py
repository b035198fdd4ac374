"""The outbox's bookkeeping on both stores: claims that two workers never share, order
within a booking, leases, bounded retries with backoff, delivery reports that stay
within their tenant, and migration 0004 both ways."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import select, text

from connectors.store import outbox
from connectors.store.db import alembic_config, session_scope, write_session_scope
from connectors.store.models import OutboxMessage, Tenant, TenantSettings
from tests.flows.write_back_helpers import book, cancel, free_slots
from tests.helpers import sync_tenant

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def tenant_id(store, demo_tenant) -> int:
    with session_scope(store) as session:
        return session.scalars(select(Tenant.id)).one()


def add(store, tenant_id: int, count: int = 1, **fields) -> list[int]:
    with write_session_scope(store) as session:
        rows = [
            OutboxMessage(
                tenant_id=tenant_id,
                channel=fields.get("channel", "email"),
                kind=fields.get("kind", "new"),
                recipient=fields.get("recipient", f"p{i}@example.se"),
                payload="{}",
                next_attempt_at=fields.get("next_attempt_at", T0),
                booking_id=fields.get("booking_id"),
            )
            for i in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows]


def claim(store, now=T0, limit=50, **options):
    with write_session_scope(store) as session:
        return outbox.claim_due(session, now, limit, **options)


def message(store, message_id: int) -> OutboxMessage:
    with session_scope(store) as session:
        return session.get_one(OutboxMessage, message_id)


def test_nothing_due_is_one_cheap_answer(store, tenant_id):
    with session_scope(store) as session:
        assert not outbox.due_exists(session, T0)
    add(store, tenant_id, next_attempt_at=T0 + timedelta(minutes=1))
    with session_scope(store) as session:
        assert not outbox.due_exists(session, T0)
        assert outbox.due_exists(session, T0 + timedelta(minutes=1))
    assert claim(store) == []


def test_a_claim_takes_due_messages_oldest_first_and_counts_the_try(store, tenant_id):
    later = add(store, tenant_id, next_attempt_at=T0 - timedelta(minutes=1))
    first = add(store, tenant_id, next_attempt_at=T0 - timedelta(minutes=5))
    add(store, tenant_id, next_attempt_at=T0 + timedelta(minutes=5))  # not yet
    assert claim(store) == [(first[0], 1), (later[0], 1)]
    claimed = message(store, first[0])
    assert claimed.status == "sending" and claimed.attempts == 1
    assert claimed.next_attempt_at == T0 + outbox.LEASE
    assert claim(store) == []  # held by the first claim


def test_concurrent_workers_never_claim_one_message_twice(store, tenant_id):
    ids = set(add(store, tenant_id, count=40))
    results: list[list[tuple[int, int]]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker():
        try:
            start.wait()
            for _ in range(5):
                results.append(claim(store, limit=3))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    claimed = [message_id for batch in results for message_id, _ in batch]
    assert len(claimed) == len(set(claimed)) == 40 and set(claimed) == ids


def test_a_bookings_messages_go_out_in_order(store, demo_tenant, tenant_id):
    sync_tenant(store, demo_tenant)
    *ids, slots = free_slots(store)
    booking = book(store, slots[0], ids)
    cancel(store, booking)
    with session_scope(store) as session:
        queued = session.execute(
            select(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.kind).order_by(
                OutboxMessage.id
            )
        ).all()
    assert [(c, k) for _, c, k in queued] == [
        ("email", "new"),
        ("sms", "new"),
        ("email", "cancel"),
        ("sms", "cancel"),
    ]
    later = datetime.now(UTC) + timedelta(seconds=1)
    first = claim(store, now=later)
    assert [i for i, _ in first] == [queued[0].id, queued[1].id]  # the cancellations wait
    assert claim(store, now=later) == []
    with write_session_scope(store) as session:
        outbox.mark_sent(session, queued[0].id, later)
    assert [i for i, _ in claim(store, now=later)] == [queued[2].id]  # e-mail only


def test_a_lapsed_claim_is_claimed_again_and_the_old_worker_changes_nothing(store, tenant_id):
    [message_id] = add(store, tenant_id)
    assert claim(store) == [(message_id, 1)]
    after_lease = T0 + outbox.LEASE
    assert claim(store, now=after_lease) == [(message_id, 2)]
    with write_session_scope(store) as session:  # the first worker wakes up late
        outbox.mark_failed(session, message_id, 1, after_lease, "late", permanent=True)
    assert message(store, message_id).status == "sending"
    with write_session_scope(store) as session:
        status = outbox.mark_failed(
            session, message_id, 2, after_lease, "SMTP server: timed out", permanent=False
        )
    assert status == "pending"
    retried = message(store, message_id)
    assert retried.last_error == "SMTP server: timed out"
    assert retried.next_attempt_at == after_lease + timedelta(seconds=60)  # 30 s doubled


def test_retries_back_off_and_end_in_failed_with_the_reason(store, tenant_id):
    [message_id] = add(store, tenant_id)
    now, waits = T0, []
    for attempt in range(1, 5):
        [(claimed, try_number)] = claim(store, now=now, max_attempts=4)
        assert (claimed, try_number) == (message_id, attempt)
        with write_session_scope(store) as session:
            status = outbox.mark_failed(
                session, message_id, attempt, now, "503", permanent=False, max_attempts=4
            )
        due = message(store, message_id).next_attempt_at
        waits.append(due - now)
        now = due
    assert status == "failed"
    assert waits[:3] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    failed = message(store, message_id)
    assert failed.status == "failed" and failed.attempts == 4
    assert failed.last_error == "503 [given up after 4 tries]"
    assert claim(store, now=now + timedelta(days=1)) == []


def test_backoff_is_capped_at_an_hour():
    first = timedelta(seconds=30)
    assert [outbox.backoff(n, first) for n in (1, 2, 3)] == [first, first * 2, first * 4]
    assert outbox.backoff(12, first) == timedelta(hours=1)


def test_a_permanent_refusal_fails_at_once(store, tenant_id):
    [message_id] = add(store, tenant_id)
    [(_, attempt)] = claim(store)
    with write_session_scope(store) as session:
        reason = "SMTP recipient refused: 550 5.1.1 No such user"
        assert outbox.mark_failed(session, message_id, attempt, T0, reason, permanent=True) == (
            "failed"
        )
    failed = message(store, message_id)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.last_error == "SMTP recipient refused: 550 5.1.1 No such user"
    with session_scope(store) as session:
        assert [m.id for m in outbox.failed_messages(session, tenant_id)] == [message_id]


def test_a_message_whose_last_try_never_finished_is_given_up(store, tenant_id):
    [message_id] = add(store, tenant_id)
    claim(store, max_attempts=1)  # the worker dies while sending
    assert claim(store, now=T0 + outbox.LEASE, max_attempts=1) == []
    gone = message(store, message_id)
    assert gone.status == "failed" and "the last did not finish" in gone.last_error


def test_an_operator_can_send_a_failed_message_again(store, tenant_id):
    [message_id] = add(store, tenant_id)
    [(_, attempt)] = claim(store)
    with write_session_scope(store) as session:
        outbox.mark_failed(session, message_id, attempt, T0, "550", permanent=True)
    with write_session_scope(store) as session:
        assert not outbox.retry_message(session, tenant_id + 1, message_id, T0)
        assert outbox.retry_message(session, tenant_id, message_id, T0)
    assert claim(store) == [(message_id, 1)]


# -- delivery reports ------------------------------------------------------------------


def sent_sms(store, tenant_id: int, provider_id: str | None = "s123") -> int:
    [message_id] = add(store, tenant_id, channel="sms", recipient="+46701234567")
    claim(store)
    with write_session_scope(store) as session:
        outbox.mark_sent(session, message_id, T0, provider_id)
    return message_id


def report(store, tenant_id, message_id, provider_id, status) -> bool:
    with write_session_scope(store) as session:
        return outbox.record_delivery_report(
            session, tenant_id, message_id, provider_id, status, T0 + timedelta(seconds=5)
        )


def test_a_delivery_report_marks_the_sms_delivered(store, tenant_id):
    message_id = sent_sms(store, tenant_id)
    assert report(store, tenant_id, message_id, "s123", "sent")  # news of nothing
    assert message(store, message_id).status == "sent"
    assert report(store, tenant_id, message_id, "s123", "delivered")
    delivered = message(store, message_id)
    assert delivered.status == "delivered"
    assert delivered.delivered_at == T0 + timedelta(seconds=5)


def test_a_failed_delivery_is_visible(store, tenant_id):
    message_id = sent_sms(store, tenant_id)
    assert report(store, tenant_id, message_id, "s123", "failed")
    failed = message(store, message_id)
    assert failed.status == "failed" and "not delivered" in failed.last_error


def test_a_report_about_another_tenants_or_another_message_changes_nothing(store, tenant_id):
    message_id = sent_sms(store, tenant_id)
    with write_session_scope(store) as session:
        other = Tenant(name="Annan", subdomain="annan", settings=TenantSettings())
        session.add(other)
        session.flush()
        other_id = other.id
    assert not report(store, other_id, message_id, "s123", "delivered")
    assert not report(store, tenant_id, message_id, "s999", "delivered")
    assert not report(store, tenant_id, message_id + 1000, "s123", "delivered")
    [email] = add(store, tenant_id)
    assert not report(store, tenant_id, email, None, "delivered")  # not an SMS
    assert message(store, message_id).status == "sent"


def test_a_report_that_overtakes_the_senders_record_is_kept(store, tenant_id):
    [message_id] = add(store, tenant_id, channel="sms", recipient="+46701234567")
    claim(store)
    assert report(store, tenant_id, message_id, "s777", "delivered")
    with write_session_scope(store) as session:
        outbox.mark_sent(session, message_id, T0, "s777")
    kept = message(store, message_id)
    assert (kept.status, kept.provider_id, kept.sent_at) == ("delivered", "s777", T0)


def test_report_tokens_are_per_message_and_keyed():
    token = outbox.report_token(b"secret", 7)
    assert outbox.report_token_valid(b"secret", 7, token)
    assert not outbox.report_token_valid(b"secret", 8, token)
    assert not outbox.report_token_valid(b"other", 7, token)


# -- migration 0004 ---------------------------------------------------------------------


def test_migration_0004_goes_down_and_up_with_messages_in_flight(store, tenant_id):
    sending, delivered = add(store, tenant_id, count=2)
    claim(store)
    with write_session_scope(store) as session:
        session.execute(
            text("UPDATE outbox_message SET status = 'delivered' WHERE id = :id"),
            {"id": delivered},
        )
    url = store.url.render_as_string(hide_password=False)
    store.dispose()
    command.downgrade(alembic_config(url), "0003")
    with store.connect() as connection:
        statuses = dict(connection.execute(text("SELECT id, status FROM outbox_message")).all())
    assert statuses == {sending: "pending", delivered: "sent"}
    command.upgrade(alembic_config(url), "head")
    with write_session_scope(store) as session:  # the statuses of 0004 are back
        session.execute(
            text("UPDATE outbox_message SET status = 'delivered' WHERE id = :id"),
            {"id": delivered},
        )
    # pending again, due when the old claim would have lapsed; its try was counted
    assert claim(store, now=T0 + outbox.LEASE) == [(sending, 2)]
