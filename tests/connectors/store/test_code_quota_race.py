"""The code quotas hold under parallel requests on PostgreSQL, where each app process
has its own connections and transactions run side by side: eight clients ask at the
same moment, and exactly the cap's number of codes is queued. Without a lock each
transaction counts the codes committed before it started, sees room for one more,
and the cap is raced past (seen: 8 codes to one recipient, cap 3)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select, update

from connectors.store import bookings, client_limits
from connectors.store.db import session_scope, write_session_scope
from connectors.store.models import Booking, OutboxMessage, TenantSettings
from tests.helpers import apart, first_slots, request_for

SECRET = b"test secret"
PARALLEL = 8


def held_by_strangers(engine: Engine, mobiles: list[str]) -> list[int]:
    """One hold per mobile, each by a client of its own (its own address and cookie)."""
    ids = []
    with session_scope(engine) as session:
        tenant, clinic, treatment, slots = first_slots(session)
        for n, (mobile, slot) in enumerate(zip(mobiles, apart(slots, len(mobiles)), strict=True)):
            held = bookings.hold(session, request_for(tenant, clinic, treatment, slot), now())
            held.mobile = mobile
            client_limits.mark_holder(
                session, held, client_limits.Client(f"address-{n}", f"cookie-{n}")
            )
            ids.append(held.id)
    return ids


def now() -> datetime:
    return datetime.now(UTC)


def send_all_at_once(engine: Engine, booking_ids: list[int]) -> list[str]:
    """Each hold asks for an SMS code in its own thread and transaction, all released
    together; answers what each got ("sent" or the limit's kind)."""
    start = threading.Barrier(len(booking_ids))
    outcomes: list[str] = []

    def ask(booking_id: int) -> None:
        with write_session_scope(engine) as session:
            held = session.get(Booking, booking_id)
            start.wait(timeout=30)
            try:
                bookings.send_code(session, held, "sms", SECRET, now())
                outcomes.append("sent")
            except client_limits.LimitReached as reached:
                outcomes.append(reached.kind)

    threads = [threading.Thread(target=ask, args=(i,)) for i in booking_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def codes_queued(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(
            select(func.count()).where(OutboxMessage.kind == "code").select_from(OutboxMessage)
        )


def hits(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        tenant_id = session.scalars(select(Booking.tenant_id)).first()
        return client_limits.hits(session, tenant_id)


def test_parallel_codes_to_one_recipient_stop_at_three(synced_postgres_store: Engine):
    engine = synced_postgres_store
    ids = held_by_strangers(engine, ["+46701234567"] * PARALLEL)

    outcomes = send_all_at_once(engine, ids)

    assert sorted(outcomes) == ["recipient"] * 5 + ["sent"] * 3
    assert codes_queued(engine) == client_limits.CODES_PER_RECIPIENT_HOUR
    assert hits(engine) == {"recipient": 5}


def test_parallel_codes_of_one_tenant_stop_at_its_hourly_cap(synced_postgres_store: Engine):
    engine = synced_postgres_store
    with session_scope(engine) as session:
        session.execute(update(TenantSettings).values(code_messages_per_hour=4))
    ids = held_by_strangers(engine, [f"+4670{n:07d}" for n in range(PARALLEL)])

    outcomes = send_all_at_once(engine, ids)

    assert sorted(outcomes) == ["sent"] * 4 + ["tenant_hour"] * 4
    assert codes_queued(engine) == 4
    assert hits(engine) == {"tenant_hour": 4}
