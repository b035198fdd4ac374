"""The time step page kept rendered while nothing it shows can have changed.

A time step page answered from memory (:mod:`booking_app.memory_only`) is a function
of the tenant's row (its settings and texts), its snapshot (free times, bookings,
lookups), the query (choices, week, month, language) and the clock. The first two are
compared by identity: a sync, a hold or an operator's change makes new ones (their
counters move), so a page made from the old ones is never given again. The clock
counts only through the minimum notice, the publishing horizon, today's date and
holds expiring (:func:`clock_keeps_it_until`): so a page is given again until the
notice passes the first start it could show, or the horizon reaches the first start
it could not, or the day ends, or the first of the tenant's holds that was still
holding lets go. Only pages for visitors who are not logged in are kept; what belongs
to one request (the form's CSRF token, the visit tags with their Do-Not-Track choice)
is left out, as a marker, and filled in per request.

Memory is bounded in bytes, oldest use out first; pages past their time are dropped
when met.
"""

from __future__ import annotations

import secrets
import threading
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from markupsafe import Markup

from booking_app.api.snapshots import TenantAvailability
from connectors.store.availability import STOCKHOLM, months_later
from connectors.store.models import Tenant
from connectors.store.snapshot import EPOCH, GRID_ORIGIN, seconds_ceil

MAX_BYTES = 64 * 1024 * 1024
"""The same budget as the API's answers (``answer_cache_max_bytes``' default)."""
ENTRY_OVERHEAD = 300
_MINUTE = timedelta(minutes=1)
_SECOND = timedelta(seconds=1)

# Per process, random: no tenant's text can contain them by chance or by design.
CSRF_MARK = f"csrf-{secrets.token_hex(16)}"
VISIT_MARK = Markup(f"<!--visit-{secrets.token_hex(16)}-->")


@dataclass(frozen=True)
class _Page:
    tenant: Tenant
    snapshot: TenantAvailability
    valid_from: datetime
    """When it was made (a clock set back sees holds again that had expired)."""
    valid_until: datetime
    html: str


class PageCache:
    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = self.misses = 0
        self._pages: OrderedDict[tuple[int, str], _Page] = OrderedDict()
        # Per tenant: its bookings' snapshot and the expiry times of the holds in it.
        self._expiries: dict[int, tuple[object, list[datetime]]] = {}
        self._lock = threading.Lock()

    def get(
        self, tenant: Tenant, query: str, snapshot: TenantAvailability, now: datetime
    ) -> str | None:
        """The page for ``query`` if one made from ``tenant`` and ``snapshot`` is still
        right at ``now``."""
        key = (tenant.id, query)
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                self.misses += 1
                return None
            if not (
                page.tenant is tenant
                and page.snapshot is snapshot
                and page.valid_from <= now < page.valid_until
            ):
                self._drop(key)
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page.html

    def put(
        self,
        tenant: Tenant,
        query: str,
        snapshot: TenantAvailability,
        now: datetime,
        html: str,
        tz: tzinfo = STOCKHOLM,
        days: tuple[date, date] | None = None,
    ) -> None:
        """Keep ``html``, made at ``now`` from ``tenant`` and ``snapshot`` in the
        page's time zone ``tz``, for as long as it stays right. ``days``: the first day
        whose times the page shows and the day after the last (its week and its
        month), when only those times count (see :func:`clock_keeps_it_until`)."""
        settings = tenant.settings
        grid_s = snapshot.common_grid_minutes * 60
        if settings is None or not grid_s:
            return
        shows = None if days is None else tuple(_midnight(day, tz) for day in days)
        valid_until = min(
            clock_keeps_it_until(
                now, settings.min_notice_minutes, settings.months_to_sync, grid_s, tz, shows
            ),
            self._next_expiry(tenant.id, snapshot, now),
        )
        if valid_until <= now:
            return
        size = len(query) + len(html) + ENTRY_OVERHEAD
        if size > self.max_bytes:
            return
        key = (tenant.id, query)
        with self._lock:
            self._drop(key)
            self._pages[key] = _Page(tenant, snapshot, now, valid_until, html)
            self.bytes += size
            while self.bytes > self.max_bytes:
                self._drop(next(iter(self._pages)))

    def _drop(self, key: tuple[int, str]) -> None:
        page = self._pages.pop(key, None)
        if page is not None:
            self.bytes -= len(key[1]) + len(page.html) + ENTRY_OVERHEAD

    def _next_expiry(self, tenant_id: int, snapshot: TenantAvailability, now: datetime) -> datetime:
        """When the first hold of the tenant's still holding at ``now`` lets go (the
        far future when none will)."""
        taken = snapshot.taken
        kept = self._expiries.get(tenant_id)
        if kept is None or kept[0] is not taken:
            expiries = sorted(
                hold.expires_at
                for holds in taken.by_practitioner.values()
                for hold in holds
                if hold.expires_at is not None
            )
            kept = self._expiries[tenant_id] = (taken, expiries)
        expiries = kept[1]
        index = bisect_right(expiries, now)
        return expiries[index] if index < len(expiries) else datetime.max.replace(tzinfo=now.tzinfo)


def clock_keeps_it_until(
    now: datetime,
    notice_minutes: int,
    months_to_sync: int,
    grid_s: int,
    tz: tzinfo,
    shows: tuple[datetime, datetime] | None = None,
) -> datetime:
    """Until when the clock alone leaves a time step page made at ``now`` as it is
    (strictly before; ``now`` itself: not even then). ``grid_s`` is a grid every
    start of the tenant's lies on (the greatest common divisor of its clinics' grids).
    ``shows``: when only the times from ``shows[0]`` to before ``shows[1]`` count on
    the page (a week asked for, with its month); ``None``: any time may count (a page
    that opens on the first free week, or says there is none).

    Starts are shown from ``now`` plus the notice and before the horizon, ``months``
    on from ``now`` (times.py, snapshot_times.py): the first start still shown drops
    out once the notice passes it, and the first start past the horizon comes in once
    the horizon passes it. Both lie on the grid, so a page is right until the first of
    these that falls among the times it shows: at most one grid step away for this
    week's page, and never for a page of later weeks before the horizon. The day
    bounds it too (today, this week, the months' links). A clock change, today's or
    the horizon's, moves the horizon by an hour: then the minute bounds it, as it
    bounded every page before."""
    notice = timedelta(minutes=notice_minutes)
    horizon = months_later(now.astimezone(STOCKHOLM), months_to_sync)
    shown_from, shown_until = shows if shows is not None else (now, None)
    first_shown = _on_grid_from(max(now + notice, shown_from), grid_s)
    first_past = _on_grid_from(horizon, grid_s)
    until = min(first_shown - notice, _next_midnight(now, tz), _next_midnight(now, STOCKHOLM))
    if shown_until is None or first_past < shown_until:
        until = min(until, now + (first_past - horizon))
    later_horizon = months_later(until.astimezone(STOCKHOLM), months_to_sync)
    if (
        now.astimezone(STOCKHOLM).utcoffset() != until.astimezone(STOCKHOLM).utcoffset()
        or horizon.utcoffset() != later_horizon.utcoffset()
    ):
        until = min(until, now.replace(second=0, microsecond=0) + _MINUTE)
    return until


def _on_grid_from(moment: datetime, grid_s: int) -> datetime:
    """The first whole second on the grid at or after ``moment``."""
    seconds = seconds_ceil(moment)
    on_grid = GRID_ORIGIN + -((GRID_ORIGIN - seconds) // grid_s) * grid_s
    return EPOCH + on_grid * _SECOND


def _next_midnight(now: datetime, tz: tzinfo) -> datetime:
    return _midnight(now.astimezone(tz).date() + timedelta(days=1), tz)


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)
