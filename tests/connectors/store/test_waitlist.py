"""The earlier-time waiting list on both stores: who is first in line, the patient's
limits, the hold that lapses and passes on, the chain (taking a time frees one that
is offered on), and the switch that turns it all off."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import select

from connectors.store import bookings, waitlist, waitlist_answers, waitlist_offers
from connectors.store.db import session_scope
from connectors.store.models import Booking, FreeRange, OutboxMessage
from connectors.store.waitlist import Limits, NotEligible
from connectors.store.waitlist_models import WaitlistEntry, WaitlistOpening
from flows.waitlist import offer_freed_times
from flows.write_back import write_back_due
from opus_online import signed_links
from tests.connectors.store.waitlist_helpers import (
    SECRET,
    book,
    coming_slots,
    enable,
    now,
    offers_of,
    wait_for_earlier,
)
from tests.flows.write_back_helpers import OpusBook


def local_minute(moment) -> int:
    local = moment.astimezone(waitlist_offers.STOCKHOLM)
    return local.hour * 60 + local.minute


def test_a_cancelled_time_goes_to_the_first_in_line_and_taking_it_offers_theirs_on(synced):
    with session_scope(synced) as session:
        enable(session)
        slots = coming_slots(session)
        early, middle, late = slots[0], slots[len(slots) // 2], slots[-1]
        first = book(session, middle, 1)
        second = book(session, late, 2)
        cancelling = book(session, early, 3)
        wait_for_earlier(session, first, any_practitioner=True)
        wait_for_earlier(session, second, any_practitioner=True)
        bookings.cancel(session, cancelling, now())
        ids = first.id, second.id

    offer_freed_times(synced, SECRET, now())

    with session_scope(synced) as session:
        first, second = (session.get_one(Booking, i) for i in ids)
        (offer,) = offers_of(session, first)
        assert offers_of(session, second) == []  # second in line: nothing yet
        assert (offer.starts_at, offer.practitioner_id) == (early.starts_at, early.practitioner_id)
        held = session.get_one(Booking, offer.held_booking_id)
        assert held.status == "held" and held.appointment_key == first.appointment_key
        (message,) = session.scalars(
            select(OutboxMessage).where(OutboxMessage.booking_id == held.id)
        ).all()
        assert (message.kind, message.channel, message.recipient) == ("offer", "sms", first.mobile)
        token = json.loads(message.payload)["token"]
        link = signed_links.verify(SECRET, token, purpose="offer", tenant=str(first.tenant_id))
        assert link.subject == str(offer.id)

        taken = waitlist_answers.accept(session, offer, now())
        assert not taken.again and taken.booking.status == "confirmed"
        assert taken.booking.starts_at == early.starts_at
        session.refresh(first)
        assert first.status == "rebooked"  # the one Opus appointment moves (write-back)
        kinds = session.scalars(
            select(OutboxMessage.kind).where(OutboxMessage.booking_id == held.id)
        ).all()
        assert sorted(kinds) == ["offer", "rebook", "rebook"]  # SMS and e-mail
        assert session.get_one(WaitlistEntry, offer.entry_id).status == "done"

    offer_freed_times(synced, SECRET, now())  # the first patient's old time, offered on

    with session_scope(synced) as session:
        second = session.get_one(Booking, ids[1])
        (chained,) = offers_of(session, second)
        assert (chained.starts_at, chained.practitioner_id) == (
            middle.starts_at,
            middle.practitioner_id,
        )
        opening = session.get_one(WaitlistOpening, chained.opening_id)
        assert (opening.source, opening.booking_id) == ("rebook", ids[0])
        waitlist_answers.accept(session, chained, now())

    offer_freed_times(synced, SECRET, now())  # the second's old time: nobody waits for it
    with session_scope(synced) as session:
        assert session.scalars(select(WaitlistOpening.status)).all() == ["done"] * 3
        moved = session.scalars(
            select(Booking.starts_at).where(
                Booking.status == "confirmed", Booking.personal_number.like("1980010%")
            )
        ).all()
        assert sorted(moved) == [early.starts_at, middle.starts_at]


def test_only_a_patient_whose_limits_the_time_fits_is_offered_it(synced):
    with session_scope(synced) as session:
        tenant = enable(session, waitlist_offers_per_day=2)
        slots = coming_slots(session)
        freed = slots[2]
        other = next(s for s in slots[3:] if s.practitioner_id != freed.practitioner_id)
        later = [s for s in slots[3:] if s is not other]
        minute = local_minute(freed.starts_at)
        weekday = str(freed.starts_at.astimezone(waitlist_offers.STOCKHOLM).isoweekday())
        day = freed.starts_at.astimezone(waitlist_offers.STOCKHOLM).date()
        anyone = {"any_practitioner": True}
        unfit = [
            (book(session, slots[0], 10), anyone),  # their own time is earlier
            (book(session, later[0], 11), anyone | {"weekdays": "1234567".replace(weekday, "")}),
            (book(session, later[1], 12), anyone | {"earliest_minute": minute + 15}),
            (book(session, later[2], 13), anyone | {"latest_minute": minute - 15}),
            (book(session, later[3], 14), anyone | {"not_before": day + timedelta(days=1)}),
            (book(session, other, 15), {"any_practitioner": False}),  # another practitioner's
            (book(session, later[4], 16), anyone),  # had today's offers
        ]
        fitting = book(session, later[5], 17)
        for booking, limits in unfit:
            wait_for_earlier(session, booking, **limits)
        wait_for_earlier(
            session,
            fitting,
            any_practitioner=True,
            earliest_minute=minute,
            latest_minute=minute + 1,
        )
        capped = waitlist.entry_of(session, unfit[-1][0])
        capped.offers_day = now().astimezone(waitlist_offers.STOCKHOLM).date()
        capped.offers_on_day = tenant.settings.waitlist_offers_per_day
        bookings.cancel(session, book(session, freed, 18), now())
        ids = [b.id for b, _ in unfit], fitting.id

    offer_freed_times(synced, SECRET, now())

    with session_scope(synced) as session:
        for booking_id in ids[0]:
            assert offers_of(session, session.get_one(Booking, booking_id)) == []
        (offer,) = offers_of(session, session.get_one(Booking, ids[1]))
        assert offer.starts_at == freed.starts_at


def test_a_lapsed_hold_goes_to_the_next_in_line_and_cannot_be_taken_late(synced):
    with session_scope(synced) as session:
        enable(session, waitlist_hold_minutes=15)
        slots = coming_slots(session)
        first, second = book(session, slots[-2], 1), book(session, slots[-1], 2)
        for booking in (first, second):
            wait_for_earlier(session, booking, any_practitioner=True)
        bookings.cancel(session, book(session, slots[0], 3), now())
        ids = first.id, second.id

    offer_freed_times(synced, SECRET, now())
    with session_scope(synced) as session:
        (lapsing,) = offers_of(session, session.get_one(Booking, ids[0]))
        later = lapsing.expires_at + timedelta(seconds=1)

    offer_freed_times(synced, SECRET, later)

    with session_scope(synced) as session:
        first, second = (session.get_one(Booking, i) for i in ids)
        (lapsed,) = offers_of(session, first)
        assert lapsed.status == "expired"
        assert session.get_one(Booking, lapsed.held_booking_id).status == "expired"
        (passed_on,) = offers_of(session, second)
        assert (passed_on.starts_at, passed_on.status) == (lapsed.starts_at, "offered")
        with pytest.raises(waitlist_answers.OfferExpired):
            waitlist_answers.accept(session, lapsed, later)
        assert waitlist.entry_of(session, first) is not None  # still waiting for another
        assert (
            waitlist_answers.accept(session, passed_on, later).booking.starts_at
            == slots[0].starts_at
        )


def test_a_declined_offer_goes_on_at_once_and_leaving_the_list_lets_an_offer_go(synced):
    with session_scope(synced) as session:
        enable(session)
        slots = coming_slots(session)
        first, second = book(session, slots[-2], 1), book(session, slots[-1], 2)
        for booking in (first, second):
            wait_for_earlier(session, booking, any_practitioner=True)
        bookings.cancel(session, book(session, slots[0], 3), now())
        ids = first.id, second.id
    offer_freed_times(synced, SECRET, now())
    with session_scope(synced) as session:
        (offer,) = offers_of(session, session.get_one(Booking, ids[0]))
        assert waitlist_answers.decline(session, offer, now())
        assert not waitlist_answers.decline(session, offer, now())  # once
    offer_freed_times(synced, SECRET, now())
    with session_scope(synced) as session:
        second = session.get_one(Booking, ids[1])
        (offer,) = offers_of(session, second)
        assert waitlist.leave(session, second, now())
        session.refresh(offer)
        assert offer.status == "void"
        assert session.get_one(Booking, offer.held_booking_id).status == "expired"


def test_entries_end_with_their_booking_and_the_list_is_off_by_default(synced):
    with session_scope(synced) as session:
        slots = coming_slots(session)
        booking = book(session, slots[-1], 1)
        with pytest.raises(NotEligible) as refused:
            waitlist.join(session, booking, Limits(), now())
        assert refused.value.key == "waitlist_off"
        bookings.cancel(session, book(session, slots[0], 2), now())
        assert session.scalars(select(WaitlistOpening)).all() == []  # off: nothing recorded
        enable(session)
        with pytest.raises(ValueError):
            waitlist.join(session, booking, Limits(earliest_minute=600, latest_minute=540), now())
        wait_for_earlier(session, booking)
        wait_for_earlier(session, booking, weekdays="135")  # the same entry, new limits
        (entry,) = session.scalars(select(WaitlistEntry)).all()
        assert entry.weekdays == "135"
        bookings.cancel(session, booking, now())
        entry_id = entry.id
    offer_freed_times(synced, SECRET, now())
    with session_scope(synced) as session:
        assert session.get_one(WaitlistEntry, entry_id).status == "ended"


def test_new_free_time_from_the_sync_is_offered_to_those_waiting_for_it(synced):
    with session_scope(synced) as session:
        enable(session)
        slots = coming_slots(session)
        waiting = book(session, slots[-1], 1)
        wait_for_earlier(session, waiting, any_practitioner=True)
        free = session.scalars(
            select(FreeRange).where(
                FreeRange.practitioner_id == slots[0].practitioner_id,
                FreeRange.starts_at <= slots[0].starts_at,
                FreeRange.ends_at > slots[0].starts_at,
            )
        ).first()
        published = pd.DataFrame(
            [(free.tenant_id, free.clinic_id, free.practitioner_id, free.starts_at, free.ends_at)],
            columns=["tenant_id", "clinic_id", "practitioner_id", "starts_at", "ends_at"],
        )
        assert waitlist_offers.record_sync_openings(session, published, now()) == 1
        waiting_id = waiting.id
    offer_freed_times(synced, SECRET, now())
    with session_scope(synced) as session:
        (offer,) = offers_of(session, session.get_one(Booking, waiting_id))
        assert offer.practitioner_id == slots[0].practitioner_id
        assert free.starts_at <= offer.starts_at < free.ends_at


def test_taking_an_offer_moves_the_one_opus_appointment(synced_sqlite_store, opus_sqlite):
    engine = synced_sqlite_store
    with session_scope(engine) as session:
        enable(session)
        slots = coming_slots(session)
        waiting, leaving = book(session, slots[-1], 1), book(session, slots[0], 2)
        wait_for_earlier(session, waiting, any_practitioner=True)
        key, ids = waiting.appointment_key, (waiting.id, leaving.id)
    assert write_back_due(engine).handled == 2  # both appointments made in Opus
    with session_scope(engine) as session:
        bookings.cancel(session, session.get_one(Booking, ids[1]), now())
    offer_freed_times(engine, SECRET, now())
    with session_scope(engine) as session:
        (offer,) = offers_of(session, session.get_one(Booking, ids[0]))
        waitlist_answers.accept(session, offer, now())
    write_back_due(engine)  # the cancellation first (it gives the time back), then the move

    opus = OpusBook(opus_sqlite)
    (appointment,) = opus.appointments(key)
    (cancelled,) = opus.appointments(key_of(engine, ids[1]))
    assert (appointment["Status"], cancelled["Status"]) == ("booked", "cancelled")
    # The waiting patient's one appointment now has the cancelled patient's time.
    assert (appointment["ClinicianID"], appointment["StartTime"]) == (
        cancelled["ClinicianID"],
        cancelled["StartTime"],
    )


def key_of(engine, booking_id: int) -> str:
    with session_scope(engine) as session:
        return session.get_one(Booking, booking_id).appointment_key
