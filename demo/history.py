"""Ninety days of the demo tenant's past, so the dashboards show shapes on first start.

The past is played through the code the app runs, with the clock set back:
- the Opus free time of the past weeks is the published week pattern repeated
  backwards, written with the sync's own ``replace_ranges`` (the next full sync
  withdraws it again, as it withdraws every range whose day is over);
- patients' page views are :class:`~connectors.store.visits.Visit` rows written with
  ``write_visits``, hashed as the tracker hashes them (with a day salt that is never
  kept, as the tracker's is forgotten the next day);
- every visitor who reaches the confirmation page made a booking on the site, and the
  API and Boka vård add theirs: each is ``hold`` + ``confirm`` at the moment it
  happened, some later ``cancel``-led or moved (``hold(replaces=…)``), some with a
  campaign code or a message;
- write-back's ``record`` notes that Opus holds them (the clinic's own past: the demo
  Opus database has no past to write into), and a few end in ``record_conflict`` as
  when reception had taken the time, so *Att hantera* has something to show;
- finally the ``visit-stats`` flow's work (:func:`flows.visit_stats.run_days`) builds
  the daily tables of the whole span.

Deterministic: one seeded generator decides everything (booking references and the
day salts aside, which are random by design and decide nothing the dashboards show).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from connectors.opus.writer import Outcome
from connectors.store import bookings as store_bookings
from connectors.store import write_back
from connectors.store.availability import bookable_times, rules_for
from connectors.store.db import session_scope, write_session_scope
from connectors.store.models import (
    Booking,
    Clinic,
    ClinicPractitioner,
    FreeRange,
    StatsVisitsDaily,
    Tenant,
    TenantSettings,
    Treatment,
    VisitEvent,
)
from connectors.store.schedules import replace_ranges
from connectors.store.visits import Visit, visitor_hash, write_visits
from demo.opus_data import FIRST_NAMES, LAST_NAMES
from flows.visit_stats import run_days
from validations.patient import luhn_check_digit

HISTORY_DAYS = 90
SEED = 19
PAST_RANGE_IDS = 9_000_000_000
"""Opus range ids of the past ranges: far above any the demo Opus database hands out."""

# The funnel after the start page: the share of those who saw the step before who went on.
FUNNEL_STEPS = ("klinik", "behandling", "behandlare", "tid", "uppgifter", "kod", "bekraftad")
GO_ON = (0.75, 0.85, 0.8, 0.7, 0.35, 0.85, 0.85)  # ... and the last to "bekraftad"
SOURCES = (None, "google", "bokavard.se", "facebook.com", "1177.se", "nyhetsbrev_mars")
SOURCE_WEIGHTS = (0.38, 0.3, 0.12, 0.08, 0.07, 0.05)
DEVICES = ("mobile", "desktop", "tablet")
DEVICE_WEIGHTS = (0.63, 0.3, 0.07)
CAMPAIGN_CODES = ("VARKOLL", "BLEKNING25", "NYPATIENT")
MESSAGES = (
    "Jag är lite tandläkarrädd.",
    "Har ont i en tand på vänster sida.",
    "Kan komma tidigare om något blir ledigt.",
)


@dataclass
class HistoryCounts:
    days: int = 0
    page_views: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    cancelled: int = 0
    rebooked: int = 0
    conflicts: int = 0
    with_campaign_code: int = 0


def needs_history(engine: Engine, subdomain: str) -> bool:
    """True until the tenant has daily statistics: a fresh demo store, or one whose
    history was stopped half-way (:func:`add_history` goes on where it stopped)."""
    with session_scope(engine) as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.subdomain == subdomain))
        if tenant_id is None:
            return False
        days = session.scalar(
            select(func.count())
            .select_from(StatsVisitsDaily)
            .where(StatsVisitsDaily.tenant_id == tenant_id)
        )
    return not days


def add_history(
    engine: Engine,
    subdomain: str,
    today: date,
    timezone: str = "Europe/Stockholm",
    days: int = HISTORY_DAYS,
    seed: int = SEED,
) -> HistoryCounts:
    """Play ``days`` days before ``today`` (local) for the tenant, then build their
    statistics. Needs the first schedule sync done: the treatments and the coming
    weeks' free ranges are the pattern the past is made of."""
    tz = ZoneInfo(timezone)
    rng = np.random.default_rng(seed)
    first = today - timedelta(days=days)
    with write_session_scope(engine) as session:
        tenant_id = session.scalars(select(Tenant.id).where(Tenant.subdomain == subdomain)).one()
        played = _days_played(session, tenant_id, first, today, tz)
        if not played:
            _publish_past_ranges(session, tenant_id, first, today, tz)
    counts = HistoryCounts(days=days)
    day = first
    while day < today:
        if day not in played:
            _play_day(engine, tenant_id, day, today, tz, rng, counts)
        day += timedelta(days=1)
    run_days(engine, first, today, tz)
    return counts


def _days_played(
    session: Session, tenant_id: int, first: date, today: date, tz: ZoneInfo
) -> set[date]:
    """Local days that already have page views (a history stopped half-way)."""
    moments = session.scalars(
        select(VisitEvent.at).where(
            VisitEvent.tenant_id == tenant_id,
            VisitEvent.at >= _at(first, time(0), tz),
            VisitEvent.at < _at(today, time(0), tz),
        )
    )
    return {m.replace(tzinfo=UTC).astimezone(tz).date() for m in moments}


# -- the past's free time ------------------------------------------------------------------


def _publish_past_ranges(
    session: Session, tenant_id: int, first: date, today: date, tz: ZoneInfo
) -> None:
    """The coming two weeks' ranges, repeated a fortnight at a time into the past
    (same local wall-clock times, so a DST change in between moves nothing)."""
    rows = session.execute(
        select(FreeRange).where(
            FreeRange.tenant_id == tenant_id,
            FreeRange.opus_range_id < PAST_RANGE_IDS,
            FreeRange.starts_at >= _at(today, time(0), tz),
            FreeRange.starts_at < _at(today + timedelta(days=14), time(0), tz),
        )
    ).scalars()

    def local(moment: datetime) -> datetime:
        return moment.replace(tzinfo=UTC).astimezone(tz)

    pattern = [
        (r.opus_database_id, r.clinic_id, r.practitioner_id, r.treatment_set_id,
         local(r.starts_at), local(r.ends_at))
        for r in rows
    ]  # fmt: skip
    past: dict[int, list[dict]] = {}
    next_id = PAST_RANGE_IDS
    for back in range(14, (today - first).days + 14, 14):
        for database_id, clinic, practitioner, treatments, starts, ends in pattern:
            starts_local = starts.replace(tzinfo=None) - timedelta(days=back)
            if not first <= starts_local.date() < today:
                continue
            ends_local = ends.replace(tzinfo=None) - timedelta(days=back)
            past.setdefault(database_id, []).append(
                {
                    "opus_database_id": database_id,
                    "opus_range_id": next_id,
                    "tenant_id": tenant_id,
                    "clinic_id": clinic,
                    "practitioner_id": practitioner,
                    "treatment_set_id": treatments,
                    "starts_at": starts_local.replace(tzinfo=tz).astimezone(UTC),
                    "ends_at": ends_local.replace(tzinfo=tz).astimezone(UTC),
                    "row_version": 0,
                }
            )
            next_id += 1
    connection = session.connection()
    for database_id, ranges in past.items():
        frame = pd.DataFrame(ranges)
        for column in ("starts_at", "ends_at"):
            frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_localize(None)
        replace_ranges(connection, database_id, np.array([], dtype=np.int64), frame)


def _at(day: date, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


# -- one day -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Catalogue:
    clinics: list[Clinic]
    treatments: list[Treatment]
    settings: TenantSettings


def _catalogue(session: Session, tenant_id: int) -> _Catalogue:
    clinics = list(
        session.scalars(
            select(Clinic)
            .where(Clinic.tenant_id == tenant_id)
            .where(
                Clinic.id.in_(
                    select(ClinicPractitioner.clinic_id).where(ClinicPractitioner.added.is_(True))
                )
            )
            .order_by(Clinic.display_order, Clinic.id)
        )
    )
    treatments = list(
        session.scalars(
            select(Treatment)
            .where(Treatment.tenant_id == tenant_id, Treatment.create_in_web.is_(True))
            .order_by(Treatment.id)
        )
    )
    settings = session.scalars(
        select(TenantSettings).where(TenantSettings.tenant_id == tenant_id)
    ).one()
    return _Catalogue(clinics, treatments, settings)


def _play_day(
    engine: Engine,
    tenant_id: int,
    day: date,
    today: date,
    tz: ZoneInfo,
    rng: np.random.Generator,
    counts: HistoryCounts,
) -> None:
    weekend = day.weekday() >= 5
    # Busier on Mondays, quiet at weekends, slowly growing over the quarter.
    growth = 1 + 0.4 * (1 - (today - day).days / HISTORY_DAYS)
    mean = (22 if weekend else 55 - 4 * day.weekday()) * growth
    salt = hashlib.sha256(f"{SEED}:{day}".encode()).digest()
    views: list[Visit] = []
    moments: list[datetime] = []
    for visitor in range(int(rng.poisson(mean))):
        at = _at(day, time(7), tz) + timedelta(minutes=float(rng.uniform(0, 15 * 60)))
        who = visitor_hash(salt, f"198.51.100.{visitor % 250}", f"demo-{visitor}")
        source = SOURCES[rng.choice(len(SOURCES), p=SOURCE_WEIGHTS)]
        device = DEVICES[rng.choice(len(DEVICES), p=DEVICE_WEIGHTS)]
        pages = ["start"]
        for step, share in zip(FUNNEL_STEPS, GO_ON, strict=True):
            if rng.random() >= share:
                break
            pages.append(step)
        for page in pages:
            views.append(Visit(tenant_id, at, who, page, f"/{page}", source, device))
            at += timedelta(seconds=float(rng.uniform(15, 120)))
        if pages[-1] == "bekraftad":
            moments.append(at)
    counts.page_views += write_visits(engine, views)
    asked = [(m, "site") for m in moments]
    for channel, per_day in (("api", 1.2), ("boka_vard", 1.0)):
        for _ in range(int(rng.poisson(per_day * (0.3 if weekend else 1)))):
            at = _at(day, time(8), tz) + timedelta(minutes=float(rng.uniform(0, 12 * 60)))
            asked.append((at, channel))
    with write_session_scope(engine) as session:
        catalogue = _catalogue(session, tenant_id)
        for at, channel in sorted(asked):
            _book(session, catalogue, tenant_id, at, channel, today, tz, rng, counts)


def _book(
    session: Session,
    catalogue: _Catalogue,
    tenant_id: int,
    at: datetime,
    channel: str,
    today: date,
    tz: ZoneInfo,
    rng: np.random.Generator,
    counts: HistoryCounts,
) -> None:
    """One booking as a patient (or an API client, or Boka vård) made it at ``at``:
    the first free time a few days on, held, confirmed, written back; then perhaps
    moved, cancelled, or refused by Opus."""
    clinic = catalogue.clinics[rng.choice(len(catalogue.clinics))]
    treatment = catalogue.treatments[rng.choice(len(catalogue.treatments))]
    rules = rules_for(catalogue.settings, treatment, clinic, at)
    from_day = (at.astimezone(tz) + timedelta(days=int(rng.geometric(0.25)))).date()
    end = _at(today, time(0), tz)
    slots = bookable_times(
        session, tenant_id, clinic.id, treatment, rules,
        _at(from_day, time(0), tz), min(end, _at(from_day + timedelta(days=7), time(0), tz)), at,
    )  # fmt: skip
    if not slots:
        return
    slot = slots[int(rng.integers(0, min(len(slots), 6)))]
    request = store_bookings.Request(
        tenant_id, clinic.id, treatment.id, slot.starts_at, slot.practitioner_id, channel=channel
    )
    try:
        booking = store_bookings.hold(session, request, at)
    except store_bookings.TimeTaken:
        return
    first, last = FIRST_NAMES[rng.choice(len(FIRST_NAMES))], LAST_NAMES[rng.choice(len(LAST_NAMES))]
    booking.first_name, booking.last_name = str(first), str(last)
    booking.personal_number = _personal_number(rng)
    if rng.random() < 0.18:
        booking.campaign_code = CAMPAIGN_CODES[rng.choice(len(CAMPAIGN_CODES))]
        counts.with_campaign_code += 1
    if rng.random() < 0.1:
        booking.message = MESSAGES[rng.choice(len(MESSAGES))]
    confirmed_at = at + timedelta(minutes=2)
    store_bookings.confirm(session, booking, confirmed_at)
    counts.by_channel[channel] = counts.by_channel.get(channel, 0) + 1
    if rng.random() < 0.015:
        _opus_refuses(session, booking, confirmed_at + timedelta(seconds=5), tz)
        counts.conflicts += 1
        return
    _opus_holds(session, booking, confirmed_at + timedelta(seconds=2), tz)
    later = confirmed_at + (slot.starts_at - confirmed_at) * float(rng.uniform(0.2, 0.9))
    draw = rng.random()
    if draw < 0.09:
        store_bookings.cancel(session, booking, later)
        _opus_holds(session, booking, later + timedelta(seconds=2), tz)
        counts.cancelled += 1
    elif draw < 0.14:
        _move(session, catalogue, booking, treatment, clinic, later, today, tz, rng, counts)


def _move(
    session: Session,
    catalogue: _Catalogue,
    booking: Booking,
    treatment: Treatment,
    clinic: Clinic,
    at: datetime,
    today: date,
    tz: ZoneInfo,
    rng: np.random.Generator,
    counts: HistoryCounts,
) -> None:
    """*Boka om*: a later free time with the same practitioner."""
    rules = rules_for(catalogue.settings, treatment, clinic, at)
    slots = bookable_times(
        session, booking.tenant_id, clinic.id, treatment, rules,
        booking.starts_at + timedelta(days=1), _at(today, time(0), tz), at,
        [booking.practitioner_id],
    )  # fmt: skip
    if not slots:
        return
    slot = slots[int(rng.integers(0, min(len(slots), 4)))]
    request = store_bookings.Request(
        booking.tenant_id, clinic.id, treatment.id, slot.starts_at, slot.practitioner_id,
        channel=booking.channel,
    )  # fmt: skip
    try:
        moved = store_bookings.hold(session, request, at, replaces=booking)
    except store_bookings.TimeTaken:
        return
    store_bookings.confirm(session, moved, at + timedelta(minutes=1))
    _opus_holds(session, moved, at + timedelta(minutes=1, seconds=2), tz)
    counts.rebooked += 1


def _opus_holds(session: Session, booking: Booking, now: datetime, tz: ZoneInfo) -> None:
    """Write-back's record of a change Opus took (appointment ids as Opus numbers them)."""
    change = write_back.plan(session, booking.id, str(tz))
    done = "cancelled" if change.action == "cancel" else "created"
    outcome = Outcome(done=done, appointment_id=700_000 + booking.id)
    write_back.record(session, change, outcome, now)
    session.refresh(booking)


def _opus_refuses(session: Session, booking: Booking, now: datetime, tz: ZoneInfo) -> None:
    change = write_back.plan(session, booking.id, str(tz))
    outcome = Outcome(done="conflict", conflict="taken_in_opus")
    write_back.record_conflict(session, change, outcome, now)


def _personal_number(rng: np.random.Generator) -> str:
    born = date(1950, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 55)))
    nine = f"{born:%y%m%d}{int(rng.integers(0, 1000)):03d}"
    return f"{born:%Y%m%d}{nine[6:]}{luhn_check_digit(nine)}"


def main() -> int:
    """``python -m demo.history``: the demo runner starts it after the first sync, next
    to the other processes, so the demo is up while the past is still being played."""
    from connectors.store.db import engine_for
    from demo.store_seed import DEMO_SUBDOMAIN
    from opus_online.config import get_settings

    settings = get_settings()
    engine = engine_for(settings.resolved_store_url)
    if not needs_history(engine, DEMO_SUBDOMAIN):
        return 0
    tz = ZoneInfo(settings.timezone)
    counts = add_history(engine, DEMO_SUBDOMAIN, datetime.now(tz).date(), settings.timezone)
    booked = ", ".join(f"{n} {channel}" for channel, n in sorted(counts.by_channel.items()))
    print(
        f"Demo history: {counts.days} days, {counts.page_views} page views, bookings {booked}"
        f" ({counts.cancelled} cancelled, {counts.rebooked} moved, {counts.conflicts} refused"
        " by Opus); the Statistik tab shows them.",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
