"""Work for the app's startup and shutdown: what reads ahead starts with the server,
and what holds a thread, a buffer or a connection pool is let go when it stops
(uvicorn runs the lifespan; a test client inside ``with`` does too)."""

from __future__ import annotations

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
