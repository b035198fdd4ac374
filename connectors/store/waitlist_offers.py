"""Offers from the waiting list: a time that came free goes to the first patient in
line it fits, is held for them a while, is taken once, and otherwise passes on (the
patient's answers, the offer's link and lapsed offers are
:mod:`connectors.store.waitlist_answers`).

- **Openings.** A confirmed booking that is cancelled or moved records its freed time
  (a database trigger, migration 0016_waitlist); the schedule sync records new free
  ranges (:func:`record_sync_openings`); a lapsed or declined offer reopens its
  opening. :func:`offer_opening` works one opening in the caller's transaction.
- **First come, first served.** Entries in the order they joined; the first whose
  limits the time fits (clinic, treatment, practitioner, weekday, time of day, not
  before a date, strictly earlier than their own booking, still movable under the
  clinic's rules) gets the earliest fitting start, unless they have an offer open,
  were offered this opening before, or had their offers for the day.
- **The hold.** The offered time is held as a rebooking of the patient's booking
  (status ``held`` until the offer lapses), so the database's rule on a
  practitioner's time keeps everyone else off it, and taking it is the rebooking
  everybody else does (:func:`connectors.store.bookings.confirm`): one Opus
  appointment moves, the rebooking's messages go out, and the patient's old time
  frees in turn, which opens the next offer (the chain).
- **Exactly once.** Unique indexes (one open offer per patient and per start, one
  offer of a start per patient, one acceptance per entry) and conditional updates
  (an offer is accepted, declined or expired only from ``offered``) decide races.
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import case, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors.store import client_limits
from connectors.store.availability import (
    STOCKHOLM,
    Rules,
    Slot,
    bookable_slots,
    bookable_times,
    rules_for,
    taken_intervals,
)
from connectors.store.bookings import (
    carry_patient_over,
    lock_practitioners,
    take_time,
)
from connectors.store.models import (
    Booking,
    Clinic,
    OutboxMessage,
    TenantSettings,
    Treatment,
)
from connectors.store.my_bookings import may_rebook
from connectors.store.waitlist_answers import offer_token
from connectors.store.waitlist_models import WaitlistEntry, WaitlistOffer, WaitlistOpening


class _Skip(Exception):
    """This entry cannot have this time after all: roll its savepoint back."""


# -- openings ----------------------------------------------------------------------------


def record_sync_openings(session: Session, ranges: pd.DataFrame, now: datetime) -> int:
    """New free ranges the sync published (columns ``tenant_id``, ``clinic_id``,
    ``practitioner_id``, ``starts_at``, ``ends_at``) as openings, for the clinics where
    someone waits with a later booking. Returns how many."""
    if ranges.empty:
        return 0
    latest = dict(
        session.execute(
            select(WaitlistEntry.clinic_id, func.max(Booking.starts_at))
            .join(Booking, Booking.id == WaitlistEntry.booking_id)
            .join(TenantSettings, TenantSettings.tenant_id == WaitlistEntry.tenant_id)
            .where(
                WaitlistEntry.status == "active",
                WaitlistEntry.tenant_id.in_([int(t) for t in ranges["tenant_id"].unique()]),
                TenantSettings.waitlist_enabled,
            )
            .group_by(WaitlistEntry.clinic_id)
        ).all()
    )
    if not latest:
        return 0
    rows = []
    for tenant_id, clinic_id, practitioner_id, starts_at, ends_at in ranges[
        ["tenant_id", "clinic_id", "practitioner_id", "starts_at", "ends_at"]
    ].itertuples(index=False):
        until = latest.get(int(clinic_id))
        starts, ends = (
            pd.Timestamp(starts_at).to_pydatetime(),
            pd.Timestamp(ends_at).to_pydatetime(),
        )
        if until is None or ends <= now or starts >= until:
            continue
        rows.append(
            WaitlistOpening(
                tenant_id=int(tenant_id),
                clinic_id=int(clinic_id),
                practitioner_id=int(practitioner_id),
                starts_at=starts,
                ends_at=ends,
                source="sync",
                status="pending",
                created_at=now,
            )
        )
    session.add_all(rows)
    session.flush()
    return len(rows)


def work_due(session: Session, now: datetime) -> bool:
    """Is there an opening to work or an offer to close? Two index lookups, no lock."""
    return (
        session.scalar(
            select(WaitlistOpening.id).where(WaitlistOpening.status == "pending").limit(1)
        )
        is not None
        or session.scalar(
            select(WaitlistOffer.id)
            .where(WaitlistOffer.status == "offered", WaitlistOffer.expires_at <= now)
            .limit(1)
        )
        is not None
    )


def claim_opening(session: Session) -> WaitlistOpening | None:
    """The oldest pending opening, locked for this transaction (PostgreSQL workers skip
    each other's; SQLite has one writer at a time)."""
    return session.scalars(
        select(WaitlistOpening)
        .where(WaitlistOpening.status == "pending")
        .order_by(WaitlistOpening.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).one_or_none()


def offer_opening(session: Session, opening: WaitlistOpening, secret: bytes, now: datetime) -> int:
    """Offer the opening's time to the first in line it fits (1 offer made, or 0).

    One offer a transaction: after an offer that leaves some of its time free the
    opening stays pending, and the next claim offers what is left to the next in
    line; once the time is all held, or nothing (more) fits anyone, it is done. A
    transaction that holds one patient's new offer then never waits for another's, so
    concurrent workers cannot deadlock on the offers' unique indexes."""
    offer = None
    settings = session.get(TenantSettings, opening.tenant_id)
    clinic = session.get(Clinic, opening.clinic_id)
    usable = settings is not None and settings.waitlist_enabled and clinic is not None
    if usable and opening.ends_at > now:
        assert settings is not None and clinic is not None
        offer = _offer(session, opening, settings, clinic, secret, now)
    if offer is not None:
        opening.first_offer_at = opening.first_offer_at or now
        held = session.get_one(Booking, offer.held_booking_id)
        if held.blocks_from > opening.starts_at or held.blocks_until < opening.ends_at:
            session.flush()
            return 1  # some of its time is left: the next claim offers that
    opening.status = "done"
    opening.processed_at = now
    session.flush()
    return 0 if offer is None else 1


def _offer(
    session: Session,
    opening: WaitlistOpening,
    settings: TenantSettings,
    clinic: Clinic,
    secret: bytes,
    now: datetime,
) -> WaitlistOffer | None:
    """The first in line's offer of (part of) the opening's time, or None."""
    today = now.astimezone(STOCKHOLM).date()
    candidates = _line(session, opening, today, settings.waitlist_offers_per_day, now)
    if not candidates:
        return None
    offered = set(
        session.execute(
            select(WaitlistOffer.entry_id, WaitlistOffer.starts_at).where(
                WaitlistOffer.entry_id.in_([c.id for c in candidates]),
                WaitlistOffer.practitioner_id == opening.practitioner_id,
            )
        ).all()
    )
    slots: dict[int, tuple[Rules, list[Slot]]] = {}
    for candidate in candidates:
        if candidate.treatment_id not in slots:
            treatment = session.get_one(Treatment, candidate.treatment_id)
            rules = rules_for(settings, treatment, clinic, now)
            slots[candidate.treatment_id] = (
                rules,
                _starts(session, opening, treatment, rules, now),
            )
        rules, starts = slots[candidate.treatment_id]
        slot = next(
            (
                s
                for s in starts
                if s.starts_at < candidate.booking_starts_at
                and (candidate.id, s.starts_at) not in offered
                and _fits(candidate, s.starts_at)
            ),
            None,
        )
        if slot is None:
            continue
        # Only now the whole rows, and the clinic's rules on moving the booking.
        entry = session.get_one(WaitlistEntry, candidate.id)
        booking = session.get_one(Booking, candidate.booking_id)
        if not may_rebook(session, booking, now).allowed or not _reachable(settings, booking):
            continue
        offer = _make_offer(session, settings, entry, booking, slot, rules, opening, secret, now)
        if offer is not None:
            return offer
    return None


def _line(
    session: Session, opening: WaitlistOpening, today: date, per_day: int, now: datetime
) -> list:
    """The entries the opening could go to, first in line first, as light rows (the
    entry's limits, its booking's id, time and treatment): a clinic's whole line is
    read for every opening, so no ORM objects here."""
    allowed = _treatments(opening)
    e = WaitlistEntry
    query = (
        select(
            e.id,
            e.weekdays,
            e.earliest_minute,
            e.latest_minute,
            e.not_before,
            e.treatment_id,
            Booking.id.label("booking_id"),
            Booking.starts_at.label("booking_starts_at"),
        )
        .join(Booking, Booking.id == e.booking_id)
        .where(
            e.tenant_id == opening.tenant_id,
            e.clinic_id == opening.clinic_id,
            e.status == "active",
            or_(e.practitioner_id.is_(None), e.practitioner_id == opening.practitioner_id),
            or_(e.offers_day.is_(None), e.offers_day != today, e.offers_on_day < per_day),
            Booking.status == "confirmed",
            Booking.starts_at > now,
            Booking.starts_at > opening.starts_at,
            ~exists().where(
                WaitlistOffer.entry_id == e.id,
                or_(WaitlistOffer.status == "offered", WaitlistOffer.opening_id == opening.id),
            ),
        )
        .order_by(e.created_at, e.id)
    )
    if allowed is not None:
        query = query.where(e.treatment_id.in_(allowed))
    return list(session.execute(query).all())


def _treatments(opening: WaitlistOpening) -> list[int] | None:
    if opening.treatment_ids is None:
        return None
    return [int(t) for t in opening.treatment_ids.split(",") if t.strip().isdigit()]


def _starts(
    session: Session, opening: WaitlistOpening, treatment: Treatment, rules: Rules, now: datetime
) -> list[Slot]:
    """Bookable starts for ``treatment`` within the opening. A freed booking's time is
    free for what it was booked for, whether or not the sync has published it again;
    the sync's new ranges are asked of the free ranges themselves."""
    practitioner = opening.practitioner_id
    if opening.treatment_ids is None:
        return bookable_times(
            session,
            opening.tenant_id,
            opening.clinic_id,
            treatment,
            rules,
            opening.starts_at,
            opening.ends_at,
            now,
            [practitioner],
        )
    start, end = max(opening.starts_at, rules.earliest), min(opening.ends_at, rules.latest)
    if start >= end:
        return []
    margin = rules.warm_up + rules.duration + rules.cool_down
    taken = taken_intervals(
        session, {practitioner}, opening.starts_at - margin, opening.ends_at + margin, now
    )
    free = [(practitioner, opening.starts_at, opening.ends_at)]
    return bookable_slots(free, taken, rules, start, end, opening.clinic_id)


def _fits(entry, starts_at: datetime) -> bool:
    """The patient's own limits: weekday, time of day, not before a date (local)."""
    local = starts_at.astimezone(STOCKHOLM)
    minute = local.hour * 60 + local.minute
    return (
        str(local.isoweekday()) in entry.weekdays
        and (entry.earliest_minute is None or minute >= entry.earliest_minute)
        and (entry.latest_minute is None or minute <= entry.latest_minute)
        and (entry.not_before is None or local.date() >= entry.not_before)
    )


def _reachable(settings: TenantSettings, booking: Booking) -> bool:
    return bool(_recipient(settings, booking)[1])


def _recipient(settings: TenantSettings, booking: Booking) -> tuple[str, str | None]:
    """An offer goes by SMS (it is urgent), by e-mail when there is no usable mobile."""
    if booking.mobile and client_limits.sms_allowed(settings, booking.mobile):
        return "sms", booking.mobile
    return "email", booking.email


def _make_offer(
    session: Session,
    settings: TenantSettings,
    entry: WaitlistEntry,
    booking: Booking,
    slot: Slot,
    rules: Rules,
    opening: WaitlistOpening,
    secret: bytes,
    now: datetime,
) -> WaitlistOffer | None:
    """Hold ``slot`` as a rebooking of ``booking``, count the day's offer, record the
    offer and queue its message, all or nothing (a savepoint). None when the database
    says no: the time was taken, or the patient has an open offer or the day's offers."""
    lasts = timedelta(minutes=settings.waitlist_hold_minutes)
    today = now.astimezone(STOCKHOLM).date()
    try:
        with session.begin_nested():
            lock_practitioners(session, [slot.practitioner_id])
            held = _held(booking, entry, slot, rules, now + lasts)
            if not take_time(session, held, now):
                raise _Skip()
            if not _count_offer(session, entry, today, settings.waitlist_offers_per_day):
                raise _Skip()
            offer = WaitlistOffer(
                tenant_id=entry.tenant_id,
                entry_id=entry.id,
                opening_id=opening.id,
                held_booking_id=held.id,
                clinic_id=held.clinic_id,
                practitioner_id=held.practitioner_id,
                starts_at=held.starts_at,
                status="offered",
                created_at=now,
                expires_at=now + lasts,
            )
            session.add(offer)
            session.flush()
            channel, recipient = _recipient(settings, booking)
            assert recipient is not None
            payload = {
                "token": offer_token(secret, offer),
                "expires_at": offer.expires_at.isoformat(),
                "minutes": settings.waitlist_hold_minutes,
            }
            session.add(
                OutboxMessage(
                    tenant_id=entry.tenant_id,
                    booking_id=held.id,
                    channel=channel,
                    kind="offer",
                    recipient=recipient,
                    payload=json.dumps(payload),
                    created_at=now,
                )
            )
            session.flush()
        return offer
    except (_Skip, IntegrityError):
        return None


def _held(
    booking: Booking, entry: WaitlistEntry, slot: Slot, rules: Rules, until: datetime
) -> Booking:
    key = str(uuid.uuid4())
    held = Booking(
        reference=secrets.token_urlsafe(16),
        idempotency_key=key,
        appointment_key=booking.appointment_key,  # the one Opus appointment moves
        rebooked_from_id=booking.id,
        tenant_id=booking.tenant_id,
        clinic_id=booking.clinic_id,
        practitioner_id=slot.practitioner_id,
        treatment_id=booking.treatment_id,
        starts_at=slot.starts_at,
        ends_at=slot.starts_at + rules.duration,
        blocks_from=slot.starts_at - rules.warm_up,
        blocks_until=slot.starts_at + rules.duration + rules.cool_down,
        status="held",
        hold_expires_at=until,
        channel="site",
        any_practitioner=entry.practitioner_id is None,
        any_clinic=False,
        language=booking.language,
    )
    carry_patient_over(booking, held)
    return held


def _count_offer(session: Session, entry: WaitlistEntry, today: date, per_day: int) -> bool:
    """One more offer today for ``entry``, if it has not had ``per_day`` (a conditional
    update: concurrent dispatchers cannot both pass the limit)."""
    counted = session.execute(
        update(WaitlistEntry)
        .where(
            WaitlistEntry.id == entry.id,
            WaitlistEntry.status == "active",
            or_(
                WaitlistEntry.offers_day.is_(None),
                WaitlistEntry.offers_day != today,
                WaitlistEntry.offers_on_day < per_day,
            ),
        )
        .values(
            offers_on_day=case(
                (WaitlistEntry.offers_day == today, WaitlistEntry.offers_on_day + 1), else_=1
            ),
            offers_day=today,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(counted)
