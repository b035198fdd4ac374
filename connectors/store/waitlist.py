"""The earlier-time waiting list (*återbudslista*): who may join, joining with one's
limits, leaving, and what operators count.

A patient joins with one confirmed booking: "tell me if an earlier time becomes free"
for the same treatment at the same clinic, with the same practitioner or any, on the
weekdays and between the times of day they choose, not before a date. Line order is
the moment they joined. Offers, holds and acceptances are
:mod:`connectors.store.waitlist_offers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors.store.models import Booking, Clinic, TenantSettings
from connectors.store.my_bookings import may_rebook
from connectors.store.waitlist_answers import withdraw_open_offers
from connectors.store.waitlist_models import WaitlistEntry, WaitlistOffer, WaitlistOpening

ALL_WEEKDAYS = "12345"
"""ISO weekdays, Monday = 1; weekends only where the clinic books them."""


class NotEligible(Exception):
    """The booking cannot go on the list; ``key`` names the reason (a message key)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Limits:
    """A patient's limits on the times they want to be offered."""

    any_practitioner: bool = False
    weekdays: str = ALL_WEEKDAYS
    earliest_minute: int | None = None  # local time of day, minutes after midnight
    latest_minute: int | None = None  # the latest start
    not_before: date | None = None  # local date

    def problems(self) -> list[str]:
        """Message keys of what is wrong (the database refuses the same)."""
        found = []
        days = self.weekdays
        if not days or len(days) > 7 or set(days) - set("1234567") or len(set(days)) != len(days):
            found.append("waitlist_weekdays_required")
        for minute in (self.earliest_minute, self.latest_minute):
            if minute is not None and not 0 <= minute <= 1439:
                found.append("waitlist_time_invalid")
        if (
            self.earliest_minute is not None
            and self.latest_minute is not None
            and self.earliest_minute >= self.latest_minute
        ):
            found.append("waitlist_times_in_order")
        return found


def enabled(session: Session, tenant_id: int) -> bool:
    settings = session.get(TenantSettings, tenant_id)
    return bool(settings and settings.waitlist_enabled)


def why_not(session: Session, booking: Booking, now: datetime) -> str | None:
    """Why ``booking`` cannot join the list now (a message key), or None if it can:
    the tenant has the list on, the booking is confirmed and coming, the patient may
    move it on the web (the clinic's rules and cut-off, as for *Ändra bokning*), and
    an offer can reach them (a mobile number or an e-mail address)."""
    if not enabled(session, booking.tenant_id):
        return "waitlist_off"
    if booking.status != "confirmed" or booking.starts_at <= now:
        return "waitlist_booking_not_active"
    if not may_rebook(session, booking, now).allowed:
        return "waitlist_rebook_not_allowed"
    if not booking.mobile and not booking.email:
        return "waitlist_no_contact"
    return None


def entry_of(session: Session, booking: Booking) -> WaitlistEntry | None:
    """The booking's active entry, if it is on the list."""
    return session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.booking_id == booking.id,
            WaitlistEntry.tenant_id == booking.tenant_id,
            WaitlistEntry.status == "active",
        )
    ).one_or_none()


def join(session: Session, booking: Booking, limits: Limits, now: datetime) -> WaitlistEntry:
    """Put ``booking`` on the list with ``limits``, or change the limits of its entry
    (keeping its place in line). Raises :class:`NotEligible`, or ``ValueError`` for
    limits that make no sense (the pages check first)."""
    reason = why_not(session, booking, now)
    if reason is not None:
        raise NotEligible(reason)
    if limits.problems():
        raise ValueError(limits.problems()[0])
    values = {
        "practitioner_id": None if limits.any_practitioner else booking.practitioner_id,
        "weekdays": "".join(sorted(limits.weekdays)),
        "earliest_minute": limits.earliest_minute,
        "latest_minute": limits.latest_minute,
        "not_before": limits.not_before,
    }
    entry = entry_of(session, booking)
    if entry is not None:
        for name, value in values.items():
            setattr(entry, name, value)
        session.flush()
        return entry
    try:
        with session.begin_nested():
            entry = WaitlistEntry(
                tenant_id=booking.tenant_id,
                booking_id=booking.id,
                clinic_id=booking.clinic_id,
                treatment_id=booking.treatment_id,
                status="active",
                offers_on_day=0,
                created_at=now,
                **values,
            )
            session.add(entry)
            session.flush()
        return entry
    except IntegrityError:  # joined in another tab at the same moment: that entry it is
        found = entry_of(session, booking)
        if found is None:
            raise
        return found


def leave(session: Session, booking: Booking, now: datetime) -> bool:
    """Take ``booking`` off the list; an offer still open is withdrawn (its time goes
    to the next in line). False if it was not on the list."""
    entry = entry_of(session, booking)
    if entry is None:
        return False
    done = session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.id == entry.id, WaitlistEntry.status == "active")
        .values(status="left", ended_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(entry)
    withdraw_open_offers(session, [entry.id], now)
    return bool(done)


def end_stale(session: Session, now: datetime, limit: int = 500) -> list[int]:
    """End the entries whose booking was cancelled or moved, or whose time has come:
    nobody is offered anything after their own visit. Returns the ended entries' ids."""
    stale = list(
        session.scalars(
            select(WaitlistEntry.id)
            .join(Booking, Booking.id == WaitlistEntry.booking_id)
            .where(
                WaitlistEntry.status == "active",
                (Booking.status != "confirmed") | (Booking.starts_at <= now),
            )
            .limit(limit)
        )
    )
    if stale:
        session.execute(
            update(WaitlistEntry)
            .where(WaitlistEntry.id.in_(stale), WaitlistEntry.status == "active")
            .values(status="ended", ended_at=now)
            .execution_options(synchronize_session=False)
        )
    return stale


# -- for operators -----------------------------------------------------------------------


@dataclass(frozen=True)
class ClinicLine:
    """One clinic's list: how many wait now, and what came of the period's freed times."""

    clinic_id: int
    clinic_name: str
    waiting: int
    freed: int  # cancellations and moves that freed time
    offers_sent: int
    refilled: int  # offers taken: a freed time booked again from the list
    expired: int  # offers that lapsed unanswered


def clinic_lines(session: Session, tenant_id: int, since: datetime) -> list[ClinicLine]:
    """Every clinic of the tenant (in the booking page's order) with its figures since
    ``since``; counts only, nothing about who."""
    clinics = session.execute(
        select(Clinic.id, Clinic.name)
        .where(Clinic.tenant_id == tenant_id, Clinic.in_opus)
        .order_by(Clinic.display_order, Clinic.id)
    ).all()
    waiting = _counts(
        session,
        select(WaitlistEntry.clinic_id, func.count()).where(
            WaitlistEntry.tenant_id == tenant_id, WaitlistEntry.status == "active"
        ),
        WaitlistEntry.clinic_id,
    )
    freed = _counts(
        session,
        select(WaitlistOpening.clinic_id, func.count()).where(
            WaitlistOpening.tenant_id == tenant_id,
            WaitlistOpening.source.in_(("cancel", "rebook")),
            WaitlistOpening.created_at >= since,
        ),
        WaitlistOpening.clinic_id,
    )
    offers = _offer_counts(session, tenant_id, since)
    return [
        ClinicLine(
            clinic_id=clinic_id,
            clinic_name=name,
            waiting=waiting.get(clinic_id, 0),
            freed=freed.get(clinic_id, 0),
            offers_sent=sum(offers.get((clinic_id, s), 0) for s in _OFFER_STATUSES),
            refilled=offers.get((clinic_id, "accepted"), 0),
            expired=offers.get((clinic_id, "expired"), 0),
        )
        for clinic_id, name in clinics
    ]


_OFFER_STATUSES = ("offered", "accepted", "expired", "declined", "void")


def _counts(session: Session, query, column) -> dict[int, int]:
    return {key: int(n) for key, n in session.execute(query.group_by(column)).all()}


def _offer_counts(session: Session, tenant_id: int, since: datetime) -> dict[tuple[int, str], int]:
    rows = session.execute(
        select(WaitlistOffer.clinic_id, WaitlistOffer.status, func.count())
        .where(WaitlistOffer.tenant_id == tenant_id, WaitlistOffer.created_at >= since)
        .group_by(WaitlistOffer.clinic_id, WaitlistOffer.status)
    ).all()
    return {(clinic_id, status): int(n) for clinic_id, status, n in rows}


def refilled_rows(
    session: Session, tenant_id: int, start: datetime, end: datetime, clinic_id: int | None
) -> list[tuple]:
    """For the dashboards: each freed time (a cancellation or a move) in ``[start,
    end)`` with whether the list booked it again, and how soon. Rows of
    (freed_at, clinic_id, source, starts_at, minutes, offers, refilled_at)."""
    offers = (
        select(
            WaitlistOffer.opening_id.label("opening_id"),
            func.count().label("offers"),
            # When the accepted offer was taken (the others count as NULL).
            func.min(case((WaitlistOffer.status == "accepted", WaitlistOffer.answered_at))).label(
                "refilled_at"
            ),
        )
        .where(WaitlistOffer.tenant_id == tenant_id)
        .group_by(WaitlistOffer.opening_id)
        .subquery()
    )
    o = WaitlistOpening
    query = (
        select(
            o.created_at,
            o.clinic_id,
            o.source,
            o.starts_at,
            o.ends_at,
            func.coalesce(offers.c.offers, 0),
            offers.c.refilled_at,
        )
        .outerjoin(offers, offers.c.opening_id == o.id)
        .where(
            and_(
                o.tenant_id == tenant_id,
                o.source.in_(("cancel", "rebook")),
                o.created_at >= start,
                o.created_at < end,
            )
        )
        .order_by(o.created_at, o.id)
    )
    if clinic_id is not None:
        query = query.where(o.clinic_id == clinic_id)
    return [
        (freed_at, clinic, source, starts, (ends - starts) // timedelta(minutes=1), n, at)
        for freed_at, clinic, source, starts, ends, n, at in session.execute(query).all()
    ]
