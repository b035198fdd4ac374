"""The booking app factory.

    uvicorn booking_app.main:create_app --factory

Nothing happens at import: settings are read and the store is opened only when an
app is created (and the store only on the first request).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from weakref import WeakKeyDictionary

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig

from booking_app import (
    admin,
    booking,
    errors,
    login,
    manage_booking,
    metrics,
    my_bookings,
    notifications,
    pages,
    probes,
    tracking,
    waitlist,
    widget,
)
from booking_app import api as public_api
from booking_app.api.cache import AnswerCache
from booking_app.api.cors import ApiCorsMiddleware
from booking_app.api.hot_path import AvailabilityHotPath
from booking_app.api.routes import AVAILABILITY_ROUTES
from booking_app.api.snapshots import Availability
from booking_app.bulk_publish import router as bulk_publish_router
from booking_app.csrf import CsrfCookieMiddleware
from booking_app.lifespan import at_shutdown, at_startup, freeze_startup_heap
from booking_app.origins import OriginMiddleware
from booking_app.page_cache import PageCache
from booking_app.security import SecurityHeadersMiddleware
from booking_app.tenancy import SubdomainMoved, moved_response
from connectors.privacy import install_log_scrubbing
from connectors.store.types import utcnow
from dashboards import install as install_dashboards
from opus_online.config import Settings, get_settings
from opus_online.logs import configure_logging
from opus_online.production import refuse_unsafe_start

STATIC = Path(__file__).with_name("static")


NO_FASTAPI_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "auto_configure": False,
}


def create_app(
    settings: Settings | None = None, *, clock: Callable[[], datetime] = utcnow
) -> FastAPI:
    """A booking app over ``settings``' store (the environment's settings by default).
    ``clock`` gives "now" in UTC; tests pass a fixed one."""
    install_log_scrubbing()  # the app's, the libraries' and the server's log records
    settings = settings or get_settings()
    refuse_unsafe_start(settings)  # OPUS_ENV=production: every problem at once, or nothing
    if settings.log_format == "json":
        configure_logging("json")  # also when a server other than `opus-online app` runs it
    app = FastAPI(
        title="Opus Online",
        # No Swagger/ReDoc: they load scripts from a CDN, and patients need no API docs.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # FastAPI's own OpenTelemetry spans, metrics and logs stay off, whatever
        # provider the process has: they carry request paths (personal numbers in the
        # API's) and exception messages. /metrics and the scrubbed logs tell instead.
        telemetry=NO_FASTAPI_TELEMETRY,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.answer_cache = AnswerCache(max_bytes=app.state.settings.answer_cache_max_bytes)
    app.state.page_cache = PageCache()  # time step pages, while they stay right
    app.state.availability = Availability(
        app.state.settings.resolved_store_url,
        clock,
        app.state.settings.availability_poll_s,
        max_bytes=int(app.state.settings.snapshot_memory_mb * 1024 * 1024),
        preload=app.state.settings.snapshot_preload,
        notify=app.state.settings.availability_notify,
    )
    # Per event loop (see api.routes._on_this_loop): the availability answers' threads
    # and the answers being computed.
    app.state.computing_limiters = WeakKeyDictionary()
    app.state.answers_in_flight = WeakKeyDictionary()
    # Innermost: the availability questions from memory skip only the router and its
    # dependency solver (booking_app/api/hot_path.py).
    app.add_middleware(AvailabilityHotPath, routes=AVAILABILITY_ROUTES)
    app.add_middleware(CsrfCookieMiddleware)
    app.add_middleware(ApiCorsMiddleware)  # the public API from clinics' own pages
    app.add_exception_handler(SubdomainMoved, moved_response)  # a changed subdomain's old name
    # Operator pages and dashboards only on the admin host, the patient site never there.
    app.add_middleware(OriginMiddleware, settings=app.state.settings)
    app.add_middleware(SecurityHeadersMiddleware)
    metrics.install(app)  # /metrics, and the request id and timing around everything
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Routes are matched in order: the probes first, then the API (the most requests;
    # its paths share no prefix with the others').
    app.include_router(probes.router)
    app.include_router(public_api.router)
    app.include_router(pages.router)
    app.include_router(booking.router)
    app.include_router(notifications.router)  # message links, SMS delivery reports
    app.include_router(login.router)
    app.include_router(my_bookings.router)
    app.include_router(manage_booking.router)  # a reminder's signed link
    app.include_router(waitlist.router)  # återbudslista: joining, offers
    app.include_router(bulk_publish_router)  # SMART Scheduling Links, for aggregators
    widget.install(app)  # the booking steps framed on clinics' own websites
    tracking.install(app)  # the visit beacon /besok, its tracker, the page's tags
    install_dashboards(
        app
    )  # the statistics pages /admin/{tenant_id}/statistik: before admin's /{tab}
    admin.install(app)  # the operators' pages under /admin
    errors.install(app)
    at_shutdown(app, login.close_bankid_client)
    at_startup(app, freeze_startup_heap)  # before the snapshots, which are replaced
    at_startup(app, lambda a: a.state.availability.start())  # read ahead of questions
    at_shutdown(app, lambda a: a.state.availability.stop())
    return app


def app() -> FastAPI:
    """Factory for ``uvicorn booking_app.main:app --factory``."""
    return create_app()
