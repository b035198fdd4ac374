"""Answers to the waiting list's offers: the offer's signed link, taking the time,
letting it go, and offers that lapse or lose their patient. Whatever ends an offer
but taking it passes its time on to the next in line (its opening is worked again,
see :mod:`connectors.store.waitlist_offers`).

Exactly once: an offer leaves ``offered`` by a conditional update, so of any number
of concurrent clicks (or a click and the expiry) one changes it; taking it is the
rebooking everybody else does (:func:`connectors.store.bookings.confirm`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connectors.store.bookings import HoldLost, NotActive, confirm
from connectors.store.models import Booking
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
