"""Work for the app's startup and shutdown: what reads ahead starts with the server,
and what holds a thread, a buffer or a connection pool is let go when it stops
(uvicorn runs the lifespan; a test client inside ``with`` does too)."""

from __future__ import annotations

import gc
from collections.abc import Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI


def at_shutdown(app: FastAPI, action: Callable[[FastAPI], None]) -> None:
    """Run ``action(app)`` after the app's other shutdown work (in reverse order of
    registration, as with nested context managers)."""
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI):
        async with previous(a) as state:
            yield state
        action(a)

    app.router.lifespan_context = lifespan


def at_startup(app: FastAPI, action: Callable[[FastAPI], None]) -> None:
    """Run ``action(app)`` when the app starts, after the startup work registered
    before it."""
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI):
        async with previous(a) as state:
            action(a)
            yield state

    app.router.lifespan_context = lifespan


_startup_heap_frozen = False


def freeze_startup_heap(_app: FastAPI | None = None) -> None:
    """Put what the process has made so far out of the cycle collector's sight: the
    modules, the app and its routes, a quarter of a million objects that live as long
    as the process. Once per process (a test process makes many apps).

    A full collection walks every object the collector tracks, and these were most of
    them: each full collection took 86 ms (147 ms on a busy machine) beside a million
    ranges in memory, stalling the event loop and every request in flight with it,
    which was most of the one-process API's p99. Frozen, it takes a few milliseconds.
    The tenants' snapshots are read after this, so a replaced one is still collected."""
    global _startup_heap_frozen
    if not _startup_heap_frozen:
        gc.collect()  # the garbage of imports, not kept for ever
        gc.freeze()
        _startup_heap_frozen = True
