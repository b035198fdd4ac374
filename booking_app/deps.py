"""FastAPI dependencies, one ``Annotated`` alias each, as routes declare them:

def page(tenant: OpenTenantDep, session: SessionDep, lang: LangDep): ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from booking_app.api.cache import after_write
from booking_app.body import body_received
from booking_app.messages import language
from booking_app.tenancy import check_moved, subdomain_from_host, tenant_for_host
from connectors.store.db import engine_for, session_scope, write_session_scope
from connectors.store.models import Tenant
from opus_online.config import Settings


class UnderMaintenance(Exception):
    """The tenant has *Aktivera underhållsläge* on. Carries the name, not the ORM
    object: the session has rolled back (and expired it) by the time a handler runs."""

    def __init__(self, tenant_name: str) -> None:
        super().__init__(tenant_name)
        self.tenant_name = tenant_name


# The dependencies without I/O are async: run on the event loop, each spares a request
# a trip to a worker thread (a page has several).


async def get_settings(request: Request) -> Settings:
    # The app factory's settings, not the process-wide ones: tests and a second app
    # in one process each keep their own store.
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_session(settings: SettingsDep) -> AsyncIterator[Session]:
    """One transaction per request: commit when the route returns, roll back on error.

    An async dependency on purpose: its commit then runs on the event loop, not on a
    worker thread. As a sync one, a burst of writers could take every worker thread
    waiting for SQLite's write lock while the lock's holder waited for a thread to
    commit, until the busy timeout failed them all.
    """
    with session_scope(engine_for(settings.resolved_store_url)) as session:
        yield session


async def get_write_session(request: Request, settings: SettingsDep) -> AsyncIterator[Session]:
    """Like :func:`get_session`, for requests that write: on SQLite the transaction
    takes the write lock at its first statement (BEGIN IMMEDIATE), so a read cannot
    find later that it may not write.

    The whole request body is in first: read while the lock is held, a slow client
    would make every writer of every tenant wait (see :mod:`booking_app.body`). The
    route's work inside must be as quick: no password hashing, no network calls."""
    await body_received(request)
    with write_session_scope(engine_for(settings.resolved_store_url)) as session:
        yield session
    after_write(request)


def get_store(settings: SettingsDep) -> Engine:
    """The store itself, for a route that must do slow work (a BankID call, a password
    check) between transactions of its own: read, then the slow part with no
    transaction open, then a short write to record what came of it."""
    return engine_for(settings.resolved_store_url)


StoreDep = Annotated[Engine, Depends(get_store)]


# scope="function": the transaction ends before the response is sent, so a page never
# tells the patient about something that a failed commit then takes back.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
WriteSessionDep = Annotated[Session, Depends(get_write_session, scope="function")]


async def get_now(request: Request) -> datetime:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


NowDep = Annotated[datetime, Depends(get_now)]


async def get_language(request: Request) -> str:
    # Read by hand rather than as a Query parameter: an odd ?lang= gives Swedish,
    # never a 422.
    return language(request.query_params.get("lang"))


LangDep = Annotated[str, Depends(get_language)]


async def get_tenant(request: Request, session: SessionDep, settings: SettingsDep) -> Tenant:
    """The tenant of the request's ``Host`` header; 404 for any other host.
    ``X-Forwarded-Host`` is ignored on purpose (see :mod:`booking_app.tenancy`).
    From memory while the tenant's reference counter stands (polling mode: on the
    event loop, no worker thread), else from the store (in a worker thread)."""
    host = request.headers.get("host")
    subdomain = subdomain_from_host(host, settings.base_domain)
    availability = getattr(request.app.state, "availability", None)
    if subdomain is not None and availability is not None:
        kept = availability.tenant(subdomain, read=False)
        if kept is not None:
            request.state.tenant_in_memory = True  # detached: nothing left to load
            return kept
    return await run_in_threadpool(_tenant_from_store, request, session, settings)


def tenant_in_memory(request: Request) -> bool:
    """Whether the request's tenant came from memory (:func:`get_tenant`): a page may
    then read it on the event loop."""
    return getattr(request.state, "tenant_in_memory", False)


def _tenant_from_store(request: Request, session: Session, settings: Settings) -> Tenant:
    host = request.headers.get("host")
    subdomain = subdomain_from_host(host, settings.base_domain)
    availability = getattr(request.app.state, "availability", None)
    if subdomain is not None and availability is not None:
        kept = availability.tenant(subdomain)  # read into memory, for the next request
        if kept is not None:
            return kept
    tenant = tenant_for_host(session, host, settings.base_domain)
    if tenant is None:
        check_moved(session, request.scope, settings.base_domain, request.app.state.clock())
        raise HTTPException(status_code=404)
    return tenant


TenantDep = Annotated[Tenant, Depends(get_tenant)]


async def get_open_tenant(tenant: TenantDep) -> Tenant:
    """The tenant, unless its booking page is closed for maintenance (503)."""
    if tenant.settings is not None and tenant.settings.maintenance_mode:
        raise UnderMaintenance(tenant.name)
    return tenant


OpenTenantDep = Annotated[Tenant, Depends(get_open_tenant)]
