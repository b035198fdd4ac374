"""Holding and confirming times, on both stores: the database has the last word."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from connectors.store import bookings
from connectors.store.bookings import CodeCheck, Request
from connectors.store.db import session_scope
from connectors.store.models import (
    Booking,
    OutboxMessage,
    Tenant,
    TenantSettings,
    Treatment,
)
from tests.helpers import first_slots, request_for

SECRET = b"test secret"


def now() -> datetime:
    return datetime.now(UTC)


def test_a_held_time_is_no_longer_offered_and_cannot_be_held_again(synced):
    with session_scope(synced) as session:
        tenant, clinic, treatment, slots = first_slots(session)
        held = bookings.hold(session, request_for(tenant, clinic, treatment, slots[0]), now())
        assert (held.status, held.any_practitioner) == ("held", False)
        assert held.blocks_until - held.blocks_from == timedelta(minutes=50)  # 45 + 5 cool-down
        _, _, _, after = first_slots(session)
        mine = [s for s in after if s.practitioner_id == held.practitioner_id]
        assert all(
            s.ends_at + timedelta(minutes=5) <= held.starts_at or s.starts_at >= held.blocks_until
            for s in mine
        )
        with pytest.raises(bookings.TimeTaken):
            bookings.hold(session, request_for(tenant, clinic, treatment, slots[0]), now())


def test_the_database_refuses_an_overlapping_active_booking_whatever_python_checks(synced):
    with session_scope(synced) as session:
        tenant, clinic, treatment, slots = first_slots(session)
        held = bookings.hold(session, request_for(tenant, clinic, treatment, slots[0]), now())
        clash = Booking(
            reference="clash",
            idempotency_key="clash-key",
            tenant_id=tenant.id,
            clinic_id=clinic.id,
            practitioner_id=held.practitioner_id,
            treatment_id=treatment.id,
            starts_at=held.starts_at + timedelta(minutes=20),
            ends_at=held.starts_at + timedelta(minutes=50),
            blocks_from=held.starts_at + timedelta(minutes=20),
            blocks_until=held.starts_at + timedelta(minutes=50),
            status="confirmed",
        )
        with (
            pytest.raises(IntegrityError, match="ex_booking_practitioner_time"),
            session.begin_nested(),
        ):
            session.add(clash)
            session.flush()
        # an inactive booking on the same time is fine: history is kept
        clash.status = "cancelled"
        clash.reference, clash.idempotency_key = "cancelled", "cancelled-key"
        session.add(clash)
        session.flush()


def test_confirm_is_idempotent_and_queues_the_confirmation(synced):
    with session_scope(synced) as session:
        tenant, clinic, treatment, slots = first_slots(session)
        held = bookings.hold(session, request_for(tenant, clinic, treatment, slots[0]), now())
        held.email, held.mobile = "anna@example.se", "+46701234567"
        bookings.confirm(session, held, now())
        bookings.confirm(session, held, now())  # a double submit
        assert held.status == "confirmed" and held.hold_expires_at is None
        kinds = session.execute(select(OutboxMessage.channel, OutboxMessage.kind)).all()
        assert sorted(kinds) == [("email", "new"), ("sms", "new")]


def test_a_lapsed_hold_still_confirms_when_nobody_took_the_time(synced):
    with session_scope(synced) as session:
        tenant, clinic, treatment, slots = first_slots(session)
        held = bookings.hold(session, request_for(tenant, clinic, treatment, slots[0]), now())
        later = now() + timedelta(minutes=30)
        assert bookings.confirm(session, held, later).status == "confirmed"


def test_a_lapsed_hold_whose_time_was_taken_is_lost(synced):
    with session_scope(synced) as session:
        tenant, clinic, treatment, slots = first_slots(session)
        first = bookings.hold(session, request_for(tenant, clinic, treatment, slots[0]), now())
        later = now() + timedelta(minutes=11)
        second = bookings.hold(session, request_for(tenant, clinic, treatment, slots[0]), later)
        session.refresh(first)
        assert (first.status, second.status) == ("expired", "held")
        with pytest.raises(bookings.HoldLost):
            bookings.confirm(session, first, later)


def test_any_practitioner_spreads_bookings_and_is_recorded(synced):
    with session_scope(synced) as session:
        tenant, clinic, treatment, slots = first_slots(session, clinic="UPP2", treatment=5)
        by_start: dict[datetime, set[int]] = {}
        for slot in slots:
            by_start.setdefault(slot.starts_at, set()).add(slot.practitioner_id)
        shared = next(t for t, who in by_start.items() if len(who) >= 2)
        busy = min(by_start[shared])
        # Give one of those free then a booking at another time: "any" must pass them by.
        elsewhere = next(
            s
            for s in slots
            if s.practitioner_id == busy and abs(s.starts_at - shared) >= timedelta(hours=2)
        )
        bookings.confirm(
            session,
            bookings.hold(session, request_for(tenant, clinic, treatment, elsewhere), now()),
            now(),
        )

        chosen = bookings.hold(
            session, Request(tenant.id, clinic.id, treatment.id, shared, None), now()
        )

        assert chosen.any_practitioner is True
        assert chosen.practitioner_id in by_start[shared] - {busy}


def test_an_unbookable_time_is_refused(synced):
    with session_scope(synced) as session:
        tenant, clinic, treatment, slots = first_slots(session)
        off_grid = slots[0].starts_at + timedelta(minutes=7)
        with pytest.raises(bookings.TimeTaken):
            bookings.hold(
                session,
                Request(tenant.id, clinic.id, treatment.id, off_grid, slots[0].practitioner_id),
                now(),
            )


def test_another_tenants_clinic_is_not_found(synced):
    with session_scope(synced) as session:
        _, clinic, treatment, slots = first_slots(session)
        other = Tenant(name="Annan", subdomain="annan", settings=TenantSettings())
        session.add(other)
        session.flush()
        with pytest.raises(bookings.NotFound):
            bookings.hold(
                session, Request(other.id, clinic.id, treatment.id, slots[0].starts_at, None), now()
            )


def test_min_notice_hides_times_too_soon(synced):
    with session_scope(synced) as session:
        _, _, _, slots = first_slots(session)
        # A notice that reaches past the first free time, whatever day the test runs on.
        notice = (slots[0].starts_at - now()) // timedelta(minutes=1) + 60
        session.execute(update(TenantSettings).values(min_notice_minutes=notice))
        _, _, _, later = first_slots(session)
        assert later and all(s.starts_at >= now() + timedelta(minutes=notice - 1) for s in later)
        assert slots[0] not in later and len(later) < len(slots)


def test_treatments_not_created_on_the_web_have_no_times(synced):
    with session_scope(synced) as session:
        session.execute(
            update(Treatment).where(Treatment.opus_treatment_id == 1).values(create_in_web=False)
        )
        assert first_slots(session)[3] == []


# -- the code challenge ------------------------------------------------------------------------


def held_with_contact(session):
    tenant, clinic, treatment, slots = first_slots(session)
    held = bookings.hold(session, request_for(tenant, clinic, treatment, slots[0]), now())
    held.email = "anna@example.se"
    return held


def sent_code(session) -> str:
    message = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "code").order_by(OutboxMessage.id.desc())
    ).first()
    return json.loads(message.payload)["code"]


def test_the_code_confirms_once_and_only_its_hash_is_kept(synced):
    with session_scope(synced) as session:
        held = held_with_contact(session)
        bookings.send_code(session, held, "email", SECRET, now())
        code = sent_code(session)
        assert len(code) == 6 and code.isdigit() and code not in (held.code_hash or "")
        assert bookings.check_code(session, held, "99999x", SECRET, now()) == CodeCheck.WRONG
        assert bookings.check_code(session, held, code, SECRET, now()) == CodeCheck.OK
        assert (
            bookings.check_code(session, held, code, SECRET, now()) == CodeCheck.LOCKED
        )  # used up


def test_five_wrong_codes_release_the_time(synced):
    with session_scope(synced) as session:
        held = held_with_contact(session)
        bookings.send_code(session, held, "email", SECRET, now())
        code = sent_code(session)
        wrong = "000000" if code != "000000" else "111111"
        results = [bookings.check_code(session, held, wrong, SECRET, now()) for _ in range(5)]
        assert results == [CodeCheck.WRONG] * 4 + [CodeCheck.LOCKED]
        assert held.status == "expired"
        assert bookings.check_code(session, held, code, SECRET, now()) == CodeCheck.LOCKED
        with pytest.raises(bookings.HoldLost):
            bookings.confirm(session, held, now())


def test_a_code_expires_and_resending_is_throttled(synced):
    with session_scope(synced) as session:
        held = held_with_contact(session)
        bookings.send_code(session, held, "email", SECRET, now())
        code = sent_code(session)
        with pytest.raises(bookings.ResendTooSoon):
            bookings.send_code(session, held, "email", SECRET, now() + timedelta(seconds=10))
        assert (
            bookings.check_code(session, held, code, SECRET, now() + timedelta(minutes=11))
            == CodeCheck.EXPIRED
        )
        bookings.send_code(session, held, "email", SECRET, now() + timedelta(minutes=2))
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
