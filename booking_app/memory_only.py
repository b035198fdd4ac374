"""Pages answered on the event loop, from memory, never from the store.

A booking step whose tenant, lookups and free times are all in memory (the snapshot,
:mod:`booking_app.page_facts`) does no I/O: a millisecond of Python, for which the
trip to a worker thread and back cost a fifth as much again. Such a page is worked
out on the event loop with :data:`NO_STORE` in place of its session; the first thing
that would ask the store (a snapshot still loading, a lookup not in memory, a
question outside the snapshot) raises :class:`NeedsStore` instead, and the route
starts over in a worker thread with the request's session. Nothing is written on the
way: only reads are ever tried here.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy.orm import Session


class NeedsStore(Exception):
    """The answer needs the store: work it out again in a worker thread."""


class _NoStore:
    """A session that refuses to be used (any attribute: ``get``, ``execute``...)."""

    def __getattr__(self, name: str) -> object:
        raise NeedsStore(name)


NO_STORE = cast(Session, _NoStore())


def in_memory_only(session: Session) -> bool:
    return session is NO_STORE
