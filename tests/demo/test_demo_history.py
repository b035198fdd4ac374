"""The demo's past (issue 19): a fortnight played through the store's own booking and
tracking code fills every daily table the dashboards read, leaves nothing for
write-back or the outbox, and comes out the same from the same seed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from connectors.store.db import make_engine, session_scope
from connectors.store.models import (
    Booking,
    OutboxMessage,
    StatsBookingDaily,
    StatsCampaignDaily,
    StatsFunnelDaily,
    StatsUtilisationDaily,
    StatsVisitsDaily,
)
from demo.history import add_history, needs_history
from demo.store_seed import DEMO_SUBDOMAIN
from tests.conftest import copy_sqlite

TZ = ZoneInfo("Europe/Stockholm")
DAYS = 14


def today() -> date:
    return datetime.now(TZ).date()


def test_a_fortnight_of_history_fills_every_dashboard_table(synced_sqlite_store: Engine):
    engine = synced_sqlite_store
    assert needs_history(engine, DEMO_SUBDOMAIN)

    counts = add_history(engine, DEMO_SUBDOMAIN, today(), days=DAYS)

    assert not needs_history(engine, DEMO_SUBDOMAIN)
    first = today() - timedelta(days=DAYS)
    with session_scope(engine) as session:
        days_with_visits = session.scalar(
            select(func.count(func.distinct(StatsVisitsDaily.day))).where(
                StatsVisitsDaily.day >= first, StatsVisitsDaily.day < today()
            )
        )
        channels = dict(
            session.execute(
                select(StatsBookingDaily.channel, func.sum(StatsBookingDaily.booked)).group_by(
                    StatsBookingDaily.channel
                )
            ).all()
        )
        moved, cancelled, conflicts = session.execute(
            select(
                func.sum(StatsBookingDaily.rebooked),
                func.sum(StatsBookingDaily.cancelled),
                func.sum(StatsBookingDaily.conflicts),
            )
        ).one()
        funnel = dict(
            session.execute(
                select(StatsFunnelDaily.step, func.sum(StatsFunnelDaily.visitors)).group_by(
                    StatsFunnelDaily.step
                )
            ).all()
        )
        codes = session.scalar(select(func.sum(StatsCampaignDaily.bookings)))
        booked_minutes = session.scalar(select(func.sum(StatsUtilisationDaily.booked_minutes)))
        published = session.scalar(select(func.sum(StatsUtilisationDaily.published_minutes)))
        due = session.scalar(
            select(func.count()).where(
                Booking.status.in_(("confirmed", "cancelled")),
                Booking.written_seq < Booking.change_seq,
            )
        )
        messages = session.scalar(select(func.count()).select_from(OutboxMessage))
        in_future = session.scalar(
            select(func.count()).where(Booking.ends_at > datetime.now(TZ).replace(hour=0))
        )

    assert days_with_visits == DAYS
    assert set(channels) == {"site", "api", "boka_vard"} and all(channels.values())
    assert sum(channels.values()) == sum(counts.by_channel.values())
    assert (moved, conflicts) == (counts.rebooked, counts.conflicts)
    assert cancelled >= counts.cancelled > 0  # (a moved booking counts as cancelled too)
    assert funnel["start"] > funnel["tid"] > funnel["bekraftad"] > 0
    assert codes >= counts.with_campaign_code > 0  # (a moved booking keeps its code)
    assert 0 < booked_minutes < published
    # The clinic's past: Opus has it already (write-back's record), nobody is messaged,
    # and no coming time is taken.
    assert due == 0 and messages == 0 and in_future == 0


def test_the_same_seed_plays_the_same_past(synced_sqlite_template: Path, tmp_path: Path):
    played = []
    for name in ("one", "two"):
        engine = make_engine(f"sqlite:///{copy_sqlite(synced_sqlite_template, tmp_path / name)}")
        played.append(add_history(engine, DEMO_SUBDOMAIN, today(), days=5))
        engine.dispose()

    assert played[0] == played[1] and played[0].page_views > 0
