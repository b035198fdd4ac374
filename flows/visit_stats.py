"""Daily visit and booking statistics for the analysts' dashboards.

For each local day (Europe/Stockholm: a DST day has 23 or 25 hours) the flow reads that
day's visit events from the store and builds the ``stats_*_daily`` tables with pandas;
then it replaces the days' rows in one transaction: re-running a day, or any range of
days, gives the same tables. :func:`run_days` is the work, usable without Prefect; the
``visit-stats`` flow wraps it for the Prefect UI.

Definitions (the dashboards say the same):
- a *visit* is a visitor's page views with no gap over :data:`VISIT_GAP`;
- a visit's *source* and *device* are those of its first page view (no source, or an
  empty one, is :data:`DIRECT`);
- funnel ``start`` counts every visitor of the day, each other step the visitors who
  saw that step's page;
- bookings count on the day they were confirmed (``booked``/``rebooked``), cancelled
  (``cancelled``) or created (``conflicts``, those that ended in conflict);
- utilisation: per appointment day and local hour, booked minutes of confirmed
  bookings over published minutes (free ranges joined with the booked time cut from
  them: once written back, Opus no longer lists a booked time as free).

Speed (the benchmark, ``python -m bench.stats``, aggregates millions of events a day):
PostgreSQL sends a day's events as a few packed values that numpy and pyarrow read in
place (:func:`read_events`), the next days are read in threads while this one is
aggregated (:func:`events_by_day`), the visit tables come from one integer sort and
counts (:func:`visit_tables`), and bookings and published time are read once for the
range.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from sqlalchemy import Engine, and_, delete, insert, or_, select

from connectors.store.db import engine_for, write_session_scope
from connectors.store.models import (
    DEVICES,
    VISIT_FUNNEL,
    VISIT_PAGES,
    Booking,
    FreeRange,
    StatsBookingDaily,
    StatsCampaignDaily,
    StatsDeviceDaily,
    StatsFunnelDaily,
    StatsSourceDaily,
    StatsUtilisationDaily,
    StatsVisitsDaily,
    VisitEvent,
)
from connectors.store.visits import forget_old_salts
from opus_online.config import get_settings

VISIT_GAP = timedelta(minutes=30)
DIRECT = "(direkt)"

TABLES = {
    "visits": StatsVisitsDaily,
    "funnel": StatsFunnelDaily,
    "sources": StatsSourceDaily,
    "devices": StatsDeviceDaily,
    "bookings": StatsBookingDaily,
    "campaigns": StatsCampaignDaily,
    "utilisation": StatsUtilisationDaily,
}


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The day's first moment and the next day's, in UTC (midnight always exists in
    Stockholm; the clocks change at 02:00 and 03:00)."""
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


# -- reading -------------------------------------------------------------------------------

EVENT_COLUMNS = ["tenant_id", "at_us", "visitor", "page", "source", "device"]
PAGE_TYPE = pd.CategoricalDtype(VISIT_PAGES, ordered=True)
DEVICE_TYPE = pd.CategoricalDtype(DEVICES, ordered=True)


def read_events(engine: Engine, start: datetime, end: datetime) -> pd.DataFrame:
    """The events in [start, end), a row each: ``at_us`` in microseconds since the
    epoch (UTC); ``page``, ``device`` and ``source`` categorical, a missing or empty
    source :data:`DIRECT`. Rows come in no particular order."""
    if engine.dialect.name == "postgresql":
        return _unpack(_fetch_packed(engine, start, end))
    return _read_event_rows(engine, start, end)


def _read_event_rows(engine: Engine, start: datetime, end: datetime) -> pd.DataFrame:
    """:func:`read_events` through the ORM's rows: any store, slowly."""
    query = select(
        VisitEvent.tenant_id, VisitEvent.at, VisitEvent.visitor, VisitEvent.page,
        VisitEvent.source, VisitEvent.device,
    ).where(VisitEvent.at >= start, VisitEvent.at < end)  # fmt: skip
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all(), columns=EVENT_COLUMNS)
    at = pd.to_datetime(frame["at_us"], utc=True).astype("datetime64[us, UTC]")
    source = frame["source"].astype(object).fillna("").to_numpy()
    codes, names = pd.factorize(source)
    return _events_frame(
        tenant=frame["tenant_id"].to_numpy(np.int64),
        at_us=at.astype("int64").to_numpy(),
        visitor=frame["visitor"].to_numpy(np.int64),
        page=pd.Categorical(frame["page"], dtype=PAGE_TYPE),
        device=pd.Categorical(frame["device"], dtype=DEVICE_TYPE),
        source=_source_categorical(codes, list(names)),
    )


# PostgreSQL sends the events of [start, end) as ONE row of a few long values, built
# by string_agg in one pass over the rows (so the values' orders agree), which numpy
# and pyarrow read in place. COPY, or any row-per-event protocol, costs the client a
# Python step per event: on a day of a third of a million events that alone took as
# long as the whole aggregation. The values, chosen for the server's CPU (the limit):
#  - the numbers: per event 24 bytes of big-endian binary (tenant, time, visitor, the
#    source's length), one concatenation per event rather than an aggregate each;
#  - pages and devices: their names, comma-separated (cheaper for the server than
#    padding them to a fixed width or coding them as numbers);
#  - sources: their UTF-8 bytes, joined; the lengths say where each ends.
_PACKED_EVENTS = """
SELECT string_agg(int4send(tenant_id) || timestamptz_send(at) || int8send(visitor)
                  || int4send(coalesce(octet_length(source), 0)), ''),
       convert_to(string_agg(page, ','), 'UTF8'),
       convert_to(string_agg(device, ','), 'UTF8'),
       convert_to(string_agg(source, ''), 'UTF8')
FROM visit_event WHERE at >= %s AND at < %s
"""
_PACKED_NUMBERS = np.dtype(
    [("tenant", ">i4"), ("at", ">i8"), ("visitor", ">i8"), ("source_length", ">i4")]
)
_PG_EPOCH_US = 946_684_800_000_000
"""2000-01-01 in microseconds since 1970: PostgreSQL's binary timestamps count from it."""

Packed = tuple[bytes | None, bytes | None, bytes | None, bytes | None]
"""A row of :data:`_PACKED_EVENTS` (all None if there are no events)."""


def _fetch_packed(engine: Engine, start: datetime, end: datetime) -> list[Packed]:
    """The packed row of [start, end); or, where a value would pass PostgreSQL's limit
    of 1 GB (some 40 million events), those of its halves."""
    import psycopg

    try:
        return [_fetch_one(engine, start, end)]
    except psycopg.errors.ProgramLimitExceeded:
        if end - start < timedelta(seconds=2):
            raise
    middle = start + (end - start) / 2
    return _fetch_packed(engine, start, middle) + _fetch_packed(engine, middle, end)


def _fetch_one(engine: Engine, start: datetime, end: datetime) -> Packed:
    raw = engine.raw_connection()
    try:
        with raw.cursor(binary=True) as cursor:
            return cursor.execute(_PACKED_EVENTS, (start, end)).fetchone()
    finally:
        raw.close()


def _unpack(rows: list[Packed]) -> pd.DataFrame:
    numbers = np.frombuffer(b"".join(row[0] or b"" for row in rows), _PACKED_NUMBERS)
    text = b"".join(row[3] or b"" for row in rows)
    if numbers["source_length"].sum() != len(text):
        raise ValueError("the sources' lengths do not add up")

    def codes(column: int, names: tuple[str, ...]) -> np.ndarray:
        joined = b",".join(row[column] for row in rows if row[column])
        return _name_codes(joined, names, len(numbers))

    return _events_frame(
        tenant=numbers["tenant"].astype(np.int64),
        at_us=numbers["at"].astype(np.int64) + _PG_EPOCH_US,
        visitor=numbers["visitor"].astype(np.int64),
        page=pd.Categorical.from_codes(codes(1, VISIT_PAGES), dtype=PAGE_TYPE),
        device=pd.Categorical.from_codes(codes(2, DEVICES), dtype=DEVICE_TYPE),
        source=_packed_sources(numbers["source_length"], text),
    )


def _name_codes(joined: bytes, names: tuple[str, ...], count: int) -> np.ndarray:
    """``count`` comma-separated names as their indices in ``names``. Each name with
    its comma is a slice of one buffer: an Arrow array on it, without copying, and
    pyarrow's hash lookup (names have no commas: the columns' checks list them)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if count == 0:
        return np.zeros(0, dtype=np.int8)
    data = joined + b","
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord(",")) + 1
    if len(ends) != count:
        raise ValueError(f"{len(ends)} names for {count} events")
    offsets = np.zeros(count + 1, dtype=np.int64)
    offsets[1:] = ends
    values = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), count, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    known = pa.array([f"{name},".encode() for name in names], pa.large_binary())
    found = pc.index_in(values, value_set=known)
    if found.null_count:
        raise ValueError(f"a value that is none of {names}")
    return found.to_numpy().astype(np.int8)


def _packed_sources(lengths: np.ndarray, text: bytes) -> pd.Categorical:
    """The sources from their joined UTF-8 bytes and lengths (0 for none), as an
    Arrow string array on those buffers, then dictionary-encoded."""
    import pyarrow as pa

    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    strings = pa.LargeStringArray.from_buffers(
        len(lengths), pa.py_buffer(offsets), pa.py_buffer(text)
    )
    encoded = strings.dictionary_encode()
    return _source_categorical(encoded.indices.to_numpy(), encoded.dictionary.to_pylist())


def _source_categorical(codes: np.ndarray, names: list[str | None]) -> pd.Categorical:
    """Codes into ``names`` as a categorical of sorted names, none or empty as DIRECT
    (one category with a stored "(direkt)", should there be one)."""
    categories, remap = np.unique(
        np.asarray([name or DIRECT for name in names], dtype=object), return_inverse=True
    )
    return pd.Categorical.from_codes(remap[codes], categories=categories)


def _events_frame(
    *,
    tenant: np.ndarray,
    at_us: np.ndarray,
    visitor: np.ndarray,
    page: pd.Categorical,
    source: pd.Categorical,
    device: pd.Categorical,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tenant_id": tenant,
            "at_us": at_us,
            "visitor": visitor,
            "page": page,
            "source": source,
            "device": device,
        }
    )


def read_bookings(engine: Engine, start: datetime, end: datetime) -> pd.DataFrame:
    """Bookings confirmed, cancelled or (conflicts) created in [start, end)."""

    def within(column):
        return and_(column >= start, column < end)

    query = select(
        Booking.tenant_id, Booking.clinic_id, Booking.practitioner_id, Booking.treatment_id,
        Booking.channel, Booking.status, Booking.campaign_code, Booking.rebooked_from_id,
        Booking.created_at, Booking.confirmed_at, Booking.cancelled_at, Booking.starts_at,
    ).where(
        or_(
            within(Booking.confirmed_at),
            within(Booking.cancelled_at),
            and_(Booking.status == "conflict", within(Booking.created_at)),
        )
    )  # fmt: skip
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    frame = pd.DataFrame(rows, columns=list(query.selected_columns.keys()))
    for column in ("created_at", "confirmed_at", "cancelled_at", "starts_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def read_time(engine: Engine, start: datetime, end: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Free ranges and confirmed bookings overlapping [start, end)."""
    ranges = select(
        FreeRange.tenant_id, FreeRange.clinic_id, FreeRange.practitioner_id,
        FreeRange.starts_at, FreeRange.ends_at,
    ).where(FreeRange.starts_at < end, FreeRange.ends_at > start)  # fmt: skip
    booked = select(
        Booking.tenant_id, Booking.clinic_id, Booking.practitioner_id,
        Booking.starts_at, Booking.ends_at,
    ).where(
        Booking.status == "confirmed", Booking.starts_at < end, Booking.ends_at > start
    )  # fmt: skip
    columns = ["tenant_id", "clinic_id", "practitioner_id", "starts_at", "ends_at"]
    with engine.connect() as connection:
        free = pd.DataFrame(connection.execute(ranges).all(), columns=columns)
        taken = pd.DataFrame(connection.execute(booked).all(), columns=columns)
    return free, taken


# -- the day's tables --------------------------------------------------------------------------


def visit_tables(events: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Visits, funnel, sources and devices of one day's events (any tenants).

    numpy does the work on integer codes: one sort of the events by tenant, visitor
    and time marks each visitor's first page view and each visit's; everything else is
    counting (``bincount``) over those marks. pandas' grouping of the events by
    tenant, visitor and page did the same several times over and was most of the
    day's time."""
    if events.empty:
        return {name: pd.DataFrame() for name in ("visits", "funnel", "sources", "devices")}
    tenant, tenant_ids = pd.factorize(events["tenant_id"].to_numpy(), sort=True)
    # A visitor hash is unique only within its tenant (each has its own salt), so a
    # "person" is the pair, numbered densely enough for one sort key.
    visitor = pd.factorize(events["visitor"].to_numpy())[0]
    person = tenant.astype(np.int64) * (int(visitor.max()) + 1) + visitor
    at = events["at_us"].to_numpy()
    page = events["page"].cat.codes.to_numpy()
    device = events["device"].cat.codes.to_numpy()
    source = events["source"].cat
    order = _by_person_and_time(person, at, page, device, source.codes.to_numpy())
    person, at, tenant = person[order], at[order], tenant[order]

    first_view = _run_starts(person)  # a person's first page view of the day
    new_visit = first_view.copy()
    new_visit[1:] |= np.diff(at) > VISIT_GAP // timedelta(microseconds=1)
    # Persons numbered 0.. in sorted order, so grouped by tenant (the key's high part).
    person_no = np.cumsum(first_view) - 1
    person_tenant = tenant[first_view]
    n = len(tenant_ids)

    visits = pd.DataFrame(
        {
            "tenant_id": tenant_ids.astype(np.int64),
            "pageviews": np.bincount(tenant, minlength=n),
            "visits": np.bincount(tenant[new_visit], minlength=n),
            "visitors": np.bincount(person_tenant, minlength=n),
        }
    )
    funnel = _funnel(
        tenant_ids, visits["visitors"].to_numpy(), person_no, person_tenant, page[order]
    )
    entry = order[new_visit]  # the rows (in ``events``) that begin a visit
    return {
        "visits": visits,
        "funnel": funnel,
        "sources": _visits_by(
            tenant_ids, person_tenant, person_no[new_visit],
            source.codes.to_numpy()[entry], list(source.categories), "source",
        ),
        "devices": _visits_by(
            tenant_ids, person_tenant, person_no[new_visit],
            device[entry], list(DEVICES), "device",
        ),
    }  # fmt: skip


def _by_person_and_time(person: np.ndarray, at: np.ndarray, *ties: np.ndarray) -> np.ndarray:
    """The order of the events by person, then time: one argsort of an int64 key
    (person in the high bits, time since the first event in the low ones; numpy sorts
    int64 with SIMD, over ten times faster than a lexsort), or a lexsort if it won't
    fit. A person's views in the same microsecond are ordered by ``ties`` too, so that
    which one begins a visit doesn't depend on the order the store returned them in."""
    since = at - at.min()
    bits = int(since.max()).bit_length()
    if int(person.max()).bit_length() + bits <= 62:
        key = (person << bits) | since
        order = np.argsort(key)
        if not _run_starts(key[order]).all():  # rare: a person's simultaneous views
            order = np.lexsort((*reversed(ties), at, person))
        return order
    return np.lexsort((*reversed(ties), at, person))


def _run_starts(values: np.ndarray) -> np.ndarray:
    """True where a sorted array's value differs from the one before."""
    starts = np.empty(len(values), dtype=bool)
    starts[:1] = True
    np.not_equal(values[1:], values[:-1], out=starts[1:])
    return starts


def _distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values (np.unique, without its extra work)."""
    values = np.sort(values)
    return values[_run_starts(values)]


def _funnel(
    tenant_ids: np.ndarray,
    visitors: np.ndarray,
    person_no: np.ndarray,
    person_tenant: np.ndarray,
    page: np.ndarray,
) -> pd.DataFrame:
    """Per tenant: ``start`` = all visitors, then each funnel step's visitors."""
    seen = np.zeros((len(person_tenant), len(VISIT_PAGES)), dtype=bool)
    seen[person_no, page] = True
    # Persons are grouped by tenant, and every tenant here has some: sum each block.
    blocks = np.searchsorted(person_tenant, np.arange(len(tenant_ids)))
    steps = np.add.reduceat(seen, blocks, axis=0, dtype=np.int64)
    later = [VISIT_PAGES.index(step) for step in VISIT_FUNNEL[1:]]
    counts = np.column_stack([visitors, steps[:, later]])
    return pd.DataFrame(
        {
            "tenant_id": np.repeat(tenant_ids.astype(np.int64), len(VISIT_FUNNEL)),
            "step": np.tile(np.asarray(VISIT_FUNNEL, dtype=object), len(tenant_ids)),
            "visitors": counts.ravel().astype(np.int64),
        }
    )


def _visits_by(
    tenant_ids: np.ndarray,
    person_tenant: np.ndarray,
    person_no: np.ndarray,
    value: np.ndarray,
    names: list[str],
    column: str,
) -> pd.DataFrame:
    """Visits and distinct visitors per tenant and ``value`` (codes into ``names``),
    from the visits' first page views (``person_no`` and ``value`` of each)."""
    width = len(names)
    value = value.astype(np.int64)
    cells = len(tenant_ids) * width
    visits = np.bincount(person_tenant[person_no] * width + value, minlength=cells)
    # A visitor counts once per value: the distinct (person, value) pairs.
    pairs = _distinct(person_no * width + value)
    visitors = np.bincount(person_tenant[pairs // width] * width + pairs % width, minlength=cells)
    used = np.flatnonzero(visits)
    return pd.DataFrame(
        {
            "tenant_id": tenant_ids[used // width].astype(np.int64),
            column: np.asarray(names, dtype=object)[used % width],
            "visits": visits[used],
            "visitors": visitors[used],
        }
    )


NO_BOOKINGS = {"bookings": pd.DataFrame(), "campaigns": pd.DataFrame()}
BOOKING_KEYS = ["tenant_id", "clinic_id", "practitioner_id", "treatment_id", "channel"]
BOOKING_FIGURES = [
    "booked", "rebooked", "cancelled", "conflicts", "with_campaign_code", "lead_time_minutes",
]  # fmt: skip


def booking_tables_by_day(
    bookings: pd.DataFrame, start: datetime, end: datetime, tz: ZoneInfo
) -> dict[date, dict[str, pd.DataFrame]]:
    """The bookings and campaigns tables of each local day of [start, end), whose ends
    are local midnights. A booking counts on up to three days: confirmed (booked or
    rebooked, campaign code, lead time), cancelled, and created (a conflict); each is a
    row here, and one grouping by day sums them all."""
    if bookings.empty:
        return {}
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    code = bookings["campaign_code"].fillna("").str.strip().str.upper()
    rebooking = bookings["rebooked_from_id"].notna()
    lead = (bookings["starts_at"] - bookings["confirmed_at"]).dt.total_seconds() // 60
    always = pd.Series(True, index=bookings.index)

    def counted(moment: str, when: pd.Series, **figures: pd.Series) -> pd.DataFrame:
        at = bookings[moment]
        on = when & (at >= lo) & (at < hi)
        rows = bookings.loc[on, BOOKING_KEYS].assign(
            day=at[on].dt.tz_convert(tz).dt.normalize().dt.tz_localize(None),
            campaign_code=code[on],
        )
        for figure in BOOKING_FIGURES:
            rows[figure] = figures[figure][on].astype("int64") if figure in figures else 0
        return rows

    rows = pd.concat(
        [
            counted(
                "confirmed_at", always, booked=~rebooking, rebooked=rebooking,
                with_campaign_code=code != "", lead_time_minutes=lead.fillna(0).clip(lower=0),
            ),
            counted("cancelled_at", always, cancelled=always),
            counted("created_at", bookings["status"] == "conflict", conflicts=always),
        ],
        ignore_index=True,
    )  # fmt: skip
    table = rows.groupby(["day", *BOOKING_KEYS], sort=True)[BOOKING_FIGURES].sum().reset_index()
    campaigns = (
        rows[rows["with_campaign_code"] > 0]
        .groupby(["day", "tenant_id", "clinic_id", "campaign_code"], sort=True)
        .size()
        .rename("bookings")
        .reset_index()
    )
    by_day: dict[date, dict[str, pd.DataFrame]] = {}
    for name, frame in (("bookings", table), ("campaigns", campaigns)):
        for day, rows_of_day in frame.groupby("day", sort=True):
            tables = by_day.setdefault(day.date(), {})
            tables[name] = rows_of_day.drop(columns="day").reset_index(drop=True)
    return by_day


UTILISATION_COLUMNS = ["tenant_id", "clinic_id", "hour", "published_minutes", "booked_minutes"]


def utilisation_by_day(
    free: pd.DataFrame, taken: pd.DataFrame, start: datetime, end: datetime, tz: ZoneInfo
) -> dict[date, pd.DataFrame]:
    """Published and booked minutes per local day, tenant, clinic and local hour of
    [start, end), whose ends are local midnights: the intervals are joined once for
    the whole span (a union clipped to a day is the union of the clipped intervals)."""
    if free.empty and taken.empty:
        return {}
    keys = ["tenant_id", "clinic_id", "practitioner_id"]
    published = _merge(pd.concat([free, taken], ignore_index=True), keys)
    minutes = _hour_minutes(published, start, end, tz).rename("published_minutes")
    booked = _hour_minutes(_merge(taken, keys), start, end, tz).rename("booked_minutes")
    table = pd.concat([minutes, booked], axis=1).fillna(0).astype("int64").reset_index()
    return {
        day.date(): rows[UTILISATION_COLUMNS].reset_index(drop=True)
        for day, rows in table.groupby("day", sort=True)
    }


def _merge(intervals: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Overlapping or touching intervals of each key joined into one (so that a
    booking still inside a free range is not counted twice)."""
    if intervals.empty:
        return intervals
    frame = intervals.copy()
    frame["starts_at"] = pd.to_datetime(frame["starts_at"], utc=True)
    frame["ends_at"] = pd.to_datetime(frame["ends_at"], utc=True)
    frame = frame.sort_values([*keys, "starts_at"], ignore_index=True)
    reach = frame.groupby(keys, sort=False)["ends_at"].cummax()
    previous = reach.groupby([frame[k] for k in keys], sort=False).shift()
    starts = previous.isna() | (frame["starts_at"] > previous)
    frame["run"] = starts.cumsum()
    return (
        frame.groupby("run")
        .agg({**{k: "first" for k in keys}, "starts_at": "min", "ends_at": "max"})
        .reset_index(drop=True)
    )


def _hour_minutes(
    intervals: pd.DataFrame, start: datetime, end: datetime, tz: ZoneInfo
) -> pd.Series:
    """Minutes of ``intervals`` within [start, end) per (local day, tenant, clinic,
    local hour). Stockholm's offsets are whole hours, so UTC hour boundaries are local
    ones, and a piece of one UTC hour lies within one local day."""
    index = ["day", "tenant_id", "clinic_id", "hour"]
    if intervals.empty:
        return pd.Series(dtype="int64", index=pd.MultiIndex.from_tuples([], names=index))

    def naive(column: str) -> np.ndarray:  # UTC as numpy datetime64, for the arithmetic
        values = pd.to_datetime(intervals[column], utc=True).dt.tz_localize(None)
        return values.to_numpy(dtype="datetime64[us]")

    hour = np.timedelta64(1, "h")
    lo = np.maximum(naive("starts_at"), np.datetime64(start.replace(tzinfo=None), "us"))
    hi = np.minimum(naive("ends_at"), np.datetime64(end.replace(tzinfo=None), "us"))
    keep = hi > lo
    lo, hi = lo[keep], hi[keep]
    first = lo.astype("datetime64[h]")
    count = -((first - hi) // hour)  # ceil: the hours the interval touches
    rows = np.repeat(np.arange(len(lo)), count)
    step = np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
    hour_start = first[rows].astype("datetime64[us]") + step * hour
    piece_lo = np.maximum(lo[rows], hour_start)
    piece_hi = np.minimum(hi[rows], hour_start + hour)
    local = pd.DatetimeIndex(hour_start).tz_localize(UTC).tz_convert(tz)
    pieces = pd.DataFrame(
        {
            "day": local.normalize().tz_localize(None),
            "tenant_id": intervals["tenant_id"].to_numpy()[keep][rows],
            "clinic_id": intervals["clinic_id"].to_numpy()[keep][rows],
            "hour": local.hour,
            "minutes": (piece_hi - piece_lo) // np.timedelta64(1, "m"),
        }
    )
    return pieces.groupby(index)["minutes"].sum()


# -- the flow ----------------------------------------------------------------------------------


@dataclass
class DayTables:
    day: date
    events: int
    tables: dict[str, pd.DataFrame]


READ_AHEAD = 2
"""On PostgreSQL, days of events read at once (each in its own thread and connection)
while the day before them is aggregated. Packing a day is the server's work and the
larger part (some 125 ms of its CPU for a third of a million events, against 60 ms
here): with two readers it runs on both cores while this process waits. Measured on
2 cores, 10 million events: 2.4-2.6 million a second with two or more, 1.8 with one."""


def events_by_day(
    engine: Engine, bounds: list[tuple[datetime, datetime]]
) -> Iterator[pd.DataFrame]:
    """Each span's events in turn. On PostgreSQL the next spans are read in threads
    while the caller aggregates this one: the server packs them on another core, and
    the driver and numpy release the GIL while they wait and copy."""
    if engine.dialect.name != "postgresql" or READ_AHEAD < 1:
        yield from (read_events(engine, start, end) for start, end in bounds)
        return
    spans = iter(bounds)
    with ThreadPoolExecutor(READ_AHEAD, thread_name_prefix="visit-stats-read") as pool:
        reading: deque[Future[pd.DataFrame]] = deque()

        def read_next() -> None:
            for start, end in spans:
                reading.append(pool.submit(read_events, engine, start, end))
                return

        for _ in range(READ_AHEAD + 1):
            read_next()
        while reading:
            events = reading.popleft().result()
            read_next()
            yield events


def write_days(engine: Engine, results: list[DayTables]) -> None:
    """Replace the days' rows of every table, in one transaction."""
    if not results:
        return
    days_written = [result.day for result in results]
    with write_session_scope(engine) as session:
        for name, model in TABLES.items():
            session.execute(delete(model).where(model.day.in_(days_written)))
            frames = [
                frame.assign(day=result.day)
                for result in results
                if (frame := result.tables.get(name)) is not None and not frame.empty
            ]
            if frames:
                rows = pd.concat(frames, ignore_index=True).to_dict("records")
                session.execute(insert(model), [_plain(row) for row in rows])


def _plain(row: dict) -> dict:
    """numpy scalars to Python ones, which every driver takes."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}


def days(start: date, end: date) -> Iterable[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def run_days(engine: Engine, start: date, end: date, tz: ZoneInfo) -> list[DayTables]:
    """Build every day from ``start`` to ``end`` (inclusive) and write them."""
    every_day = list(days(start, end))
    if not every_day:
        return []
    bounds = [day_bounds(day, tz) for day in every_day]
    first, last = bounds[0][0], bounds[-1][1]
    # Bookings and published time once for the range: per day, the queries' fixed
    # costs were as much as a small day's events.
    bookings = booking_tables_by_day(read_bookings(engine, first, last), first, last, tz)
    utilisation = utilisation_by_day(*read_time(engine, first, last), first, last, tz)
    results = []
    for day, events in zip(every_day, events_by_day(engine, bounds), strict=True):
        tables = visit_tables(events)
        tables.update(NO_BOOKINGS | bookings.get(day, {}))
        tables["utilisation"] = utilisation.get(day, pd.DataFrame(columns=UTILISATION_COLUMNS))
        results.append(DayTables(day, len(events), tables))
    write_days(engine, results)
    return results


@flow(name="visit-stats")
def visit_stats(start: date | None = None, end: date | None = None) -> int:
    """The daily tables for ``start``..``end`` (local days, inclusive); by default
    yesterday and today. Returns the number of events read."""
    settings = get_settings()
    tz = ZoneInfo(settings.timezone)
    engine = engine_for(settings.resolved_store_url)
    today = datetime.now(tz).date()
    start = start or today - timedelta(days=1)
    end = end or today
    results = run_days(engine, start, end, tz)
    forgotten = forget_old_salts(engine, today)
    get_run_logger().info("visit stats %s..%s; %d old salts deleted", start, end, forgotten)
    create_table_artifact(
        key="visit-stats",
        table=[
            {
                "dag": r.day.isoformat(),
                "händelser": r.events,
                "besök": int(r.tables["visits"]["visits"].sum()) if len(r.tables["visits"]) else 0,
                "bokningar": int(r.tables["bookings"]["booked"].sum())
                if len(r.tables["bookings"])
                else 0,
            }
            for r in results
        ],
        description="Besöks- och bokningsstatistik per dag",
    )
    return sum(r.events for r in results)
