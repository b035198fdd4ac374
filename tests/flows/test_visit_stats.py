"""The visit-stats aggregation on synthetic events and bookings with known answers,
on both stores: an ordinary day, both DST days, and re-running (idempotence)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from connectors.store.db import session_scope
from connectors.store.models import VisitSalt
from connectors.store.visits import daily_salt, forget_old_salts
from flows.visit_stats import TABLES, day_bounds, run_days, visit_stats
from tests.dashboards.stats_data import booking, events, free_range, make_chain, utc

TZ = ZoneInfo("Europe/Stockholm")
DAY = date(2025, 3, 12)


def stats(engine: Engine, name: str, day: date | None = None) -> pd.DataFrame:
    model = TABLES[name]
    query = select(model)
    if day is not None:
        query = query.where(model.day == day)
    with engine.connect() as connection:
        result = connection.execute(query)
        frame = pd.DataFrame(result.all(), columns=list(result.keys()))
    keys = [c.name for c in model.__table__.primary_key.columns]
    return frame.sort_values(keys, ignore_index=True)


def as_dict(frame: pd.DataFrame, key: str, *values: str) -> dict:
    return {
        row[key]: tuple(int(row[v]) for v in values) if len(values) > 1 else int(row[values[0]])
        for _, row in frame.iterrows()
    }


@pytest.fixture
def ordinary_day(store: Engine):
    chain = make_chain(store)
    events(
        store,
        chain,
        [
            # A: a visit through four steps, and a second visit 55 minutes later
            (utc(2025, 3, 12, 7, 0), 1, "start", "google", "desktop"),
            (utc(2025, 3, 12, 7, 1), 1, "klinik", None, "desktop"),
            (utc(2025, 3, 12, 7, 2), 1, "behandling", None, "desktop"),
            (utc(2025, 3, 12, 7, 3), 1, "tid", None, "desktop"),
            (utc(2025, 3, 12, 7, 58), 1, "start", None, "desktop"),
            # B: the whole funnel on a phone
            (utc(2025, 3, 12, 9, 0), 2, "start", "facebook.com", "mobile"),
            (utc(2025, 3, 12, 9, 5), 2, "klinik", None, "mobile"),
            (utc(2025, 3, 12, 9, 6), 2, "behandling", None, "mobile"),
            (utc(2025, 3, 12, 9, 7), 2, "behandlare", None, "mobile"),
            (utc(2025, 3, 12, 9, 8), 2, "tid", None, "mobile"),
            (utc(2025, 3, 12, 9, 10), 2, "uppgifter", None, "mobile"),
            (utc(2025, 3, 12, 9, 12), 2, "kod", None, "mobile"),
            (utc(2025, 3, 12, 9, 13), 2, "bekraftad", None, "mobile"),
            # C: 23:30 local; 6: local midnight exactly (both on the day)
            (utc(2025, 3, 12, 22, 30), 3, "sida", None, "tablet"),
            (utc(2025, 3, 11, 23, 0), 6, "sida", None, "desktop"),
            # local 00:10 the next day, and 23:50 the day before: not on the day
            (utc(2025, 3, 12, 23, 10), 4, "start", None, "desktop"),
            (utc(2025, 3, 11, 22, 50), 5, "start", None, "desktop"),
        ],
    )
    b1 = booking(
        store, chain, utc(2025, 3, 14, 8), status="rebooked", campaign_code=" vår25 ",
        created_at=utc(2025, 3, 12, 9, 9), confirmed_at=utc(2025, 3, 12, 9, 13),
    )  # fmt: skip
    booking(
        store, chain, utc(2025, 3, 20, 10), status="cancelled", channel="boka_vard",
        created_at=utc(2025, 3, 12, 12), confirmed_at=utc(2025, 3, 12, 12),
        cancelled_at=utc(2025, 3, 12, 15),
    )  # fmt: skip
    booking(
        store, chain, utc(2025, 3, 15, 8), rebooked_from_id=b1,
        created_at=utc(2025, 3, 12, 16), confirmed_at=utc(2025, 3, 12, 16),
    )  # fmt: skip
    booking(
        store, chain, utc(2025, 3, 21, 8), status="conflict", channel="api",
        created_at=utc(2025, 3, 12, 17), confirmed_at=utc(2025, 3, 12, 17, 1),
    )  # fmt: skip
    booking(  # confirmed the day before, cancelled on the day
        store, chain, utc(2025, 3, 25, 8), status="cancelled",
        created_at=utc(2025, 3, 11, 10), confirmed_at=utc(2025, 3, 11, 10),
        cancelled_at=utc(2025, 3, 12, 8),
    )  # fmt: skip
    # Time on the day: 08–10 local free; 08:30–09:00 booked inside it (not yet
    # written back), 10:00–10:30 booked outside it (written back, no longer free).
    free_range(store, chain, 1, utc(2025, 3, 12, 7), utc(2025, 3, 12, 9))
    for start in (utc(2025, 3, 12, 7, 30), utc(2025, 3, 12, 9)):
        booking(store, chain, start, created_at=utc(2025, 3, 1), confirmed_at=utc(2025, 3, 1))
    return chain


def test_an_ordinary_day_has_the_known_answers(store: Engine, ordinary_day) -> None:
    run_days(store, DAY, DAY, TZ)

    visits = stats(store, "visits", DAY)
    assert visits[["pageviews", "visits", "visitors"]].values.tolist() == [[15, 5, 4]]
    assert as_dict(stats(store, "funnel", DAY), "step", "visitors") == {
        "start": 4,
        "klinik": 2,
        "behandling": 2,
        "behandlare": 1,
        "tid": 2,
        "uppgifter": 1,
        "kod": 1,
        "bekraftad": 1,
    }
    assert as_dict(stats(store, "sources", DAY), "source", "visits", "visitors") == {
        "google": (1, 1),
        "facebook.com": (1, 1),
        "(direkt)": (3, 3),
    }
    assert as_dict(stats(store, "devices", DAY), "device", "visits", "visitors") == {
        "desktop": (3, 2),
        "mobile": (1, 1),
        "tablet": (1, 1),
    }
    figures = ["booked", "rebooked", "cancelled", "conflicts", "with_campaign_code"]
    bookings = stats(store, "bookings", DAY).set_index("channel")
    assert bookings.loc["site", figures].tolist() == [1, 1, 1, 0, 1]
    assert bookings.loc["boka_vard", figures].tolist() == [1, 0, 1, 0, 0]
    assert bookings.loc["api", figures].tolist() == [1, 0, 0, 1, 0]
    # lead times: 1 d 22 h 47 min + 2 d 16 h; 8 d − 2 h; 8 d 14 h 59 min
    assert bookings["lead_time_minutes"].to_dict() == {
        "site": 2807 + 3840,
        "boka_vard": 11400,
        "api": 12419,
    }
    assert as_dict(stats(store, "campaigns", DAY), "campaign_code", "bookings") == {"VÅR25": 1}
    assert as_dict(
        stats(store, "utilisation", DAY), "hour", "published_minutes", "booked_minutes"
    ) == {8: (60, 30), 9: (60, 0), 10: (30, 30)}


def test_rerunning_days_gives_the_same_tables(store: Engine, ordinary_day) -> None:
    run_days(store, date(2025, 3, 10), date(2025, 3, 14), TZ)
    first = {name: stats(store, name) for name in TABLES}
    run_days(store, date(2025, 3, 10), date(2025, 3, 14), TZ)
    run_days(store, DAY, DAY, TZ)
    for name in TABLES:
        pd.testing.assert_frame_equal(stats(store, name), first[name])
    # The neighbouring days got their own events, each once.
    pageviews = stats(store, "visits").set_index("day")["pageviews"].to_dict()
    assert pageviews == {date(2025, 3, 11): 1, DAY: 15, date(2025, 3, 13): 1}
    # A late event changes its day's figures on the next run, and only by itself.
    events(store, ordinary_day, [(utc(2025, 3, 12, 12), 9, "start", None, "desktop")])
    run_days(store, DAY, DAY, TZ)
    assert stats(store, "visits", DAY)["pageviews"].tolist() == [16]


def test_the_autumn_dst_day_has_25_hours(store: Engine) -> None:
    day = date(2025, 10, 26)
    assert day_bounds(day, TZ) == (utc(2025, 10, 25, 22), utc(2025, 10, 26, 23))
    chain = make_chain(store)
    events(
        store,
        chain,
        [
            (utc(2025, 10, 25, 22, 0), 1, "start", None, "desktop"),  # 00:00 local
            # 02:50 CEST then 02:10 CET: local time runs backwards, 20 minutes pass
            (utc(2025, 10, 26, 0, 50), 2, "start", None, "desktop"),
            (utc(2025, 10, 26, 1, 10), 2, "klinik", None, "desktop"),
            (utc(2025, 10, 26, 22, 59), 3, "sida", None, "desktop"),  # 23:59 local
            (utc(2025, 10, 26, 23, 0), 4, "start", None, "desktop"),  # 00:00 on the 27th
            (utc(2025, 10, 25, 21, 59), 5, "start", None, "desktop"),  # 23:59 on the 25th
        ],
    )
    # 02:00 CEST to 03:00 CET: local hour 2 twice, 120 minutes
    free_range(store, chain, 1, utc(2025, 10, 26, 0), utc(2025, 10, 26, 2))
    free_range(store, chain, 2, utc(2025, 10, 26, 6), utc(2025, 10, 26, 7))  # 07:00 CET
    booking(
        store, chain, utc(2025, 10, 26, 0, 30), minutes=60,
        created_at=utc(2025, 10, 1), confirmed_at=utc(2025, 10, 1),
    )  # fmt: skip
    run_days(store, date(2025, 10, 25), date(2025, 10, 27), TZ)

    pageviews = stats(store, "visits").set_index("day")[["pageviews", "visits", "visitors"]]
    assert pageviews.loc[day].tolist() == [4, 3, 3]
    assert pageviews.loc[date(2025, 10, 25)].tolist() == [1, 1, 1]
    assert pageviews.loc[date(2025, 10, 27)].tolist() == [1, 1, 1]
    assert as_dict(
        stats(store, "utilisation", day), "hour", "published_minutes", "booked_minutes"
    ) == {2: (120, 60), 7: (60, 0)}


def test_the_spring_dst_day_has_23_hours(store: Engine) -> None:
    day = date(2025, 3, 30)
    assert day_bounds(day, TZ) == (utc(2025, 3, 29, 23), utc(2025, 3, 30, 22))
    chain = make_chain(store)
    events(
        store,
        chain,
        [
            (utc(2025, 3, 29, 23, 0), 1, "start", None, "desktop"),  # 00:00 CET
            (utc(2025, 3, 30, 21, 59), 2, "start", None, "mobile"),  # 23:59 CEST
            (utc(2025, 3, 30, 22, 0), 3, "start", None, "mobile"),  # 00:00 on the 31st
        ],
    )
    # 01:00 CET to 04:00 CEST: local 02:00–03:00 does not exist
    free_range(store, chain, 1, utc(2025, 3, 30, 0), utc(2025, 3, 30, 2))
    run_days(store, day, day, TZ)

    assert stats(store, "visits", day)[["pageviews", "visitors"]].values.tolist() == [[2, 2]]
    assert as_dict(
        stats(store, "utilisation", day), "hour", "published_minutes", "booked_minutes"
    ) == {1: (60, 0), 3: (60, 0)}


def test_an_empty_day_writes_no_rows(store: Engine) -> None:
    make_chain(store)
    [result] = run_days(store, DAY, DAY, TZ)
    assert result.events == 0
    assert all(stats(store, name).empty for name in TABLES)


def test_old_salts_are_forgotten(store: Engine) -> None:
    chain = make_chain(store)
    old = daily_salt(store, chain.tenant_id, date(2025, 3, 11))
    today = daily_salt(store, chain.tenant_id, DAY)
    assert old != today and daily_salt(store, chain.tenant_id, DAY) == today
    assert forget_old_salts(store, DAY) == 1
    with session_scope(store) as session:
        assert session.scalars(select(VisitSalt.day)).all() == [DAY]


@pytest.mark.prefect
def test_the_flow_runs_under_prefect(prefect_harness, flow_settings, sqlite_store) -> None:
    chain = make_chain(sqlite_store)
    events(sqlite_store, chain, [(utc(2025, 3, 12, 9), 1, "start", None, "mobile")])
    assert visit_stats(start=DAY, end=DAY) == 1
    assert stats(sqlite_store, "visits", DAY)["visitors"].tolist() == [1]
