"""``/metrics`` in the Prometheus text format, and the request id of every request.

Two kinds of metric:

* **kept by each process** (prometheus-client): request latency by route family and
  snapshot reloads with their duration. With several worker processes set
  ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, shared by the workers of one host,
  emptied at start) before they start: each process writes its values there and any of
  them answers the scrape with the sum.
* **read from the store** at scrape time (:class:`StoreMetrics`), the same whichever
  process answers and whoever made the change (the flows, the marketplace pull):
  holds and bookings by channel, limit refusals, the outbox's backlog, write-back due,
  the sync lag of each tenant. Kept for :data:`STORE_METRICS_TTL_S`, so frequent
  scrapes from several Prometheus servers cost the store a few small queries at most.

Labels are fixed words (route family, channel, kind, status class) and tenant
subdomains; never a path, a reference, a name or anything a patient typed.

Who may read it: never on a tenant's host (404). Elsewhere (the admin host, or a
process's own address for Prometheus inside the network) with ``OPUS_METRICS_TOKEN``
as a bearer token; without a token only from loopback in development.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import REGISTRY as PROCESS_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from booking_app.tenancy import subdomain_from_host
from opus_online.logs import new_request_id, request_id

log = logging.getLogger(__name__)

STORE_METRICS_TTL_S = 10.0
"""How long the store-derived metrics are reused between scrapes."""
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_SECONDS = Histogram(
    "opus_http_request_duration_seconds",
    "Time to answer a request, by route family, method and status class.",
    ["family", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
SNAPSHOT_RELOADS = Counter(
    "opus_snapshot_reloads", "Free-time snapshots (re)loaded from the store by this process."
)
SNAPSHOT_RELOAD_SECONDS = Histogram(
    "opus_snapshot_reload_duration_seconds",
    "Time to (re)load a tenant's free-time snapshot from the store.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)

# The first segment of a route's path template → its family. Anything else is a
# booking-page route ("pages"); a request no route matched is "unmatched".
_FAMILIES = {
    "healthz": "probes",
    "readyz": "probes",
    "metrics": "metrics",
    "api": "api",
    "openapi.json": "api",
    "swagger.json": "api",
    "admin": "admin",
    "static": "static",
    "statistik-filer": "static",
    "theme.css": "static",
    "bild": "static",
    "logga-in": "login",
    "logga-ut": "login",
    "login": "login",
    "logout": "login",
    "besok": "tracking",
    "sms": "notifications",
    "$bulk-publish": "bulk_publish",
    "bulk-publish": "bulk_publish",
}
_MOUNTS = ("/static/", "/statistik-filer/")


def snapshot_reloaded(seconds: float) -> None:
    """Count one snapshot (re)load that took ``seconds`` (booking_app.api.snapshots)."""
    SNAPSHOT_RELOADS.inc()
    SNAPSHOT_RELOAD_SECONDS.observe(seconds)


def route_family(scope: Scope) -> str:
    """The family of the route that answered: from its path template, never the path."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    if template is None:
        # Mounts (static files) set no route; their prefix is a fixed word.
        path = scope.get("path", "")
        return "static" if path.startswith(_MOUNTS) else "unmatched"
    first = template.lstrip("/").split("/", 1)[0]
    if first == "admin" and "/statistik" in template:
        return "statistics"
    return _FAMILIES.get(first, "pages")


class RequestMiddleware:
    """Gives every request an id (``X-Request-ID`` in, checked, or a new one; out in the
    same header), which the log records made while it is handled carry, and times it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        rid = new_request_id(incoming)
        token = request_id.set(rid)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_SECONDS.labels(
                route_family(scope), _method(scope.get("method", "")), f"{status // 100}xx"
            ).observe(time.perf_counter() - started)
            request_id.reset(token)


def _method(method: str) -> str:
    known = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    return method if method in known else "other"


# -- from the store -----------------------------------------------------------------------


class StoreMetrics:
    """The metrics read from the store, computed at scrape time and kept for ``ttl_s``.
    A store that does not answer gives ``opus_store_up 0`` and no other store metric
    (not stale ones)."""

    def __init__(
        self, store_url: str, clock: Callable[[], datetime], ttl_s: float = STORE_METRICS_TTL_S
    ) -> None:
        self.store_url = store_url
        self.clock = clock
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._kept: tuple[float, list[Metric]] | None = None

    def describe(self) -> list[Metric]:
        return []  # computed at scrape time: registered without names

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if self._kept is None or time.monotonic() - self._kept[0] > self.ttl_s:
                self._kept = (time.monotonic(), self._read())
            families = self._kept[1]
        yield from families

    def _read(self) -> list[Metric]:
        up = GaugeMetricFamily("opus_store_up", "Whether the store answered the last scrape.")
        try:
            families = self._families()
        except Exception as exc:
            log.warning("metrics: the store did not answer (%s)", type(exc).__name__)
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        return [up, *families]

    def _families(self) -> list[Metric]:
        from connectors.store.db import engine_for, session_scope
        from connectors.store.models import (
            Booking,
            LimitHit,
            OpusDatabase,
            OutboxMessage,
            SyncState,
            Tenant,
        )

        now = self.clock()
        holds = CounterMetricFamily(
            "opus_holds",
            "Times held so far (every booking starts as a hold), by channel.",
            labels=["channel"],
        )
        bookings = CounterMetricFamily(
            "opus_bookings", "Bookings confirmed so far, by channel.", labels=["channel"]
        )
        active = GaugeMetricFamily(
            "opus_holds_active",
            "Holds not yet confirmed nor lapsed, by channel.",
            labels=["channel"],
        )
        limits = CounterMetricFamily(
            "opus_limit_hits",
            "Refusals by the limits on anonymous clients, by limit.",
            labels=["kind"],
        )
        outbox = GaugeMetricFamily("opus_outbox_backlog", "Messages waiting to be sent.")
        outbox_age = GaugeMetricFamily(
            "opus_outbox_oldest_age_seconds", "Age of the oldest message waiting (0: none)."
        )
        due = GaugeMetricFamily("opus_write_back_due", "Booking changes Opus has not heard of.")
        due_age = GaugeMetricFamily(
            "opus_write_back_oldest_age_seconds",
            "Since the latest change of the longest-waiting booking due for write-back (0: none).",
        )
        lag = GaugeMetricFamily(
            "opus_sync_lag_seconds",
            "Seconds since the last clean schedule sync of the tenant (its least recent "
            "Opus database); tenants never synced are left out.",
            labels=["tenant"],
        )
        with session_scope(engine_for(self.store_url)) as session:
            by_channel = session.execute(
                select(Booking.channel, func.count(), func.count(Booking.confirmed_at)).group_by(
                    Booking.channel
                )
            ).all()
            for channel, made, confirmed in by_channel:
                holds.add_metric([channel], made)
                bookings.add_metric([channel], confirmed)
            for channel, count in session.execute(
                select(Booking.channel, func.count())
                .where(Booking.status == "held", Booking.hold_expires_at > now)
                .group_by(Booking.channel)
            ):
                active.add_metric([channel], count)
            for kind, hits in session.execute(
                select(LimitHit.kind, func.sum(LimitHit.hits)).group_by(LimitHit.kind)
            ):
                limits.add_metric([kind], hits or 0)
            waiting, oldest = session.execute(
                select(func.count(), func.min(OutboxMessage.created_at)).where(
                    OutboxMessage.status.in_(("pending", "sending"))
                )
            ).one()
            outbox.add_metric([], waiting)
            outbox_age.add_metric([], _age(now, oldest))
            changed_at = func.coalesce(
                Booking.cancelled_at, Booking.confirmed_at, Booking.created_at
            )
            waiting, oldest = session.execute(
                select(func.count(), func.min(changed_at)).where(
                    Booking.change_seq > Booking.written_seq
                )
            ).one()
            due.add_metric([], waiting)
            due_age.add_metric([], _age(now, oldest))
            for subdomain, last in session.execute(
                select(Tenant.subdomain, func.min(SyncState.last_success_at))
                .join(OpusDatabase, OpusDatabase.tenant_id == Tenant.id)
                .join(SyncState, SyncState.opus_database_id == OpusDatabase.id)
                .where(OpusDatabase.enabled, SyncState.last_success_at.is_not(None))
                .group_by(Tenant.subdomain)
            ):
                lag.add_metric([subdomain], _age(now, last))
        return [holds, bookings, active, limits, outbox, outbox_age, due, due_age, lag]


def _age(now: datetime, then: datetime | None) -> float:
    if then is None:
        return 0.0
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return max(0.0, (now - then).total_seconds())


class _ThisProcess:
    """This process's own metrics (the default registry) inside a scrape's registry."""

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        yield from PROCESS_REGISTRY.collect()


def scrape(store_metrics: StoreMetrics) -> bytes:
    """The exposition: every worker's metrics (multiprocess mode) or this process's,
    and the store's."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(store_metrics)
    return generate_latest(registry)


# -- the route ----------------------------------------------------------------------------

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Plain def: the store's queries run on a worker thread, not the event loop."""
    settings = request.app.state.settings
    host = request.headers.get("host")
    hostname = (host or "").rsplit(":", 1)[0].lower()
    on_tenant_host = subdomain_from_host(host, settings.base_domain) is not None
    if on_tenant_host and hostname != (settings.admin_host or "").lower():
        return PlainTextResponse("Not Found", 404)
    if settings.metrics_token is not None:
        expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return PlainTextResponse(
                "Unauthorized", 401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'}
            )
    elif settings.env != "development" or not _loopback(request):
        return PlainTextResponse("Not Found", 404)
    body = scrape(request.app.state.store_metrics)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _loopback(request: Request) -> bool:
    client = request.client.host if request.client else ""
    return client in ("127.0.0.1", "::1")


def install(app) -> None:
    """The request id and latency middleware, the store's metrics, and ``/metrics``."""
    app.state.store_metrics = StoreMetrics(app.state.settings.resolved_store_url, app.state.clock)
    app.include_router(router)
    app.add_middleware(RequestMiddleware)
