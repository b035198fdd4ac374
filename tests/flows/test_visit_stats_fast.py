"""The visit-stats aggregation's fast paths: PostgreSQL's packed reading gives the same
events as plain rows (and in halves where a span is too large), the numpy visit tables
agree with a plain pandas reckoning of the definitions, and several tenants and odd
sources come out right on both stores."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import psycopg
import pytest
from sqlalchemy import Engine

import flows.visit_stats as visit_stats
from connectors.store.models import DEVICES, VISIT_FUNNEL, VISIT_PAGES
from flows.visit_stats import (
    DIRECT,
    PAGE_TYPE,
    VISIT_GAP,
    day_bounds,
    read_events,
    run_days,
    visit_tables,
)
from tests.dashboards.stats_data import events, make_chain, utc
from tests.flows.test_visit_stats import as_dict, stats

TZ = ZoneInfo("Europe/Stockholm")
DAY = date(2025, 3, 12)


@pytest.fixture
def two_tenants(store: Engine):
    return fill_two_tenants(store)


def fill_two_tenants(store: Engine):
    """Two tenants whose visitors have the same hash (salts differ, numbers may not),
    with sources missing, empty, non-ASCII and a stored "(direkt)"."""
    first, second = make_chain(store, "forsta"), make_chain(store, "andra")
    events(
        store,
        first,
        [
            (utc(2025, 3, 12, 8, 0), 1, "start", "räksmörgås.se", "desktop"),
            (utc(2025, 3, 12, 8, 1), 1, "klinik", None, "desktop"),
            (utc(2025, 3, 12, 9, 0), 2, "start", DIRECT, "mobile"),
        ],
    )
    events(
        store,
        second,
        [
            (utc(2025, 3, 12, 8, 0), 1, "start", "", "tablet"),
            (utc(2025, 3, 12, 8, 2), 2, "start", None, "tablet"),
            (utc(2025, 3, 12, 8, 3), 2, "tid", "google", "tablet"),
        ],
    )
    return first, second


def test_tenants_with_the_same_visitor_hashes_are_counted_apart(store: Engine, two_tenants) -> None:
    first, second = two_tenants
    run_days(store, DAY, DAY, TZ)

    visits = stats(store, "visits", DAY).set_index("tenant_id")
    assert visits.loc[first.tenant_id, ["pageviews", "visits", "visitors"]].tolist() == [3, 2, 2]
    assert visits.loc[second.tenant_id, ["pageviews", "visits", "visitors"]].tolist() == [3, 2, 2]
    sources = stats(store, "sources", DAY)
    mine = sources[sources["tenant_id"] == first.tenant_id]
    theirs = sources[sources["tenant_id"] == second.tenant_id]
    assert as_dict(mine, "source", "visits", "visitors") == {
        "räksmörgås.se": (1, 1),
        DIRECT: (1, 1),
    }
    # Empty and missing are both direct; a source on a later view is not the visit's.
    assert as_dict(theirs, "source", "visits", "visitors") == {DIRECT: (2, 2)}
    funnel = stats(store, "funnel", DAY)
    assert as_dict(funnel[funnel["tenant_id"] == second.tenant_id], "step", "visitors") == {
        **dict.fromkeys(VISIT_FUNNEL, 0),
        "start": 2,
        "tid": 1,
    }


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype({"page": object, "source": object, "device": object})
    return frame.sort_values(list(frame.columns), ignore_index=True)


def test_packed_reading_gives_the_rows(postgres_store: Engine) -> None:
    fill_two_tenants(postgres_store)
    start, end = day_bounds(DAY, TZ)
    packed = read_events(postgres_store, start, end)
    rows = visit_stats._read_event_rows(postgres_store, start, end)
    assert len(packed) == 6
    pd.testing.assert_frame_equal(_comparable(packed), _comparable(rows))
    empty = read_events(postgres_store, *day_bounds(date(2025, 3, 1), TZ))
    assert empty.empty and list(empty.columns) == list(rows.columns)


def test_a_span_too_large_for_one_value_is_read_in_halves(
    postgres_store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_two_tenants(postgres_store)
    start, end = day_bounds(DAY, TZ)
    whole = read_events(postgres_store, start, end)
    fetch_one = visit_stats._fetch_one
    spans = []

    def at_most_an_hour(engine: Engine, start, end):
        if end - start > timedelta(hours=1):
            raise psycopg.errors.ProgramLimitExceeded("out of memory")
        spans.append((start, end))
        return fetch_one(engine, start, end)

    monkeypatch.setattr(visit_stats, "_fetch_one", at_most_an_hour)
    halves = read_events(postgres_store, start, end)
    assert len(spans) == 32 and spans[0][0] == start and spans[-1][1] == end
    pd.testing.assert_frame_equal(_comparable(halves), _comparable(whole))


# -- the numpy tables against the definitions, in plain pandas --------------------------


def random_events(seed: int, n: int = 4000) -> pd.DataFrame:
    """A day of events with many repeat visitors, gaps either side of 30 minutes, and
    simultaneous views (whole minutes), over three tenants."""
    rng = np.random.default_rng(seed)
    sources = np.asarray([DIRECT, "google", "facebook.com", "nyhetsbrev"], dtype=object)
    return pd.DataFrame(
        {
            "tenant_id": rng.choice([3, 7, 12], n),
            "at_us": 1_741_734_000_000_000 + rng.integers(0, 24 * 60, n) * 60_000_000,
            "visitor": rng.integers(-(2**63), 2**63 - 1, 60, dtype=np.int64)[
                rng.integers(0, 60, n)
            ],
            "page": pd.Categorical.from_codes(
                rng.integers(0, len(VISIT_PAGES), n), dtype=PAGE_TYPE
            ),
            "source": pd.Categorical(sources[rng.integers(0, len(sources), n)]),
            "device": pd.Categorical(
                np.asarray(DEVICES, dtype=object)[rng.integers(0, 3, n)], categories=DEVICES
            ),
        }
    )


def reckoned(events: pd.DataFrame) -> dict[str, dict]:
    """The definitions, step by step: simultaneous views in page, device, source order."""
    frame = events.sort_values(["tenant_id", "visitor", "at_us", "page", "device", "source"])
    gap = frame.groupby(["tenant_id", "visitor"])["at_us"].diff()
    frame = frame.assign(new_visit=gap.isna() | (gap > VISIT_GAP // timedelta(microseconds=1)))
    tenant = frame.groupby("tenant_id")
    visits = {
        t: (len(rows), int(rows["new_visit"].sum()), rows["visitor"].nunique())
        for t, rows in tenant
    }
    funnel = {
        (t, step): int(rows.loc[rows["page"] == step, "visitor"].nunique())
        if step != "start"
        else rows["visitor"].nunique()
        for t, rows in tenant
        for step in VISIT_FUNNEL
    }
    entries = frame[frame["new_visit"]]

    def by(column: str) -> dict:
        grouped = entries.groupby(["tenant_id", column], observed=True)["visitor"]
        return {
            (t, str(value)): (int(size), int(unique))
            for (t, value), size, unique in zip(
                grouped.size().index, grouped.size(), grouped.nunique(), strict=True
            )
        }

    return {"visits": visits, "funnel": funnel, "sources": by("source"), "devices": by("device")}


def computed(events: pd.DataFrame) -> dict[str, dict]:
    tables = visit_tables(events)

    def rows(name: str, key: list[str], values: list[str]) -> dict:
        return {
            tuple(row[key]) if len(key) > 1 else row[key[0]]: tuple(int(row[v]) for v in values)
            if len(values) > 1
            else int(row[values[0]])
            for _, row in tables[name].iterrows()
        }

    return {
        "visits": rows("visits", ["tenant_id"], ["pageviews", "visits", "visitors"]),
        "funnel": rows("funnel", ["tenant_id", "step"], ["visitors"]),
        "sources": rows("sources", ["tenant_id", "source"], ["visits", "visitors"]),
        "devices": rows("devices", ["tenant_id", "device"], ["visits", "visitors"]),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_visit_tables_follow_the_definitions(seed: int) -> None:
    events = random_events(seed)
    assert computed(events) == reckoned(events)
    # The rows' order makes no difference, simultaneous views included.
    shuffled = events.sample(frac=1, random_state=seed).reset_index(drop=True)
    assert computed(shuffled) == reckoned(events)


def test_the_sort_key_gives_way_to_a_lexsort_when_it_would_overflow() -> None:
    rng = np.random.default_rng(4)
    person = rng.integers(0, 2**40, 1000)
    at = rng.integers(0, 2**40, 1000)
    order = visit_stats._by_person_and_time(person, at)
    assert (order == np.lexsort((at, person))).all()
