"""The time step page kept rendered while nothing it shows can have changed.

A time step page answered from memory (:mod:`booking_app.memory_only`) is a function
of the tenant's row (its settings and texts), its snapshot (free times, bookings,
lookups), the query (choices, week, month, language) and the clock. The first two are
compared by identity: a sync, a hold or an operator's change makes new ones (their
counters move), so a page made from the old ones is never given again. The clock
counts only through the minimum notice, the publishing horizon, today's date (all
whole minutes against the clock) and holds expiring; so a page is given again within
the minute it was made in, and not from the moment the first of the tenant's holds
that was still holding then expires. Only pages for visitors who are not logged in
are kept; what belongs to one request (the form's CSRF token, the visit tags with
their Do-Not-Track choice) is left out, as a marker, and filled in per request.

Memory is bounded in bytes, oldest use out first; pages past their minute are dropped
when met.
"""

from __future__ import annotations

import secrets
import threading
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup

from booking_app.api.snapshots import TenantAvailability
from connectors.store.models import Tenant

MAX_BYTES = 64 * 1024 * 1024
"""The same budget as the API's answers (``answer_cache_max_bytes``' default)."""
ENTRY_OVERHEAD = 300
_MINUTE = timedelta(minutes=1)

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
        self, tenant: Tenant, query: str, snapshot: TenantAvailability, now: datetime, html: str
    ) -> None:
        minute = now.replace(second=0, microsecond=0)
        if minute == now:
            # On the minute itself a time that starts now (after the notice) is still
            # bookable; a microsecond later it is not: such a page stays unkept.
            return
        valid_until = min(minute + _MINUTE, self._next_expiry(tenant.id, snapshot, now))
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
