"""Reading the availability version counters (see :class:`AvailabilityVersion`).

An app process keeps each tenant's availability in memory and polls this a few times
a second: a counter that moved since the last poll means that tenant's snapshot is
stale (``reference``: reload what decides free times; ``bookings``: reload bookings).
The counters are the database's own (triggers of migration 0010); nothing here writes.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from connectors.store.models import AvailabilityVersion

_VERSIONS = select(
    AvailabilityVersion.tenant_id, AvailabilityVersion.topic, AvailabilityVersion.version
)


def versions(session: Session) -> dict[tuple[int, str], int]:
    """Every tenant's counters: (tenant_id, topic) -> version.

    One small table read whole (two rows per tenant), so that a poll costs one round
    trip however many tenants there are. Compare with the previous poll's result; a
    tenant missing from it is new, one missing from this one was deleted."""
    return {(tenant_id, topic): version for tenant_id, topic, version in session.execute(_VERSIONS)}


_VERSIONS_OF = _VERSIONS.where(AvailabilityVersion.tenant_id == bindparam("tenant_id"))


def versions_of(session: Session, tenant_id: int) -> dict[tuple[int, str], int]:
    """One tenant's counters, keyed as :func:`versions` keys them."""
    rows = session.execute(_VERSIONS_OF, {"tenant_id": tenant_id})
    return {(tenant, topic): version for tenant, topic, version in rows}
