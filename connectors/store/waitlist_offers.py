"""Offers from the waiting list: a time that came free goes to the first patient in
line it fits, is held for them a while, is taken once, and otherwise passes on.

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
from dataclasses import dataclass
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
    _slots,
    _taken,
    bookable_times,
    rules_for,
)
from connectors.store.bookings import (
    HoldLost,
    NotActive,
    _carry_patient_over,
    _take,
    confirm,
    lock_practitioners,
)
from connectors.store.models import (
    Booking,
    Clinic,
    OutboxMessage,
    TenantSettings,
    Treatment,
)
from connectors.store.my_bookings import may_rebook
from connectors.store.waitlist_models import WaitlistEntry, WaitlistOffer, WaitlistOpening
from opus_online import signed_links

PURPOSE = "offer"
LINK_GRACE = timedelta(days=1)
"""The offer's link still opens its page this long after the hold lapsed, to say so
("someone else has it now") instead of "not found"."""


class OfferError(Exception):
    """The offer cannot be taken; ``key`` names the message."""

    key = "waitlist_offer_gone"


class OfferExpired(OfferError):
    key = "waitlist_offer_expired"


class OfferAlreadyTaken(OfferError):
    """This patient took it already (a second click): the new booking stands."""

    key = "waitlist_offer_taken_already"


class _Skip(Exception):
    """This entry cannot have this time after all: roll its savepoint back."""


# -- links -------------------------------------------------------------------------------


def offer_token(secret: bytes, offer: WaitlistOffer) -> str:
    return signed_links.sign(
        secret,
        purpose=PURPOSE,
        tenant=str(offer.tenant_id),
        subject=str(offer.id),
        expires_at=offer.expires_at + LINK_GRACE,
    )


def offer_for_token(
    session: Session, secret: bytes, tenant_id: int, token: str, now: datetime
) -> WaitlistOffer:
    """The tenant's offer the token names; ``signed_links.LinkInvalid`` (or
    ``LinkExpired``) for anything else."""
    link = signed_links.verify(secret, token, purpose=PURPOSE, tenant=str(tenant_id), now=now)
    if not link.subject.isdigit():
        raise signed_links.LinkInvalid("not an offer")
    offer = session.get(WaitlistOffer, int(link.subject))
    if offer is None or offer.tenant_id != tenant_id:
        raise signed_links.LinkInvalid("no such offer")
    return offer


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
    taken = _taken(
        session, {practitioner}, opening.starts_at - margin, opening.ends_at + margin, now
    )
    free = [(practitioner, opening.starts_at, opening.ends_at)]
    return _slots(free, taken, rules, start, end, opening.clinic_id)


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
            if not _take(session, held, now):
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
    _carry_patient_over(booking, held)
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


# -- closing offers ------------------------------------------------------------------------


def expire_due(session: Session, now: datetime, limit: int = 200) -> int:
    """Close the offers whose hold lapsed (``expired``) and those whose patient is no
    longer on the list (``void``): the held time is let go and offered to the next in
    line. Returns how many were closed."""
    closed = 0
    for status, condition in (
        ("expired", WaitlistOffer.expires_at <= now),
        ("void", WaitlistEntry.status != "active"),
    ):
        ids = session.scalars(
            select(WaitlistOffer.id)
            .join(WaitlistEntry, WaitlistEntry.id == WaitlistOffer.entry_id)
            .where(WaitlistOffer.status == "offered", condition)
            .order_by(WaitlistOffer.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=WaitlistOffer)
        ).all()
        closed += sum(_close(session, offer_id, status, now) for offer_id in ids)
    return closed


def withdraw_open_offers(session: Session, entry_ids: list[int], now: datetime) -> int:
    ids = session.scalars(
        select(WaitlistOffer.id).where(
            WaitlistOffer.entry_id.in_(entry_ids), WaitlistOffer.status == "offered"
        )
    ).all()
    return sum(_close(session, offer_id, "void", now) for offer_id in ids)


def decline(session: Session, offer: WaitlistOffer, now: datetime) -> bool:
    """The patient does not want this time: it goes to the next in line at once."""
    return _close(session, offer.id, "declined", now)


def _close(session: Session, offer_id: int, status: str, now: datetime) -> bool:
    done = session.execute(
        update(WaitlistOffer)
        .where(WaitlistOffer.id == offer_id, WaitlistOffer.status == "offered")
        .values(status=status, answered_at=now if status == "declined" else None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        return False
    offer = session.get_one(WaitlistOffer, offer_id)
    session.refresh(offer)
    session.execute(
        update(Booking)
        .where(Booking.id == offer.held_booking_id, Booking.status == "held")
        .values(status="expired")
        .execution_options(synchronize_session=False)
    )
    _reopen(session, offer, now)
    return True


def _reopen(session: Session, offer: WaitlistOffer, now: datetime) -> None:
    """The offer's time goes back to the line: its opening is worked again."""
    if offer.opening_id is not None:
        session.execute(
            update(WaitlistOpening)
            .where(WaitlistOpening.id == offer.opening_id)
            .values(status="pending")
            .execution_options(synchronize_session=False)
        )
        return
    held = session.get_one(Booking, offer.held_booking_id)
    session.add(
        WaitlistOpening(
            tenant_id=held.tenant_id,
            clinic_id=held.clinic_id,
            practitioner_id=held.practitioner_id,
            starts_at=held.blocks_from,
            ends_at=held.blocks_until,
            treatment_ids=str(held.treatment_id),
            source="offer",
            status="pending",
            created_at=now,
        )
    )
    session.flush()


# -- taking an offer -----------------------------------------------------------------------


@dataclass(frozen=True)
class Taken:
    booking: Booking  # the patient's booking at the new time
    again: bool  # True: taken by an earlier click; this one changed nothing


def accept(session: Session, offer: WaitlistOffer, now: datetime) -> Taken:
    """Take the offered time: the patient's booking moves there (the rebooking path:
    write-back moves the Opus appointment, the rebooking's messages are queued), their
    entry is done, and their old time frees (and is offered on). Exactly once: of any
    number of concurrent tries, one changes the offer; the others get
    :class:`OfferAlreadyTaken` through ``Taken.again``, or :class:`OfferExpired` /
    :class:`OfferError` when the hold is over."""
    won = session.execute(
        update(WaitlistOffer)
        .where(
            WaitlistOffer.id == offer.id,
            WaitlistOffer.status == "offered",
            WaitlistOffer.expires_at > now,
        )
        .values(status="accepted", answered_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(offer)
    held = session.get_one(Booking, offer.held_booking_id)
    if not won:
        if offer.status == "accepted":
            session.refresh(held)
            return Taken(held, again=True)
        if offer.status in ("offered", "expired"):
            raise OfferExpired()
        raise OfferError()
    try:
        with session.begin_nested():
            current = session.get(Booking, held.rebooked_from_id)
            if current is None or not may_rebook(session, current, now).allowed:
                raise NotActive()  # cancelled, moved, or past the clinic's cut-off
            moved = confirm(session, held, now)
    except (HoldLost, NotActive):
        # The patient's booking was cancelled or moved meanwhile, or may no longer be
        # moved on the web: nothing to move.
        offer.status = "void"
        session.flush()
        session.execute(
            update(Booking)
            .where(Booking.id == held.id, Booking.status == "held")
            .values(status="expired")
            .execution_options(synchronize_session=False)
        )
        _reopen(session, offer, now)
        raise OfferError() from None
    session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.id == offer.entry_id)
        .values(status="done", ended_at=now)
        .execution_options(synchronize_session=False)
    )
    return Taken(moved, again=False)


def current_booking(session: Session, offer: WaitlistOffer) -> Booking | None:
    """The patient's booking the offer would move (for the offer's page)."""
    held = session.get(Booking, offer.held_booking_id)
    if held is None or held.rebooked_from_id is None:
        return None
    return session.get(Booking, held.rebooked_from_id)
