"""A few seconds' memory of availability answers.

Free times are advice, not a promise: the hold decides, in the database, whether a
time is still free, and a patient shown a time someone took a moment ago is told so
and shown the nearest others. So the same question asked again within a few seconds
(the same host, key and query) is answered from memory, on the event loop, without a
worker thread or a query. A write through this app forgets its host's answers at
once; one through another process is seen within ``TTL_S``, or one computation
later: an answer that has just lapsed (younger than twice ``TTL_S``) is still given
while a fresh one is computed (:meth:`AnswerCache.lapsed`), so that askers of a
popular question do not all wait for it every few seconds. The API key is part of
the question, so a wrong key never gets an answer from here; a revoked key may, for
at most twice ``TTL_S``.

The memory is bounded in bytes (``answer_cache_max_bytes``), not in answers: one
answer may be a few bytes or a month of free times. And a question is only what
decides its answer (:func:`question`): parameters the API does not read make no new
entry, or fifty junk variants of one question were fifty copies of its answer.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict

from fastapi import Request

from booking_app.api.binding import QueryModel
from booking_app.api.messages import language
from booking_app.origins import is_admin_host

TTL_S = 5.0
MAX_BYTES = 64 * 1024 * 1024
ENTRY_OVERHEAD = 200
"""Bytes an entry costs beyond its key and answer (the tuple, the dict slot, the
objects' headers): roughly, so that many tiny answers are counted too."""


def entry_bytes(key: str, body: bytes) -> int:
    return len(key) + len(body) + ENTRY_OVERHEAD


class AnswerCache:
    def __init__(self, ttl_s: float = TTL_S, max_bytes: int = MAX_BYTES) -> None:
        self.ttl_s = ttl_s
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0
        self.hits = self.misses = self.lapsed_hits = 0

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] < time.monotonic():
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def lapsed(self, key: str) -> bytes | None:
        """The answer if it lapsed less than ``ttl_s`` ago: to give while a fresh one
        is computed."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] + self.ttl_s < time.monotonic():
                return None
            self.lapsed_hits += 1
            return entry[1]

    def forget(self, host: str | None) -> None:
        """Drop the answers for one host (every host's for ``None``): it has just
        written (held or booked), and its own next question should see that."""
        prefix = f"{host.lower()}|" if host is not None else ""
        with self._lock:
            for key in [k for k in self._entries if k.startswith(prefix)]:
                self._drop(key)

    def put(self, key: str, body: bytes) -> None:
        """Remember ``body``, forgetting the least recently used answers until the
        memory is within ``max_bytes`` (an answer larger than that is not kept)."""
        size = entry_bytes(key, body)
        with self._lock:
            self._drop(key)
            if size > self.max_bytes:
                return
            self._entries[key] = (time.monotonic() + self.ttl_s, body)
            self.bytes += size
            while self.bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.bytes -= entry_bytes(key, entry[1])


def after_write(request: Request) -> None:
    """A request of this app has just written (held, booked, cancelled, configured): its
    host's remembered answers go, and the free times in memory are read again now
    rather than at the next poll. An operator writes on the admin host, for a tenant
    whose host is another: every answer goes (operators' changes are rare)."""
    settings = request.app.state.settings
    admin = is_admin_host(request.scope, settings)
    request.app.state.answer_cache.forget(None if admin else request.headers.get("host", ""))
    request.app.state.availability.nudge()


def question(request: Request, key_headers: tuple[str, ...], asked: type[QueryModel]) -> str:
    """What identifies an answer: host, path, the parameters of ``asked`` that the
    question gives (as binding reads them: other names and blank values change no
    answer), a digest of the API key, and the language errors are told in."""
    headers = request.headers
    key = next((headers[h] for h in key_headers if headers.get(h)), "")
    told_in = language(headers.get("accept-language"))
    host = headers.get("host", "").lower()
    # repr, not a query string: as unambiguous (quoted), and a tenth of the time.
    query = repr(sorted(asked.supplied(request).items()))
    digest = hashlib.sha256(key.strip().encode()).hexdigest()
    return f"{host}|{request.scope['path']}|{query}|{digest}|{told_in}"
