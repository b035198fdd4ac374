"""The earlier-time waiting list (*återbudslista*): who waits, which times came free,
which were offered to whom (migration 0016_waitlist). :mod:`connectors.store.models`
imports this module at its end, so that the one metadata knows these tables whichever
module is imported first.

The rules that must hold under concurrency are the database's:

- a booking is on the list at most once at a time (partial unique index);
- a patient has at most one open offer at a time, is offered a given time at most
  once, and accepts at most one offer per entry (unique indexes);
- one practitioner's start time is under at most one open offer (partial unique
  index), on top of the held booking's own exclusion constraint;
- an offer is accepted by a conditional update (``status = 'offered'`` and not
  expired): of any number of tries, one changes the row.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from connectors.store.models import Base
from connectors.store.types import utcnow

ENTRY_STATUSES = ("active", "done", "left", "ended")
"""active: waiting; done: took an offered time; left: the patient left the list;
ended: the booking was cancelled or moved, or its time came."""
OPENING_SOURCES = ("cancel", "rebook", "sync", "offer")
"""cancel/rebook: a confirmed booking let its time go (a database trigger records it);
sync: the schedule sync published new free time; offer: an offer lapsed or was
declined, and its time goes to the next in line."""
OFFER_STATUSES = ("offered", "accepted", "expired", "declined", "void")
"""void: the offer could no longer be taken (the patient's booking was cancelled or
moved meanwhile, or the patient left the list)."""


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class WaitlistEntry(Base):
    """One patient's wish for an earlier time than their booking ``booking_id``,
    with their limits. Line order is ``created_at, id``."""

    __tablename__ = "waitlist_entry"
    __table_args__ = (
        CheckConstraint(_in("status", ENTRY_STATUSES), name="status_known"),
        CheckConstraint(
            "earliest_minute IS NULL OR earliest_minute BETWEEN 0 AND 1439",
            name="earliest_in_day",
        ),
        CheckConstraint(
            "latest_minute IS NULL OR latest_minute BETWEEN 0 AND 1439", name="latest_in_day"
        ),
        CheckConstraint(
            "earliest_minute IS NULL OR latest_minute IS NULL OR earliest_minute < latest_minute",
            name="earliest_before_latest",
        ),
        CheckConstraint("length(weekdays) BETWEEN 1 AND 7", name="weekdays_given"),
        CheckConstraint("offers_on_day >= 0", name="offers_counted"),
        Index(
            "uq_waitlist_entry_active_booking",
            "booking_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_waitlist_entry_line", "tenant_id", "clinic_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"))
    clinic_id: Mapped[int]
    treatment_id: Mapped[int]
    # None: any of the clinic's practitioners; else the booking's own practitioner.
    practitioner_id: Mapped[int | None]
    weekdays: Mapped[str] = mapped_column(String(7), default="12345")  # ISO, Monday = 1
    earliest_minute: Mapped[int | None]  # local time of day, minutes after midnight
    latest_minute: Mapped[int | None]  # the latest start
    not_before: Mapped[date | None] = mapped_column(Date)  # local date
    status: Mapped[str] = mapped_column(String(8), default="active")
    offers_day: Mapped[date | None] = mapped_column(Date)  # local day offers_on_day counts
    offers_on_day: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


class WaitlistOpening(Base):
    """Time that came free, to be offered to the first in line it fits."""

    __tablename__ = "waitlist_opening"
    __table_args__ = (
        CheckConstraint(_in("source", OPENING_SOURCES), name="source_known"),
        CheckConstraint("status IN ('pending', 'done')", name="status_known"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_waitlist_opening_pending", "status", "id"),
        Index("ix_waitlist_opening_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    clinic_id: Mapped[int]
    practitioner_id: Mapped[int]
    starts_at: Mapped[datetime]  # the practitioner's freed time, warm-up included
    ends_at: Mapped[datetime]
    # Comma-separated treatment ids the time may be given to (a freed booking's
    # treatment and what its Opus range allowed); None: as the free ranges say.
    treatment_ids: Mapped[str | None] = mapped_column(String(400))
    source: Mapped[str] = mapped_column(String(8))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(8), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    first_offer_at: Mapped[datetime | None]


class WaitlistOffer(Base):
    """A time held for one patient on the list until ``expires_at``: the held
    booking ``held_booking_id`` is a rebooking of the patient's booking."""

    __tablename__ = "waitlist_offer"
    __table_args__ = (
        CheckConstraint(_in("status", OFFER_STATUSES), name="status_known"),
        Index(
            "uq_waitlist_offer_open_per_entry",
            "entry_id",
            unique=True,
            sqlite_where=text("status = 'offered'"),
            postgresql_where=text("status = 'offered'"),
        ),
        Index(
            "uq_waitlist_offer_accepted_per_entry",
            "entry_id",
            unique=True,
            sqlite_where=text("status = 'accepted'"),
            postgresql_where=text("status = 'accepted'"),
        ),
        Index(
            "uq_waitlist_offer_open_time",
            "practitioner_id",
            "starts_at",
            unique=True,
            sqlite_where=text("status = 'offered'"),
            postgresql_where=text("status = 'offered'"),
        ),
        Index(
            "uq_waitlist_offer_entry_time",
            "entry_id",
            "practitioner_id",
            "starts_at",
            unique=True,
        ),
        Index("ix_waitlist_offer_due", "status", "expires_at"),
        Index("ix_waitlist_offer_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("waitlist_entry.id", ondelete="CASCADE"))
    opening_id: Mapped[int | None] = mapped_column(
        ForeignKey("waitlist_opening.id", ondelete="SET NULL")
    )
    held_booking_id: Mapped[int] = mapped_column(
        ForeignKey("booking.id", ondelete="CASCADE"), unique=True
    )
    clinic_id: Mapped[int]
    practitioner_id: Mapped[int]
    starts_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(8), default="offered")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
