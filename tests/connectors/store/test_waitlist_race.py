"""The waiting list under real concurrency, on PostgreSQL: 50 threads, each with its
own connection, work one freed time at once (one offer is made), then 50 take that
one offer at once (one rebooking, one set of messages)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from connectors.store import bookings, waitlist_answers, waitlist_offers
from connectors.store.db import make_engine, session_scope, write_session_scope
from connectors.store.models import Booking, OutboxMessage
from connectors.store.waitlist_models import WaitlistOffer, WaitlistOpening
from tests.connectors.store.waitlist_helpers import (
    SECRET,
    book,
    coming_slots,
    enable,
    now,
    wait_for_earlier,
)
from tests.helpers import all_at_once

RACERS = 50


def race(work) -> Counter:
    """Run ``work()`` in RACERS threads released together; count what each returned
    (or the name of what it raised)."""

    def outcome():
        try:
            return work()
        except Exception as exc:  # counted, so the test says what went wrong
            return type(exc).__name__

    return Counter(all_at_once(RACERS, outcome))


def test_fifty_workers_make_one_offer_and_fifty_clicks_take_it_once(synced_postgres_store):
    engine = synced_postgres_store
    with session_scope(engine) as session:
        enable(session)
        slots = coming_slots(session)
        waiting = [book(session, slots[-1 - i], i) for i in range(3)]
        for booking in waiting:
            wait_for_earlier(session, booking, any_practitioner=True)
        bookings.cancel(session, book(session, slots[0], 9), now())
        (opening_id,) = session.scalars(select(WaitlistOpening.id)).all()
    # Every racer has a connection of its own at once.
    racing = make_engine(engine.url.render_as_string(hide_password=False), pool_size=RACERS)
    try:
        offer_id = _race_for_the_offer(racing, opening_id)
    finally:
        racing.dispose()
    with session_scope(engine) as session:
        offer = session.get_one(WaitlistOffer, offer_id)
        held = session.get_one(Booking, offer.held_booking_id)
        assert (offer.status, held.status) == ("accepted", "confirmed")
        old = session.get_one(Booking, held.rebooked_from_id)
        assert old.status == "rebooked"
        rebook_messages = session.scalar(
            select(func.count()).where(
                OutboxMessage.booking_id == held.id, OutboxMessage.kind == "rebook"
            )
        )
        assert rebook_messages == 2  # one SMS and one e-mail, not fifty
        freed_again = session.scalars(
            select(WaitlistOpening.source).where(WaitlistOpening.booking_id == old.id)
        ).all()
        assert freed_again == ["rebook"]  # the old time frees once, for the next in line


def _race_for_the_offer(engine, opening_id: int) -> int:
    def work_the_opening() -> int:
        with write_session_scope(engine) as session:
            # Every racer works the same opening at once, as if each had claimed it
            # (no lock on it: the held time and the unique indexes must decide).
            opening = session.get_one(WaitlistOpening, opening_id)
            return waitlist_offers.offer_opening(session, opening, SECRET, now())

    made = race(work_the_opening)
    assert sum(n * count for n, count in made.items() if isinstance(n, int)) == 1, made
    with session_scope(engine) as session:
        (offer,) = session.scalars(select(WaitlistOffer)).all()
        assert offer.status == "offered"
        offer_id = offer.id

    def take_it() -> str:
        with write_session_scope(engine) as session:
            offer = session.get_one(WaitlistOffer, offer_id)
            taken = waitlist_answers.accept(session, offer, now())
            return "again" if taken.again else "moved"

    taken = race(take_it)
    assert taken == Counter({"moved": 1, "again": RACERS - 1}), taken
    return offer_id
