"""Daily visit and booking statistics for the analysts' dashboards.

For each local day (Europe/Stockholm: a DST day has 23 or 25 hours) the flow reads that
day's visit events and bookings from the store, builds the ``stats_*_daily`` tables
with pandas, and replaces the day's rows in one transaction: re-running a day, or any
range of days, gives the same tables. :func:`build_day` and :func:`run_days` are the
work, usable without Prefect; the ``visit-stats`` flow wraps them for the Prefect UI.

Definitions (the dashboards say the same):
- a *visit* is a visitor's page views with no gap over :data:`VISIT_GAP`;
- a visit's *source* and *device* are those of its first page view;
- funnel ``start`` counts every visitor of the day, each other step the visitors who
  saw that step's page;
- bookings count on the day they were confirmed (``booked``/``rebooked``), cancelled
  (``cancelled``) or created (``conflicts``, those that ended in conflict);
- utilisation: per appointment day and local hour, booked minutes of confirmed
  bookings over published minutes (free ranges joined with the booked time cut from
  them: once written back, Opus no longer lists a booked time as free).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from sqlalchemy import Engine, and_, delete, insert, or_, select

from connectors.store.db import engine_for, session_scope
from connectors.store.models import (
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


def read_events(engine: Engine, start: datetime, end: datetime) -> pd.DataFrame:
    """The events in [start, end): ``at_us`` as microseconds since the epoch (UTC).
    PostgreSQL streams them with COPY and pyarrow parses the CSV: a row at a time
    through the driver would be ten times slower on the day's millions."""
    if engine.dialect.name == "postgresql":
        return _read_events_copy(engine, start, end)
    query = select(
        VisitEvent.tenant_id, VisitEvent.at, VisitEvent.visitor, VisitEvent.page,
        VisitEvent.source, VisitEvent.device,
    ).where(VisitEvent.at >= start, VisitEvent.at < end)  # fmt: skip
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all(), columns=EVENT_COLUMNS)
    at = pd.to_datetime(frame["at_us"], utc=True)
    frame["at_us"] = at.astype("datetime64[us, UTC]").astype("int64")
    return _typed(frame)


def _read_events_copy(engine: Engine, start: datetime, end: datetime) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    sql = (
        "COPY (SELECT tenant_id, (extract(epoch FROM at) * 1000000)::bigint, visitor, "
        "page, source, device FROM visit_event WHERE at >= %s AND at < %s) "
        "TO STDOUT (FORMAT csv)"
    )
    buffer = io.BytesIO()
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor, cursor.copy(sql, (start, end)) as copy:
            for chunk in copy:
                buffer.write(chunk)
    finally:
        raw.close()
    if buffer.tell() == 0:
        return _typed(pd.DataFrame({c: [] for c in EVENT_COLUMNS}))
    buffer.seek(0)
    table = pacsv.read_csv(
        buffer,
        read_options=pacsv.ReadOptions(column_names=EVENT_COLUMNS),
        convert_options=pacsv.ConvertOptions(
            column_types={
                "tenant_id": pa.int32(),
                "at_us": pa.int64(),
                "visitor": pa.int64(),
                "page": pa.dictionary(pa.int32(), pa.string()),
                "source": pa.string(),
                "device": pa.dictionary(pa.int32(), pa.string()),
            },
            strings_can_be_null=True,
        ),
    )
    return _typed(table.to_pandas())


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(
        {
            "tenant_id": "int32",
            "at_us": "int64",
            "visitor": "int64",
            # ordered: an unordered dtype with the same categories in another order
            # counts as equal, and astype would then keep pyarrow's codes.
            "page": pd.CategoricalDtype(VISIT_PAGES, ordered=True),
            "device": pd.CategoricalDtype(("mobile", "tablet", "desktop"), ordered=True),
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
    return pd.DataFrame(rows, columns=list(query.selected_columns.keys()))


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
    """Visits, funnel, sources and devices of one day's events (any tenants)."""
    if events.empty:
        return {name: pd.DataFrame() for name in ("visits", "funnel", "sources", "devices")}
    tenant = events["tenant_id"].to_numpy()
    visitor = events["visitor"].to_numpy()
    at = events["at_us"].to_numpy()
    order = np.lexsort((at, visitor, tenant))
    tenant, visitor, at = tenant[order], visitor[order], at[order]
    page = events["page"].cat.codes.to_numpy()[order]
    device = events["device"].cat.codes.to_numpy()[order]
    source = events["source"].to_numpy(dtype=object)[order]

    new_visitor = np.ones(len(order), dtype=bool)
    new_visitor[1:] = (tenant[1:] != tenant[:-1]) | (visitor[1:] != visitor[:-1])
    new_visit = new_visitor.copy()
    new_visit[1:] |= (at[1:] - at[:-1]) > VISIT_GAP // timedelta(microseconds=1)

    per_tenant = pd.DataFrame(
        {"tenant_id": tenant, "new_visit": new_visit, "new_visitor": new_visitor}
    ).groupby("tenant_id", sort=True)
    visits = pd.DataFrame(
        {
            "pageviews": per_tenant.size(),
            "visits": per_tenant["new_visit"].sum(),
            "visitors": per_tenant["new_visitor"].sum(),
        }
    ).reset_index()

    seen = pd.DataFrame({"tenant_id": tenant, "visitor": visitor, "page": page})
    seen = seen.drop_duplicates()
    steps = seen.groupby(["tenant_id", "page"]).size()
    funnel_rows = []
    for tenant_id, row in visits.set_index("tenant_id").iterrows():
        funnel_rows.append((tenant_id, "start", int(row["visitors"])))
        for code, step in enumerate(VISIT_PAGES):
            if step in VISIT_FUNNEL[1:]:
                funnel_rows.append((tenant_id, step, int(steps.get((tenant_id, code), 0))))
    funnel = pd.DataFrame(funnel_rows, columns=["tenant_id", "step", "visitors"])
    funnel = funnel.astype({"tenant_id": "int64", "visitors": "int64"})

    entries = pd.DataFrame(
        {
            "tenant_id": tenant[new_visit],
            "visitor": visitor[new_visit],
            "source": pd.Series(source[new_visit], dtype=object).fillna(DIRECT).to_numpy(),
            "device": np.asarray(("mobile", "tablet", "desktop"), dtype=object)[device[new_visit]],
        }
    )
    return {
        "visits": visits,
        "funnel": funnel,
        "sources": _visits_by(entries, "source"),
        "devices": _visits_by(entries, "device"),
    }


def _visits_by(entries: pd.DataFrame, column: str) -> pd.DataFrame:
    grouped = entries.groupby(["tenant_id", column], sort=True)
    return pd.DataFrame(
        {"visits": grouped.size(), "visitors": grouped["visitor"].nunique()}
    ).reset_index()


def booking_tables(
    bookings: pd.DataFrame, start: datetime, end: datetime
) -> dict[str, pd.DataFrame]:
    keys = ["tenant_id", "clinic_id", "practitioner_id", "treatment_id", "channel"]
    if bookings.empty:
        return {"bookings": pd.DataFrame(), "campaigns": pd.DataFrame()}
    frame = bookings.copy()
    for column in ("created_at", "confirmed_at", "cancelled_at", "starts_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)

    def within(column: str) -> pd.Series:
        return (frame[column] >= lo) & (frame[column] < hi)

    confirmed = within("confirmed_at")
    rebooking = frame["rebooked_from_id"].notna()
    code = frame["campaign_code"].fillna("").str.strip().str.upper()
    lead = (frame["starts_at"] - frame["confirmed_at"]).dt.total_seconds() // 60
    frame = frame.assign(
        booked=(confirmed & ~rebooking).astype("int64"),
        rebooked=(confirmed & rebooking).astype("int64"),
        cancelled=within("cancelled_at").astype("int64"),
        conflicts=((frame["status"] == "conflict") & within("created_at")).astype("int64"),
        with_campaign_code=(confirmed & (code != "")).astype("int64"),
        lead_time_minutes=lead.where(confirmed, 0).fillna(0).clip(lower=0).astype("int64"),
        campaign_code=code,
    )
    counts = ["booked", "rebooked", "cancelled", "conflicts", "with_campaign_code"]
    table = frame.groupby(keys, sort=True)[[*counts, "lead_time_minutes"]].sum().reset_index()
    table = table[table[counts].sum(axis=1) > 0]
    used = frame[confirmed & (code != "")]
    campaigns = (
        used.groupby(["tenant_id", "clinic_id", "campaign_code"], sort=True)
        .size()
        .rename("bookings")
        .reset_index()
    )
    return {"bookings": table, "campaigns": campaigns}


def utilisation_table(
    free: pd.DataFrame, taken: pd.DataFrame, start: datetime, end: datetime, tz: ZoneInfo
) -> pd.DataFrame:
    """Published and booked minutes per tenant, clinic and local hour of the day."""
    columns = ["tenant_id", "clinic_id", "hour", "published_minutes", "booked_minutes"]
    if free.empty and taken.empty:
        return pd.DataFrame(columns=columns)
    keys = ["tenant_id", "clinic_id", "practitioner_id"]
    published = _merge(pd.concat([free, taken], ignore_index=True), keys)
    minutes = _hour_minutes(published, start, end, tz).rename("published_minutes")
    booked = _hour_minutes(_merge(taken, keys), start, end, tz).rename("booked_minutes")
    table = pd.concat([minutes, booked], axis=1).fillna(0).astype("int64").reset_index()
    return table[columns]


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
    """Minutes of ``intervals`` within [start, end) per (tenant, clinic, local hour).
    Stockholm's offsets are whole hours, so UTC hour boundaries are local ones."""
    index = ["tenant_id", "clinic_id", "hour"]
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
    pieces = pd.DataFrame(
        {
            "tenant_id": intervals["tenant_id"].to_numpy()[keep][rows],
            "clinic_id": intervals["clinic_id"].to_numpy()[keep][rows],
            "hour": pd.DatetimeIndex(hour_start).tz_localize(UTC).tz_convert(tz).hour,
            "minutes": (piece_hi - piece_lo) // np.timedelta64(1, "m"),
        }
    )
    return pieces.groupby(index)["minutes"].sum()


@dataclass
class DayTables:
    day: date
    events: int
    tables: dict[str, pd.DataFrame]


def build_day(engine: Engine, day: date, tz: ZoneInfo) -> DayTables:
    start, end = day_bounds(day, tz)
    events = read_events(engine, start, end)
    tables = visit_tables(events)
    tables.update(booking_tables(read_bookings(engine, start, end), start, end))
    tables["utilisation"] = utilisation_table(*read_time(engine, start, end), start, end, tz)
    return DayTables(day, len(events), tables)


def write_day(engine: Engine, result: DayTables) -> None:
    """Replace the day's rows of every table, in one transaction."""
    with session_scope(engine) as session:
        for name, model in TABLES.items():
            session.execute(delete(model).where(model.day == result.day))
            frame = result.tables.get(name)
            if frame is None or frame.empty:
                continue
            rows = frame.assign(day=result.day).to_dict("records")
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
    """Build and write every day from ``start`` to ``end`` (inclusive)."""
    results = []
    for day in days(start, end):
        result = build_day(engine, day, tz)
        write_day(engine, result)
        results.append(result)
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
